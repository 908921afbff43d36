"""The inputs of the policy engine: a site description and a service profile.

A *site description* says what the customer told us about one site: its firewall, its LAN, the
backup host and how it gets its address, and whether the backup is monitored from outside. A
*service profile* says what the backup product needs: the datacenter networks and the ports.
Both are frozen dataclasses; their JSON shape (``from_dict`` / ``to_dict``) is the "site file"
schema documented in ``docs/site-file.md``.

``from_dict`` validates everything and raises :class:`DescriptionError` carrying *all* problems
at once, keyed by field name (dotted for nested fields, e.g. ``host_interfaces.1.gateway``), so
a form or an API can show each message beside its field. Constructing the dataclasses directly
skips validation; code that builds them by hand (tests, the default profile) is trusted.

Only IPv4 is accepted: the rules rely on address translation, which the guide and the targeted
firewalls do for IPv4.

Pure Python: no Django, no I/O, no clock.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from sites.probes.addresses import forbidden_reason

PROTOCOLS = ("tcp", "udp")
TEXT_LIMIT = 120  # names and interface labels; the site's name column holds 120 characters
HOST_ADDRESSING = ("static", "range", "dhcp")
HOST_OS = ("windows", "linux", "macos", "other")
# The slugs a site's ``vendor`` may be: the renderers that describe a firewall. Kept here, not read
# from ``sites.vendors``, because the renderers import this module; a test keeps the two equal.
FIREWALL_VENDORS = frozenset(
    {
        "checkpoint",
        "cisco-asa",
        "cisco-ios",
        "edgeos",
        "fortigate",
        "generic",
        "iptables",
        "juniper-srx",
        "meraki",
        "mikrotik",
        "nftables",
        "opnsense",
        "paloalto",
        "pf",
        "pfsense",
        "sonicwall",
        "sophos",
        "watchguard",
    }
)

# A DNS name: dot-separated labels of letters, digits and hyphens, not starting or ending with a
# hyphen. Good enough to catch typos such as spaces, slashes or a pasted URL.
_FQDN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$", re.IGNORECASE
)


class DescriptionError(ValueError):
    """A site file or service profile is invalid.

    ``errors`` maps a field name (dotted for nested fields) to its human-readable messages.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(summary)


@dataclass(frozen=True)
class PortSpec:
    """One protocol and port, e.g. TCP 4401."""

    protocol: str  # "tcp" or "udp"
    port: int

    def __str__(self) -> str:
        return f"{self.protocol.upper()} {self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "port": self.port}


@dataclass(frozen=True)
class ProfileSpec:
    """What a backup product needs from the network: data, not code.

    ``outbound_ports`` are opened from the backup host to the datacenter (backup and restore);
    ``monitoring_ports`` are forwarded in when the monitoring GUI connects from outside.

    The portal serving the profile adds where its probes go and come from
    (``sites.probes.addressing``), because the instructions name them: ``probe_responder`` is the
    address the outbound probe on the backup host connects to (inside ``datacenter_networks``,
    or the outbound rules would not let it reach it), ``probe_check_source`` the address the
    portal's inbound checks come from (let in wherever monitoring is restricted to given
    sources). ``None`` where unknown (a profile file, a lab).
    """

    name: str
    datacenter_networks: tuple[IPv4Network, ...]
    datacenter_fqdns: tuple[str, ...]
    outbound_ports: tuple[PortSpec, ...]
    monitoring_ports: tuple[PortSpec, ...]
    probe_responder: IPv4Address | None = None
    probe_check_source: IPv4Address | None = None

    @classmethod
    def from_dict(cls, data: Any) -> ProfileSpec:
        """Validate a JSON-shaped profile; raise :class:`DescriptionError` with all problems."""
        p = _Parser(data, known=_PROFILE_FIELDS)
        name = p.text("name", required=True)
        networks = p.network_list("datacenter_networks", required=True)
        fqdns = p.fqdn_list("datacenter_fqdns")
        outbound = p.port_list("outbound_ports", required=True)
        monitoring = p.port_list("monitoring_ports")
        responder = p.address("probe_responder")
        check_source = p.address("probe_check_source")
        p.raise_if_errors()
        return cls(
            name=name,
            datacenter_networks=networks,
            datacenter_fqdns=fqdns,
            outbound_ports=outbound,
            monitoring_ports=monitoring,
            probe_responder=responder,
            probe_check_source=check_source,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "datacenter_networks": [str(n) for n in self.datacenter_networks],
            "datacenter_fqdns": list(self.datacenter_fqdns),
            "outbound_ports": [p.to_dict() for p in self.outbound_ports],
            "monitoring_ports": [p.to_dict() for p in self.monitoring_ports],
            # Only when known, so a profile without them reads (and hashes) as before.
            **{
                key: str(address)
                for key, address in (
                    ("probe_responder", self.probe_responder),
                    ("probe_check_source", self.probe_check_source),
                )
                if address is not None
            },
        }

    @property
    def responder_outside_datacenter(self) -> bool:
        """The outbound probe's address is known and no datacenter network holds it: the
        outbound rules would not let the probe reach it (a loopback responder is a lab, where
        probes run on the portal's own machine, and passes)."""
        responder = self.probe_responder
        return (
            responder is not None
            and not responder.is_loopback
            and not any(responder in n for n in self.datacenter_networks)
        )


# The provider's guide (seed/000_b26d2cce59096e67.txt). The guide publishes no datacenter
# addresses; 203.0.113.0/24 is a documentation range standing in for them until the operator
# edits the profile.
GUIDE_PROFILE = ProfileSpec(
    name="SecuriData Online Backup",
    datacenter_networks=(IPv4Network("203.0.113.0/24"),),
    datacenter_fqdns=(),
    outbound_ports=(PortSpec("tcp", 4401),),
    monitoring_ports=(PortSpec("tcp", 4403), PortSpec("udp", 4403)),
)


@dataclass(frozen=True)
class HostInterface:
    """One network interface of a multi-homed backup host (index as Windows numbers it)."""

    name: str
    index: int
    address: IPv4Address
    network: IPv4Network
    gateway: IPv4Address | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "address": str(self.address),
            "network": str(self.network),
            "gateway": _str_or_none(self.gateway),
        }


@dataclass(frozen=True)
class SiteDescription:
    """What the customer told us about one site.

    ``host_addressing`` says how the backup host gets its address:

    - ``"static"``: ``host_address`` is required.
    - ``"range"``: ``host_range_start`` … ``host_range_end`` (inclusive) are the backup hosts;
      ``host_address`` is the one the monitoring GUI reaches (required with monitoring).
    - ``"dhcp"``: ``host_address`` is the reserved address if a reservation exists or is
      planned (required with monitoring, which must forward to a fixed address).

    ``public_address`` ``None`` means the firewall's outside address is dynamic. Empty
    ``monitoring_sources`` means "monitoring from anywhere". Blank interface names let each
    renderer pick its vendor's usual default.
    """

    name: str
    vendor: str
    lan_network: IPv4Network
    lan_gateway: IPv4Address
    host_addressing: str
    firmware: str = ""
    inside_interface: str = ""
    outside_interface: str = ""
    public_address: IPv4Address | None = None
    host_address: IPv4Address | None = None
    host_range_start: IPv4Address | None = None
    host_range_end: IPv4Address | None = None
    dhcp_reservation_planned: bool = False
    monitoring_enabled: bool = False
    monitoring_sources: tuple[IPv4Network, ...] = ()
    host_os: str = "other"
    multi_homed: bool = False
    host_interfaces: tuple[HostInterface, ...] = ()
    firewall_interface: str = ""  # name of the host interface that faces this site's firewall

    @property
    def facing_interface(self) -> HostInterface | None:
        """The host interface that faces the firewall, if the host is multi-homed."""
        for interface in self.host_interfaces:
            if interface.name == self.firewall_interface:
                return interface
        return None

    @classmethod
    def from_dict(
        cls,
        data: Any,
        *,
        vendors: frozenset[str] = FIREWALL_VENDORS,
        allow_private: bool | None = None,
    ) -> SiteDescription:
        """Validate a site file; raise :class:`DescriptionError` with every problem found.

        ``vendors`` is the set of accepted vendor slugs (by default every firewall renderer's).
        ``allow_private`` judges the public address as the inbound probe judges its target
        (``sites.probes.addresses``): ``False`` refuses anything but a public unicast address,
        ``True`` (the lab setting) also lets loopback, private, shared and documentation
        addresses through. ``None`` does not judge it: a description read back from storage
        or by an offline tool was judged when it was entered.
        """
        p = _Parser(data, known=_SITE_FIELDS)
        values: dict[str, Any] = {
            "name": p.text("name", required=True),
            "vendor": p.choice("vendor", sorted(vendors), required=True, what="vendor"),
            "firmware": p.text("firmware", default=""),
            "inside_interface": p.text("inside_interface", default=""),
            "outside_interface": p.text("outside_interface", default=""),
            "public_address": p.address("public_address"),
            "lan_network": p.network("lan_network", required=True),
            "lan_gateway": p.address("lan_gateway", required=True),
            "host_addressing": p.choice("host_addressing", HOST_ADDRESSING, required=True),
            "host_address": p.address("host_address"),
            "host_range_start": p.address("host_range_start"),
            "host_range_end": p.address("host_range_end"),
            "dhcp_reservation_planned": p.boolean("dhcp_reservation_planned"),
            "monitoring_enabled": p.boolean("monitoring_enabled"),
            "monitoring_sources": p.network_list("monitoring_sources", hosts_allowed=True),
            "host_os": p.choice("host_os", HOST_OS, default="other"),
            "multi_homed": p.boolean("multi_homed"),
            "host_interfaces": p.interface_list("host_interfaces"),
            "firewall_interface": p.text("firewall_interface", default=""),
        }
        _check_site(values, p)
        if allow_private is not None and values["public_address"] is not None:
            _check_public_address(values["public_address"], p, allow_private=allow_private)
        p.raise_if_errors()
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The site file: JSON-friendly, and ``from_dict(to_dict())`` gives back an equal site."""
        return {
            "name": self.name,
            "vendor": self.vendor,
            "firmware": self.firmware,
            "inside_interface": self.inside_interface,
            "outside_interface": self.outside_interface,
            "public_address": _str_or_none(self.public_address),
            "lan_network": str(self.lan_network),
            "lan_gateway": str(self.lan_gateway),
            "host_addressing": self.host_addressing,
            "host_address": _str_or_none(self.host_address),
            "host_range_start": _str_or_none(self.host_range_start),
            "host_range_end": _str_or_none(self.host_range_end),
            "dhcp_reservation_planned": self.dhcp_reservation_planned,
            "monitoring_enabled": self.monitoring_enabled,
            "monitoring_sources": [str(n) for n in self.monitoring_sources],
            "host_os": self.host_os,
            "multi_homed": self.multi_homed,
            "host_interfaces": [i.to_dict() for i in self.host_interfaces],
            "firewall_interface": self.firewall_interface,
        }


_PROFILE_FIELDS = frozenset(f.name for f in fields(ProfileSpec))
_SITE_FIELDS = frozenset(f.name for f in fields(SiteDescription))
_INTERFACE_FIELDS = frozenset(f.name for f in fields(HostInterface))


def _check_site(v: dict[str, Any], p: _Parser) -> None:
    """Cross-field rules. A check is skipped when a field it needs already failed to parse."""
    lan: IPv4Network | None = v["lan_network"]
    gateway: IPv4Address | None = v["lan_gateway"]
    addressing = v["host_addressing"]
    host = v["host_address"]
    monitoring = v["monitoring_enabled"]

    def inside_lan(field: str, address: IPv4Address | None, what: str) -> bool:
        if lan is None or address is None or p.failed(field) or p.failed("lan_network"):
            return True
        if address not in lan:
            p.error(field, f"{what} {address} is not inside the LAN {lan}.")
            return False
        if lan.prefixlen < 31 and address in (lan.network_address, lan.broadcast_address):
            p.error(field, f"{what} {address} is the network or broadcast address of {lan}.")
            return False
        return True

    inside_lan("lan_gateway", gateway, "The firewall's LAN address")

    if addressing == "static" and host is None and not p.failed("host_address"):
        p.error("host_address", "Required when the host has a static address.")
    if (
        monitoring
        and addressing in ("range", "dhcp")
        and host is None
        and not p.failed("host_address")
    ):
        p.error(
            "host_address",
            "Remote monitoring forwards ports to one fixed address: give the backup host's "
            "address (with DHCP, the reserved address).",
        )
    if (
        inside_lan("host_address", host, "The backup host's address")
        and host is not None
        and gateway is not None
        and host == gateway
    ):
        p.error("host_address", "The backup host cannot have the firewall's own address.")

    if addressing == "range":
        start, end = v["host_range_start"], v["host_range_end"]
        for field, value in (("host_range_start", start), ("host_range_end", end)):
            if value is None and not p.failed(field):
                p.error(field, "Required when the backup hosts use a range of addresses.")
        ok_start = inside_lan("host_range_start", start, "The range start")
        ok_end = inside_lan("host_range_end", end, "The range end")
        if ok_start and ok_end and start is not None and end is not None and start > end:
            p.error("host_range_end", f"The range ends ({end}) before it starts ({start}).")

    if v["public_address"] is not None:
        public = v["public_address"]
        if lan is not None and public in lan:
            p.error("public_address", f"{public} is inside the LAN; give the outside address.")

    if v["multi_homed"]:
        _check_interfaces(v, p)


def _check_public_address(public: IPv4Address, p: _Parser, *, allow_private: bool) -> None:
    """The firewall's outside address is where inbound probes go: one they would refuse
    (loopback, private, link-local, shared, multicast, reserved, documentation…) is refused here,
    with the probe guard's reason."""
    reason = forbidden_reason(public, allow_private=allow_private)
    if reason is not None:
        p.error(
            "public_address",
            f"{public} is {reason}: give the firewall's public address on the Internet.",
        )


def _check_interfaces(v: dict[str, Any], p: _Parser) -> None:
    interfaces: tuple[HostInterface, ...] = v["host_interfaces"]
    if p.failed("host_interfaces"):
        return
    if len(interfaces) < 2:
        p.error("host_interfaces", "A multi-homed host needs at least two interfaces.")
    names = [i.name for i in interfaces]
    for n, interface in enumerate(interfaces):
        if names.count(interface.name) > 1:
            p.error(f"host_interfaces.{n}.name", f"Interface name {interface.name!r} is repeated.")
    facing = v["firewall_interface"]
    if not facing:
        p.error("firewall_interface", "Say which host interface faces this firewall.")
    elif facing not in names:
        p.error("firewall_interface", f"No host interface is named {facing!r}.")
    else:
        interface = interfaces[names.index(facing)]
        n = names.index(facing)
        lan = v["lan_network"]
        if lan is not None and interface.network != lan:
            p.error(
                f"host_interfaces.{n}.network",
                f"The interface facing the firewall must be on the LAN {lan}, "
                f"not {interface.network}.",
            )
        if interface.gateway is None:
            p.error(
                f"host_interfaces.{n}.gateway",
                "The interface facing the firewall needs a gateway: the static routes go via it.",
            )


def _str_or_none(value: object | None) -> str | None:
    return None if value is None else str(value)


# Examples in address errors: an outside address is public, so its example is a public-looking
# documentation address (the one the probe address guard's own messages use), never a LAN one.
_ADDRESS_EXAMPLES = {"public_address": "203.0.113.7"}


class _Parser:
    """Reads fields from a JSON-shaped dict, recording one message per problem."""

    def __init__(self, data: Any, *, known: frozenset[str], prefix: str = ""):
        self.errors: dict[str, list[str]] = {}
        self.prefix = prefix
        if not isinstance(data, dict):
            self.data: dict[str, Any] = {}
            self.error("", "Expected an object with named fields.")
            return
        self.data = data
        for key in data:
            if key not in known:
                self.error(str(key), "Unknown field.")

    def error(self, field: str, message: str) -> None:
        key = f"{self.prefix}{field}" if field else self.prefix.rstrip(".") or "__all__"
        self.errors.setdefault(key, []).append(message)

    def failed(self, field: str) -> bool:
        """Whether ``field`` (or anything nested under it) already has an error."""
        key = f"{self.prefix}{field}"
        return any(k == key or k.startswith(key + ".") for k in self.errors)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise DescriptionError(self.errors)

    def _get(self, field: str, required: bool) -> Any:
        value = self.data.get(field)
        if value is None or value == "":
            if required:
                self.error(field, "This field is required.")
            return None
        return value

    def text(
        self,
        field: str,
        *,
        required: bool = False,
        default: str | None = None,
        max_length: int = TEXT_LIMIT,
    ) -> Any:
        value = self._get(field, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.error(field, "Must be text.")
            return default
        value = value.strip()
        if required and not value:
            self.error(field, "This field is required.")
            return default
        if len(value) > max_length:
            self.error(field, f"Keep it to {max_length} characters.")
            return default
        return value

    def choice(
        self,
        field: str,
        options: Any,
        *,
        required: bool = False,
        default: str | None = None,
        what: str = "value",
    ) -> Any:
        value = self.text(field, required=required, default=None)
        if value is None:
            return default
        if value not in options:
            self.error(field, f"Unknown {what} {value!r}; choose one of: {', '.join(options)}.")
            return default
        return value

    def boolean(self, field: str) -> bool:
        value = self.data.get(field, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            self.error(field, "Must be true or false.")
            return False
        return value

    def address(self, field: str, *, required: bool = False) -> IPv4Address | None:
        value = self._get(field, required)
        if value is None:
            return None
        return self._parse_address(field, value)

    def _parse_address(self, field: str, value: Any) -> IPv4Address | None:
        example = _ADDRESS_EXAMPLES.get(field, "192.168.1.10")
        if not isinstance(value, str):
            self.error(field, f"Must be an IPv4 address written as text, e.g. {example}.")
            return None
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            self.error(field, f"{value!r} is not an IP address (expected e.g. {example}).")
            return None
        if not isinstance(address, IPv4Address):
            self.error(field, f"{value} is IPv6; only IPv4 addresses are supported.")
            return None
        return address

    def network(self, field: str, *, required: bool = False) -> IPv4Network | None:
        value = self._get(field, required)
        if value is None:
            return None
        return self._parse_network(field, value, hosts_allowed=False)

    def _parse_network(self, field: str, value: Any, *, hosts_allowed: bool) -> IPv4Network | None:
        example = "198.51.100.7 or 198.51.100.0/24" if hosts_allowed else "192.168.1.0/24"
        if not isinstance(value, str):
            self.error(field, f"Must be a network written as text, e.g. {example}.")
            return None
        text = value.strip()
        if "/" not in text and not hosts_allowed:
            self.error(field, f"{text!r} has no prefix length; write it as CIDR, e.g. {example}.")
            return None
        try:
            network = ipaddress.ip_network(text)
        except ValueError:
            try:
                loose = ipaddress.ip_network(text, strict=False)
            except ValueError:
                self.error(field, f"{text!r} is not a network in CIDR form (e.g. {example}).")
                return None
            self.error(field, f"{text} has host bits set; did you mean {loose}?")
            return None
        if not isinstance(network, IPv4Network):
            self.error(field, f"{text} is IPv6; only IPv4 networks are supported.")
            return None
        return network

    def _list(self, field: str, required: bool) -> list[Any]:
        value = self.data.get(field)
        if value is None:
            if required:
                self.error(field, "This field is required.")
            return []
        if not isinstance(value, list):
            self.error(field, "Must be a list.")
            return []
        if required and not value:
            self.error(field, "Give at least one entry.")
        return value

    def network_list(
        self, field: str, *, required: bool = False, hosts_allowed: bool = False
    ) -> tuple[IPv4Network, ...]:
        result = []
        for n, item in enumerate(self._list(field, required)):
            network = self._parse_network(f"{field}.{n}", item, hosts_allowed=hosts_allowed)
            if network is not None:
                if network in result:
                    self.error(f"{field}.{n}", f"{network} is listed twice.")
                result.append(network)
        return tuple(result)

    def fqdn_list(self, field: str) -> tuple[str, ...]:
        result = []
        for n, item in enumerate(self._list(field, False)):
            if not isinstance(item, str) or not _FQDN.match(item.strip()):
                self.error(f"{field}.{n}", f"{item!r} is not a DNS name (e.g. backup.example.net).")
                continue
            result.append(item.strip().lower())
        return tuple(result)

    def port_list(self, field: str, *, required: bool = False) -> tuple[PortSpec, ...]:
        result: list[PortSpec] = []
        for n, item in enumerate(self._list(field, required)):
            sub = _Parser(
                item, known=frozenset({"protocol", "port"}), prefix=f"{self.prefix}{field}.{n}."
            )
            protocol = sub.choice("protocol", PROTOCOLS, required=True, what="protocol")
            port = sub._get("port", True)
            if port is not None:
                # bool is an int in Python; "true" is not a port.
                if not isinstance(port, int) or isinstance(port, bool):
                    sub.error("port", "Must be a whole number.")
                    port = None
                elif not 1 <= port <= 65535:
                    sub.error("port", f"Port {port} is out of range (1–65535).")
                    port = None
            self._merge(sub)
            if protocol is not None and port is not None:
                spec = PortSpec(protocol, port)
                if spec in result:
                    self.error(f"{field}.{n}", f"{spec} is listed twice.")
                result.append(spec)
        return tuple(result)

    def interface_list(self, field: str) -> tuple[HostInterface, ...]:
        result = []
        for n, item in enumerate(self._list(field, False)):
            sub = _Parser(item, known=_INTERFACE_FIELDS, prefix=f"{self.prefix}{field}.{n}.")
            name = sub.text("name", required=True)
            index = sub._get("index", True)
            if index is not None and (
                not isinstance(index, int) or isinstance(index, bool) or index < 1
            ):
                sub.error(
                    "index",
                    "Must be the interface index, a whole number from 1 (see `route print`).",
                )
                index = None
            address = sub.address("address", required=True)
            network = sub.network("network", required=True)
            gateway = sub.address("gateway")
            if network is not None:
                if address is not None and address not in network:
                    sub.error(
                        "address", f"{address} is not inside the interface's network {network}."
                    )
                if gateway is not None and gateway not in network:
                    sub.error(
                        "gateway",
                        f"The gateway {gateway} is not inside the interface's network {network}.",
                    )
            self._merge(sub)
            # A required address or network that is missing or invalid is an error, so with no
            # errors both are set.
            if not sub.errors and address is not None and network is not None:
                result.append(HostInterface(name, index, address, network, gateway))
        return tuple(result)

    def _merge(self, sub: _Parser) -> None:
        for key, messages in sub.errors.items():
            self.errors.setdefault(key, []).extend(messages)
