"""Any firewall: every rule explained in plain words, with the exact values to enter.

Targets no particular product or version; it is for firewalls the portal has no renderer for,
and it also covers the rules on the backup host (routes, host firewall) for any system. Values
are spelled out so they can be typed into any GUI: one line per protocol and port, because many
firewalls take one protocol per object (a firewall that accepts "TCP/UDP" may combine them).
Following the guide ("most default firewall configurations provide transparency"), source NAT is
a *check* that it is on.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps


class GenericRenderer(Renderer):
    slug = "generic"
    name = "Other firewall (plain instructions)"
    versions = "any firewall; no version-specific syntax"
    renderer_version = 1
    supports_ranges = True  # words can say "from … to …"; the CIDR cover is given as well
    hides_lan_by_default = True
    renders_host_rules = True

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside = site.inside_interface or "the inside interface (LAN)"
        outside = site.outside_interface or "the outside interface (Internet, WAN)"
        steps = [
            self._outbound_step(rule, inside, outside)
            for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        ]
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        if snat:
            steps.append(self._transparency_step(snat, outside))
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        if forwards:
            steps.append(self._forward_step(forwards, outside))
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound:
            steps.append(self._inbound_step(inbound, inside, outside))
        routes = policy.of_kind(RuleKind.STATIC_ROUTE)
        if routes:
            steps.append(self._route_step(routes))
        host_rules = policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND, RuleKind.HOST_FIREWALL_INBOUND)
        if host_rules:
            steps.append(self._host_firewall_step(host_rules))
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

    def _outbound_step(self, rule: Rule, inside: str, outside: str) -> Step:
        return Step(
            title=f"Allow {rule.port_spec} from the backup host to the datacenter",
            gui_path="",
            config="\n".join(
                [
                    "Action: allow",
                    f"From: {inside}",
                    f"To: {outside}",
                    f"Protocol: {rule.required_protocol.upper()}",
                    f"Source: {_hosts(rule.required_hosts)}",
                    f"Destination: {_networks(rule.datacenter)} (the datacenter)",
                    f"Destination port: {rule.port}",
                ]
            ),
            config_language="text",
            reason=str(rule.reason),
            verify="The rule is listed, enabled, and above any rule that blocks this traffic.",
            guide_rules=rule.reason.guide_rules,
        )

    def _transparency_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        lines = ["Outgoing connections that must leave with the firewall's outside address:"]
        lines += [
            f"- {r.port_spec} from {_hosts(r.required_hosts)} to {_networks(r.datacenter)}"
            for r in rules
        ]
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

    def _forward_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        public = rules[0].public_address
        where = f"the public address {public}" if public else f"the address of {outside} (dynamic)"
        lines = [f"Port forwards on {where}, one per line:"]
        for r in rules:
            lines.append(
                f"- {r.port_spec}: from {_sources(r.allowed_sources)}, to {r.required_hosts.start} port {r.port}"
            )
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

    def _inbound_step(self, rules: tuple[Rule, ...], inside: str, outside: str) -> Step:
        public = rules[0].public_address
        lines = [f"Allow, from {outside} to {inside}:"]
        for r in rules:
            lines.append(f"- {r.port_spec} from {_sources(r.allowed_sources)} to the backup host")
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
                    "Only the monitoring sources may connect."
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting it to the monitoring computers is safer."
                )
            ),
            verify="The rules are listed, enabled, and above any rule that blocks this traffic.",
            guide_rules=guide_rules_of(rules),
        )

    def _route_step(self, rules: tuple[Rule, ...]) -> Step:
        first = rules[0]
        lines = [
            f"- {r.route_destination} via {r.next_hop} on interface {r.interface_name} "
            f"(index {r.interface_index})"
            for r in rules
        ]
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

    def _host_firewall_step(self, rules: tuple[Rule, ...]) -> Step:
        lines = []
        for r in rules:
            if r.kind is RuleKind.HOST_FIREWALL_OUTBOUND:
                lines.append(f"- allow outgoing {r.port_spec} to {_networks(r.datacenter)}")
            else:
                lines.append(f"- allow incoming {r.port_spec} from {_sources(r.allowed_sources)}")
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


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"{hosts.start} (the backup host)"
    if hosts.kind == "range":
        cover = ", ".join(str(n) for n in hosts.networks())
        return f"{hosts.start} to {hosts.end} (the backup hosts; as networks: {cover})"
    return f"{hosts.network} (the whole LAN, because the host's address comes from DHCP)"


def _networks(networks: tuple[IPv4Network, ...]) -> str:
    return ", ".join(str(n) for n in networks)


def _sources(networks: tuple[IPv4Network, ...]) -> str:
    return _networks(networks) if networks else "any address"
