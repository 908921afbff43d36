"""Palo Alto Networks next-generation firewall (PAN-OS ``set`` commands, with the web UI paths).

Targets PAN-OS 10.1, 10.2, 11.0 and 11.1 on a single-vsys firewall managed locally (not from
Panorama): the commands are pasted in configure mode (``configure``) and take effect with
``commit``. The zones are the factory names ``trust`` (inside) and ``untrust`` (outside); the
outside interface (default ``ethernet1/1``) is named where source NAT needs it. Objects are
named ``obm-…``.

How the traps are handled:

- **One protocol per service object.** A PAN-OS service has one protocol, so TCP 4403 and UDP
  4403 are two services (``obm-tcp-4403``, ``obm-udp-4403``); a NAT rule takes a single
  service, so there is one destination NAT rule per protocol and port.
- **Which address the inbound security rule names.** PAN-OS matches security rules on the
  *pre-NAT* destination address with the *post-NAT* zone: the inbound rule goes from
  ``untrust`` to ``trust`` (the zone of the backup host) and names the *public* address.
  The destination NAT rule itself goes from ``untrust`` to ``untrust`` (the zone the public
  address routes to).
- **Transparency**: PAN-OS translates nothing by default, so source NAT is a change: a NAT
  rule for the backup traffic with ``dynamic-ip-and-port interface-address`` (the outside
  interface's address).
- **Ranges** are native (``ip-range`` address objects); a DHCP host is the LAN network.
- **Monitoring sources** restrict the destination NAT rules and the inbound security rule.
- **Dynamic public address**: no object can hold an address that changes, so the NAT and
  security rules name destination ``any``; with the zones (``untrust`` to ``untrust``,
  resp. to ``trust``) and the service they still only match the forwarded ports.
- New rules are appended below existing ones; each is moved to the ``top`` so that no broader
  deny rule shadows it (the rules are narrow, so being first changes nothing else).
"""

from __future__ import annotations

from collections.abc import Iterable

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, and_list, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name, network_names, port_object_name
from sites.vendors.sample_addresses import (
    address_in,
    backup_host_address,
    monitoring_source_address,
)

TRUST, UNTRUST = "trust", "untrust"
OUTBOUND_RULE = "obm-backup-out"
INBOUND_RULE = "obm-monitoring-in"
NAMING_NOTE = (
    "PAN-OS names interfaces like ethernet1/1 (Network › Interfaces), and the zones the rules "
    "name must already exist (Network › Zones): the commands create neither."
)
ZONE_NOTE = (
    "The rules use the factory zone names trust (inside) and untrust (outside); if your zones "
    "are named differently, replace them before pasting."
)


class PaloAltoRenderer(Renderer):
    slug = "paloalto"
    name = "Palo Alto Networks (PAN-OS)"
    versions = "PAN-OS 10.1, 10.2, 11.0, 11.1 (single vsys, managed locally)"
    renderer_version = 2
    supports_ranges = True  # address objects of type ip-range
    hides_lan_by_default = False
    default_interfaces = ("ethernet1/2", "ethernet1/1")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        _, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        all_rules = outbound + snat + forwards + inbound

        steps = [
            Step(
                title="Create the address objects",
                gui_path="Objects › Addresses › Add",
                config="configure\n" + self._addresses(policy),
                config_language="panos",
                reason=(
                    f"{NAMING_NOTE} "
                    "Enter configure mode and create the objects the rules name: "
                    + and_list(
                        [
                            {
                                "address": "the backup host",
                                "range": "the backup hosts (an IP range)",
                                "network": "the LAN (the backup host's address comes from DHCP)",
                            }[outbound[0].required_hosts.kind],
                            "the datacenter networks",
                            *(
                                ["the monitoring computers"]
                                if inbound and inbound[0].allowed_sources
                                else []
                            ),
                            *(
                                ["the public address"]
                                if inbound and inbound[0].public_address
                                else []
                            ),
                        ]
                    )
                    + "."
                ),
                verify="show address",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the services, one per protocol",
                gui_path="Objects › Services › Add",
                config="\n".join(
                    f"set service {port_object_name(r)} protocol {r.protocol} port {r.port}"
                    for r in _unique_ports(all_rules)
                )
                + "\n",
                config_language="panos",
                reason=(
                    "A PAN-OS service object has a single protocol"
                    + (", so TCP 4403 and UDP 4403 are two services." if inbound else ".")
                ),
                verify="show service",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Allow the backup connection out (security rule)",
                gui_path=f"Policies › Security › Add (Source zone {TRUST}, Destination zone {UNTRUST})",
                config=_security_rule(
                    OUTBOUND_RULE,
                    TRUST,
                    UNTRUST,
                    [hosts_object_name(outbound[0].required_hosts)],
                    network_names("obm-dc", outbound[0].datacenter),
                    [port_object_name(r) for r in outbound],
                ),
                config_language="panos",
                reason=f"{outbound[0].reason.detail} {ZONE_NOTE}",
                verify=f"show rulebase security rules {OUTBOUND_RULE}",
                guide_rules=guide_rules_of(outbound),
            ),
            Step(
                title="Translate the backup connections to the outside address (source NAT)",
                gui_path=(
                    f"Policies › NAT › Add (Translated Packet: Dynamic IP And Port, Interface "
                    f"Address, {outside})"
                ),
                config="".join(
                    _nat_rule(
                        f"obm-snat-{r.protocol}-{r.port}",
                        TRUST,
                        UNTRUST,
                        [hosts_object_name(r.required_hosts)],
                        network_names("obm-dc", r.datacenter),
                        port_object_name(r),
                        "source-translation dynamic-ip-and-port interface-address "
                        f"interface {outside}",
                    )
                    for r in snat
                ),
                config_language="panos",
                reason=(
                    "PAN-OS translates nothing by default. This rule hides the backup connections "
                    f"behind the address of {outside} (the guide's transparency), and only them. "
                    "If a broader source NAT rule for the LAN already exists, this one changes "
                    "nothing for other traffic."
                ),
                verify="\n".join(
                    f"show rulebase nat rules obm-snat-{r.protocol}-{r.port}" for r in snat
                ),
                guide_rules=guide_rules_of(snat),
            ),
        ]
        if forwards:
            public = forwards[0].public_address
            steps.append(
                Step(
                    title="Forward the monitoring ports (destination NAT, one rule per protocol)",
                    gui_path=(
                        f"Policies › NAT › Add (Source zone {UNTRUST}, Destination zone {UNTRUST}, "
                        "Translated Packet: Destination Address Translation, Static IP)"
                    ),
                    config="".join(
                        _nat_rule(
                            f"obm-dnat-{r.protocol}-{r.port}",
                            UNTRUST,
                            UNTRUST,
                            network_names("obm-mon", r.allowed_sources) or ["any"],
                            ["obm-public" if r.public_address else "any"],
                            port_object_name(r),
                            f"destination-translation translated-address {r.required_hosts.start}",
                        )
                        for r in forwards
                    ),
                    config_language="panos",
                    reason=(
                        "A NAT rule takes one service, so every protocol and port has its own rule. "
                        f"Both zones are {UNTRUST}: before translation the destination is the "
                        "firewall's public address, which lives in that zone. "
                        + (
                            f"The rules match the public address {public}."
                            if public
                            else "The public address is dynamic, so the rules match any destination in "
                            f"{UNTRUST} on these ports (that is the firewall's own address)."
                        )
                    ),
                    verify="\n".join(
                        f"show rulebase nat rules obm-dnat-{r.protocol}-{r.port}" for r in forwards
                    ),
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            public = inbound[0].public_address
            steps.append(
                Step(
                    title="Allow the monitoring GUI in (security rule on the public address)",
                    gui_path=(
                        f"Policies › Security › Add (Source zone {UNTRUST}, Destination zone {TRUST}, "
                        "Destination Address: the public address)"
                    ),
                    config=_security_rule(
                        INBOUND_RULE,
                        UNTRUST,
                        TRUST,
                        network_names("obm-mon", inbound[0].allowed_sources) or ["any"],
                        ["obm-public" if public else "any"],
                        [port_object_name(r) for r in inbound],
                    ),
                    config_language="panos",
                    reason=(
                        "PAN-OS matches security rules on the destination address *before* NAT and "
                        f"the zone *after* NAT: the rule goes to {TRUST}, where the backup host is, "
                        "but names the "
                        + (
                            f"public address {public}"
                            if public
                            else "public address, here any because it is dynamic"
                        )
                        + f", not the host's private address {inbound[0].required_hosts.start}. "
                        + (
                            "Only the monitoring computers may connect."
                            if inbound[0].allowed_sources
                            else "Any address may connect; give the monitoring computers' addresses "
                            "to narrow it."
                        )
                    ),
                    verify=f"show rulebase security rules {INBOUND_RULE}",
                    guide_rules=guide_rules_of(inbound),
                )
            )
        steps.append(
            Step(
                title="Commit the configuration",
                gui_path="Commit › Commit",
                config="commit\n",
                config_language="panos",
                reason=(
                    "Nothing takes effect before the commit. Leave configure mode (`exit`) for the "
                    "checks below."
                ),
                verify="show jobs processed",
                guide_rules=guide_rules_of(all_rules),
            )
        )

        dc_probe = address_in(outbound[0].datacenter[0])
        host = backup_host_address(outbound[0].required_hosts)
        out_checks = [
            f"test security-policy-match from {TRUST} to {UNTRUST} source {host} "
            f"destination {dc_probe} destination-port {r.port} protocol {_proto(r)}"
            for r in outbound
        ] + [
            f"test nat-policy-match from {TRUST} to {UNTRUST} source {host} "
            f"destination {dc_probe} destination-port {r.port} protocol {_proto(r)}"
            for r in snat
        ]
        in_checks: list[str] = []
        if inbound:
            source = monitoring_source_address(inbound[0].allowed_sources)
            destination = str(inbound[0].public_address) if inbound[0].public_address else "PUBLIC"
            if not inbound[0].public_address:
                in_checks.append(
                    f"# PUBLIC: the current address of {outside} (show interface {outside})"
                )
            for r in forwards:
                in_checks.append(
                    f"test nat-policy-match from {UNTRUST} to {UNTRUST} source {source} "
                    f"destination {destination} destination-port {r.port} protocol {_proto(r)}"
                )
            for r in inbound:
                in_checks.append(
                    f"test security-policy-match from {UNTRUST} to {TRUST} source {source} "
                    f"destination {destination} destination-port {r.port} protocol {_proto(r)}"
                )
            in_checks.append("# while the portal checks:")
            in_checks += [
                f"show session all filter destination-port {p}"
                for p in sorted({r.required_port for r in inbound})
            ]
        steps += verification_steps(
            policy,
            gui_path="Monitor › Logs › Traffic",
            outbound_verify="\n".join(
                out_checks
                + ["# while the probe runs on the backup host:"]
                + [f"show session all filter destination-port {r.port}" for r in outbound]
            ),
            inbound_verify="\n".join(in_checks),
        )
        return steps

    def _addresses(self, policy: Policy) -> str:
        lines: dict[str, str] = {}
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            lines[hosts_object_name(rule.required_hosts)] = _host_value(rule.required_hosts)
            for name, network in zip(
                network_names("obm-dc", rule.datacenter), rule.datacenter, strict=True
            ):
                lines[name] = f"ip-netmask {network}"
        for rule in policy.of_kind(RuleKind.ALLOW_INBOUND):
            sources = rule.allowed_sources
            for name, network in zip(network_names("obm-mon", sources), sources, strict=True):
                lines[name] = f"ip-netmask {network}"
            if rule.public_address is not None:
                lines["obm-public"] = f"ip-netmask {rule.public_address}/32"
        return "".join(f"set address {name} {value}\n" for name, value in lines.items())


def _security_rule(
    name: str,
    src_zone: str,
    dst_zone: str,
    sources: list[str],
    destinations: list[str],
    services: list[str],
) -> str:
    base = f"set rulebase security rules {name}"
    return (
        f"{base} from {src_zone} to {dst_zone} source {_members(sources)} "
        f"destination {_members(destinations)} application any service {_members(services)} "
        "action allow\n"
        f"move rulebase security rules {name} top\n"
    )


def _nat_rule(
    name: str,
    src_zone: str,
    dst_zone: str,
    sources: list[str],
    destinations: list[str],
    service: str,
    translation: str,
) -> str:
    return (
        f"set rulebase nat rules {name} from {src_zone} to {dst_zone} source {_members(sources)} "
        f"destination {_members(destinations)} service {service} {translation}\n"
        f"move rulebase nat rules {name} top\n"
    )


def _members(names: Iterable[str]) -> str:
    """One member as is, several in PAN-OS list brackets."""
    names = list(names)
    return names[0] if len(names) == 1 else "[ " + " ".join(names) + " ]"


def _host_value(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"ip-range {hosts.start}-{hosts.end}"
    return f"ip-netmask {hosts.networks()[0]}"


def _unique_ports(rules: Iterable[Rule]) -> list[Rule]:
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(port_object_name(rule), rule)
    return list(seen.values())


def _proto(rule: Rule) -> int:
    return {"tcp": 6, "udp": 17}[rule.required_protocol]
