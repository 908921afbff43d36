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
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ServiceProfile, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

DC_ALIAS = "OBM_DC"
HOSTS_ALIAS = "OBM_HOSTS"
MONITOR_ALIAS = "OBM_MONITOR"
APPLY = "Click Save, then Apply Changes."


class PfsenseRenderer(Renderer):
    slug = "pfsense"
    name = "Netgate pfSense"
    versions = "pfSense CE 2.7 and pfSense Plus 23.01 and later (web GUI)"
    renderer_version = 1
    supports_ranges = True  # a Host(s) alias accepts a.b.c.d-a.b.c.e
    hides_lan_by_default = True  # automatic outbound NAT
    default_interfaces = ("LAN", "WAN")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ServiceProfile
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        steps = [self._alias_step(policy, profile)]
        steps += [self._outbound_step(group, inside, profile) for group in _by_port(outbound)]
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        if snat:
            steps.append(self._outbound_nat_check(snat, site, inside, outside, profile))
        if forwards:
            steps.append(self._port_forward_step(forwards, outside, profile))
        if inbound:
            steps.append(self._inbound_check(inbound, outside))
        hosts = outbound[0].hosts if outbound else None
        host_pattern = str(hosts.start) if hosts and hosts.kind == "address" else ""
        steps += verification_steps(
            policy,
            gui_path="Diagnostics › States",
            outbound_verify="\n".join(
                [
                    "Diagnostics › States, Filter: "
                    + ", then ".join(str(r.port) for r in outbound)
                    + f" — while the probe runs, a state on {outside} shows the backup host "
                    f"{host_pattern or 'address'} translated to the {outside} address, "
                    "to a datacenter address on the backup port.",
                    "# or in a shell (Diagnostics › Command Prompt):",
                ]
                + [f"pfctl -ss | grep {r.port}" for r in outbound]
            ),
            inbound_verify=(
                "Diagnostics › States, Filter: "
                + (str(inbound[0].hosts.start) if inbound else "")
                + " — while the portal checks, the forwarded connections appear, each from "
                "the portal's address to the backup host on a monitoring port.\n"
                "# or in a shell (Diagnostics › Command Prompt):\n"
                + (f"pfctl -ss | grep -E '{inbound[0].hosts.start}:({_ports_regex(inbound)})'"
                   if inbound else "")
                + (f"\nWhile you verify, add the portal's address to the alias {MONITOR_ALIAS} "
                   "(Firewall › Aliases), and remove it afterwards."
                   if inbound and inbound[0].allowed_sources else "")
            ),
        )
        return steps

    def _alias_step(self, policy: Policy, profile: ServiceProfile) -> Step:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        sources = _monitoring_sources(policy)
        blocks = [_alias_block(
            DC_ALIAS, f"{profile.name}: datacenter networks", "Network(s)",
            [_cidr(n) for n in profile.datacenter_networks],
        )]
        names = [DC_ALIAS]
        if outbound and outbound[0].hosts.kind == "range":
            hosts = outbound[0].hosts
            blocks.append(_alias_block(
                HOSTS_ALIAS, f"{profile.name}: backup hosts", "Host(s)",
                [f"{hosts.start}-{hosts.end}"],
            ))
            names.append(HOSTS_ALIAS)
        if sources:
            blocks.append(_alias_block(
                MONITOR_ALIAS, f"{profile.name}: monitoring computers", "Network(s)",
                [_cidr(n) for n in sources],
            ))
            names.append(MONITOR_ALIAS)
        return Step(
            title=("Create the aliases for " if len(names) > 1 else "Create the alias for ")
            + _and([_ALIAS_WHAT[name] for name in names]),
            gui_path="Firewall › Aliases › IP › Add",
            config="\n\n".join(blocks),
            config_language="text",
            reason=(
                "The rules below name these aliases, so a change of addresses later is one edit "
                "here. Create one alias per block (Add, fill in, Save); after the last one "
                "click Apply Changes. Alias names may contain only letters, digits and _."
                + (" pfSense expands the range into single addresses." if HOSTS_ALIAS in names else "")
            ),
            verify="\n".join(
                ["Diagnostics › Tables: select each alias; it lists exactly the entries above."]
                + [f"pfctl -t {name} -T show" for name in names]
            ),
            guide_rules=guide_rules_of(
                policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
            ),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], inside: str, profile: ServiceProfile) -> Step:
        rule = rules[0]
        return Step(
            title=f"Allow {_label(rules)} from {_who(rule.hosts)} to the datacenter",
            gui_path=f"Firewall › Rules › {inside} › Add (arrow up: add to the top)",
            config="\n".join([
                "Action: Pass",
                f"Interface: {inside}",
                "Address Family: IPv4",
                f"Protocol: {_protocol(rules)}",
                f"Source: {_source(rule.hosts)}",
                f"Destination: Single host or alias — {DC_ALIAS}",
                f"Destination Port Range: From (other) {rule.port} — To (other) {rule.port}",
                "Log: checked (the connections then show in Status › System Logs › Firewall)",
                f"Description: {profile.name}: {_label(rules)} to the datacenter",
            ]),
            config_language="text",
            reason=(
                f"{rule.reason} Rules on the {inside} tab filter what enters the firewall from "
                f"the {inside}, top down, first match wins: keep this rule above any block rule "
                f"there. If the default \"allow {inside} to any\" rule is still in place the "
                "traffic already passes; this rule keeps it allowed when that rule is removed "
                "or narrowed. States let the replies back. " + APPLY
            ),
            verify=(
                f"Firewall › Rules › {inside}: the rule is listed, enabled and above any block "
                "rule; its States column counts connections while the backup runs.\n"
                f"pfctl -sr | grep 'port = {rule.port}'"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _outbound_nat_check(
        self, rules: tuple[Rule, ...], site: SiteDescription, inside: str, outside: str,
        profile: ServiceProfile,
    ) -> Step:
        lines = [
            "Outbound NAT Mode: Automatic outbound NAT rule generation (the default), or Hybrid.",
            f"Automatic Rules: a rule on interface {outside} whose Source includes "
            f"{site.lan_network} (the {inside} subnets) with Translation "
            f"\"{outside} address\".",
            "",
            "Only if the mode is Manual, or Hybrid without such a rule: Mappings › Add "
            "(arrow up), then Save and Apply Changes:",
        ]
        for group in _by_port(rules):
            rule = group[0]
            lines += [
                f"  Interface: {outside}",
                "  Address Family: IPv4",
                f"  Protocol: {_protocol(group)}",
                f"  Source: Network — {_nat_source(rule.hosts)}, Port: any",
                f"  Destination: Network — {DC_ALIAS}, Port: {rule.port}",
                "  Translation Address: Interface Address",
                f"  Description: {profile.name}: {_label(group)} to the datacenter",
            ]
        return Step(
            kind=StepKind.CHECK,
            title="Check that outbound NAT translates the backup connections (transparency)",
            gui_path="Firewall › NAT › Outbound",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "pfSense's automatic outbound NAT translates everything the LAN sends out to the "
                f"{outside} address, which is the transparency the guide asks for; nothing "
                "changes unless outbound NAT was switched to Manual. If you add the rule: "
                + rules[0].reason.detail[0].lower() + rules[0].reason.detail[1:]
            ),
            verify=(
                "Firewall › NAT › Outbound shows the mode and, under Automatic Rules or "
                "Mappings, the rule above.\npfctl -sn | grep -E '^nat on'"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _port_forward_step(
        self, rules: tuple[Rule, ...], outside: str, profile: ServiceProfile
    ) -> Step:
        groups = _by_port(rules)
        public = rules[0].public_address
        destination = (
            f"{outside} address ({public}; if {public} is an extra address of the firewall, "
            "a Virtual IP, choose it instead)"
            if public else f"{outside} address (follows the address the provider assigns)"
        )
        blocks = []
        for n, group in enumerate(groups, start=1):
            rule = group[0]
            blocks.append("\n".join([
                f"Port forward {n} of {len(groups)}: {_label(group)}",
                f"  Interface: {outside}",
                "  Address Family: IPv4",
                f"  Protocol: {_protocol(group)}",
                f"  Source (Display Advanced): {_monitor_source(rule)}, Port Range: any",
                f"  Destination: {destination}",
                f"  Destination port range: From (other) {rule.port} — To (other) {rule.port}",
                f"  Redirect target IP: Address or Alias — {rule.hosts.start}",
                f"  Redirect target port: (other) {rule.port}",
                f"  Description: {profile.name}: monitoring {_label(group)}",
                "  NAT reflection: Use system default",
                "  Filter rule association: Add associated filter rule",
            ]))
        return Step(
            title="Forward the monitoring ports to the backup host",
            gui_path=f"Firewall › NAT › Port Forward › Add (interface {outside})",
            config="\n\n".join(blocks),
            config_language="text",
            reason=(
                "The monitoring GUI connects from outside to the firewall, which passes the "
                f"connection on to the backup host {rules[0].hosts.start}. A pfSense port forward "
                "may take TCP and UDP together (Protocol TCP/UDP), so one port forward covers "
                "both protocols of a port. \"Add associated filter rule\" creates the matching "
                f"pass rule on {outside} and keeps it in step with the port forward. "
                + ("" if public else
                   "The public address is dynamic: \"WAN address\" follows it, and a name under "
                   "Services › Dynamic DNS lets the monitoring GUI find it. ")
                + APPLY
            ),
            verify=(
                "Firewall › NAT › Port Forward lists the port forwards, enabled, each with a "
                f"link icon to its filter rule.\npfctl -sn | grep {rules[0].hosts.start}"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_check(self, rules: tuple[Rule, ...], outside: str) -> Step:
        lines = [f"Pass rules on {outside} created by the port forwards (description \"NAT …\"):"]
        for group in _by_port(rules):
            rule = group[0]
            lines.append(
                f"- IPv4 {_protocol(group)}, Source {_monitor_source(rule)}, "
                f"Destination {rule.hosts.start} port {rule.port}"
            )
        lines.append(
            f"The destination is the private address {rules[0].hosts.start}, not the public "
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
                "rules do. They must sit above any block rule on the "
                f"{outside} tab (drag them up if needed). "
                + ("Only the monitoring sources may connect." if rules[0].allowed_sources
                   else "Any address may connect; an OBM_MONITOR alias with the monitoring "
                        "computers' addresses as Source would be safer.")
            ),
            verify=(
                f"Firewall › Rules › {outside}: the rules above are listed and enabled.\n"
                f"pfctl -sr | grep {rules[0].hosts.start}"
            ),
            guide_rules=guide_rules_of(rules),
        )


_ALIAS_WHAT = {
    DC_ALIAS: "the datacenter",
    HOSTS_ALIAS: "the backup hosts",
    MONITOR_ALIAS: "the monitoring computers",
}


def _and(items: list[str]) -> str:
    """E.g. "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _who(hosts: HostMatch | None) -> str:
    assert hosts is not None
    return {"address": "the backup host", "range": "the backup hosts"}.get(hosts.kind, "the LAN")


def _by_port(rules: tuple[Rule, ...]) -> list[tuple[Rule, ...]]:
    """Rules that differ only in protocol, grouped (pfSense takes TCP/UDP in one rule)."""
    groups: dict[tuple, list[Rule]] = {}
    for rule in rules:
        key = (rule.port, rule.hosts, rule.datacenter, rule.allowed_sources, rule.public_address)
        groups.setdefault(key, []).append(rule)
    return [tuple(group) for group in groups.values()]


def _protocol(rules: tuple[Rule, ...]) -> str:
    protocols = {r.protocol for r in rules}
    return "TCP/UDP" if protocols == {"tcp", "udp"} else rules[0].protocol.upper()


def _label(rules: tuple[Rule, ...]) -> str:
    """E.g. "TCP 4401" or "TCP and UDP 4403"."""
    return " and ".join(r.protocol.upper() for r in rules) + f" {rules[0].port}"


def _ports_regex(rules: tuple[Rule, ...]) -> str:
    return "|".join(dict.fromkeys(str(r.port) for r in rules))


def _source(hosts: HostMatch | None) -> str:
    assert hosts is not None
    if hosts.kind == "address":
        return f"Single host or alias — {hosts.start}"
    if hosts.kind == "range":
        return f"Single host or alias — {HOSTS_ALIAS} ({hosts})"
    return f"Network — {hosts.network} (the whole LAN, because the host's address comes from DHCP)"


def _nat_source(hosts: HostMatch | None) -> str:
    assert hosts is not None
    if hosts.kind == "address":
        return f"{hosts.start} / 32"
    if hosts.kind == "range":
        return HOSTS_ALIAS
    return f"{hosts.network.network_address} / {hosts.network.prefixlen}"


def _monitor_source(rule: Rule) -> str:
    return f"Single host or alias — {MONITOR_ALIAS}" if rule.allowed_sources else "any"


def _monitoring_sources(policy: Policy) -> tuple[IPv4Network, ...]:
    inbound = policy.of_kind(RuleKind.DESTINATION_NAT, RuleKind.ALLOW_INBOUND)
    return inbound[0].allowed_sources if inbound else ()


def _alias_block(name: str, description: str, kind: str, entries: list[str]) -> str:
    return "\n".join(
        [f"Name: {name}", f"Description: {description}", f"Type: {kind}"]
        + [f"  Entry: {entry}" for entry in entries]
    )


def _cidr(network: IPv4Network) -> str:
    return f"{network.network_address} / {network.prefixlen}"
