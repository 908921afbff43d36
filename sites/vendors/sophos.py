"""Sophos Firewall (SFOS), configured in its web admin console.

Targets SFOS 19.0 and later (19.5, 20.0, 21.0), where firewall rules and NAT rules are separate
tables (since 18.0). Everything is given as the fields of the web admin dialogs; the device
console is used for verification only (``tcpdump``, ``drop-packet-capture``).

How it handles the traps:

- TCP and UDP in one object: an SFOS service of type TCP/UDP may list several protocol and
  port rows, so the forwarded ports (TCP 4403, UDP 4403, TCP 4401) are one service, and the DNAT
  rule and the inbound firewall rule each name it once.
- Which address the inbound rule names: for incoming traffic SFOS looks up the DNAT rule first
  and matches the firewall rule against the translated (post-NAT) destination: the firewall
  rule's destination zone is the backup host's zone (LAN) and its destination network the
  backup host's private IP host, not the public address.
- Hide NAT by default: the rule "Default SNAT IPv4" masquerades (MASQ) all traffic leaving
  through a WAN interface, so transparency is a *check* step (with the firewall rule's "Create
  linked NAT rule" as the fix when the default rule is gone).
- Ranges: an IP host of type IP range names them. DHCP: an IP host of type Network for the LAN.
- Dynamic public address: the DNAT rule's original destination is the WAN port's own interface
  object (e.g. ``#Port2``), which follows the address the port gets by DHCP or PPPoE.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

HOSTS_GUI = "Hosts and services › IP host › Add"
SERVICES_GUI = "Hosts and services › Services › Add"
FIREWALL_GUI = "Rules and policies › Firewall rules › Add firewall rule › New firewall rule"
NAT_GUI = "Rules and policies › NAT rules"

HOST = "OBM backup host"
DATACENTER = "OBM datacenter"
PUBLIC = "OBM public address"
MONITORING = "OBM monitoring sources"
MONITORING_SERVICE = "OBM monitoring"


class SophosRenderer(Renderer):
    slug = "sophos"
    name = "Sophos Firewall (SFOS)"
    versions = "SFOS 19.0 and later (web admin console)"
    renderer_version = 1
    supports_ranges = True  # IP host of type IP range
    hides_lan_by_default = True  # "Default SNAT IPv4" (MASQ)
    default_interfaces = ("Port1", "Port2")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        source = _source_name(outbound[0].required_hosts)
        public = PUBLIC if site.public_address else f"#{outside}"

        steps = [
            self._hosts_step(policy, site, outbound[0]),
            self._services_step(outbound, forwards),
            self._outbound_step(outbound, source),
            self._transparency_step(policy.of_kind(RuleKind.SOURCE_NAT), source, outside),
        ]
        if forwards:
            steps += [
                self._dnat_step(forwards, public, outside),
                self._inbound_step(inbound),
            ]
        outbound_ports = " or ".join(f"port {r.port}" for r in outbound)
        outbound_filter = " or ".join(f"{r.protocol} port {r.port}" for r in outbound)
        inbound_ports = " or ".join(f"port {p}" for p in sorted({r.required_port for r in inbound}))
        steps += verification_steps(
            policy,
            gui_path="Diagnostics › Packet capture; Log viewer (Firewall)",
            outbound_verify=(
                "While the probe runs on the backup host: Log viewer, module Firewall, shows the "
                'connection allowed by "OBM backup out" with the NAT rule "Default SNAT IPv4". '
                "On the device console (SSH, menu 4. Device console):\n"
                f"tcpdump -n '{outbound_filter}'\n"
                "# packets leave the WAN port with its public address as source; if none pass:\n"
                f"drop-packet-capture '{outbound_ports}'"
            ),
            inbound_verify=(
                "While the portal checks: Log viewer, module Firewall, shows the connections "
                'allowed by "OBM monitoring in" with the NAT rule "OBM monitoring DNAT". '
                "On the device console:\n"
                + (
                    f"tcpdump -n 'host {inbound[0].required_hosts.start} and ({inbound_ports})'\n"
                    f"drop-packet-capture '{inbound_ports}'"
                    if inbound
                    else ""
                )
            ),
        )
        return steps

    def _hosts_step(self, policy: Policy, site: SiteDescription, outbound: Rule) -> Step:
        lines = [_host_entry(_source_name(outbound.required_hosts), outbound.required_hosts)]
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        if forwards and (
            outbound.required_hosts.kind != "address"
            or outbound.required_hosts.start != forwards[0].required_hosts.start
        ):
            lines.append(_host_entry(HOST, forwards[0].required_hosts))
        lines += _networks_entries(DATACENTER, outbound.datacenter)
        if forwards and site.public_address:
            lines.append(
                f"Name: {PUBLIC} | IP version: IPv4 | Type: IP | IP address: {site.public_address}"
            )
        if forwards and forwards[0].allowed_sources:
            lines += _networks_entries(MONITORING, forwards[0].allowed_sources)
        return Step(
            title="Create the IP hosts",
            gui_path=HOSTS_GUI,
            config="\n".join(lines),
            config_language="text",
            reason=(
                (
                    "Names for the backup host, the datacenter and the monitoring side"
                    if forwards
                    else "Names for the backup host and the datacenter"
                )
                + ", used by the rules below. "
                + (
                    "Several networks go into an IP host group (Hosts and services › IP host "
                    "group › Add) named as shown. "
                    if any("group" in line for line in lines)
                    else ""
                )
                + (
                    "No fixed public address: the DNAT rule uses the WAN port's own interface "
                    "object instead."
                    if forwards and not site.public_address
                    else ""
                )
            ).rstrip(),
            verify="Hosts and services › IP host lists the hosts with these addresses.",
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _services_step(self, outbound: tuple[Rule, ...], forwards: tuple[Rule, ...]) -> Step:
        lines = [
            f"Name: {_service_name(r)} | Type: TCP/UDP | Protocol: {r.required_protocol.upper()} | "
            f"Source port: 1:65535 | Destination port: {r.port}"
            for r in outbound
        ]
        if forwards:
            lines.append(
                f"Name: {MONITORING_SERVICE} | Type: TCP/UDP | one row per protocol and port (Add):"
            )
            lines += [
                f"  Protocol: {r.required_protocol.upper()} | Source port: 1:65535 | Destination port: {r.port}"
                for r in forwards
            ]
        return Step(
            title="Create the services",
            gui_path=SERVICES_GUI,
            config="\n".join(lines),
            config_language="text",
            reason=(
                "The backup port"
                + (
                    ", and one service holding every forwarded port: an SFOS service of type "
                    "TCP/UDP may list TCP and UDP rows together, so one DNAT rule and one firewall "
                    "rule cover them all."
                    if forwards
                    else "."
                )
            ),
            verify="Hosts and services › Services lists the services with these protocols and ports.",
            guide_rules=guide_rules_of(outbound + forwards),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], source: str) -> Step:
        return Step(
            title="Allow the backup connection out (firewall rule LAN → WAN)",
            gui_path=FIREWALL_GUI,
            config="\n".join(
                [
                    "Rule name: OBM backup out",
                    "Action: Accept    Log firewall traffic: on",
                    "Rule position: Top",
                    "Source zones: LAN",
                    f"Source networks and devices: {source}",
                    "Destination zones: WAN",
                    f"Destination networks: {DATACENTER}",
                    "Services: " + ", ".join(_service_name(r) for r in rules),
                    "Create linked NAT rule: off (the default SNAT rule translates it, see next step)",
                ]
            ),
            config_language="text",
            reason=str(rules[0].reason)
            + " Rule position Top keeps it above any rule that drops LAN → WAN traffic.",
            verify='Rules and policies › Firewall rules lists "OBM backup out" enabled, above any drop rule for LAN → WAN.',
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(self, rules: tuple[Rule, ...], source: str, outside: str) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Check that the backup connection is masqueraded (Default SNAT IPv4)",
            gui_path=NAT_GUI,
            config="\n".join(
                [
                    'The rule "Default SNAT IPv4" is turned on, with:',
                    "  Original source: Any    Translated source (SNAT): MASQ",
                    "  Original destination: Any    Original service: Any",
                    f"  Outbound interface: Any (or {outside})",
                    "and no NAT rule above it matches the backup host with Translated source: Original.",
                    'If it is missing: edit "OBM backup out" and turn on Create linked NAT rule with',
                    f"  Translated source: MASQ (for {source} to {DATACENTER}).",
                ]
            ),
            config_language="text",
            reason=(
                "SFOS masquerades traffic leaving through a WAN port with the default SNAT rule, "
                "so the backup connection already leaves with the firewall's public address. "
                + rules[0].reason.detail
            ),
            verify='Log viewer, module Firewall: the backup connection shows NAT rule "Default SNAT IPv4" (or the linked rule).',
            guide_rules=guide_rules_of(rules),
        )

    def _dnat_step(self, rules: tuple[Rule, ...], public: str, outside: str) -> Step:
        sources = MONITORING if rules[0].allowed_sources else "Any"
        return Step(
            title="Forward the monitoring ports to the backup host (DNAT rule)",
            gui_path=f"{NAT_GUI} › Add NAT rule › New NAT rule",
            config="\n".join(
                [
                    "Rule name: OBM monitoring DNAT",
                    f"Original source: {sources}    Translated source (SNAT): Original",
                    f"Original destination: {public}    Translated destination (DNAT): {HOST}",
                    f"Original service: {MONITORING_SERVICE}    Translated service (PAT): Original",
                    f"Inbound interface: {outside}    Outbound interface: Any",
                    "Create loopback rule: off    Create reflexive rule: off",
                ]
            ),
            config_language="text",
            reason=(
                f"Connections to {'the public address' if public == PUBLIC else 'the WAN port address ' + public} on "
                + ", ".join(str(r.port_spec) for r in rules)
                + f" go to the backup host {rules[0].required_hosts.start}. The Server access "
                "assistant "
                "(Add NAT rule › Server access assistant (DNAT)) creates this rule together with "
                "the firewall rule of the next step, plus reflexive and loopback rules you do not "
                "need here; if you use it, check its rules against these values."
            ),
            verify='Rules and policies › NAT rules lists "OBM monitoring DNAT" enabled, above any other rule for the same destination and services.',
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...]) -> Step:
        sources = MONITORING if rules[0].allowed_sources else "Any"
        return Step(
            title="Allow the monitoring connections in (firewall rule WAN → LAN, naming the private host)",
            gui_path=FIREWALL_GUI,
            config="\n".join(
                [
                    "Rule name: OBM monitoring in",
                    "Action: Accept    Log firewall traffic: on",
                    "Rule position: Top",
                    "Source zones: WAN",
                    f"Source networks and devices: {sources}",
                    "Destination zones: LAN",
                    f"Destination networks: {HOST}    (the translated, private address)",
                    f"Services: {MONITORING_SERVICE}",
                ]
            ),
            config_language="text",
            reason=(
                "SFOS applies the DNAT rule before it matches firewall rules, so this rule names "
                f"the backup host's private address {rules[0].required_hosts.start} and the zone "
                "it is in. "
                + (
                    "Only the monitoring sources may connect."
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting it to the monitoring computers is safer."
                )
            ),
            verify='Rules and policies › Firewall rules lists "OBM monitoring in" enabled, above any drop rule for WAN → LAN.',
            guide_rules=guide_rules_of(rules),
        )


def _source_name(hosts: HostMatch) -> str:
    return {"address": HOST, "range": "OBM backup hosts", "network": "OBM LAN"}[hosts.kind]


def _service_name(rule: Rule) -> str:
    return f"OBM {rule.required_protocol.upper()} {rule.port}"


def _host_entry(name: str, hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"Name: {name} | IP version: IPv4 | Type: IP | IP address: {hosts.start}"
    if hosts.kind == "range":
        return f"Name: {name} | IP version: IPv4 | Type: IP range | {hosts.start} – {hosts.end}"
    assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
    return _network_entry(name, hosts.network)


def _network_entry(name: str, network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f"Name: {name} | IP version: IPv4 | Type: IP | IP address: {network.network_address}"
    return (
        f"Name: {name} | IP version: IPv4 | Type: Network | IP address: "
        f"{network.network_address} | Subnet: /{network.prefixlen} ({network.netmask})"
    )


def _networks_entries(name: str, networks: tuple[IPv4Network, ...]) -> list[str]:
    if len(networks) == 1:
        return [_network_entry(name, networks[0])]
    members = [f"{name} {n}" for n in range(1, len(networks) + 1)]
    lines = [_network_entry(m, net) for m, net in zip(members, networks, strict=True)]
    lines.append(f"IP host group: {name} | members: " + ", ".join(members))
    return lines
