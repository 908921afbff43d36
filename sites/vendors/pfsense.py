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

Markers (change and removal plans, ``sites.plans``): every alias, rule, outbound NAT mapping
and port forward the instructions create carries ``obm:<site>:<key>`` at the start of its
Description (config.xml ``<descr>``), so it is found again in the GUI lists and in
``/conf/config.xml``; the start, because pfSense uses only the first 52 characters in the ruleset
label and the firewall log, and the associated filter rule of a port forward gets
``"NAT " + description`` cut to 59 characters. Neither pfSense nor OPNsense has a supported
command line for rules, so removal is GUI text: which list, which entry by its marker. Editing an
entry in the GUI overwrites it, so every item has an in-place ``update``.

- The LAN pass rules only *add* accepts: where the default "allow LAN to any" rule is still in
  place the backup already passes, and the instructions neither rely on nor touch that rule; a
  removal deletes only our marked rule and says the default rule stays (it was there before).
- Port forwards are created with "Add associated filter rule": deleting such a port forward
  deletes its associated WAN rule too (pfSense's and OPNsense's ``firewall_nat.php`` delete the
  rule named by ``associated-rule-id``). A rule made "unassociated" (or created so) stays and
  must be deleted on its own; the removal text says both.
- The outbound NAT mapping is added only where outbound NAT is Manual: its removal is
  conditional, and the automatic rules are pfSense's own and never removed.

The steps are written once here for pfSense and its fork OPNsense: the class attributes below
are pfSense's menus, dialog fields and wording, and ``OpnsenseRenderer`` replaces them with
OPNsense's.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from ipaddress import IPv4Network
from typing import ClassVar

from sites.analyzer.model import GROUP, ShadowingRule
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
    with_reason,
)
from sites.vendors.gui_items import GuiItem, managed_item
from sites.vendors.managed import Exposure, ManagedItem, OwnObject, marker, rule_key
from sites.vendors.port_groups import by_port, ports_regex, protocols_label
from sites.vendors.restriction import (
    CHECK_SOURCE_LABEL,
    is_check_source,
    only_monitoring_sources,
    sources_label,
)

DC_ALIAS = "OBM_DC"
HOSTS_ALIAS = "OBM_HOSTS"
MONITOR_ALIAS = "OBM_MONITOR"
CONFIG_XML = "/conf/config.xml"


class PfsenseRenderer(Renderer):
    slug = "pfsense"
    name = "Netgate pfSense"
    versions = "pfSense CE 2.7 and pfSense Plus 23.01 and later (web GUI)"
    renderer_version = 2  # 2: markers in every Description
    markers_since = 2
    plan_gui_path = "Firewall"
    plan_language = "text"
    supports_ranges = True  # a Host(s) alias accepts a.b.c.d-a.b.c.e
    hides_lan_by_default = True  # automatic outbound NAT
    default_interfaces = ("LAN", "WAN")

    # The web GUI, step by step: menu paths, dialog fields (templates filled in with str.format)
    # and the wording that names them. OPNsense overrides every one of these.
    product: ClassVar[str] = "pfSense"
    apply: ClassVar[str] = "Click Save, then Apply Changes."
    apply_button: ClassVar[str] = "Apply Changes"
    states_path: ClassVar[str] = "Diagnostics › States"
    shell: ClassVar[str] = "# or in a shell (Diagnostics › Command Prompt):"

    alias_path: ClassVar[str] = "Firewall › Aliases › IP › Add"
    alias_list: ClassVar[str] = "Firewall › Aliases › IP"
    alias_howto: ClassVar[str] = (
        "Create one alias per block (Add, fill in, Save); after the last one click Apply Changes."
    )
    range_alias_note: ClassVar[str] = " pfSense expands the range into single addresses."
    alias_check: ClassVar[str] = (
        "Diagnostics › Tables: select each alias; it lists exactly the entries above."
    )
    alias_in_use: ClassVar[str] = (
        "pfSense refuses to delete an alias a rule still names; the rules that name it are "
        "deleted before it."
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
    default_allow: ClassVar[str] = '"Default allow LAN to any rule"'

    nat_mode_fields: ClassVar[str] = (
        "Outbound NAT Mode: Automatic outbound NAT rule generation (the default), or Hybrid.\n"
        "Automatic Rules: a rule on interface {outside} whose Source includes {lan} (the "
        '{inside} subnets) with Translation "{outside} address".\n'
        "\n"
        "Only if the mode is Manual, or Hybrid without such a rule: Mappings › Add (arrow up), "
        "then Save and Apply Changes:"
    )
    nat_mapping_path: ClassVar[str] = "Firewall › NAT › Outbound › Mappings › Add (arrow up)"
    nat_mapping_list: ClassVar[str] = "Firewall › NAT › Outbound › Mappings"
    nat_mapping_condition: ClassVar[str] = (
        "Only if Outbound NAT Mode is Manual, or Hybrid without an automatic rule for the "
        "{inside} subnets"
    )
    nat_mapping_fields: ClassVar[str] = (
        "Interface: {outside}\n"
        "Address Family: IPv4\n"
        "Protocol: {protocol}\n"
        "Source: Network — {source}, Port: any\n"
        "Destination: Network — {datacenter}, Port: {port}\n"
        "Translation Address: Interface Address\n"
        "Description: {description}"
    )
    nat_check: ClassVar[str] = (
        "Firewall › NAT › Outbound shows the mode and, under Automatic Rules or Mappings, the "
        "rule above."
    )

    port_forward_path: ClassVar[str] = "Firewall › NAT › Port Forward › Add (interface {outside})"
    port_forward_list: ClassVar[str] = "Firewall › NAT › Port Forward"
    port_forward_fields: ClassVar[str] = (
        "Interface: {outside}\n"
        "Address Family: IPv4\n"
        "Protocol: {protocol}\n"
        "Source (Display Advanced): {source}, Port Range: any\n"
        "Destination: {destination}\n"
        "Destination port range: From (other) {port} — To (other) {port}\n"
        "Redirect target IP: Address or Alias — {host}\n"
        "Redirect target port: (other) {port}\n"
        "Description: {description}\n"
        "NAT reflection: Use system default\n"
        "Filter rule association: Add associated filter rule"
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
        entries = self._entries(policy, site, profile)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        steps = [self._alias_step(policy, [e for e in entries if e.key.startswith("alias-")])]
        steps += [
            self._outbound_step(entry, inside) for entry in entries if entry.key.startswith("out-")
        ]
        snat = [e for e in entries if e.key.startswith("snat-")]
        if snat:
            steps.append(self._outbound_nat_check(snat, site, inside, outside))
        port_forwards = [e for e in entries if e.key.startswith("dnat-")]
        if port_forwards:
            steps.append(self._port_forward_step(forwards, port_forwards, outside))
        if inbound:
            steps.append(self._inbound_check(inbound, port_forwards, outside))
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
                    # A known address is in the alias already (sites.policy).
                    if inbound[0].allowed_sources and policy.probe_check_source is None
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

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        deleted = f", then click {self.apply_button}"
        return tuple(
            managed_item(entry, save=self.apply, deleted=deleted)
            for entry in self._entries(policy, site, profile)
        )

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        chosen = list(items)
        places = and_list(list(dict.fromkeys(item.gui_path for item in chosen)))
        markers = "\n".join(
            item.marker
            + (" (only if you added it)" if present and item.key.startswith("snat-") else "")
            for item in chosen
        )
        grep = (
            "grep -o -F "
            + " ".join(f"-e '{item.marker}'" for item in chosen)
            + f" {CONFIG_XML} | sort -u"
        )
        if present:
            return (
                f"{places}: the Description of one entry begins with each of these:\n{markers}\n"
                f"{self.shell}\n{grep}  # prints each marker"
            )
        return (
            f"{places}: no Description begins with any of these any more:\n{markers}\n"
            f"{self.shell}\n{grep}  # prints nothing"
        )

    # -- Adjusted to a checked configuration (sites.vendors.reuse) -----------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The aliases: an existing host or network alias of the same addresses stands for
        ours wherever a rule or mapping names it."""
        values = {
            "alias-dc": profile.datacenter_networks,
            "alias-monitoring": monitoring_sources(policy),
        }
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        if outbound and outbound[0].required_hosts.kind == "range":
            values["alias-hosts"] = outbound[0].required_hosts.networks()
        return tuple(
            OwnObject(
                entry.key,
                entry.what.removeprefix("the alias "),
                (GROUP,),
                tuple(values[entry.key]),
                text=entry.fields,
            )
            for entry in self._entries(policy, site, profile)
            if entry.key in values
        )

    def tidy_config(self, config: str) -> str:
        return re.sub(r"\n{3,}", "\n\n", config).strip("\n")

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        return with_reason(
            step,
            f"Your rule at line {deny.line} ({deny.text}) blocks this connection today, and "
            "the first rule that matches decides: add this rule at the top of the tab (the "
            "arrow-up Add), or drag it above that rule and Save, so it is above it. A floating "
            "rule with Quick set is evaluated before every tab: if it is one, add this pass as a "
            "floating rule with Quick above it.",
        )

    def _entries(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[GuiItem]:
        """Everything the instructions create, in the order of the complete instructions: the
        aliases, the outbound pass rules, the outbound NAT mappings (only for Manual mode) and
        the port forwards."""
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        sources = monitoring_sources(policy)
        entries: list[GuiItem] = []

        def alias(key, name, kind, networks, what, rules):
            mark = marker(site, key)
            entries.append(
                GuiItem(
                    key=key,
                    marker=mark,
                    title=f"the alias {name} ({what})",
                    exposure=Exposure.SUPPORT,
                    add_path=self.alias_path,
                    fields=self._alias_block(
                        name, kind, networks, f"{mark} {profile.name}: {what}"
                    ),
                    listed=self.alias_list,
                    what=f"the alias {name}",
                    found_by=f"whose Description begins with {mark}",
                    remove_note=self.alias_in_use,
                    uses=(),
                    rules=rules,
                )
            )

        hosts_uses: tuple[str, ...] = ()
        alias(
            "alias-dc",
            DC_ALIAS,
            "Network(s)",
            [self._network_entry(n) for n in profile.datacenter_networks],
            "datacenter networks",
            outbound,
        )
        if outbound and outbound[0].required_hosts.kind == "range":
            hosts = outbound[0].required_hosts
            alias(
                "alias-hosts",
                HOSTS_ALIAS,
                "Host(s)",
                [f"{hosts.start}-{hosts.end}"],
                "backup hosts",
                outbound,
            )
            hosts_uses = ("alias-hosts",)
        if sources:
            forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
            alias(
                "alias-monitoring",
                MONITOR_ALIAS,
                "Network(s)",
                [self._source_entry(n, forwards[0]) for n in sources],
                sources_label(forwards[0], "monitoring computers"),
                forwards,
            )
        for group in by_port(outbound):
            rule = group[0]
            key = _group_key(group)
            mark = marker(site, key)
            entries.append(
                GuiItem(
                    key=key,
                    marker=mark,
                    title=f"the {inside} pass rule for {protocols_label(group)} to the datacenter",
                    exposure=Exposure.OUTBOUND,
                    add_path=self.rule_path.format(inside=inside),
                    fields=self.rule_fields.format(
                        inside=inside,
                        protocol=_protocol(group),
                        source=self._source(rule.required_hosts),
                        datacenter=DC_ALIAS,
                        port=rule.port,
                        description=(
                            f"{mark} {profile.name}: {protocols_label(group)} to the datacenter"
                        ),
                    ),
                    listed=f"Firewall › Rules › {inside}",
                    what="the rule",
                    found_by=f"whose Description begins with {mark}",
                    remove_note=(
                        f"Only that rule: the {self.default_allow}, if it is still there, was "
                        "there before the instructions and stays, and while it stays the backup "
                        "traffic still passes."
                    ),
                    uses=("alias-dc", *hosts_uses),
                    rules=group,
                )
            )
        for group in by_port(policy.of_kind(RuleKind.SOURCE_NAT)):
            rule = group[0]
            key = _group_key(group)
            mark = marker(site, key)
            entries.append(
                GuiItem(
                    key=key,
                    marker=mark,
                    title=f"the outbound NAT mapping for {protocols_label(group)}",
                    exposure=Exposure.SUPPORT,
                    add_path=self.nat_mapping_path,
                    fields=self.nat_mapping_fields.format(
                        outside=outside,
                        protocol=_protocol(group),
                        source=self._nat_source(rule.required_hosts),
                        datacenter=DC_ALIAS,
                        port=rule.port,
                        description=(
                            f"{mark} {profile.name}: translate {protocols_label(group)} to the "
                            "datacenter"
                        ),
                    ),
                    listed=self.nat_mapping_list,
                    what="the mapping",
                    found_by=f"whose Description begins with {mark}",
                    remove_note=(
                        f"With automatic outbound NAT there is no such mapping: the automatic "
                        f"rules are {self.product}'s own and stay."
                    ),
                    uses=("alias-dc", *hosts_uses),
                    rules=group,
                    only_if=self.nat_mapping_condition.format(inside=inside),
                )
            )
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        public = forwards[0].public_address if forwards else None
        destination = (
            f"{outside} address ({public}; if {public} is an extra address of the firewall, "
            "a Virtual IP, choose it instead)"
            if public
            else f"{outside} address (follows the address the provider assigns)"
        )
        for group in by_port(forwards):
            rule = group[0]
            key = _group_key(group)
            mark = marker(site, key)
            entries.append(
                GuiItem(
                    key=key,
                    marker=mark,
                    title=(
                        f"the port forward of {protocols_label(group)} to the backup host, with "
                        f"its associated {outside} rule"
                    ),
                    exposure=Exposure.INBOUND,
                    add_path=self.port_forward_path.format(outside=outside),
                    fields=self.port_forward_fields.format(
                        outside=outside,
                        protocol=_protocol(group),
                        source=self._monitor_source(rule),
                        destination=destination,
                        port=rule.port,
                        host=rule.required_hosts.start,
                        description=f"{mark} {profile.name}: monitoring {protocols_label(group)}",
                    ),
                    listed=self.port_forward_list,
                    what="the port forward",
                    found_by=f"whose Description begins with {mark}",
                    remove_note=(
                        f"It was created with {self.associated_rule}, so {self.product} deletes "
                        f"its associated pass rule on {outside} (Description NAT {mark} …) with "
                        f"it. If Firewall › Rules › {outside} still lists a rule whose Description "
                        f"begins with NAT {mark} (the association was changed to unassociated, or "
                        "the rule was added unassociated), delete that rule too."
                    ),
                    uses=("alias-monitoring",) if sources else (),
                    rules=group,
                )
            )
        return entries

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

    def _alias_step(self, policy: Policy, aliases: list[GuiItem]) -> Step:
        names = [entry.what.removeprefix("the alias ") for entry in aliases]
        return Step(
            title=("Create the aliases for " if len(names) > 1 else "Create the alias for ")
            + and_list([_alias_what(name, policy) for name in names]),
            gui_path=self.alias_path,
            config="\n\n".join(entry.fields for entry in aliases),
            config_language="text",
            reason=(
                "The rules below name these aliases, so a change of addresses later is one edit "
                f"here. {self.alias_howto} Alias names may contain only letters, digits and _."
                + (self.range_alias_note if HOSTS_ALIAS in names else "")
                + " Each Description starts with its marker (obm:…), which finds the alias "
                "again when it is changed or removed."
            ),
            verify="\n".join([self.alias_check] + [f"pfctl -t {name} -T show" for name in names]),
            guide_rules=guide_rules_of(
                policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
            ),
        )

    def _outbound_step(self, entry: GuiItem, inside: str) -> Step:
        rule = entry.rules[0]
        return Step(
            title=(
                f"Allow {protocols_label(entry.rules)} from {_who(rule.required_hosts)} to the "
                "datacenter"
            ),
            gui_path=entry.add_path,
            config=entry.fields,
            config_language="text",
            reason=(
                f"{rule.reason} {self.rule_order.format(inside=inside)} this rule only adds a "
                "pass: with that rule in place it changes nothing, and it keeps the backup "
                "allowed when that rule is removed or narrowed. The instructions never change or "
                "remove the default rule. States let the replies back. " + self.apply
            ),
            verify=(
                f"Firewall › Rules › {inside}: the rule is listed, enabled and above any block "
                f"rule; {self.rule_counters}\npfctl -sr | grep 'port = {rule.port}'"
            ),
            guide_rules=guide_rules_of(entry.rules),
        )

    def _outbound_nat_check(
        self, mappings: list[GuiItem], site: SiteDescription, inside: str, outside: str
    ) -> Step:
        blocks = [self.nat_mode_fields.format(inside=inside, outside=outside, lan=site.lan_network)]
        blocks += [textwrap.indent(entry.fields, "  ") for entry in mappings]
        rules = tuple(rule for entry in mappings for rule in entry.rules)
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
        self, rules: tuple[Rule, ...], port_forwards: list[GuiItem], outside: str
    ) -> Step:
        public = rules[0].public_address
        blocks = [
            f"Port forward {n} of {len(port_forwards)}: {protocols_label(entry.rules)}\n"
            + textwrap.indent(entry.fields, "  ")
            for n, entry in enumerate(port_forwards, start=1)
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
                f"on {outside} and keeps it in step with the port forward; deleting the port "
                "forward deletes that rule too. "
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

    def _inbound_check(
        self, rules: tuple[Rule, ...], port_forwards: list[GuiItem], outside: str
    ) -> Step:
        host = rules[0].required_hosts.start
        lines = [f"Pass rules on {outside} created by the port forwards:"]
        for entry in port_forwards:
            rule = entry.rules[0]
            lines.append(
                f"- IPv4 {_protocol(entry.rules)}, Source {self._monitor_source(rule)}, "
                f"Destination {host} port {rule.port}, Description NAT {entry.marker} …"
            )
        lines.append(
            f"The destination is the private address {host}, not the public "
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
                    only_monitoring_sources(rules[0], "the monitoring sources")
                    if rules[0].allowed_sources
                    else "Any address may connect; an OBM_MONITOR alias with the monitoring "
                    "computers' addresses as Source would be safer."
                )
            ),
            verify=(
                f"Firewall › Rules › {outside}: the rules above are listed and enabled.\n"
                f"pfctl -sr | grep {host}"
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

    def _source_entry(self, network: IPv4Network, rule: Rule) -> str:
        """An entry of the monitoring alias: the portal's check source says what it is in the
        entry's own Description, as no monitoring computer."""
        if is_check_source(network, rule):
            return f"{self._network_entry(network)}    Description: {CHECK_SOURCE_LABEL}"
        return self._network_entry(network)

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


def _alias_what(name: str, policy: Policy) -> str:
    """What an alias holds, for a title: the monitoring alias also holds the portal's check
    source where the policy added it."""
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    if name == MONITOR_ALIAS and forwards:
        return sources_label(forwards[0])
    return _ALIAS_WHAT[name]


def _who(hosts: HostMatch) -> str:
    return {"address": "the backup host", "range": "the backup hosts"}.get(hosts.kind, "the LAN")


def _group_key(rules: tuple[Rule, ...]) -> str:
    """The key of a group of ``by_port``: ``rule_key`` with every protocol of the group,
    ``dnat-tcp-udp-4403``."""
    first = rules[0]
    protocols = "-".join(r.required_protocol for r in rules)
    return rule_key(first).replace(f"-{first.required_protocol}-", f"-{protocols}-", 1)


def _protocol(rules: tuple[Rule, ...]) -> str:
    """The Protocol field of a group of ``by_port``: TCP/UDP takes both in one rule."""
    protocols = {r.protocol for r in rules}
    return "TCP/UDP" if protocols == {"tcp", "udp"} else rules[0].required_protocol.upper()
