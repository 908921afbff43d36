"""SonicWall firewalls running SonicOS 7 in Classic mode (TZ, NSa, NSv, NSsp except 15700).

Targets SonicOS 7.0 and 7.1, Classic mode: access rules per zone pair and NAT rules (Policy
mode, used by the NSsp 15700 and SonicOSX, has security policies instead and is not covered).
Menu paths are those of the SonicOS 7 management interface (Object, Policy, Monitor).

The address and service objects and the LAN → WAN access rule are given as SonicOS 7 CLI
commands (``configure`` … ``commit``), in the forms SonicOS itself exports; the service group,
the NAT rule and the WAN → LAN access rule are given as the fields of their GUI dialogs only,
because their CLI syntax could not be verified against SonicWall's documentation.

How it handles the traps:

- One protocol per service object: TCP 4403 and UDP 4403 are two service objects; the
  forwarded ports (TCP 4403, UDP 4403 and TCP 4401) are grouped in one service group, which the
  inbound NAT rule and the WAN → LAN access rule both name.
- Which address the inbound rule names: SonicOS matches access rules against the original
  (pre-NAT) destination, so the WAN → LAN access rule names the *public* object, never the
  backup host's private address.
- Hide NAT by default: SonicOS adds a NAT rule translating the LAN (X0 Subnet) to the WAN
  interface address (X1 IP) when X1 is configured, so transparency is a *check* step.
- Ranges: a Range address object names them natively. DHCP: a Network object for the LAN.
- Dynamic public address: the default address object "X1 IP" (named after the WAN interface)
  follows the address the interface gets by DHCP or PPPoE, so the NAT rule and the access rule
  name it instead of a fixed host object.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name, port_object_name

OBJECTS_GUI = "Object › Match Objects › Addresses › Address Objects › Add"
SERVICES_GUI = "Object › Match Objects › Services › Service Objects › Add"
GROUPS_GUI = "Object › Match Objects › Services › Service Groups › Add"
ACCESS_GUI = "Policy › Rules and Policies › Access Rules › {zones} › Add"
NAT_GUI = "Policy › Rules and Policies › NAT Rules"
MONITOR_GUI = "Monitor › Tools & Monitors › Packet Monitor / Connections"

HOST = "obm-host"
DATACENTER = "obm-datacenter"
PUBLIC = "obm-public"
MONITORING = "obm-monitoring"
MONITORING_SERVICES = "obm-monitoring-services"


class SonicwallRenderer(Renderer):
    slug = "sonicwall"
    name = "SonicWall (SonicOS 7)"
    versions = "SonicOS 7.0 and 7.1, Classic mode"
    renderer_version = 1
    supports_ranges = True  # Range address objects
    hides_lan_by_default = True  # default NAT rule X0 Subnet -> X1 IP
    default_interfaces = ("X0", "X1")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        source = hosts_object_name(outbound[0].required_hosts)
        public = (
            PUBLIC if site.public_address else _interface_object(outside, "IP", "WAN Primary IP")
        )

        steps = [
            self._address_step(policy, site, outbound[0], public),
            self._service_step(policy),
            self._outbound_step(outbound, source),
            self._transparency_step(snat, source, inside, outside),
        ]
        if forwards:
            steps += [
                self._group_step(forwards),
                self._forward_step(forwards, public, outside),
                self._inbound_step(inbound, public),
            ]
        ports = sorted({r.required_port for r in outbound})
        steps += verification_steps(
            policy,
            gui_path=MONITOR_GUI,
            outbound_verify=(
                "While the probe runs on the backup host:\n"
                + "\n".join(
                    f"- Packet Monitor › Monitor Filter: Destination Port {p}, Start Capture: the "
                    f"packets from the backup host are FORWARDED and leave {outside} with the "
                    f"{outside} address as source (not DROPPED)."
                    for p in ports
                )
                + "\n- Connections: filter on Destination Port "
                + ", ".join(map(str, ports))
                + " — the backup host's connection to the datacenter is listed."
            ),
            inbound_verify=(
                "While the portal checks: Packet Monitor with Destination Port "
                + ", ".join(sorted({str(r.port) for r in inbound}))
                + f" shows the packets arriving on {outside} for the public address and FORWARDED "
                "to the backup host; the obm-monitoring-in NAT rule's and the WAN → LAN access "
                "rule's hit counters rise."
            ),
        )
        return steps

    def _address_step(
        self, policy: Policy, site: SiteDescription, outbound: Rule, public: str
    ) -> Step:
        lines = ["configure"]
        source = hosts_object_name(outbound.required_hosts)
        lines.append(_address_object(source, outbound.required_hosts, "LAN"))
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        if forwards and (
            outbound.required_hosts.kind != "address"
            or outbound.required_hosts.start != forwards[0].required_hosts.start
        ):
            lines.append(_address_object(HOST, forwards[0].required_hosts, "LAN"))
        lines += _object_or_group(DATACENTER, outbound.datacenter, "WAN")
        if forwards:
            if site.public_address:
                lines.append(f'address-object ipv4 "{PUBLIC}" host {site.public_address} zone WAN')
            if forwards[0].allowed_sources:
                lines += _object_or_group(MONITORING, forwards[0].allowed_sources, "WAN")
        lines += ["commit", "end"]
        reason = (
            (
                "Names for the backup host, the datacenter and the monitoring side"
                if forwards
                else "Names for the backup host and the datacenter"
            )
            + ", used by the rules below. In the GUI: Add, then Name, Zone Assignment, Type "
            "(Host, Range or Network) and the address; groups on the Address Groups tab."
        )
        if forwards and not site.public_address:
            reason += (
                f' No fixed public address: the rules name the default object "{public}", '
                "which follows the address the WAN interface gets."
            )
        return Step(
            title="Create the address objects",
            gui_path=OBJECTS_GUI,
            config="\n".join(lines),
            config_language="sonicos-cli",
            reason=reason,
            verify=f'show address-object ipv4 "{source}"',
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _service_step(self, policy: Policy) -> Step:
        specs = []
        for rule in policy.rules:
            if rule.kind.on_host or rule.port_spec is None:
                continue
            if rule.port_spec not in specs:
                specs.append(rule.port_spec)
        lines = ["configure"]
        lines += [
            f'service-object "{port_object_name(s)}" {s.protocol.upper()} {s.port} {s.port}'
            for s in specs
        ]
        lines += ["commit", "end"]
        return Step(
            title="Create the service objects, one per protocol and port",
            gui_path=SERVICES_GUI,
            config="\n".join(lines),
            config_language="sonicos-cli",
            reason=(
                "A SonicOS service object has one protocol, so TCP and UDP on the same port are "
                "two objects. In the GUI: Add, then Name, Protocol, Port Range (the same port "
                "twice)."
            ),
            verify="The objects are listed on the Service Objects tab with their protocol and port.",
            guide_rules=guide_rules_of(
                policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
            ),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], source: str) -> Step:
        destination = _reference(DATACENTER, rules[0].datacenter)
        lines = ["configure"]
        lines += [
            f'access-rule ipv4 from LAN to WAN action allow source address name "{source}" '
            f'service name "{port_object_name(r)}" destination address {destination}'
            for r in rules
        ]
        lines += ["commit", "end"]
        return Step(
            title="Allow the backup connection out (access rule LAN → WAN)",
            gui_path=ACCESS_GUI.format(zones="LAN → WAN"),
            config="\n".join(lines),
            config_language="sonicos-cli",
            reason=(
                str(rules[0].reason)
                + " The default LAN → WAN rule often allows everything already; this rule keeps "
                "the backup working where that default has been tightened. In the GUI: Action "
                f"Allow, Source {source}, Destination {DATACENTER}, Service "
                + ", ".join(port_object_name(r) for r in rules)
                + "; drag it above any LAN → WAN deny rule."
            ),
            verify="The rule is listed under Access Rules, LAN → WAN, enabled, above any rule that denies this traffic.",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], source: str, inside: str, outside: str
    ) -> Step:
        lan = _interface_object(inside, "Subnet", "LAN Subnets")
        wan = _interface_object(outside, "IP", "WAN Primary IP")
        return Step(
            kind=StepKind.CHECK,
            title=f"Check that the LAN is translated to the {outside} address (default NAT rule)",
            gui_path=NAT_GUI,
            config="\n".join(
                [
                    "The default rule for the LAN (Class: Default) is listed and enabled:",
                    f"  Original Source: {lan}, Translated Source: {wan},",
                    "  Original Destination: Any, Translated Destination: Original,",
                    "  Original Service: Any, Translated Service: Original,",
                    f"  Inbound Interface: {inside}, Outbound Interface: {outside}.",
                    "If it is missing or disabled, add a NAT rule for the backup traffic instead:",
                    f"  Original Source: {source}, Translated Source: {wan},",
                    f"  Original Destination: {DATACENTER}, Translated Destination: Original,",
                    "  Original Service: "
                    + ", ".join(port_object_name(r) for r in rules)
                    + ", Translated Service: Original,",
                    f"  Inbound Interface: {inside}, Outbound Interface: {outside}.",
                ]
            ),
            config_language="text",
            reason=(
                "SonicOS adds this NAT rule for the LAN when the WAN interface is set up, so the "
                "backup connection already leaves with the firewall's public address. "
                + rules[0].reason.detail
            ),
            verify=(
                f"The rule is listed and enabled, and no custom NAT rule above it matches the "
                f"backup host to the datacenter on {outside} with a different Translated Source."
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _group_step(self, rules: tuple[Rule, ...]) -> Step:
        members = [port_object_name(r) for r in rules]
        return Step(
            title="Group the forwarded services",
            gui_path=GROUPS_GUI,
            config="\n".join(
                [
                    f"Name: {MONITORING_SERVICES}",
                    "Members (move to the right-hand list): " + ", ".join(members),
                ]
            ),
            config_language="text",
            reason=(
                "The NAT rule and the access rule take one service each; a group lets one rule "
                "cover TCP and UDP. GUI only: the SonicOS CLI for service groups is not given "
                "here."
            ),
            verify=f"The group {MONITORING_SERVICES} lists " + ", ".join(members) + ".",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], public: str, outside: str) -> Step:
        sources = MONITORING if rules[0].allowed_sources else "Any"
        return Step(
            title="Forward the monitoring ports to the backup host (inbound NAT rule)",
            gui_path=f"{NAT_GUI} › Add",
            config="\n".join(
                [
                    "Name: obm-monitoring-in",
                    f"Original Source: {sources}    Translated Source: Original",
                    f"Original Destination: {public}    Translated Destination: {HOST}",
                    f"Original Service: {MONITORING_SERVICES}    Translated Service: Original",
                    f"Inbound Interface: {outside}    Outbound Interface: Any",
                    "Enable NAT Rule: on    Create a reflexive policy: off",
                ]
            ),
            config_language="text",
            reason=(
                f"Destination NAT: connections to {public} on "
                + ", ".join(str(r.port_spec) for r in rules)
                + f" go to the backup host {rules[0].required_hosts.start}. The Public Server "
                "wizard "
                "(Quick Configuration › Public Server Guide) creates such a NAT rule with its "
                "access rule and objects; if you use it, check its rules against these values. "
                "GUI only: the SonicOS CLI for NAT rules is not given here."
            ),
            verify="The rule is listed and enabled under Custom rules, above any other rule for the same public address and services.",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], public: str) -> Step:
        sources = MONITORING if rules[0].allowed_sources else "Any"
        return Step(
            title="Allow the monitoring connections in (access rule WAN → LAN, naming the public address)",
            gui_path=ACCESS_GUI.format(zones="WAN → LAN"),
            config="\n".join(
                [
                    "Action: Allow",
                    "From: WAN    To: LAN",
                    "Source Port: Any",
                    f"Service: {MONITORING_SERVICES}",
                    f"Source: {sources}",
                    f"Destination: {public}    (the public object, not {HOST})",
                ]
            ),
            config_language="text",
            reason=(
                "SonicOS checks inbound access rules against the original, public destination: "
                f"a rule naming the private address {rules[0].required_hosts.start} never matches. "
                + (
                    "Only the monitoring sources may connect."
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting Source to the monitoring computers is safer."
                )
            ),
            verify="The rule is listed under Access Rules, WAN → LAN, enabled, above any rule that denies this traffic; its Destination is the public object.",
            guide_rules=guide_rules_of(rules),
        )


def _interface_object(interface: str, suffix: str, fallback: str) -> str:
    """SonicOS's default object for an interface ("X1 IP", "X0 Subnet"); for a name that is not
    a SonicOS interface (e.g. a zone name typed in), the zone-wide default object instead."""
    if re.fullmatch(r"(X\d+|U\d+|MGMT)(:V\d+)?", interface):
        return f"{interface} {suffix}"
    return fallback


def _address_object(name: str, hosts: HostMatch, zone: str) -> str:
    if hosts.kind == "address":
        value = f"host {hosts.start}"
    elif hosts.kind == "range":
        value = f"range {hosts.start} {hosts.end}"
    else:
        assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
        value = f"network {hosts.network.network_address} {hosts.network.netmask}"
    return f'address-object ipv4 "{name}" {value} zone {zone}'


def _network_object(name: str, network: IPv4Network, zone: str) -> str:
    if network.prefixlen == 32:
        return f'address-object ipv4 "{name}" host {network.network_address} zone {zone}'
    return (
        f'address-object ipv4 "{name}" network {network.network_address} {network.netmask} '
        f"zone {zone}"
    )


def _object_or_group(name: str, networks: tuple[IPv4Network, ...], zone: str) -> list[str]:
    """One object named ``name``, or numbered objects in an address group named ``name``."""
    if len(networks) == 1:
        return [_network_object(name, networks[0], zone)]
    members = [f"{name}-{n}" for n in range(1, len(networks) + 1)]
    lines = [_network_object(m, net, zone) for m, net in zip(members, networks, strict=True)]
    lines.append(f'address-group ipv4 "{name}"')
    lines += [f'    address-object ipv4 "{m}"' for m in members]
    lines.append("    exit")
    return lines


def _reference(name: str, networks: tuple[IPv4Network, ...]) -> str:
    return f'name "{name}"' if len(networks) == 1 else f'group "{name}"'
