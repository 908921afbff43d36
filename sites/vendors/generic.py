"""Any firewall: every rule explained in plain words, with the exact values to enter.

Targets no particular product or version; it is for firewalls the portal has no renderer for,
and it also covers the rules on the backup host (routes, host firewall) for any system. Values
are spelled out so they can be typed into any GUI: one line per protocol and port, because many
firewalls take one protocol per object (a firewall that accepts "TCP/UDP" may combine them).
Following the guide ("most default firewall configurations provide transparency"), source NAT is
a *check* that it is on.

**Markers**: every rule, port forward and host firewall rule is given a name, or a comment where
the firewall's rules have no name, that is its marker, ``obm:<site>:<key>``; a route, which has
no name anywhere, is noted with its marker. A change plan says which named rule to edit and what
it must read afterwards (every firewall's interface edits a rule in place); a removal plan says
which named rule to delete. Where the firewall limits names (length, characters), the marker is
what goes into the comment or description field.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.restriction import (
    CHECK_SOURCE_WORDS,
    connecting,
    only_monitoring_sources,
    route_words,
)

ON_THE_HOST = "On the backup host"


@dataclass(frozen=True)
class _Entry:
    """One rule, port forward or route in words, named by its marker: ``fields`` describe it
    (the values to enter), ``kind`` is what the firewall calls it."""

    key: str
    marker: str
    kind: str  # "rule", "port forward", "source NAT rule", "route", "host firewall rule"
    fields: tuple[str, ...]
    title: str
    exposure: Exposure
    guide_rules: tuple[GuideRule, ...]
    on_host: bool = False
    fallback: bool = False

    @property
    def named(self) -> str:
        """Where the marker goes."""
        if self.kind == "route":
            return f"note it as {self.marker} (a route has no name)"
        return f"name or comment: {self.marker}"

    @property
    def bullet(self) -> str:
        """The entry as one line of a list, with its marker."""
        if self.kind == "route":
            return f"{self.fields[0]}; {self.named}"
        return f"{self.fields[0]} ({self.named})"


class GenericRenderer(Renderer):
    slug = "generic"
    name = "Other firewall (plain instructions)"
    versions = "any firewall; no version-specific syntax"
    renderer_version = 2  # 2: every rule named by its marker
    markers_since = 2
    plan_gui_path = "Your firewall's rules"
    supports_ranges = True  # words can say "from … to …"; the CIDR cover is given as well
    hides_lan_by_default = True
    renders_host_rules = True

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = _interfaces(site)
        entries = {e.key: e for e in _entries(policy, site)}

        def of(rules: tuple[Rule, ...]) -> list[_Entry]:
            return [entries[rule_key(rule)] for rule in rules]

        steps = [
            self._outbound_step(rule, entries[rule_key(rule)])
            for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        ]
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        if snat:
            steps.append(self._transparency_step(snat, outside, of(snat)))
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        if forwards:
            steps.append(self._forward_step(forwards, outside, of(forwards)))
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound:
            steps.append(self._inbound_step(inbound, inside, outside, of(inbound)))
        routes = policy.of_kind(RuleKind.STATIC_ROUTE)
        if routes:
            steps.append(self._route_step(routes, of(routes)))
        host_rules = policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND, RuleKind.HOST_FIREWALL_INBOUND)
        if host_rules:
            steps.append(self._host_firewall_step(host_rules, of(host_rules)))
        if site.multi_homed:
            steps.append(
                Step(
                    kind=StepKind.CHECK,
                    title="Keep one default gateway on the backup host",
                    gui_path="",
                    config="",
                    config_language="text",
                    reason=(
                        "The backup host has more than one network interface. Keep the default "
                        "gateway only on the interface facing this firewall; the static routes cover "
                        "the datacenter and monitoring networks."
                    ),
                    verify="On the backup host, list the routes (`route print`, `ip route`, `netstat -rn`): exactly one default route.",
                    guide_rules=(GuideRule.MULTI_HOMED_ROUTE,),
                )
            )
        steps += verification_steps(
            policy,
            outbound_verify=(
                "Run the portal's probe on the backup host. In the firewall's connection or "
                "session list, a connection from the backup host to the datacenter on the "
                "backup port shows the firewall's outside address as its translated source."
            ),
            inbound_verify=(
                "Keep the probe running on the backup host while the portal checks; the "
                "firewall's log or connection list shows the forwarded connections."
            ),
        )
        return steps

    def _outbound_step(self, rule: Rule, entry: _Entry) -> Step:
        return Step(
            title=f"Allow {rule.port_spec} from the backup host to the datacenter",
            gui_path="",
            config="\n".join([*entry.fields, f"Name (or comment): {entry.marker}"]),
            config_language="text",
            reason=str(rule.reason),
            verify="The rule is listed, enabled, and above any rule that blocks this traffic.",
            guide_rules=rule.reason.guide_rules,
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], outside: str, entries: list[_Entry]
    ) -> Step:
        lines = ["Outgoing connections that must leave with the firewall's outside address:"]
        lines += [f"{e.fields[0]} (if you add a rule for it, {e.named})" for e in entries]
        lines.append(
            f"Translation: source NAT / masquerade / hide NAT to the address of {outside}."
        )
        return Step(
            kind=StepKind.CHECK,
            title="Check that the backup connections are translated (transparency)",
            gui_path="",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "Most firewalls translate all LAN traffic to their outside address by default. "
                "Check that this is on for the connections above; if it is not, add a source NAT "
                "rule for them (or for the whole LAN). " + rules[0].reason.detail
            ),
            verify="The firewall's NAT settings list automatic / default outbound NAT for the LAN, or a rule covering the lines above.",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], outside: str, entries: list[_Entry]) -> Step:
        public = rules[0].public_address
        where = f"the public address {public}" if public else f"the address of {outside} (dynamic)"
        lines = [f"Port forwards on {where}, one per line:", *(e.bullet for e in entries)]
        return Step(
            title="Forward the monitoring ports to the backup host",
            gui_path="",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "The monitoring GUI connects from outside to the firewall, which passes the "
                'connection on to the backup host (destination NAT, "port forwarding", '
                '"virtual IP"). If your firewall takes one protocol per port forward, create '
                "one per line; if it accepts TCP and UDP together, you may combine them. "
                + GuideRule.REMOTE_MONITORING.explanation
            ),
            verify="The port forwards are listed and enabled, each with its protocol.",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(
        self, rules: tuple[Rule, ...], inside: str, outside: str, entries: list[_Entry]
    ) -> Step:
        public = rules[0].public_address
        lines = [f"Allow, from {outside} to {inside}:", *(e.bullet for e in entries)]
        lines.append(
            f"Name the backup host by its private address {rules[0].required_hosts.start} if your "
            "firewall "
            "filters after destination NAT (most Linux- and BSD-based firewalls, Cisco ASA 8.3+, "
            "Juniper SRX), or by the public address "
            + (str(public) if public else f"of {outside}")
            + " if it filters before (Cisco IOS, Palo Alto, SonicWall)."
        )
        return Step(
            title="Allow the forwarded monitoring ports in",
            gui_path="",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "A port forward alone does not let the connection through: the firewall also "
                "needs an allow rule (some create it together with the port forward). "
                + (
                    only_monitoring_sources(rules[0], "the monitoring sources")
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting it to the monitoring computers is safer."
                )
            ),
            verify="The rules are listed, enabled, and above any rule that blocks this traffic.",
            guide_rules=guide_rules_of(rules),
        )

    def _route_step(self, rules: tuple[Rule, ...], entries: list[_Entry]) -> Step:
        first = rules[0]
        lines = [e.bullet for e in entries]
        return Step(
            title="Add persistent static routes on the backup host",
            gui_path="",
            config="Persistent routes (kept after a restart):\n" + "\n".join(lines),
            config_language="text",
            reason=(
                f"The backup host has several default gateways; these routes send the backup and "
                f"monitoring traffic through {first.interface_name} and this firewall, so replies "
                "leave the way the connection came in. " + GuideRule.MULTI_HOMED_ROUTE.explanation
            ),
            verify="On the backup host, the route table lists these routes (Windows: `route print`; Linux: `ip route`; macOS: `netstat -rn`).",
            guide_rules=(GuideRule.MULTI_HOMED_ROUTE,),
        )

    def _host_firewall_step(self, rules: tuple[Rule, ...], entries: list[_Entry]) -> Step:
        lines = [e.bullet for e in entries]
        return Step(
            title="Allow the same connections in the backup host's own firewall",
            gui_path="",
            config="On the backup host's firewall:\n" + "\n".join(lines),
            config_language="text",
            reason=GuideRule.HOST_FIREWALL.explanation
            + " Windows allows outgoing connections by default but blocks incoming ones.",
            verify="The host firewall lists the rules as enabled for every network profile.",
            guide_rules=guide_rules_of(rules),
        )

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        items = []
        for entry in _entries(policy, site):
            described = "\n".join(entry.fields)
            create = f"Add a {entry.kind}; {entry.named}:\n{described}"
            remove = f"Delete the {entry.kind} named {entry.marker}."
            # Found by the key: after a site is renamed, it still has the old site's marker.
            update = (
                f"Edit the {entry.kind} whose name or comment ends in :{entry.key} so that it "
                f"reads ({entry.named}):\n{described}"
            )
            if entry.kind == "route":
                remove = f"Delete the route noted {entry.marker}:\n{described}"
                update = ""  # a route is deleted and added again: it has no name to edit
            if entry.fallback:
                create = (
                    "Only if your firewall does not already translate these connections: " + create
                )
                remove = f"If you added it: {remove[0].lower()}{remove[1:]}"
                update = f"If you added it: {update[0].lower()}{update[1:]}"
            items.append(
                ManagedItem(
                    key=entry.key,
                    marker=entry.marker,
                    title=entry.title,
                    exposure=entry.exposure,
                    create=create,
                    remove=remove,
                    update=update,
                    renames_in_place=True,  # found by the key its name ends in
                    gui_path=ON_THE_HOST if entry.on_host else "",
                    guide_rules=entry.guide_rules,
                )
            )
        return tuple(items)


def _interfaces(site: SiteDescription) -> tuple[str, str]:
    return (
        site.inside_interface or "the inside interface (LAN)",
        site.outside_interface or "the outside interface (Internet, WAN)",
    )


def _entries(policy: Policy, site: SiteDescription) -> list[_Entry]:
    """Every rule, port forward and route, in the order of the complete instructions."""
    inside, outside = _interfaces(site)
    entries: list[_Entry] = []

    def add(rule: Rule, kind: str, fields: list[str], title: str, exposure: Exposure, **more):
        key = rule_key(rule)
        entries.append(
            _Entry(
                key=key,
                marker=marker(site, key),
                kind=kind,
                fields=tuple(fields),
                title=title,
                exposure=exposure,
                guide_rules=rule.reason.guide_rules,
                **more,
            )
        )

    for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
        add(
            rule,
            "rule",
            [
                "Action: allow",
                f"From: {inside}",
                f"To: {outside}",
                f"Protocol: {rule.required_protocol.upper()}",
                f"Source: {_hosts(rule.required_hosts)}",
                f"Destination: {_networks(rule.datacenter)} (the datacenter)",
                f"Destination port: {rule.port}",
            ],
            f"Allow {rule.port_spec} from the backup host to the datacenter",
            Exposure.OUTBOUND,
        )
    for rule in policy.of_kind(RuleKind.SOURCE_NAT):
        add(
            rule,
            "source NAT rule",
            [
                f"- {rule.port_spec} from {_hosts(rule.required_hosts)} to "
                f"{_networks(rule.datacenter)}",
                f"Translation: source NAT / masquerade / hide NAT to the address of {outside}.",
            ],
            f"Source NAT for {rule.port_spec} (where you added it)",
            Exposure.SUPPORT,
            fallback=True,
        )
    for rule in policy.of_kind(RuleKind.DESTINATION_NAT):
        add(
            rule,
            "port forward",
            [
                f"- {rule.port_spec}: from {_sources(rule)}, to "
                f"{rule.required_hosts.start} port {rule.port}"
            ],
            f"Port forward {rule.port_spec} to the backup host",
            Exposure.INBOUND,
        )
    for rule in policy.of_kind(RuleKind.ALLOW_INBOUND):
        add(
            rule,
            "rule",
            [f"- {rule.port_spec} from {_sources(rule)} to the backup host"],
            f"Allow {rule.port_spec} in to the backup host",
            Exposure.INBOUND,
        )
    for rule in policy.of_kind(RuleKind.STATIC_ROUTE):
        add(
            rule,
            "route",
            [
                f"- {rule.route_destination} via {rule.next_hop} on interface "
                f"{rule.interface_name} (index {rule.interface_index})"
            ],
            f"Route to {route_words(rule, policy)} on the backup host",
            Exposure.SUPPORT,
            on_host=True,
        )
    for rule in policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND, RuleKind.HOST_FIREWALL_INBOUND):
        outgoing = rule.kind is RuleKind.HOST_FIREWALL_OUTBOUND
        add(
            rule,
            "host firewall rule",
            [
                f"- allow outgoing {rule.port_spec} to {_networks(rule.datacenter)}"
                if outgoing
                else f"- allow incoming {rule.port_spec} from {_sources(rule)}"
            ],
            f"Backup host's firewall: allow {rule.port_spec} "
            + ("out" if outgoing else f"in from the {connecting(rule)}"),
            Exposure.OUTBOUND if outgoing else Exposure.INBOUND,
            on_host=True,
        )
    return entries


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"{hosts.start} (the backup host)"
    if hosts.kind == "range":
        cover = ", ".join(str(n) for n in hosts.networks())
        return f"{hosts.start} to {hosts.end} (the backup hosts; as networks: {cover})"
    return f"{hosts.network} (the whole LAN, because the host's address comes from DHCP)"


def _networks(networks: tuple[IPv4Network, ...]) -> str:
    return ", ".join(str(n) for n in networks)


def _sources(rule: Rule) -> str:
    """Who the rule lets in, the portal's check source named as what it is."""
    if not rule.allowed_sources:
        return "any address"
    check = (
        f" ({CHECK_SOURCE_WORDS} {rule.check_source.network_address})" if rule.check_source else ""
    )
    return _networks(rule.allowed_sources) + check
