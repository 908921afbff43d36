"""Netgate pfSense (web GUI).

Targets pfSense CE 2.7 and pfSense Plus 23.01 and later (the menus and field names of their web
GUI; older 2.x releases differ only in small labels). The output is what to enter, field by
field, in the GUI; pfSense has no supported CLI for rules, and its config.xml is not meant to be
edited by hand.

- Aliases (Firewall › Aliases): ``OBM_DC`` (Network(s)) holds the datacenter networks; a range of
  backup hosts is one Host(s) alias ``OBM_HOSTS`` (pfSense accepts ``a.b.c.d-a.b.c.e`` there and
  expands it, so ranges are supported); known monitoring sources are ``OBM_MONITOR``
  (Network(s)). A static host, a DHCP-reserved host or the LAN (DHCP without reservation) is
  typed straight into the rule.
- Outbound: one pass rule on the LAN tab per backup port. Rules on an interface tab filter
  traffic entering that interface, so no WAN rule is needed; states let the replies back.
- Transparency: automatic outbound NAT (the default) already translates the LAN to the WAN
  address, so this is a *check* step on Firewall › NAT › Outbound; the rule to add in Manual
  mode (or in Hybrid mode when the LAN is not covered) is given in the same step.
- Monitoring: a port forward (Firewall › NAT › Port Forward) takes TCP/UDP in one rule, so TCP
  and UDP 4403 are one port forward and TCP 4401 another, restricted to ``OBM_MONITOR``. Its
  "Add associated filter rule" creates the WAN pass rule, which names the *private* address of
  the host: pf filters after the port forward translated the destination. That rule is a
  *check* step.
- Dynamic public address: the port forward's destination is "WAN address", which follows
  whatever address the provider assigns; Services › Dynamic DNS gives the monitoring GUI a
  name to connect to.

The steps are written once here for pfSense and its fork OPNsense: the class attributes below
are pfSense's menus, dialog fields and wording, and ``OpnsenseRenderer`` replaces them with
OPNsense's.
"""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import ClassVar

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import (
    Renderer,
    Step,
    StepKind,
    and_list,
    guide_rules_of,
    monitoring_sources,
    verification_steps,
)
from sites.vendors.port_groups import by_port, ports_regex, protocols_label

DC_ALIAS = "OBM_DC"
HOSTS_ALIAS = "OBM_HOSTS"
MONITOR_ALIAS = "OBM_MONITOR"


class PfsenseRenderer(Renderer):
    slug = "pfsense"
    name = "Netgate pfSense"
    versions = "pfSense CE 2.7 and pfSense Plus 23.01 and later (web GUI)"
    renderer_version = 1
    supports_ranges = True  # a Host(s) alias accepts a.b.c.d-a.b.c.e
    hides_lan_by_default = True  # automatic outbound NAT
    default_interfaces = ("LAN", "WAN")

    # The web GUI, step by step: menu paths, dialog fields (templates filled in with str.format)
    # and the wording that names them. OPNsense overrides every one of these.
    product: ClassVar[str] = "pfSense"
    apply: ClassVar[str] = "Click Save, then Apply Changes."
    states_path: ClassVar[str] = "Diagnostics › States"
    shell: ClassVar[str] = "# or in a shell (Diagnostics › Command Prompt):"

    alias_path: ClassVar[str] = "Firewall › Aliases › IP › Add"
    alias_howto: ClassVar[str] = (
        "Create one alias per block (Add, fill in, Save); after the last one click Apply Changes."
    )
    range_alias_note: ClassVar[str] = " pfSense expands the range into single addresses."
    alias_check: ClassVar[str] = (
        "Diagnostics › Tables: select each alias; it lists exactly the entries above."
    )

    rule_path: ClassVar[str] = "Firewall › Rules › {inside} › Add (arrow up: add to the top)"
    rule_fields: ClassVar[str] = (
        "Action: Pass\n"
        "Interface: {inside}\n"
        "Address Family: IPv4\n"
        "Protocol: {protocol}\n"
        "Source: {source}\n"
        "Destination: Single host or alias — {datacenter}\n"
        "Destination Port Range: From (other) {port} — To (other) {port}\n"
        "Log: checked (the connections then show in Status › System Logs › Firewall)\n"
        "Description: {description}"
    )
    rule_order: ClassVar[str] = (
        "Rules on the {inside} tab filter what enters the firewall from the {inside}, top down, "
        'first match wins: keep this rule above any block rule there. If the default "allow '
        '{inside} to any" rule is still in place the traffic already passes;'
    )
    rule_counters: ClassVar[str] = "its States column counts connections while the backup runs."

    nat_mode_fields: ClassVar[str] = (
        "Outbound NAT Mode: Automatic outbound NAT rule generation (the default), or Hybrid.\n"
        "Automatic Rules: a rule on interface {outside} whose Source includes {lan} (the "
        '{inside} subnets) with Translation "{outside} address".\n'
        "\n"
        "Only if the mode is Manual, or Hybrid without such a rule: Mappings › Add (arrow up), "
        "then Save and Apply Changes:"
    )
    nat_mapping_fields: ClassVar[str] = (
        "  Interface: {outside}\n"
        "  Address Family: IPv4\n"
        "  Protocol: {protocol}\n"
        "  Source: Network — {source}, Port: any\n"
        "  Destination: Network — {datacenter}, Port: {port}\n"
        "  Translation Address: Interface Address\n"
        "  Description: {description}"
    )
    nat_check: ClassVar[str] = (
        "Firewall › NAT › Outbound shows the mode and, under Automatic Rules or Mappings, the "
        "rule above."
    )

    port_forward_path: ClassVar[str] = "Firewall › NAT › Port Forward › Add (interface {outside})"
    port_forward_fields: ClassVar[str] = (
        "Port forward {n} of {count}: {label}\n"
        "  Interface: {outside}\n"
        "  Address Family: IPv4\n"
        "  Protocol: {protocol}\n"
        "  Source (Display Advanced): {source}, Port Range: any\n"
        "  Destination: {destination}\n"
        "  Destination port range: From (other) {port} — To (other) {port}\n"
        "  Redirect target IP: Address or Alias — {host}\n"
        "  Redirect target port: (other) {port}\n"
        "  Description: {description}\n"
        "  NAT reflection: Use system default\n"
        "  Filter rule association: Add associated filter rule"
    )
    a_port_forward: ClassVar[str] = "A pfSense port forward"
    associated_rule: ClassVar[str] = '"Add associated filter rule"'
    port_forward_check: ClassVar[str] = (
        "Firewall › NAT › Port Forward lists the port forwards, enabled, each with a link icon "
        "to its filter rule."
    )

    inbound_order: ClassVar[str] = (
        "They must sit above any block rule on the {outside} tab (drag them up if needed)."
    )
    monitor_source: ClassVar[str] = f"Single host or alias — {MONITOR_ALIAS}"

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        steps = [self._alias_step(policy, profile)]
        steps += [self._outbound_step(group, inside, profile) for group in by_port(outbound)]
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        if snat:
            steps.append(self._outbound_nat_check(snat, site, inside, outside, profile))
        if forwards:
            steps.append(self._port_forward_step(forwards, outside, profile))
        if inbound:
            steps.append(self._inbound_check(inbound, outside))
        inbound_verify = ""
        if inbound:
            host = inbound[0].required_hosts.start
            inbound_verify = (
                self._inbound_states_check(str(host))
                + "\n"
                + self.shell
                + "\n"
                + f"pfctl -ss | grep -E '{host}:({ports_regex(inbound)})'"
                + (
                    f"\nWhile you verify, add the portal's address to the alias {MONITOR_ALIAS} "
                    "(Firewall › Aliases), and remove it afterwards."
                    if inbound[0].allowed_sources
                    else ""
                )
            )
        steps += verification_steps(
            policy,
            gui_path=self.states_path,
            outbound_verify="\n".join(
                self._outbound_states_check(outbound, outside, profile)
                + [self.shell]
                + [f"pfctl -ss | grep {r.port}" for r in outbound]
            ),
            inbound_verify=inbound_verify,
        )
        return steps

    def _outbound_states_check(
        self, outbound: tuple[Rule, ...], outside: str, profile: ProfileSpec
    ) -> list[str]:
        """Where the GUI shows the backup connections while the probe runs."""
        hosts = outbound[0].hosts if outbound else None
        host_pattern = str(hosts.start) if hosts and hosts.kind == "address" else ""
        return [
            f"{self.states_path}, Filter: "
            + ", then ".join(str(r.port) for r in outbound)
            + f" — while the probe runs, a state on {outside} shows the backup host "
            f"{host_pattern or 'address'} translated to the {outside} address, "
            "to a datacenter address on the backup port."
        ]

    def _inbound_states_check(self, host: str) -> str:
        """Where the GUI shows the forwarded connections while the portal checks."""
        return (
            f"{self.states_path}, Filter: {host} — while the portal checks, the forwarded "
            "connections appear, each from the portal's address to the backup host on a "
            "monitoring port."
        )

    def _alias_step(self, policy: Policy, profile: ProfileSpec) -> Step:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        sources = monitoring_sources(policy)
        blocks = [
            self._alias_block(
                DC_ALIAS,
                "Network(s)",
                [self._network_entry(n) for n in profile.datacenter_networks],
                f"{profile.name}: datacenter networks",
            )
        ]
        names = [DC_ALIAS]
        if outbound and outbound[0].required_hosts.kind == "range":
            hosts = outbound[0].required_hosts
            blocks.append(
                self._alias_block(
                    HOSTS_ALIAS,
                    "Host(s)",
                    [f"{hosts.start}-{hosts.end}"],
                    f"{profile.name}: backup hosts",
                )
            )
            names.append(HOSTS_ALIAS)
        if sources:
            blocks.append(
                self._alias_block(
                    MONITOR_ALIAS,
                    "Network(s)",
                    [self._network_entry(n) for n in sources],
                    f"{profile.name}: monitoring computers",
                )
            )
            names.append(MONITOR_ALIAS)
        return Step(
            title=("Create the aliases for " if len(names) > 1 else "Create the alias for ")
            + and_list([_ALIAS_WHAT[name] for name in names]),
            gui_path=self.alias_path,
            config="\n\n".join(blocks),
            config_language="text",
            reason=(
                "The rules below name these aliases, so a change of addresses later is one edit "
                f"here. {self.alias_howto} Alias names may contain only letters, digits and _."
                + (self.range_alias_note if HOSTS_ALIAS in names else "")
            ),
            verify="\n".join([self.alias_check] + [f"pfctl -t {name} -T show" for name in names]),
            guide_rules=guide_rules_of(
                policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
            ),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], inside: str, profile: ProfileSpec) -> Step:
        rule = rules[0]
        return Step(
            title=(
                f"Allow {protocols_label(rules)} from {_who(rule.required_hosts)} to the datacenter"
            ),
            gui_path=self.rule_path.format(inside=inside),
            config=self.rule_fields.format(
                inside=inside,
                protocol=_protocol(rules),
                source=self._source(rule.required_hosts),
                datacenter=DC_ALIAS,
                port=rule.port,
                description=f"{profile.name}: {protocols_label(rules)} to the datacenter",
            ),
            config_language="text",
            reason=(
                f"{rule.reason} {self.rule_order.format(inside=inside)} this rule keeps it "
                "allowed when that rule is removed or narrowed. States let the replies back. "
                + self.apply
            ),
            verify=(
                f"Firewall › Rules › {inside}: the rule is listed, enabled and above any block "
                f"rule; {self.rule_counters}\npfctl -sr | grep 'port = {rule.port}'"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _outbound_nat_check(
        self,
        rules: tuple[Rule, ...],
        site: SiteDescription,
        inside: str,
        outside: str,
        profile: ProfileSpec,
    ) -> Step:
        blocks = [self.nat_mode_fields.format(inside=inside, outside=outside, lan=site.lan_network)]
        for group in by_port(rules):
            rule = group[0]
            blocks.append(
                self.nat_mapping_fields.format(
                    outside=outside,
                    protocol=_protocol(group),
                    source=self._nat_source(rule.required_hosts),
                    datacenter=DC_ALIAS,
                    port=rule.port,
                    description=f"{profile.name}: {protocols_label(group)} to the datacenter",
                )
            )
        return Step(
            kind=StepKind.CHECK,
            title="Check that outbound NAT translates the backup connections (transparency)",
            gui_path="Firewall › NAT › Outbound",
            config="\n".join(blocks),
            config_language="text",
            reason=(
                f"{self.product}'s automatic outbound NAT translates everything the LAN sends "
                f"out to the {outside} address, which is the transparency the guide asks for; "
                "nothing changes unless outbound NAT was switched to Manual. If you add the rule: "
                + rules[0].reason.detail[0].lower()
                + rules[0].reason.detail[1:]
            ),
            verify=f"{self.nat_check}\npfctl -sn | grep -E '^nat on'",
            guide_rules=guide_rules_of(rules),
        )

    def _port_forward_step(
        self, rules: tuple[Rule, ...], outside: str, profile: ProfileSpec
    ) -> Step:
        groups = by_port(rules)
        public = rules[0].public_address
        destination = (
            f"{outside} address ({public}; if {public} is an extra address of the firewall, "
            "a Virtual IP, choose it instead)"
            if public
            else f"{outside} address (follows the address the provider assigns)"
        )
        blocks = [
            self.port_forward_fields.format(
                n=n,
                count=len(groups),
                label=protocols_label(group),
                outside=outside,
                protocol=_protocol(group),
                source=self._monitor_source(group[0]),
                destination=destination,
                port=group[0].port,
                host=group[0].required_hosts.start,
                description=f"{profile.name}: monitoring {protocols_label(group)}",
            )
            for n, group in enumerate(groups, start=1)
        ]
        return Step(
            title="Forward the monitoring ports to the backup host",
            gui_path=self.port_forward_path.format(outside=outside),
            config="\n\n".join(blocks),
            config_language="text",
            reason=(
                "The monitoring GUI connects from outside to the firewall, which passes the "
                f"connection on to the backup host {rules[0].required_hosts.start}. "
                f"{self.a_port_forward} "
                "may take TCP and UDP together (Protocol TCP/UDP), so one port forward covers "
                f"both protocols of a port. {self.associated_rule} creates the matching pass rule "
                f"on {outside} and keeps it in step with the port forward. "
                + (
                    ""
                    if public
                    else 'The public address is dynamic: "WAN address" follows it, and a name under '
                    "Services › Dynamic DNS lets the monitoring GUI find it. "
                )
                + self.apply
            ),
            verify=f"{self.port_forward_check}\npfctl -sn | grep {rules[0].required_hosts.start}",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_check(self, rules: tuple[Rule, ...], outside: str) -> Step:
        lines = [f'Pass rules on {outside} created by the port forwards (description "NAT …"):']
        for group in by_port(rules):
            rule = group[0]
            lines.append(
                f"- IPv4 {_protocol(group)}, Source {self._monitor_source(rule)}, "
                f"Destination {rule.required_hosts.start} port {rule.port}"
            )
        lines.append(
            f"The destination is the private address {rules[0].required_hosts.start}, not the "
            "public "
            "one: pf filters after the port forward has translated the destination."
        )
        return Step(
            kind=StepKind.CHECK,
            title="Check the pass rules for the forwarded monitoring ports",
            gui_path=f"Firewall › Rules › {outside}",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "A port forward alone does not let the connection in; the associated filter "
                f"rules do. {self.inbound_order.format(outside=outside)} "
                + (
                    "Only the monitoring sources may connect."
                    if rules[0].allowed_sources
                    else "Any address may connect; an OBM_MONITOR alias with the monitoring "
                    "computers' addresses as Source would be safer."
                )
            ),
            verify=(
                f"Firewall › Rules › {outside}: the rules above are listed and enabled.\n"
                f"pfctl -sr | grep {rules[0].required_hosts.start}"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _monitor_source(self, rule: Rule) -> str:
        return self.monitor_source if rule.allowed_sources else "any"

    def _source(self, hosts: HostMatch) -> str:
        """The outbound rule's Source field."""
        if hosts.kind == "address":
            return f"Single host or alias — {hosts.start}"
        if hosts.kind == "range":
            return f"Single host or alias — {HOSTS_ALIAS} ({hosts})"
        return (
            f"Network — {hosts.network} (the whole LAN, because the host's address comes from DHCP)"
        )

    def _nat_source(self, hosts: HostMatch) -> str:
        """The outbound NAT mapping's Source field."""
        if hosts.kind == "address":
            return f"{hosts.start} / 32"
        if hosts.kind == "range":
            return HOSTS_ALIAS
        assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
        return f"{hosts.network.network_address} / {hosts.network.prefixlen}"

    def _network_entry(self, network: IPv4Network) -> str:
        return f"{network.network_address} / {network.prefixlen}"

    def _alias_block(self, name: str, kind: str, entries: list[str], description: str) -> str:
        return "\n".join(
            [f"Name: {name}", f"Description: {description}", f"Type: {kind}"]
            + [f"  Entry: {entry}" for entry in entries]
        )


_ALIAS_WHAT = {
    DC_ALIAS: "the datacenter",
    HOSTS_ALIAS: "the backup hosts",
    MONITOR_ALIAS: "the monitoring computers",
}


def _who(hosts: HostMatch) -> str:
    return {"address": "the backup host", "range": "the backup hosts"}.get(hosts.kind, "the LAN")


def _protocol(rules: tuple[Rule, ...]) -> str:
    """The Protocol field of a group of ``by_port``: TCP/UDP takes both in one rule."""
    protocols = {r.protocol for r in rules}
    return "TCP/UDP" if protocols == {"tcp", "udp"} else rules[0].required_protocol.upper()
