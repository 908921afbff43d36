"""Ubiquiti EdgeOS (EdgeRouter) and UniFi gateways.

Targets EdgeOS 2.0 and later on EdgeRouters, configured from the CLI (``configure`` … ``commit``,
``save``), with the EdgeOS web UI paths; and, for UniFi gateways (USG, UDM, UCG, UXG), the UniFi
Network application 8.x / 9.x paths given beside each step. A UniFi gateway's configuration is
written by the Network application, which overwrites CLI changes at the next provisioning, so
there the GUI paths are the instructions and the commands show the values.

How it handles the traps:

- **TCP and UDP together**: EdgeOS NAT and firewall rules accept ``protocol tcp_udp``, so a
  port forwarded for both protocols (4403) is one destination NAT rule and one firewall rule;
  a port for one protocol (TCP 4401) keeps its own protocol. A UniFi port forward likewise
  takes "TCP/UDP" ("Both").
- **Inbound rules name the private address**: EdgeOS filters forwarded traffic after destination
  NAT, so the ``WAN_IN`` rule names the host's private address.
- **Transparency is a check**: the setup wizard creates a masquerade rule for the WAN interface
  (rule 5010) and UniFi gateways masquerade the LANs automatically. The step checks it and gives,
  commented out, a masquerade for the backup traffic only, for a router without one.
- **Rulesets**: ``set`` merges into an existing rule of the same number, so the rules use the
  numbers 4401 and up (destination NAT must stay below 5000, source NAT 5000 and up: 5401 and
  up), which no wizard uses. A firewall ruleset acts only when attached to an interface; the
  first step finds which are. The outbound allow goes into the ruleset on the LAN interface's
  ``in`` direction if there is one; without one the router forwards LAN traffic already, and a
  new ruleset would drop everything else (its default action is drop).
- **Monitoring sources** are the address group ``obm-monitoring`` (networks written as ranges),
  matched by both the NAT and the firewall rule; the datacenter networks are the network group
  ``obm-dc``.
- **Dynamic public address**: the destination NAT rule matches on the inbound interface only;
  with a fixed address it also names the address.
- **Ranges** are native (``source address A-B``); the DHCP LAN is its network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

LANGUAGE = "edgeos"
CLI = "EdgeOS CLI (SSH, or the web UI's CLI button)"
DATACENTER = "obm-dc"
MONITORING = "obm-monitoring"
LAN_RULESET = "LAN_IN"
WAN_RULESET = "WAN_IN"
FIRST_RULE = 4401  # firewall and destination NAT rule numbers (destination NAT: 1-4999)
FIRST_SOURCE_NAT_RULE = 5401  # source NAT and masquerade rules: 5000-9999


@dataclass(frozen=True)
class _Forward:
    """One forwarded port for one or both protocols: ``protocol`` is tcp, udp or tcp_udp."""

    protocol: str
    port: int
    rules: tuple[Rule, ...]

    @property
    def label(self) -> str:
        return f"{'TCP+UDP' if self.protocol == 'tcp_udp' else self.protocol.upper()} {self.port}"

    @property
    def first(self) -> Rule:
        return self.rules[0]


class EdgeosRenderer(Renderer):
    slug = "edgeos"
    name = "Ubiquiti EdgeOS / UniFi"
    versions = "EdgeOS 2.0 and later (EdgeRouter); UniFi Network 8.x / 9.x for UniFi gateways"
    renderer_version = 1
    supports_ranges = True  # source address 192.168.1.10-192.168.1.20
    hides_lan_by_default = True  # wizard masquerade rule 5010; UniFi masquerades automatically
    default_interfaces = ("eth1", "eth0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = list(_combine(policy.of_kind(RuleKind.DESTINATION_NAT)))
        inbound = list(_combine(policy.of_kind(RuleKind.ALLOW_INBOUND)))

        steps = [
            self._find_rulesets_step(inside, outside, bool(inbound)),
            self._outbound_step(outbound, profile, inside),
        ]
        if snat:
            steps.append(self._transparency_step(snat, outside))
        if forwards:
            steps.append(self._forward_step(forwards, outside))
        if inbound:
            steps.append(self._inbound_step(inbound, outside))
        steps += verification_steps(
            policy,
            gui_path=CLI,
            outbound_verify="\n".join(
                ["# while the probe runs on the backup host:"]
                + [f"show conntrack table ipv4 | match {r.port}" for r in outbound]
                + ["show nat statistics"]
            ),
            inbound_verify="\n".join(
                [
                    "# while the portal checks, the counters of the obm rules rise:",
                    "show nat statistics",
                    f"show firewall name {WAN_RULESET} statistics",
                ]
            ),
        )
        return steps

    def _find_rulesets_step(self, inside: str, outside: str, monitoring: bool) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Find the firewall rulesets attached to the interfaces",
            gui_path="EdgeOS: Firewall/NAT › Firewall Policies (column Interfaces) · "
            "UniFi Network: Settings › Security › Firewall Rules",
            config="",
            config_language=LANGUAGE,
            reason=(
                f"The next steps assume the setup wizard's names: {LAN_RULESET} for traffic "
                f"coming in from the LAN ({inside})"
                + (
                    f" and {WAN_RULESET} for traffic coming in from the Internet ({outside}, or "
                    "pppoe0 with PPPoE)"
                    if monitoring
                    else ""
                )
                + ". If the command shows other names on those interfaces' `in` direction, use "
                f"them instead. If {inside} has no `in` ruleset, skip the outbound step: the "
                "router forwards LAN traffic already. Rule numbers 4401 and up must be free "
                "(`show firewall name NAME`); `set` on an existing number changes that rule. "
                "On a UniFi gateway the Network application overwrites changes made on the "
                "command line: make the changes in the UniFi paths given with each step."
            ),
            verify='show configuration commands | match "firewall in"',
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], profile: ProfileSpec, inside: str) -> Step:
        lines = [
            "configure",
            f"set firewall group network-group {DATACENTER} description "
            f"'{_quote(profile.name)} datacenter'",
        ]
        lines += [
            f"set firewall group network-group {DATACENTER} network {n}"
            for n in profile.datacenter_networks
        ]
        for number, rule in enumerate(rules, start=FIRST_RULE):
            prefix = f"set firewall name {LAN_RULESET} rule {number}"
            lines += [
                f"{prefix} action accept",
                f"{prefix} description 'obm: backup out {rule.port_spec}'",
                f"{prefix} destination group network-group {DATACENTER}",
                f"{prefix} destination port {rule.port}",
                f"{prefix} protocol {rule.protocol}",
                f"{prefix} source address {_hosts(rule.required_hosts)}",
            ]
        lines += ["commit", "save", "exit"]
        return Step(
            title=f"Allow the backup traffic out to the datacenter ({LAN_RULESET}, only if "
            f"{inside} has an in ruleset)",
            gui_path="EdgeOS: Firewall/NAT › Firewall Policies › "
            f"{LAN_RULESET} › Actions › Edit Ruleset › Add New Rule · UniFi Network: "
            "Settings › Security › Firewall Rules › LAN In",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter (network group "
                f"{DATACENTER}). Needed only where a ruleset filters what comes in from the LAN: "
                f"the rule must come before any drop rule of {LAN_RULESET}. Do not attach a new "
                f"{LAN_RULESET} just for this: a ruleset drops everything else by default. "
                + rules[0].reason.detail
            ),
            verify=f"show firewall name {LAN_RULESET}\nshow firewall group {DATACENTER}",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        fallback = ["# configure"]
        for number, rule in enumerate(rules, start=FIRST_SOURCE_NAT_RULE):
            prefix = f"# set service nat rule {number}"
            fallback += [
                f"{prefix} description 'obm: backup transparency {rule.port_spec}'",
                f"{prefix} destination port {rule.port}",
                f"{prefix} outbound-interface {outside}",
                f"{prefix} protocol {rule.protocol}",
                f"{prefix} source address {_hosts(rule.required_hosts)}",
                f"{prefix} type masquerade",
            ]
        fallback += ["# commit", "# save", "# exit"]
        return Step(
            kind=StepKind.CHECK,
            title="Check that the LAN is masqueraded (transparency)",
            gui_path="EdgeOS: Firewall/NAT › NAT (Source NAT Rules) · UniFi Network: automatic, "
            "nothing to set",
            config="\n".join(
                [
                    f"# Only if no masquerade rule exists for {outside}, remove the leading # and paste:",
                    *fallback,
                ]
            ),
            config_language=LANGUAGE,
            reason=(
                f"The setup wizard masquerades everything that leaves through {outside} (rule "
                "5010, type masquerade), and UniFi gateways masquerade their LANs automatically; "
                "that gives the guide's transparency. Check that such a rule is there; if not, "
                "add the masquerade shown, which covers the backup connections only."
            ),
            verify="show nat rules",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, forwards: list[_Forward], outside: str) -> Step:
        sources = forwards[0].first.allowed_sources
        public = forwards[0].first.public_address
        lines = ["configure"]
        lines += [
            f"set firewall group address-group {MONITORING} address {_range(n)}" for n in sources
        ]
        for number, forward in enumerate(forwards, start=FIRST_RULE):
            prefix = f"set service nat rule {number}"
            lines += [
                f"{prefix} description 'obm: monitoring {forward.label}'",
                *([f"{prefix} destination address {public}"] if public else []),
                f"{prefix} destination port {forward.port}",
                f"{prefix} inbound-interface {outside}",
                f"{prefix} inside-address address {forward.first.required_hosts.start}",
                f"{prefix} inside-address port {forward.port}",
                f"{prefix} log disable",
                f"{prefix} protocol {forward.protocol}",
                *([f"{prefix} source group address-group {MONITORING}"] if sources else []),
                f"{prefix} type destination",
            ]
        lines += ["commit", "save", "exit"]
        where = (
            f"addressed to {public}"
            if public
            else f"arriving on {outside}, whatever address the provider gives it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (destination NAT)",
            gui_path="EdgeOS: Firewall/NAT › NAT › Add Destination NAT Rule · UniFi Network: "
            "Settings › Routing › Port Forwarding › Create Entry (Protocol: Both for "
            "4403; From: Limited, the monitoring addresses)",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"The monitoring GUI connects to the router; connections {where} on these ports "
                "are passed on to the backup host. `tcp_udp` covers TCP and UDP 4403 in one "
                "rule. "
                + (
                    f"Only the addresses in {MONITORING} are forwarded. "
                    if sources
                    else "Any address is forwarded; listing the monitoring computers would "
                    "restrict it. "
                )
                + "In UniFi, the port forward also creates its firewall allow, so the next step "
                "is done."
            ),
            verify="show nat rules",
            guide_rules=guide_rules_of(r for f in forwards for r in f.rules),
        )

    def _inbound_step(self, forwards: list[_Forward], outside: str) -> Step:
        lines = ["configure"]
        for number, forward in enumerate(forwards, start=FIRST_RULE):
            prefix = f"set firewall name {WAN_RULESET} rule {number}"
            lines += [
                f"{prefix} action accept",
                f"{prefix} description 'obm: monitoring in {forward.label}'",
                f"{prefix} destination address {forward.first.required_hosts.start}",
                f"{prefix} destination port {forward.port}",
                f"{prefix} protocol {forward.protocol}",
                *(
                    [f"{prefix} source group address-group {MONITORING}"]
                    if forward.first.allowed_sources
                    else []
                ),
            ]
        lines += ["commit", "save", "exit"]
        host = forwards[0].first.required_hosts.start
        return Step(
            title=f"Allow the forwarded monitoring ports in ({WAN_RULESET}, private address)",
            gui_path=f"EdgeOS: Firewall/NAT › Firewall Policies › {WAN_RULESET} › Actions › "
            "Edit Ruleset › Add New Rule · UniFi Network: created with the port forward",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"{WAN_RULESET} drops what it does not allow, and it sees the connections after "
                f"destination NAT, so the rules name the backup host's private address {host}. "
                + (
                    "Only the monitoring computers may connect."
                    if forwards[0].first.allowed_sources
                    else "Any address may connect."
                )
            ),
            verify=f"show firewall name {WAN_RULESET}",
            guide_rules=guide_rules_of(r for f in forwards for r in f.rules),
        )


def _combine(rules: tuple[Rule, ...]) -> Iterator[_Forward]:
    """Merge the TCP and UDP rules of one port into one ``tcp_udp`` entry, in policy order."""
    by_port: dict[int, list[Rule]] = {}
    for rule in rules:
        by_port.setdefault(rule.required_port, []).append(rule)
    for port, same_port in by_port.items():
        protocols = {r.protocol for r in same_port}
        protocol = "tcp_udp" if protocols == {"tcp", "udp"} else same_port[0].required_protocol
        yield _Forward(protocol, port, tuple(same_port))


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"{hosts.start}-{hosts.end}"
    return str(hosts.start) if hosts.kind == "address" else str(hosts.network)


def _range(network: IPv4Network) -> str:
    """An address-group entry: one address, or the network as a range of addresses."""
    if network.prefixlen == 32:
        return str(network.network_address)
    return f"{network.network_address}-{network.broadcast_address}"


def _quote(text: str) -> str:
    """Text inside a single-quoted EdgeOS value (no single quote can be escaped there)."""
    return text.replace("'", "")
