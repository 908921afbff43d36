"""pfSense and OPNsense ``config.xml`` into the netfilter-shaped model.

pf on pfSense translates before it filters, like netfilter: port forwards (``<nat><rule>``, pf's
``rdr``) bind the destination first, the interface rules then see the private target, and
outbound NAT binds the source on the way out. So a port forward becomes a prerouting DNAT rule,
the rules of the Floating tab (quick ones) and then of each interface tab become one forward
chain whose rules match their interface as the input interface, first match wins, and what no
rule passes is blocked (pfSense's default deny). pf keeps state: a passed connection's replies
and later packets pass, which is a first rule citing no line. A port forward with the filter
rule association "pass" (pf's ``rdr pass``) lets its connections through without a filter rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from xml.etree.ElementTree import Element

from sites.analyzer.model import (
    DSTNAT_PRIORITY,
    GROUP,
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

PRIVATE = tuple(IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
MAX_ALIAS_DEPTH = 8
STATE_TEXT = "(pf keeps state: the replies and later packets of a passed connection pass)"
DENY_TEXT = "(default deny: pf blocks what no rule passes)"
_KIND = {"pass": ActionKind.ACCEPT, "block": ActionKind.DROP, "reject": ActionKind.REJECT}
_PROTOCOLS = {"tcp/udp": frozenset({"tcp", "udp"})}


class _Unknown(Exception):
    """A part of a rule the reader does not understand."""


def parse_pfsense(data: str | bytes) -> Ruleset:
    return _parse(data, "pfsense")


def parse_opnsense(data: str | bytes) -> Ruleset:
    return _parse(data, "opnsense")


def _parse(data: str | bytes, vendor: str) -> Ruleset:
    root, lines = parse_config_xml(data, vendor)
    if root.tag.lower() not in ("pfsense", "opnsense"):
        raise ConfigError(
            f"the root element is <{root.tag}>, not <pfsense> or <opnsense>: this is not a "
            "config.xml (Diagnostics › Backup & Restore › Download configuration as XML)"
        )
    return _Reader(root, lines, vendor).read()


@dataclass
class _Reader:
    root: Element
    lines: dict[int, int]
    vendor: str
    unrecognised: list[Unrecognised] = field(default_factory=list)
    keys: Iterator[int] = field(default_factory=lambda: iter(range(1_000_000_000)))
    resolved: dict[str, tuple[IPv4Network, ...]] = field(default_factory=dict)  # alias → networks
    resolved_ports: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def line(self, element: Element) -> int:
        return self.lines.get(id(element), 0)

    def read(self) -> Ruleset:
        self.interfaces = self.read_interfaces()
        self.aliases = {
            (alias.findtext("name") or ""): alias for alias in self.root.iterfind("aliases/alias")
        }
        forward = Chain("forward", hook="forward", policy="drop", text=DENY_TEXT)
        state = Match(ct_state=frozenset({"established", "related"}))
        forward.rules.append(Rule(next(self.keys), 0, STATE_TEXT, state, Action(ActionKind.ACCEPT)))
        dstnat = Chain("rdr", hook="prerouting", type="nat", priority=DSTNAT_PRIORITY)
        for element in self.root.iterfind("nat/rule"):
            self.port_forward(element, dstnat, forward)
        rules = list(self.root.iterfind("filter/rule"))
        floating = [r for r in rules if r.find("floating") is not None]
        for element in floating + [r for r in rules if r.find("floating") is None]:
            rule = self.filter_rule(element)
            if rule is not None:
                forward.rules.append(rule)
        self.block_private(forward)
        srcnat = Chain("nat", hook="postrouting", type="nat", priority=SRCNAT_PRIORITY)
        self.outbound_nat(srcnat)
        self.not_read()
        filter_table = Table("ip", "filter", {"forward": forward})
        nat_table = Table("ip", "nat", {"rdr": dstnat, "nat": srcnat})
        return Ruleset(self.vendor, [nat_table, filter_table], self.unrecognised, self.objects())

    def objects(self) -> list[NamedObject]:
        """The host and network aliases whose addresses are understood (pfSense and OPNsense
        rules name an alias wherever they take an address)."""
        found = []
        for name, alias in self.aliases.items():
            if (alias.findtext("type") or "") not in ("host", "network"):
                continue
            try:
                networks = self.alias_networks(name, 0)
            except (_Unknown, ValueError):
                continue
            if networks:
                text = f"<alias> {name}"
                found.append(
                    NamedObject(GROUP, name, self.line(alias), text, address_value(networks))
                )
        return found

    # -- interfaces and addresses ------------------------------------------------------------

    def read_interfaces(self) -> dict[str, tuple[Element, Interfaces]]:
        """Each interface key (wan, lan, opt1) with its element and the names a site may use
        for it: the key, the key in capitals (the GUI's LAN/WAN) and its description."""
        found = {}
        section = self.root.find("interfaces")
        for element in section if section is not None else []:
            names = {element.tag, element.tag.upper()}
            if element.findtext("descr"):
                names.add(element.findtext("descr") or "")
            found[element.tag] = (element, Interfaces(tuple(sorted(names))))
        return found

    def subnet(self, key: str) -> IPv4Network | None:
        element = self.interfaces.get(key, (None, None))[0]
        if element is None:
            return None
        try:
            address = IPv4Address(element.findtext("ipaddr") or "")
            return IPv4Network(f"{address}/{element.findtext('subnet') or '32'}", strict=False)
        except ValueError:
            return None  # dhcp, pppoe …

    def interface(self, names: str) -> Interfaces:
        matched: list[str] = []
        for key in names.split(","):
            if key not in self.interfaces:
                raise _Unknown(f"the interface (or group) {key!r} is not defined")
            matched += self.interfaces[key][1].names
        return Interfaces(tuple(matched))

    def endpoint(self, element: Element | None, values: dict[str, object], side: str) -> None:
        """``<source>``/``<destination>``: any, an address or alias, a network keyword, a port."""
        if element is None:
            return
        negated = element.find("not") is not None
        address = element.findtext("address")
        network = element.findtext("network")
        if address:
            values[side] = Addresses(self.alias_networks(address, 0), negated)
        elif network:
            if network.endswith("ip"):  # wanip, lanip: the firewall's own address there
                values["local_" + side] = not negated
            else:
                subnet = self.subnet(network)
                if subnet is None:
                    raise _Unknown(f"the network {network!r} (no static subnet) is not known")
                values[side] = Addresses((subnet,), negated)
        port = element.findtext("port")
        if port:
            values[side + "_ports"] = Ports(self.alias_ports(port, 0))

    def alias_networks(self, text: str, depth: int) -> tuple[IPv4Network, ...]:
        networks: list[IPv4Network] = []
        for item in text.split():
            alias = self.aliases.get(item)
            if alias is not None and depth < MAX_ALIAS_DEPTH:
                if (alias.findtext("type") or "") not in ("host", "network"):
                    raise _Unknown(f"the alias {item} is of type {alias.findtext('type')}")
                if item not in self.resolved:
                    address = alias.findtext("address") or ""
                    self.resolved[item] = self.alias_networks(address, depth + 1)
                networks += self.resolved[item]
                continue
            try:
                if "-" in item:
                    low, high = (IPv4Address(p) for p in item.split("-", 1))
                    networks += summarize_address_range(low, high)
                else:
                    networks.append(IPv4Network(item, strict=False))
            except ValueError:
                raise _Unknown(f"{item!r} is not an IPv4 address, network or alias") from None
        return tuple(dict.fromkeys(networks))  # nested aliases: no blow-up

    def alias_ports(self, text: str, depth: int) -> tuple[tuple[int, int], ...]:
        ranges: list[tuple[int, int]] = []
        for item in text.split():
            alias = self.aliases.get(item)
            if alias is not None and depth < MAX_ALIAS_DEPTH:
                if item not in self.resolved_ports:
                    address = alias.findtext("address") or ""
                    self.resolved_ports[item] = self.alias_ports(address, depth + 1)
                ranges += self.resolved_ports[item]
                continue
            low, _, high = item.replace(":", "-").partition("-")
            if not low.isdigit() or not (high or low).isdigit():
                raise _Unknown(f"the port {item!r} is not a number, range or port alias")
            ranges.append((int(low), int(high or low)))
        return tuple(dict.fromkeys(ranges))

    # -- rules -------------------------------------------------------------------------------

    def match(self, element: Element, unknown: list[str]) -> Match:
        values: dict[str, object] = {}
        family = element.findtext("ipprotocol") or "inet"
        if family == "inet6":
            values["ipv6_only"] = True
        protocol = (element.findtext("protocol") or "").lower()
        if protocol and protocol != "any":
            values["protocols"] = _PROTOCOLS.get(protocol, frozenset({protocol}))
        names = element.findtext("interface") or ""
        for read in (
            lambda: values.update(in_interface=self.interface(names)) if names else None,
            lambda: self.endpoint(element.find("source"), values, "source"),
            lambda: self.endpoint(element.find("destination"), values, "destination"),
        ):
            try:
                read()
            except _Unknown as error:
                unknown.append(str(error))
        return Match(**values)  # type: ignore[arg-type]

    def describe(self, element: Element, what: str) -> str:
        description = element.findtext("descr") or ""
        return f"<rule> {what}" + (f' "{description}"' if description else "")

    def filter_rule(self, element: Element) -> Rule | None:
        if element.find("disabled") is not None:
            return None
        unknown: list[str] = []
        kind = _KIND.get(element.findtext("type") or "pass")
        floating = element.find("floating") is not None
        if floating and element.find("quick") is None:
            unknown.append("a floating rule without quick (the last such match wins)")
        if floating and (element.findtext("direction") or "any") == "out":
            unknown.append("a floating rule for outgoing packets")
        if element.findtext("gateway"):
            unknown.append("policy routing (gateway) is not analysed")
        if (element.findtext("statetype") or "keep state") not in ("keep state", "keep_state"):
            unknown.append(f"state type {element.findtext('statetype')!r} is not analysed")
        match = self.match(element, unknown)
        what = f"{element.findtext('type') or 'pass'} on {element.findtext('interface') or '?'}"
        return self.rule(
            element, match, Action(kind) if kind else _unknown_action(element), unknown, what
        )

    def rule(
        self, element: Element, match: Match, action: Action, unknown: list[str], what: str
    ) -> Rule:
        line, text = self.line(element), self.describe(element, what)
        if unknown:
            match = replace(match, unknown="; ".join(unknown))
        if unknown or action.kind is ActionKind.UNKNOWN:
            reason = "; ".join(unknown + ([action.detail] if action.detail else []))
            self.unrecognised.append(Unrecognised(line, text, reason, frozenset({"forward"})))
        return Rule(next(self.keys), line, text, match, action, element.findtext("descr") or "")

    def port_forward(self, element: Element, dstnat: Chain, forward: Chain) -> None:
        if element.find("disabled") is not None:
            return
        unknown: list[str] = []
        match = self.match(element, unknown)
        target, local_port = element.findtext("target") or "", element.findtext("local-port")
        try:
            address = IPv4Address(target)
            port = int(local_port) if local_port else None
            action = Action(ActionKind.DNAT, address=address, port=port)
        except ValueError:
            action = Action(ActionKind.UNKNOWN, detail=f"the target {target!r}:{local_port}")
        if element.find("nordr") is not None:
            action = Action(ActionKind.ACCEPT)
        rule = self.rule(
            element,
            match,
            action,
            unknown,
            f"port forward on {element.findtext('interface') or 'wan'} to {target}:{local_port}",
        )
        dstnat.rules.append(rule)
        if (
            element.findtext("associated-rule-id") or ""
        ) == "pass" and action.kind is ActionKind.DNAT:
            # rdr pass: the translated connection is passed without a filter rule.
            passed = Match(
                in_interface=match.in_interface,
                protocols=match.protocols,
                source=match.source,
                destination=Addresses((IPv4Network(f"{address}/32"),)),
                destination_ports=Ports(((port, port),)) if port else match.destination_ports,
                ct_status=frozenset({"dnat"}),
            )
            forward.rules.append(
                Rule(next(self.keys), rule.line, rule.text, passed, Action(ActionKind.ACCEPT))
            )

    def block_private(self, forward: Chain) -> None:
        """``<blockpriv/>`` on an interface: pfSense's "Block private networks" rule, first."""
        for key, (element, names) in self.interfaces.items():
            flag = element.find("blockpriv")
            if flag is not None:
                rule = Rule(
                    next(self.keys),
                    self.line(flag),
                    f"<blockpriv/> on {key}: block private networks and loopback addresses",
                    Match(in_interface=names, source=Addresses(PRIVATE)),
                    Action(ActionKind.DROP),
                )
                forward.rules.insert(1, rule)
            bogons = element.find("blockbogons")
            if bogons is not None:
                self.unrecognised.append(
                    Unrecognised(
                        self.line(bogons),
                        f"<blockbogons/> on {key}",
                        "the bogon list is not known (it holds the documentation ranges "
                        "192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24, not real sources)",
                        frozenset({"forward"}),
                    )
                )

    def outbound_nat(self, srcnat: Chain) -> None:
        """Manual mappings (hybrid, advanced) first, then automatic NAT of the inside subnets
        (automatic, hybrid) to the address of each interface with a gateway or DHCP."""
        mode_element = self.root.find("nat/outbound/mode")
        mode = (mode_element.text if mode_element is not None else None) or "automatic"
        if mode in ("hybrid", "advanced"):
            for element in self.root.iterfind("nat/outbound/rule"):
                if element.find("disabled") is not None:
                    continue
                unknown: list[str] = []
                match = self.match(element, unknown)
                target = element.findtext("target") or ""
                if element.find("nonat") is not None:
                    action = Action(ActionKind.ACCEPT)
                elif not target:
                    action = Action(ActionKind.MASQUERADE)
                else:
                    try:
                        action = Action(ActionKind.SNAT, address=IPv4Address(target))
                    except ValueError:
                        action = Action(ActionKind.UNKNOWN, detail=f"the target {target!r}")
                match = replace(match, in_interface=None, out_interface=match.in_interface)
                srcnat.rules.append(self.rule(element, match, action, unknown, "outbound NAT"))
        if mode not in ("automatic", "hybrid"):
            return
        inside = [
            s
            for k, _ in self.interfaces.items()
            if not _is_outside(self.interfaces[k][0])
            for s in [self.subnet(k)]
            if s is not None
        ]
        for key, (element, names) in self.interfaces.items():
            if not _is_outside(element) or not inside:
                continue
            line = self.line(mode_element) if mode_element is not None else 0
            srcnat.rules.append(
                Rule(
                    next(self.keys),
                    line,
                    f"automatic outbound NAT: {', '.join(map(str, inside))} → the address of {key}",
                    Match(out_interface=names, source=Addresses(tuple(inside))),
                    Action(ActionKind.MASQUERADE),
                )
            )

    def not_read(self) -> None:
        for path in ("OPNsense/Firewall/Filter", "nat/onetoone", "nat/npt"):
            for element in self.root.iterfind(path):
                if len(element):
                    self.unrecognised.append(
                        Unrecognised(
                            self.line(element),
                            f"<{path}>",
                            "not read: only the classic <filter> and <nat> rules are analysed",
                            frozenset({"prerouting", "forward", "postrouting"}),
                        )
                    )


def _is_outside(element: Element) -> bool:
    """An interface with a gateway or a dynamic address: pfSense's automatic NAT targets it."""
    return (
        bool(element.findtext("gateway"))
        or (element.findtext("ipaddr") or "")
        in (
            "dhcp",
            "pppoe",
        )
        or element.tag == "wan"
    )


def _unknown_action(element: Element) -> Action:
    return Action(ActionKind.UNKNOWN, detail=f"the rule type {element.findtext('type')!r}")
