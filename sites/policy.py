"""The policy engine: a site description and a service profile become rules with reasons.

:func:`derive_rules` applies the six rules of the provider's guide (DESIGN.md, "What the guide
requires") to one site and returns a :class:`Policy`: an ordered tuple of frozen :class:`Rule`
objects, each carrying the guide rule it comes from and every value a vendor renderer needs, plus
:class:`PolicyWarning` advice for the customer. It is pure and deterministic: the same inputs give
an equal policy, with no I/O, clock or database.

Decisions worth knowing:

- One rule per protocol and port: TCP 4403 and UDP 4403 are two rules; a renderer may combine
  them where its vendor takes both in one object.
- Transparency (guide rule 2) is derived for the backup traffic only (the outbound ports, from the
  backup host to the datacenter), the narrowest of the guide's two options; it changes nothing
  for the customer's other traffic.
- Remote monitoring (guide rule 4) forwards the profile's monitoring ports *and* its outbound
  ports (the guide: "4403 TCP and UDP in addition to 4401"), each as a destination NAT and an
  inbound allow, restricted to the monitoring sources when they are known. Without monitoring
  nothing is opened inbound: 4401 needs stateful return traffic only.
- Static routes (guide rule 5) are derived for any multi-homed host; the guide names Windows, but
  replies leave by the wrong interface on any system with two default gateways.
- Host firewall rules (guide rule 6) are derived for Windows hosts only.
- The portal's proofs are part of the instructions: where monitoring is restricted to given
  sources, the address the portal's inbound checks come from (``ProfileSpec.probe_check_source``)
  is one more allowed source (and routed and let through the host firewall like them), with its
  reason, so a correct firewall passes its own proof, now and when the portal checks again. It
  stays in the rules like any other source, so change and removal plans handle it. The policy
  carries both probe addresses for the verification steps to name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from ipaddress import IPv4Address, IPv4Network

from sites.description import PortSpec, ProfileSpec, SiteDescription


class GuideRule(IntEnum):
    """The six requirements of the guide, numbered as in DESIGN.md."""

    BACKUP_OUTBOUND = 1
    TRANSPARENCY = 2
    SOURCE_RESTRICTION = 3
    REMOTE_MONITORING = 4
    MULTI_HOMED_ROUTE = 5
    HOST_FIREWALL = 6

    @property
    def title(self) -> str:
        return _GUIDE_TEXT[self][0]

    @property
    def explanation(self) -> str:
        """The requirement in plain words, for showing beside an instruction."""
        return _GUIDE_TEXT[self][1]


_GUIDE_TEXT = {
    GuideRule.BACKUP_OUTBOUND: (
        "Backup and restore",
        "The backup software always opens the connection to the datacenter, so the firewall "
        "must let it out from the inside network. The datacenter never connects in: replies "
        "come back on the same connection and need no inbound rule.",
    ),
    GuideRule.TRANSPARENCY: (
        "Transparency",
        "The backup connection must be translated to the firewall's outside address on its way "
        'out (source NAT, masquerade, "hide NAT").',
    ),
    GuideRule.SOURCE_RESTRICTION: (
        "Restriction",
        "With a fixed address only the backup host may use the backup port; with a range, only "
        "those hosts; with DHCP the address can change, so the whole LAN is allowed unless the "
        "host gets a DHCP reservation.",
    ),
    GuideRule.REMOTE_MONITORING: (
        "Remote monitoring",
        "To watch the backup with the Java GUI from outside, the firewall forwards the monitoring "
        "ports (and the backup port) from its public address to the backup host and allows them "
        "in, only from the monitoring computers where they are known.",
    ),
    GuideRule.MULTI_HOMED_ROUTE: (
        "Multi-homed host",
        "A host with a default gateway on more than one interface may answer through the wrong "
        "one; a persistent static route via this firewall sends replies back the way they came.",
    ),
    GuideRule.HOST_FIREWALL: (
        "Host firewall",
        "The firewall on the backup host itself must allow the same connections.",
    ),
}


class RuleKind(StrEnum):
    ALLOW_OUTBOUND = "allow_outbound"
    SOURCE_NAT = "source_nat"
    DESTINATION_NAT = "destination_nat"
    ALLOW_INBOUND = "allow_inbound"
    STATIC_ROUTE = "static_route"
    HOST_FIREWALL_OUTBOUND = "host_firewall_outbound"
    HOST_FIREWALL_INBOUND = "host_firewall_inbound"

    @property
    def on_host(self) -> bool:
        """True for rules applied on the backup host rather than on the site's firewall."""
        return self in (
            RuleKind.STATIC_ROUTE,
            RuleKind.HOST_FIREWALL_OUTBOUND,
            RuleKind.HOST_FIREWALL_INBOUND,
        )


class WarningCode(StrEnum):
    DHCP_WITHOUT_RESERVATION = "dhcp_without_reservation"
    RANGE_UNSUPPORTED = "range_unsupported"  # raised by renderers, which know their capability
    DYNAMIC_PUBLIC_ADDRESS = "dynamic_public_address"
    LAN_OVERLAPS_DATACENTER = "lan_overlaps_datacenter"
    MONITORING_FROM_ANY = "monitoring_from_any"
    MULTI_HOMED_ONE_GATEWAY = "multi_homed_one_gateway"
    INTERFACE_NAMES_ASSUMED = "interface_names_assumed"  # raised by renderers
    PORTAL_CHECKS_ALLOWED = "portal_checks_allowed"
    RESPONDER_OUTSIDE_DATACENTER = "responder_outside_datacenter"


@dataclass(frozen=True)
class PolicyWarning:
    """Advice for the customer; ``field`` names the site field it concerns ("" if none)."""

    code: WarningCode
    message: str
    field: str = ""


@dataclass(frozen=True)
class Reason:
    """Why a rule exists: the guide rule it comes from, others that shaped it, and the specifics."""

    rule: GuideRule
    detail: str
    also: tuple[GuideRule, ...] = ()

    @property
    def guide_rules(self) -> tuple[GuideRule, ...]:
        return (self.rule, *self.also)

    @property
    def label(self) -> str:
        """E.g. "Guide rule 2" or "Guide rules 1, 3"."""
        numbers = ", ".join(str(int(r)) for r in self.guide_rules)
        return f"Guide rule{'s' if self.also else ''} {numbers}"

    def __str__(self) -> str:
        return f"{self.label} ({self.rule.title}): {self.detail}"


@dataclass(frozen=True)
class HostMatch:
    """The backup host side of a rule: one address, an inclusive range, or a whole network."""

    kind: str  # "address" | "range" | "network"
    start: IPv4Address
    end: IPv4Address
    network: IPv4Network | None = None

    @classmethod
    def address(cls, address: IPv4Address) -> HostMatch:
        return cls("address", address, address)

    @classmethod
    def range(cls, start: IPv4Address, end: IPv4Address) -> HostMatch:
        return cls("range", start, end)

    @classmethod
    def whole(cls, network: IPv4Network) -> HostMatch:
        return cls("network", network.network_address, network.broadcast_address, network)

    def networks(self) -> tuple[IPv4Network, ...]:
        """The exact CIDR blocks covering these addresses, for vendors without ranges."""
        if self.network is not None:
            return (self.network,)
        return tuple(ipaddress.summarize_address_range(self.start, self.end))

    def __str__(self) -> str:
        if self.kind == "address":
            return str(self.start)
        if self.kind == "range":
            return f"{self.start}-{self.end}"
        return str(self.network)


@dataclass(frozen=True)
class Rule:
    """One thing to configure. Fields that do not apply to a kind stay empty.

    - ``hosts``: the backup host side — the source of outbound rules and source NAT, the
      target of destination NAT and inbound rules (always a single address there).
    - ``datacenter``: the destinations of outbound rules and source NAT.
    - ``allowed_sources``: who may connect in (monitoring); empty means any source.
    - ``check_source``: the one of ``allowed_sources`` that is the portal's inbound checks, not a
      monitoring computer (``check_source_network``), for the instructions to say so.
    - ``public_address``: the firewall's outside address for destination NAT; ``None`` means
      dynamic, so the rule matches on the outside interface instead.
    - ``route_*``, ``next_hop``, ``interface_*``: a static route on the backup host.
    """

    kind: RuleKind
    reason: Reason
    protocol: str | None = None
    port: int | None = None
    hosts: HostMatch | None = None
    datacenter: tuple[IPv4Network, ...] = ()
    allowed_sources: tuple[IPv4Network, ...] = ()
    check_source: IPv4Network | None = None
    public_address: IPv4Address | None = None
    route_destination: IPv4Network | None = None
    next_hop: IPv4Address | None = None
    interface_index: int | None = None
    interface_name: str = ""

    @property
    def port_spec(self) -> PortSpec | None:
        if self.protocol is None or self.port is None:
            return None
        return PortSpec(self.protocol, self.port)

    # The ``required_*`` accessors read a field the rule's kind guarantees (every rule but a
    # route has a protocol and port, every firewall rule the hosts, every route its network), so
    # renderers need no None check; asking the wrong kind is a bug and raises ValueError.

    @property
    def required_protocol(self) -> str:
        return _required(self.protocol, self, "protocol")

    @property
    def required_port(self) -> int:
        return _required(self.port, self, "port")

    @property
    def required_hosts(self) -> HostMatch:
        return _required(self.hosts, self, "hosts")

    @property
    def required_route_destination(self) -> IPv4Network:
        return _required(self.route_destination, self, "route_destination")


def _required[T](value: T | None, rule: Rule, field: str) -> T:
    if value is None:
        raise ValueError(f"A {rule.kind} rule has no {field}.")
    return value


@dataclass(frozen=True)
class Policy:
    """The rules and warnings of one site, and where the portal's probes go and come from
    (``None`` where the profile does not say; see ``ProfileSpec``)."""

    rules: tuple[Rule, ...]
    warnings: tuple[PolicyWarning, ...]
    probe_responder: IPv4Address | None = None
    probe_check_source: IPv4Address | None = None

    def of_kind(self, *kinds: RuleKind) -> tuple[Rule, ...]:
        """The rules of the given kinds, in policy order."""
        return tuple(r for r in self.rules if r.kind in kinds)


def inbound_ports(profile: ProfileSpec) -> tuple[PortSpec, ...]:
    """What remote monitoring opens: the monitoring ports plus the outbound ports (guide rule 4)."""
    ports = list(profile.monitoring_ports)
    ports += [p for p in profile.outbound_ports if p not in ports]
    return tuple(ports)


def derive_rules(site: SiteDescription, profile: ProfileSpec) -> Policy:
    """Apply the guide to one site. Pure and deterministic; see the module docstring."""
    rules: list[Rule] = []
    hosts, source_detail = _backup_source(site)
    datacenter = profile.datacenter_networks

    for spec in profile.outbound_ports:
        rules.append(
            Rule(
                RuleKind.ALLOW_OUTBOUND,
                Reason(
                    GuideRule.BACKUP_OUTBOUND,
                    f"The backup software connects to the datacenter on {spec}. {source_detail}",
                    also=(GuideRule.SOURCE_RESTRICTION,),
                ),
                protocol=spec.protocol,
                port=spec.port,
                hosts=hosts,
                datacenter=datacenter,
            )
        )
    for spec in profile.outbound_ports:
        rules.append(
            Rule(
                RuleKind.SOURCE_NAT,
                Reason(
                    GuideRule.TRANSPARENCY,
                    f"Translate the backup connections ({spec} to the datacenter) to the firewall's "
                    "outside address; only this traffic, so nothing else changes.",
                ),
                protocol=spec.protocol,
                port=spec.port,
                hosts=hosts,
                datacenter=datacenter,
            )
        )

    if site.monitoring_enabled and site.host_address is not None:
        rules += _monitoring_rules(site, profile)

    if site.multi_homed:
        rules += _route_rules(site, profile)

    if site.host_os == "windows":
        rules += _host_firewall_rules(site, profile)

    return Policy(
        rules=tuple(rules),
        warnings=_warnings(site, profile),
        probe_responder=profile.probe_responder,
        probe_check_source=profile.probe_check_source,
    )


def _backup_source(site: SiteDescription) -> tuple[HostMatch, str]:
    """Guide rule 3: which addresses the outbound rule names, and why in plain words."""
    if site.host_addressing == "static" and site.host_address is not None:
        return HostMatch.address(site.host_address), (
            f"Only the backup host {site.host_address} may use it, because its address is fixed."
        )
    if site.host_addressing == "range" and site.host_range_start and site.host_range_end:
        match = HostMatch.range(site.host_range_start, site.host_range_end)
        return match, f"Only the backup hosts {match} may use it."
    if site.dhcp_reservation_planned and site.host_address is not None:
        return HostMatch.address(site.host_address), (
            f"Only the backup host may use it, at its reserved DHCP address {site.host_address}."
        )
    return HostMatch.whole(site.lan_network), (
        f"The backup host gets its address by DHCP, so any address of the LAN "
        f"{site.lan_network} may use it; a DHCP reservation would narrow this to one address."
    )


def check_source_network(site: SiteDescription, profile: ProfileSpec) -> IPv4Network | None:
    """The portal's inbound check source as one more monitoring source: only where monitoring
    is restricted to given sources (from any address it gets in anyway), the address is known,
    and no source already holds it."""
    check = profile.probe_check_source
    sources = site.monitoring_sources
    if not sources or check is None or any(check in n for n in sources):
        return None
    return IPv4Network(check)


def _inbound_sources(site: SiteDescription, profile: ProfileSpec) -> tuple[IPv4Network, ...]:
    """Who may connect in: the monitoring sources, plus the portal's checks where they are
    restricted (``check_source_network``); empty means any address."""
    check = check_source_network(site, profile)
    return site.monitoring_sources + ((check,) if check else ())


def _check_source_words(site: SiteDescription, profile: ProfileSpec) -> str:
    """Why the portal's check source is among the allowed sources ("" where it is not)."""
    check = check_source_network(site, profile)
    if check is None:
        return ""
    return (
        f" {check} is the portal's address: its checks prove that the forward works, now and "
        "when it checks again, so they must get in like the monitoring computers."
    )


def _monitoring_rules(site: SiteDescription, profile: ProfileSpec) -> list[Rule]:
    """Guide rule 4: for each port, a port-forward to the host and an inbound allow."""
    assert site.host_address is not None
    target = HostMatch.address(site.host_address)
    sources = _inbound_sources(site, profile)
    who = ", ".join(map(str, sources)) if sources else "any address"
    why_check = _check_source_words(site, profile)
    ports = inbound_ports(profile)

    def detail(spec: PortSpec, what: str) -> str:
        extra = (
            " The guide asks for the backup port in addition to the monitoring ports."
            if spec not in profile.monitoring_ports
            else ""
        )
        return f"{what} {spec} from {who} to the backup host {site.host_address}.{extra}{why_check}"

    forwards = [
        Rule(
            RuleKind.DESTINATION_NAT,
            Reason(GuideRule.REMOTE_MONITORING, detail(spec, "Forward")),
            protocol=spec.protocol,
            port=spec.port,
            hosts=target,
            allowed_sources=sources,
            check_source=check_source_network(site, profile),
            public_address=site.public_address,
        )
        for spec in ports
    ]
    allows = [
        Rule(
            RuleKind.ALLOW_INBOUND,
            Reason(GuideRule.REMOTE_MONITORING, detail(spec, "Allow")),
            protocol=spec.protocol,
            port=spec.port,
            hosts=target,
            allowed_sources=sources,
            check_source=check_source_network(site, profile),
            public_address=site.public_address,
        )
        for spec in ports
    ]
    return forwards + allows


def _route_rules(site: SiteDescription, profile: ProfileSpec) -> list[Rule]:
    """Guide rule 5: routes to the monitoring sources and the datacenter via this firewall."""
    facing = site.facing_interface
    if facing is None or facing.gateway is None:
        return []  # validation requires both; a hand-built site without them gets no routes
    destinations: list[IPv4Network] = []
    if site.monitoring_enabled:
        destinations += _inbound_sources(site, profile)
    destinations += [n for n in profile.datacenter_networks if n not in destinations]
    check = check_source_network(site, profile) if site.monitoring_enabled else None
    rules = []
    for destination in destinations:
        what = (
            "the datacenter"
            if destination in profile.datacenter_networks
            else "the portal's inbound checks"
            if destination == check
            else "the monitoring GUI"
        )
        rules.append(
            Rule(
                RuleKind.STATIC_ROUTE,
                Reason(
                    GuideRule.MULTI_HOMED_ROUTE,
                    f"Send traffic for {what} ({destination}) through interface {facing.name} and "
                    f"this firewall ({facing.gateway}), so replies leave the way the connection came.",
                ),
                route_destination=destination,
                next_hop=facing.gateway,
                interface_index=facing.index,
                interface_name=facing.name,
            )
        )
    return rules


def _host_firewall_rules(site: SiteDescription, profile: ProfileSpec) -> list[Rule]:
    """Guide rule 6: the matching rules in the Windows firewall of the backup host."""
    rules = [
        Rule(
            RuleKind.HOST_FIREWALL_OUTBOUND,
            Reason(
                GuideRule.HOST_FIREWALL,
                f"Allow the backup software out to the datacenter on {spec}. Windows allows "
                "outbound connections by default; this rule keeps backups working where a "
                "policy blocks them.",
            ),
            protocol=spec.protocol,
            port=spec.port,
            datacenter=profile.datacenter_networks,
        )
        for spec in profile.outbound_ports
    ]
    if site.monitoring_enabled:
        sources = _inbound_sources(site, profile)
        who = ", ".join(map(str, sources)) or "any address"
        why_check = _check_source_words(site, profile)
        rules += [
            Rule(
                RuleKind.HOST_FIREWALL_INBOUND,
                Reason(
                    GuideRule.HOST_FIREWALL,
                    f"Let the monitoring GUI in on {spec} from {who}; Windows blocks inbound "
                    f"connections by default.{why_check}",
                    also=(GuideRule.REMOTE_MONITORING,),
                ),
                protocol=spec.protocol,
                port=spec.port,
                allowed_sources=sources,
                check_source=check_source_network(site, profile),
            )
            for spec in inbound_ports(profile)
        ]
    return rules


def _warnings(site: SiteDescription, profile: ProfileSpec) -> tuple[PolicyWarning, ...]:
    warnings = []
    if site.host_addressing == "dhcp" and not site.dhcp_reservation_planned:
        warnings.append(
            PolicyWarning(
                WarningCode.DHCP_WITHOUT_RESERVATION,
                f"The backup host gets its address by DHCP, so the rules must allow the whole LAN "
                f"{site.lan_network}. Create a DHCP reservation for the host on your DHCP server; "
                "then the rules can name that one address"
                + (
                    ", and the port-forward for monitoring keeps working when leases change."
                    if site.monitoring_enabled
                    else "."
                ),
                field="host_addressing",
            )
        )
    if site.monitoring_enabled and site.public_address is None:
        warnings.append(
            PolicyWarning(
                WarningCode.DYNAMIC_PUBLIC_ADDRESS,
                "The firewall's public address is dynamic: the monitoring GUI must connect to an "
                "address that changes, and the portal cannot check the forwarded ports from outside. "
                "Ask your provider for a static address or use a dynamic DNS name.",
                field="public_address",
            )
        )
    overlaps = [str(n) for n in profile.datacenter_networks if n.overlaps(site.lan_network)]
    if overlaps:
        warnings.append(
            PolicyWarning(
                WarningCode.LAN_OVERLAPS_DATACENTER,
                f"The LAN {site.lan_network} overlaps the datacenter network {', '.join(overlaps)}: "
                "the backup host would look for the datacenter on its own LAN and never reach the "
                "firewall. Renumber the LAN.",
                field="lan_network",
            )
        )
    if site.monitoring_enabled and not site.monitoring_sources:
        warnings.append(
            PolicyWarning(
                WarningCode.MONITORING_FROM_ANY,
                "Monitoring is allowed from any address on the Internet. Give the addresses the "
                "monitoring GUI connects from, so only they can reach the backup host.",
                field="monitoring_sources",
            )
        )
    if site.multi_homed:
        message = (
            "The backup host has more than one network interface. Keep one default gateway "
            "(on the interface facing this firewall) and remove the others; the static routes "
            "cover the datacenter and the monitoring networks."
        )
        if site.monitoring_enabled and not site.monitoring_sources:
            message += (
                " Monitoring from any address cannot be covered by a static route, so the "
                "default gateway must be this firewall."
            )
        warnings.append(
            PolicyWarning(
                WarningCode.MULTI_HOMED_ONE_GATEWAY,
                message,
                field="host_interfaces",
            )
        )
    check = check_source_network(site, profile) if site.monitoring_enabled else None
    if check is not None:
        warnings.append(
            PolicyWarning(
                WarningCode.PORTAL_CHECKS_ALLOWED,
                f"Besides the monitoring computers, the rules let in {check.network_address}: "
                "the portal's address, from which it checks that the forwarded ports are open. "
                "Without it the portal could not prove them, now or when it checks again.",
                field="monitoring_sources",
            )
        )
    if profile.responder_outside_datacenter:
        warnings.append(
            PolicyWarning(
                WarningCode.RESPONDER_OUTSIDE_DATACENTER,
                f"The portal's probe responder {profile.probe_responder} is outside the "
                "datacenter networks these rules allow, so the outbound proof fails even when "
                "the firewall is right. Your provider must correct this; the rules themselves "
                "are right.",
            )
        )
    return tuple(warnings)
