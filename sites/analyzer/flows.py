"""The connections to check: a :class:`Flow` as its sender sees it (before any NAT), and the flows
the guide needs for a site, each with what it must do ("allowed" or "refused")."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, check_source_network

PROTOCOLS = ("tcp", "udp")
ALLOWED = "allowed"
REFUSED = "refused"


class FlowError(ValueError):
    """A flow written wrongly; the message shows the expected form."""


@dataclass(frozen=True)
class Flow:
    """One connection: ``sport`` ``None`` means "any ephemeral port" (a rule that tests the
    source port then makes the answer depend on it)."""

    protocol: str
    source: IPv4Address
    destination: IPv4Address
    destination_port: int
    source_port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Flow:
        """``tcp:192.168.1.10->203.0.113.10:4401`` (optionally ``tcp:SRC:SPORT->DST:PORT``)."""
        expected = (
            f"{text!r}: expected PROTO:SRC->DST:PORT, e.g. tcp:192.168.1.10->203.0.113.10:4401"
        )
        protocol, _, rest = text.strip().partition(":")
        source_text, arrow, destination_text = rest.partition("->")
        destination, _, port = destination_text.partition(":")
        source, _, source_port = source_text.partition(":")
        if protocol.lower() not in PROTOCOLS or not arrow or not port.isdigit():
            raise FlowError(expected)
        if source_port and not source_port.isdigit():
            raise FlowError(expected)
        try:
            flow = cls(
                protocol.lower(),
                IPv4Address(source),
                IPv4Address(destination),
                int(port),
                int(source_port) if source_port else None,
            )
        except ValueError:
            raise FlowError(f"{expected} (IPv4 addresses only)") from None
        if not 0 < flow.destination_port < 65536 or not 0 < (flow.source_port or 1) < 65536:
            raise FlowError(f"{text!r}: ports are 1-65535")
        return flow

    def __str__(self) -> str:
        source_port = f":{self.source_port}" if self.source_port is not None else ""
        return f"{self.protocol}:{self.source}{source_port}->{self.destination}:{self.destination_port}"


@dataclass(frozen=True)
class GuideFlow:
    """A flow the guide needs, what it must do, and which guide rules it proves.

    ``needs_source_nat``: the flow must leave translated (guide rule 2, transparency).
    """

    flow: Flow
    expected: str  # ALLOWED or REFUSED
    purpose: str
    guide_rules: tuple[GuideRule, ...]
    needs_source_nat: bool = False


def representative(network: IPv4Network) -> IPv4Address:
    """One address standing for a network: its first host (the address itself for a /32)."""
    return network.network_address if network.num_addresses <= 2 else network.network_address + 1


def guide_flows(site: SiteDescription, profile: ProfileSpec) -> list[GuideFlow]:
    """The flows the guide needs for ``site``: the outbound ports to one address of each
    datacenter network (translated), the other LAN hosts kept out when the host is restricted,
    and with monitoring the forwarded ports from each source, and an unlisted source kept out."""
    flows: list[GuideFlow] = []
    host = _host_address(site)
    other = _other_lan_address(site)
    for network in profile.datacenter_networks:
        datacenter = representative(network)
        for port in profile.outbound_ports:
            if host is not None:
                flows.append(
                    GuideFlow(
                        Flow(port.protocol, host, datacenter, port.port),
                        ALLOWED,
                        f"backup host → datacenter, {port}, translated to the outside address",
                        (GuideRule.BACKUP_OUTBOUND, GuideRule.TRANSPARENCY),
                        needs_source_nat=True,
                    )
                )
            if other is not None:
                flows.append(
                    GuideFlow(
                        Flow(port.protocol, other, datacenter, port.port),
                        REFUSED,
                        f"another LAN host → datacenter, {port}: only the backup host may",
                        (GuideRule.SOURCE_RESTRICTION,),
                    )
                )
    if site.monitoring_enabled and site.public_address is not None:
        flows += _monitoring_flows(site, profile, site.public_address)
    return flows


def _monitoring_flows(
    site: SiteDescription, profile: ProfileSpec, public: IPv4Address
) -> list[GuideFlow]:
    flows = []
    sources = [representative(n) for n in site.monitoring_sources] or [IPv4Address("192.0.2.200")]
    forwarded = list(dict.fromkeys((*profile.monitoring_ports, *profile.outbound_ports)))
    for source in sources:
        for port in forwarded:
            flows.append(
                GuideFlow(
                    Flow(port.protocol, source, public, port.port),
                    ALLOWED,
                    f"monitoring {source} → public address, {port}, forwarded to the backup host",
                    (GuideRule.REMOTE_MONITORING,),
                )
            )
    check = check_source_network(site, profile)
    if check is not None:  # the restriction lets the portal's inbound checks in too (#13)
        for port in forwarded:
            flows.append(
                GuideFlow(
                    Flow(port.protocol, check.network_address, public, port.port),
                    ALLOWED,
                    f"the portal's check {check.network_address} → public address, {port}: "
                    "it proves the forward works",
                    (GuideRule.REMOTE_MONITORING,),
                )
            )
    stranger = _outside_stranger(site, profile)
    if site.monitoring_sources and stranger is not None and profile.monitoring_ports:
        port = profile.monitoring_ports[0]
        flows.append(
            GuideFlow(
                Flow(port.protocol, stranger, public, port.port),
                REFUSED,
                f"an unlisted outside address → public address, {port}: only the monitoring "
                "sources may",
                (GuideRule.REMOTE_MONITORING,),
            )
        )
    return flows


def _host_address(site: SiteDescription) -> IPv4Address | None:
    if site.host_address is not None:
        return site.host_address
    if site.host_range_start is not None:
        return site.host_range_start
    return representative(site.lan_network)  # DHCP without a reservation: any LAN address


def _other_lan_address(site: SiteDescription) -> IPv4Address | None:
    """A LAN address that is neither the gateway nor a backup host, if the host is restricted."""
    if site.host_addressing == "dhcp" and site.host_address is None:
        return None  # the whole LAN may back up
    low, high = site.host_range_start, site.host_range_end
    for address in _last_hosts(site.lan_network):
        if address in (site.lan_gateway, site.host_address):
            continue
        if low is not None and high is not None and low <= address <= high:
            continue
        return address
    return None


def _last_hosts(network: IPv4Network, count: int = 16) -> list[IPv4Address]:
    last = int(network.broadcast_address) - 1
    first = max(int(network.network_address) + 1, last - count)
    return [IPv4Address(n) for n in range(last, first - 1, -1)]


def _outside_stranger(site: SiteDescription, profile: ProfileSpec) -> IPv4Address | None:
    """An outside address outside every monitoring source (a documentation address), and not
    the portal's check source, which the rules let in too."""
    for candidate in ("198.51.100.99", "203.0.113.250", "192.0.2.250", "100.64.0.99"):
        address = IPv4Address(candidate)
        if (
            not any(address in n for n in site.monitoring_sources)
            and address not in site.lan_network
            and address != profile.probe_check_source
        ):
            return address
    return None
