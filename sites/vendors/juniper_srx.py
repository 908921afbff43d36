"""Juniper SRX Series (Junos OS ``set`` commands, with the J-Web paths).

Targets Junos OS 15.1X49 and later on SRX Series firewalls (branch SRX300/SRX1500 series and
vSRX; Junos 19.x to 23.x are the current trains): the commands are pasted in configuration mode
(``configure``), checked with ``commit check`` and applied with ``commit``. The zones are the
factory names ``trust`` (inside) and ``untrust`` (outside); the rules name zones, not interfaces.
Objects go into the global address book and are named ``obm-…``.

How the traps are handled:

- **TCP and UDP 4403**: a Junos application has one protocol, so each protocol and port is an
  application (``obm-tcp-4403``, ``obm-udp-4403``, …) and the monitoring ports are grouped in
  the application-set ``obm-monitoring`` the inbound policy names. Destination NAT has one rule
  per protocol and port (``match protocol``), all to the same pool.
- **Which address the inbound policy names.** The SRX applies destination NAT before the
  security policy lookup, so the inbound policy names the host's *private* address
  (``obm-host``), never the public one.
- **Transparency**: interface source NAT (``then source-nat interface``) for the backup traffic,
  a change. It goes into the rule-set ``trust-to-untrust``, the name the factory configuration
  uses for trust → untrust, so it joins that rule-set where it exists (the factory rule already
  translates the whole LAN; the new rule is then harmless) and creates it where it does not.
- **Ranges**: policies use a ``range-address`` entry; NAT rules take prefixes, so they list the
  exact CIDR cover of the range (``HostMatch.networks()``). A DHCP host is the LAN prefix.
- **Monitoring sources** restrict the destination NAT rules and the inbound policy.
- **Dynamic public address**: destination NAT matches ``destination-address 0.0.0.0/0`` on
  traffic from the untrust zone, i.e. whatever address the outside interface has, limited by
  protocol and port.
- New policies are appended to their zone pair; the step says how to ``insert`` one above a
  deny policy the customer may have.
"""

from __future__ import annotations

from collections.abc import Iterable

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name, network_names, port_object_name
from sites.vendors.sample_addresses import (
    address_in,
    backup_host_address,
    monitoring_source_address,
)

TRUST, UNTRUST = "trust", "untrust"
OUTBOUND_POLICY = "obm-backup-out"
INBOUND_POLICY = "obm-monitoring-in"
MONITORING_SET = "obm-monitoring"
SNAT_RULE_SET = "trust-to-untrust"  # the factory default's name for trust -> untrust
DNAT_RULE_SET = "obm-dnat"
POOL = "obm-host"
ZONE_NOTE = (
    "The commands use the factory zone names trust (inside) and untrust (outside); if your "
    "zones are named differently, replace them before pasting."
)


class JuniperSrxRenderer(Renderer):
    slug = "juniper-srx"
    name = "Juniper SRX (Junos OS)"
    versions = "Junos OS 15.1X49 and later on SRX Series (SRX300/SRX1500 series, vSRX)"
    renderer_version = 2
    supports_ranges = True  # range-address in the address book; NAT rules get the CIDR cover
    hides_lan_by_default = False
    default_interfaces = None  # policies and NAT rule-sets name zones, not interfaces

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        all_rules = outbound + snat + forwards + inbound
        outside = site.outside_interface or "the outside interface"

        steps = [
            Step(
                title="Create the address-book entries",
                gui_path="Security Policies & Objects › Global Addresses › Add",
                config="configure\n" + self._addresses(policy),
                config_language="junos",
                reason=(
                    "Enter configuration mode and create the addresses the policies name, in the "
                    "global address book. If your zones keep their own address books (`security "
                    "zones security-zone … address-book`), put the entries there instead: Junos "
                    "does not accept both styles at once."
                ),
                verify="show security address-book global",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the applications, one per protocol and port",
                gui_path="Security Policies & Objects › Services › Custom Applications › Add",
                config=self._applications(all_rules, inbound),
                config_language="junos",
                reason=(
                    "A Junos application has one protocol"
                    + (
                        f"; the application-set {MONITORING_SET} groups TCP 4403, UDP 4403 and "
                        "the backup port for the inbound policy."
                        if inbound
                        else "."
                    )
                ),
                verify="show applications",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Allow the backup connection out (security policy trust → untrust)",
                gui_path="Security Policies & Objects › Security Policies › Add",
                config=_policy(
                    TRUST,
                    UNTRUST,
                    OUTBOUND_POLICY,
                    [hosts_object_name(outbound[0].required_hosts)],
                    network_names("obm-dc", outbound[0].datacenter),
                    [port_object_name(r) for r in outbound],
                ),
                config_language="junos",
                reason=(
                    f"{outbound[0].reason.detail} {ZONE_NOTE} Junos adds the policy at the end of "
                    "the trust → untrust policies; if one of them denies this traffic first, move "
                    f"it up: `insert security policies from-zone {TRUST} to-zone {UNTRUST} policy "
                    f"{OUTBOUND_POLICY} before policy <name>`."
                ),
                verify=f"show security policies from-zone {TRUST} to-zone {UNTRUST} policy {OUTBOUND_POLICY}",
                guide_rules=guide_rules_of(outbound),
            ),
            Step(
                title="Translate the backup connections to the outside address (source NAT)",
                gui_path="Network › NAT › Source NAT › Rule Sets › Add",
                config=self._source_nat(snat),
                config_language="junos",
                reason=(
                    "Interface source NAT gives the backup connections the outside interface's "
                    f"address (the guide's transparency). The rule joins the rule-set "
                    f"{SNAT_RULE_SET}, which the factory configuration already uses for trust → "
                    "untrust; if yours has another name for that zone pair, use that name instead."
                ),
                verify=f"show security nat source rule-set {SNAT_RULE_SET}",
                guide_rules=guide_rules_of(snat),
            ),
        ]
        if forwards:
            public = forwards[0].public_address
            steps.append(
                Step(
                    title="Forward the monitoring ports (destination NAT, one rule per protocol)",
                    gui_path="Network › NAT › Destination NAT › Pool › Add, then Rule Set › Add",
                    config=self._destination_nat(forwards),
                    config_language="junos",
                    reason=(
                        f"The pool {POOL} holds the backup host's private address; one rule per "
                        "protocol and port sends the monitoring connections there"
                        + (
                            " from the monitoring computers only."
                            if forwards[0].allowed_sources
                            else "."
                        )
                        + (
                            f" If {public} is not the address of {outside} itself but another address "
                            f"of its subnet, the SRX must also answer ARP for it: `set security nat "
                            f"proxy-arp interface <outside-interface.unit> address {public}/32`."
                            if public
                            else " The public address is dynamic, so the rules match any destination "
                            "address arriving from untrust (the address the outside interface has), "
                            "on these protocols and ports only."
                        )
                        + f" If a destination NAT rule-set from zone {UNTRUST} already exists, add the "
                        "rules to it (commit check reports the clash)."
                    ),
                    verify="show security nat destination",
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            steps.append(
                Step(
                    title="Allow the monitoring GUI in (security policy untrust → trust, private address)",
                    gui_path="Security Policies & Objects › Security Policies › Add",
                    config=_policy(
                        UNTRUST,
                        TRUST,
                        INBOUND_POLICY,
                        network_names("obm-mon", inbound[0].allowed_sources) or ["any"],
                        ["obm-host"],
                        [MONITORING_SET],
                    ),
                    config_language="junos",
                    reason=(
                        "The SRX translates the destination before it looks up the security policy, "
                        f"so the policy names the backup host's private address {inbound[0].required_hosts.start} "
                        "(obm-host), not the public one. "
                        + (
                            "Only the monitoring computers may connect."
                            if inbound[0].allowed_sources
                            else "Any address may connect; give the monitoring computers' addresses to "
                            "narrow it."
                        )
                    ),
                    verify=f"show security policies from-zone {UNTRUST} to-zone {TRUST} policy {INBOUND_POLICY}",
                    guide_rules=guide_rules_of(inbound),
                )
            )
        steps.append(
            Step(
                title="Check and commit the configuration",
                gui_path="Commit › Commit check, then Commit",
                config="commit check\ncommit\n",
                config_language="junos",
                reason=(
                    "`commit check` validates the candidate configuration without applying it; "
                    "`commit` applies it. Leave configuration mode (`exit`) for the checks below."
                ),
                verify="run show system commit",
                guide_rules=guide_rules_of(all_rules),
            )
        )

        host = backup_host_address(outbound[0].required_hosts)
        dc = address_in(outbound[0].datacenter[0])
        outbound_verify = (
            [
                f"show security match-policies from-zone {TRUST} to-zone {UNTRUST} source-ip {host} "
                f"destination-ip {dc} source-port 50000 destination-port {r.port} protocol {r.protocol}"
                for r in outbound
            ]
            + [
                "show security nat source rule all",
                "# while the probe runs on the backup host (the reverse flow shows the outside address):",
            ]
            + [f"show security flow session destination-port {r.port}" for r in outbound]
        )
        inbound_verify: list[str] = []
        if inbound:
            source = monitoring_source_address(inbound[0].allowed_sources)
            inbound_verify = (
                [
                    f"show security match-policies from-zone {UNTRUST} to-zone {TRUST} "
                    f"source-ip {source} destination-ip {r.required_hosts.start} source-port 50000 "
                    f"destination-port {r.port} protocol {r.protocol}"
                    for r in inbound
                ]
                + [
                    "show security nat destination rule all",
                    "# while the portal checks (the hit counters and sessions rise):",
                ]
                + [
                    f"show security flow session destination-port {p}"
                    for p in sorted({r.required_port for r in inbound})
                ]
            )
        steps += verification_steps(
            policy,
            gui_path="Monitor › Security Events › Policy; Monitor › NAT",
            outbound_verify="\n".join(outbound_verify),
            inbound_verify="\n".join(inbound_verify),
        )
        return steps

    def _addresses(self, policy: Policy) -> str:
        entries: dict[str, str] = {}
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            entries[hosts_object_name(rule.required_hosts)] = _host_value(rule.required_hosts)
            for name, network in zip(
                network_names("obm-dc", rule.datacenter), rule.datacenter, strict=True
            ):
                entries[name] = str(network)
        for rule in policy.of_kind(RuleKind.ALLOW_INBOUND):
            entries.setdefault("obm-host", f"{rule.required_hosts.start}/32")
            sources = rule.allowed_sources
            for name, network in zip(network_names("obm-mon", sources), sources, strict=True):
                entries[name] = str(network)
        return "".join(
            f"set security address-book global address {name} {value}\n"
            for name, value in entries.items()
        )

    def _applications(self, rules: Iterable[Rule], inbound: tuple[Rule, ...]) -> str:
        lines = {
            port_object_name(r): f"set applications application {port_object_name(r)} protocol "
            f"{r.protocol} destination-port {r.port}"
            for r in rules
        }
        out = list(lines.values())
        out += [
            f"set applications application-set {MONITORING_SET} application {port_object_name(r)}"
            for r in inbound
        ]
        return "\n".join(out) + "\n"

    def _source_nat(self, rules: tuple[Rule, ...]) -> str:
        # Every source NAT rule of the policy has the same hosts and datacenter (only the port
        # differs), and interface NAT does not depend on the port: one Junos rule covers them.
        first = rules[0]
        base = f"set security nat source rule-set {SNAT_RULE_SET}"
        rule = f"{base} rule obm-backup"
        lines = [f"{base} from zone {TRUST}", f"{base} to zone {UNTRUST}"]
        lines += [f"{rule} match source-address {n}" for n in first.required_hosts.networks()]
        lines += [f"{rule} match destination-address {n}" for n in first.datacenter]
        lines.append(f"{rule} then source-nat interface")
        return "\n".join(lines) + "\n"

    def _destination_nat(self, rules: tuple[Rule, ...]) -> str:
        base = f"set security nat destination rule-set {DNAT_RULE_SET}"
        lines = [
            f"set security nat destination pool {POOL} address {rules[0].required_hosts.start}/32",
            f"{base} from zone {UNTRUST}",
        ]
        for r in rules:
            rule = f"{base} rule obm-{r.protocol}-{r.port}"
            lines += [f"{rule} match source-address {n}" for n in r.allowed_sources]
            destination = f"{r.public_address}/32" if r.public_address else "0.0.0.0/0"
            lines += [
                f"{rule} match destination-address {destination}",
                f"{rule} match destination-port {r.port}",
                f"{rule} match protocol {r.protocol}",
                f"{rule} then destination-nat pool {POOL}",
            ]
        return "\n".join(lines) + "\n"


def _policy(
    from_zone: str,
    to_zone: str,
    name: str,
    sources: list[str],
    destinations: list[str],
    applications: list[str],
) -> str:
    base = f"set security policies from-zone {from_zone} to-zone {to_zone} policy {name}"
    lines = [f"{base} match source-address {s}" for s in sources]
    lines += [f"{base} match destination-address {d}" for d in destinations]
    lines += [f"{base} match application {a}" for a in applications]
    lines += [f"{base} then permit", f"{base} then log session-close"]
    return "\n".join(lines) + "\n"


def _host_value(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"range-address {hosts.start} to {hosts.end}"
    return str(hosts.networks()[0])
