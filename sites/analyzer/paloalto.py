"""PAN-OS XML (``show config running``, ``running-config.xml``) into the netfilter-shaped model.

PAN-OS looks up NAT once, on the first packet, with pre-NAT addresses and zones, and matches
security rules with the **pre-NAT addresses** and the **post-NAT destination zone**. In the model
a zone is the interfaces that are its members (and its own name); a NAT rule's destination
translation is a prerouting DNAT, its source translation a postrouting SNAT matching the zone the
connection arrived on; security rules sit in the forward chain, where the output interface is the
post-NAT zone, and match the connection's original destination (``Match.original_destination``),
so a rule naming the post-NAT (private) address does not match, as on the firewall. Sessions carry
replies (a first rule citing no line); then ``intrazone-default`` allows, ``interzone-default``
denies. Only the first vsys (``vsys1``) and ``shared`` objects are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from xml.etree.ElementTree import Element

from sites.analyzer.model import (
    ADDRESS,
    DSTNAT_PRIORITY,
    GROUP,
    SERVICE,
    SRCNAT_PRIORITY,
    Action,
    ActionKind,
    Addresses,
    Chain,
    ConfigError,
    Interfaces,
    Match,
    NamedObject,
    Ports,
    Rule,
    Ruleset,
    Table,
    Unrecognised,
    address_value,
)
from sites.analyzer.xmlconfig import parse_config_xml

SESSION_TEXT = "(a session's replies and later packets follow the session)"
DENY_TEXT = "interzone-default: deny (no security rule allows the connection)"
# Services PAN-OS predefines.
PREDEFINED = {
    "service-http": ("tcp", ((80, 80), (8080, 8080))),
    "service-https": ("tcp", ((443, 443),)),
}
_ACTIONS = {
    "allow": ActionKind.ACCEPT,
    "deny": ActionKind.DROP,
    "drop": ActionKind.DROP,
    "reset-client": ActionKind.REJECT,
    "reset-server": ActionKind.REJECT,
    "reset-both": ActionKind.REJECT,
}
MAX_DEPTH = 8


class _Unknown(Exception):
    """A part of a rule the reader does not understand."""


def parse_paloalto(data: str | bytes) -> Ruleset:
    """The ruleset of a PAN-OS configuration (or ``ConfigError`` if it is not one)."""
    root, lines = parse_config_xml(data, "PAN-OS")
    config = root if root.tag == "config" else root.find(".//config")
    vsys = config.find("devices/entry/vsys/entry") if config is not None else None
    if config is None or vsys is None:
        raise ConfigError(
            f"no <config><devices><entry><vsys><entry> in <{root.tag}>: this is not a PAN-OS "
            "configuration (export running-config.xml, or `show config running` in XML)"
        )
    return _Reader(config, vsys, lines).read()


@dataclass
class _Reader:
    config: Element
    vsys: Element
    lines: dict[int, int]
    unrecognised: list[Unrecognised] = field(default_factory=list)
    keys: Iterator[int] = field(default_factory=lambda: iter(range(1_000_000_000)))
    resolved: dict[str, tuple[IPv4Network, ...]] = field(default_factory=dict)  # group → networks
    resolved_services: dict[str, list[tuple[str, tuple[tuple[int, int], ...]]]] = field(
        default_factory=dict
    )

    def entries(self, path: str) -> dict[str, Element]:
        found: dict[str, Element] = {}
        for scope in (self.config.find("shared"), self.vsys):
            if scope is not None:
                found |= {e.get("name", ""): e for e in scope.iterfind(f"{path}/entry")}
        return found

    def read(self) -> Ruleset:
        self.zones = {
            name: Interfaces(
                (name, *(m.text or "" for m in zone.iterfind("network/layer3/member")))
            )
            for name, zone in self.entries("zone").items()
        }
        self.addresses = self.entries("address")
        self.groups = self.entries("address-group")
        self.services = self.entries("service")
        self.service_groups = self.entries("service-group")
        forward = Chain("security", hook="forward", policy="drop", text=DENY_TEXT)
        session = Match(ct_state=frozenset({"established", "related"}))
        forward.rules.append(
            Rule(next(self.keys), 0, SESSION_TEXT, session, Action(ActionKind.ACCEPT))
        )
        for entry in self.vsys.iterfind("rulebase/security/rules/entry"):
            forward.rules += self.security_rule(entry)
        for name, zone in self.zones.items():
            forward.rules.append(
                Rule(
                    next(self.keys),
                    0,
                    f"intrazone-default: allow within {name}",
                    Match(in_interface=zone, out_interface=zone),
                    Action(ActionKind.ACCEPT),
                )
            )
        dnat = Chain("nat-destination", hook="prerouting", type="nat", priority=DSTNAT_PRIORITY)
        snat = Chain("nat-source", hook="postrouting", type="nat", priority=SRCNAT_PRIORITY)
        for entry in self.vsys.iterfind("rulebase/nat/rules/entry"):
            self.nat_rule(entry, dnat, snat)
        tables = [
            Table("ip", "nat", {"nat-destination": dnat, "nat-source": snat}),
            Table("ip", "filter", {"security": forward}),
        ]
        return Ruleset("paloalto", tables, self.unrecognised, self.objects())

    def objects(self) -> list[NamedObject]:
        """The address objects, static address groups and services (destination ports only)
        whose value is understood."""
        found: list[NamedObject] = []
        for kind, entries in ((ADDRESS, self.addresses), (GROUP, self.groups)):
            for name, entry in entries.items():
                try:
                    networks = self.networks([name])
                except (_Unknown, ValueError, LookupError):
                    continue
                if networks:
                    found.append(self.named(kind, name, entry, networks=address_value(networks)))
        for name, entry in self.services.items():
            if entry.find("protocol/*/source-port") is not None:
                continue
            try:
                services = self.service([name]) or []
            except (_Unknown, ValueError, LookupError):
                continue
            triples = frozenset((p, low, high) for p, ranges in services for low, high in ranges)
            if triples:
                found.append(self.named(SERVICE, name, entry, services=triples))
        return found

    def named(self, kind: str, name: str, entry: Element, **value) -> NamedObject:
        return NamedObject(kind, name, self.line(entry), f'<entry name="{name}">', **value)

    # -- objects -----------------------------------------------------------------------------

    def members(self, entry: Element, tag: str) -> list[str]:
        """``<tag><member>…`` values, or the text of ``<tag>`` (NAT rules' single service)."""
        found = [m.text or "" for m in entry.iterfind(f"{tag}/member")]
        text = (entry.findtext(tag) or "").strip()
        return found or ([text] if text else [])

    def zone(self, names: list[str]) -> Interfaces | None:
        if "any" in names or not names:
            return None
        matched: list[str] = []
        for name in names:
            if name not in self.zones:
                raise _Unknown(f"the zone {name!r} is not defined")
            matched += self.zones[name].names
        return Interfaces(tuple(matched))

    def networks(self, names: list[str], depth: int = 0) -> tuple[IPv4Network, ...] | None:
        """The members as networks; ``None`` for ``any``."""
        if "any" in names or not names:
            return None
        found: list[IPv4Network] = []
        for name in names:
            if name in self.addresses and depth < MAX_DEPTH:
                found += self.address_object(self.addresses[name])
            elif name in self.groups and depth < MAX_DEPTH:
                group = self.groups[name]
                if group.find("dynamic") is not None:
                    raise _Unknown(f"the dynamic address group {name} is not analysed")
                if name not in self.resolved:
                    self.resolved[name] = (
                        self.networks(self.members(group, "static"), depth + 1) or ()
                    )
                found += self.resolved[name]
            else:
                found += _literal(name)
        return tuple(dict.fromkeys(found))  # nested groups: no blow-up

    def address_object(self, entry: Element) -> list[IPv4Network]:
        netmask, address_range = entry.findtext("ip-netmask"), entry.findtext("ip-range")
        if netmask:
            return _literal(netmask)
        if address_range:
            return _literal(address_range)
        raise _Unknown(f"the address {entry.get('name')} (FQDN or wildcard) is not analysed")

    def service(
        self, names: list[str], depth: int = 0
    ) -> list[tuple[str, tuple[tuple[int, int], ...]]] | None:
        """(protocol, destination port ranges) for each member; ``None`` for ``any``."""
        if "any" in names:
            return None
        found: list[tuple[str, tuple[tuple[int, int], ...]]] = []
        for name in names:
            if name == "application-default":
                raise _Unknown("service application-default depends on the application")
            if name in PREDEFINED:
                found.append(PREDEFINED[name])
            elif name in self.services:
                for protocol in ("tcp", "udp"):
                    ports = self.services[name].findtext(f"protocol/{protocol}/port")
                    if ports:
                        found.append((protocol, _port_ranges(ports)))
            elif name in self.service_groups and depth < MAX_DEPTH:
                found += self.service_group(name, depth)
            else:
                raise _Unknown(f"the service {name!r} is not defined")
        return list(dict.fromkeys(found))

    def service_group(self, name: str, depth: int) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
        """A service group's services, resolved once (nested groups cannot blow up)."""
        if name not in self.resolved_services:
            members = self.members(self.service_groups[name], "members")
            self.resolved_services[name] = self.service(members, depth + 1) or []
        return self.resolved_services[name]

    # -- rules -------------------------------------------------------------------------------

    def line(self, element: Element) -> int:
        return self.lines.get(id(element), 0)

    def base_match(self, entry: Element, unknown: list[str], *, pre_nat: bool) -> Match:
        """Zones and addresses (the destination pre-NAT when ``pre_nat``)."""
        values: dict[str, object] = {}
        negate_source = entry.findtext("negate-source") == "yes"
        negate_destination = entry.findtext("negate-destination") == "yes"
        try:
            values["in_interface"] = self.zone(self.members(entry, "from"))
        except _Unknown as error:
            unknown.append(str(error))
        try:
            source = self.networks(self.members(entry, "source"))
            if source is not None:
                values["source"] = Addresses(source, negate_source)
            destination = self.networks(self.members(entry, "destination"))
            if destination is not None:
                key = "original_destination" if pre_nat else "destination"
                values[key] = Addresses(destination, negate_destination)
        except _Unknown as error:
            unknown.append(str(error))
        return Match(**values)  # type: ignore[arg-type]

    def rules(
        self, entry: Element, matches: list[Match], action: Action, unknown: list[str], text: str
    ) -> list[Rule]:
        """One rule per match (per protocol of its services), all citing the entry's line."""
        line = self.line(entry)
        if unknown or action.kind is ActionKind.UNKNOWN:
            reason = "; ".join(unknown + ([action.detail] if action.detail else []))
            self.unrecognised.append(Unrecognised(line, text, reason, frozenset({"forward"})))
        if unknown:
            matches = [replace(m, unknown="; ".join(unknown)) for m in matches]
        description = entry.findtext("description") or ""
        return [Rule(next(self.keys), line, text, m, action, description) for m in matches]

    def source_side(self, entry: Element, match: Match, unknown: list[str]) -> list[Match]:
        """A NAT rule's match at postrouting: the source zone is where the connection arrived,
        the destination zone the output interface, the destination pre-NAT."""
        match = replace(match, arrived_on=match.in_interface, in_interface=None)
        try:
            match = replace(match, out_interface=self.zone(self.members(entry, "to")))
        except _Unknown as error:
            unknown.append(str(error))
        return self.with_service(entry, match, unknown, pre_nat=True)

    def security_rule(self, entry: Element) -> list[Rule]:
        if entry.findtext("disabled") == "yes":
            return []
        unknown: list[str] = []
        match = self.base_match(entry, unknown, pre_nat=True)
        try:
            match = replace(match, out_interface=self.zone(self.members(entry, "to")))
        except _Unknown as error:
            unknown.append(str(error))
        if self.members(entry, "application") not in (["any"], []):
            unknown.append("applications other than any are not analysed")
        matches = self.with_service(entry, match, unknown, pre_nat=True)
        kind = _ACTIONS.get(entry.findtext("action") or "")
        action = (
            Action(kind)
            if kind
            else Action(ActionKind.UNKNOWN, detail=f"action {entry.findtext('action')}")
        )
        text = f'security rule "{entry.get("name")}": {entry.findtext("action")}'
        return self.rules(entry, matches, action, unknown, text)

    def with_service(
        self, entry: Element, match: Match, unknown: list[str], *, pre_nat: bool
    ) -> list[Match]:
        """``match`` once per protocol of the rule's services (a service is one protocol and
        its ports, so a rule with TCP 4401 and UDP 4403 does not match UDP 4401)."""
        try:
            services = self.service(self.members(entry, "service") or ["any"])
        except _Unknown as error:
            unknown.append(str(error))
            return [match]
        if services is None:
            return [match]
        by_protocol: dict[str, set[tuple[int, int]]] = {}
        for protocol, ranges in services:
            by_protocol.setdefault(protocol, set()).update(ranges)
        matches = []
        for protocol, port_ranges in sorted(by_protocol.items()):
            ports = Ports(tuple(sorted(port_ranges)))
            if pre_nat:
                matches.append(
                    replace(
                        match, protocols=frozenset({protocol}), original_destination_ports=ports
                    )
                )
            else:
                matches.append(
                    replace(match, protocols=frozenset({protocol}), destination_ports=ports)
                )
        return matches

    def nat_rule(self, entry: Element, dnat: Chain, snat: Chain) -> None:
        if entry.findtext("disabled") == "yes":
            return
        name = entry.get("name")
        destination = entry.find("destination-translation")
        source = entry.find("source-translation")
        if destination is not None:
            unknown: list[str] = []
            matches = self.with_service(
                entry, self.base_match(entry, unknown, pre_nat=False), unknown, pre_nat=False
            )
            try:
                address = IPv4Address(destination.findtext("translated-address") or "")
                port = destination.findtext("translated-port")
                action = Action(ActionKind.DNAT, address=address, port=int(port) if port else None)
            except ValueError:
                address_name = destination.findtext("translated-address") or ""
                networks = self.networks([address_name]) if address_name in self.addresses else None
                if networks and networks[0].num_addresses == 1:
                    port = destination.findtext("translated-port")
                    action = Action(
                        ActionKind.DNAT,
                        address=networks[0].network_address,
                        port=int(port) if port else None,
                    )
                else:
                    action = Action(
                        ActionKind.UNKNOWN, detail=f"translated address {address_name!r}"
                    )
            text = f'NAT rule "{name}": destination translation'
            dnat.rules += self.rules(entry, matches, action, unknown, text)
        if source is not None:
            unknown = []
            matches = self.source_side(
                entry, self.base_match(entry, unknown, pre_nat=True), unknown
            )
            dynamic = source.find("dynamic-ip-and-port")
            if dynamic is not None and dynamic.find("interface-address") is not None:
                action = Action(ActionKind.MASQUERADE)
            elif dynamic is not None and len(self.members(dynamic, "translated-address")) == 1:
                try:
                    networks = self.networks(self.members(dynamic, "translated-address")) or ()
                    action = Action(ActionKind.SNAT, address=networks[0].network_address)
                except (_Unknown, IndexError):
                    action = Action(ActionKind.UNKNOWN, detail="translated address")
            else:
                action = Action(ActionKind.UNKNOWN, detail="this kind of source translation")
            text = f'NAT rule "{name}": source translation'
            snat.rules += self.rules(entry, matches, action, unknown, text)
        if destination is None and source is None:
            # A rule that translates nothing ends the NAT lookup (a "no-NAT" rule).
            unknown = []
            text = f'NAT rule "{name}": no translation'
            accept = Action(ActionKind.ACCEPT)
            before = self.base_match(entry, unknown, pre_nat=False)
            dnat.rules += self.rules(
                entry, self.with_service(entry, before, unknown, pre_nat=False), accept, [], text
            )
            after = self.base_match(entry, [], pre_nat=True)
            snat.rules += self.rules(
                entry, self.source_side(entry, after, []), accept, unknown, text
            )


def _literal(text: str) -> list[IPv4Network]:
    try:
        if "-" in text:
            low, high = (IPv4Address(p) for p in text.split("-", 1))
            return list(summarize_address_range(low, high))
        return [IPv4Network(text, strict=False)]
    except ValueError:
        raise _Unknown(f"{text!r} is not an address, an address object or a group") from None


def _port_ranges(text: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or not (high or low).isdigit():
            raise _Unknown(f"the port {part!r} is not understood")
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)
