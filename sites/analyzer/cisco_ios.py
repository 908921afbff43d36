"""Cisco IOS / IOS-XE ``show running-config``, mapped onto the netfilter model in the router's
order so the one evaluator answers for it.

IOS checks an interface's inbound access list *before* NAT translates the destination (so an
outside list names the public address): a prerouting filter chain ahead of the destination NAT.
The outbound list of an interface runs after NAT: for the outside interface after the source is
translated (a postrouting filter chain after the source NAT), for the inside one in the forward
chain. A router forwards everything no list refuses, and keeps no state: the replies of a
connection pass the access lists like any packet (``established`` matches TCP packets after the
first). ``ip inspect`` makes replies pass in ways not analysed (an unknown accept for them); the
zone-based firewall is not analysed (an unknown line on every path).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
    DSTNAT_PRIORITY,
    SRCNAT_PRIORITY,
    Action,
    ActionKind,
    Addresses,
    Chain,
    Interfaces,
    Match,
    Ports,
    Rule,
    Ruleset,
    Table,
    Unrecognised,
)

_NAMED_PORTS = {
    "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "www": 80, "pop3": 110,
    "ntp": 123, "snmp": 161, "bgp": 179, "syslog": 514, "isakmp": 500, "non500-isakmp": 4500,
}  # fmt: skip
_ABBREVIATIONS = {
    "gi": "GigabitEthernet", "fa": "FastEthernet", "te": "TenGigabitEthernet",
    "et": "Ethernet", "eth": "Ethernet", "di": "Dialer", "vl": "Vlan", "lo": "Loopback",
}  # fmt: skip
_OPERATORS = ("eq", "lt", "gt", "neq", "range")
_INBOUND_FILTER_PRIORITY = (DSTNAT_PRIORITY * 3) // 2  # tracked, not yet translated
_OUTBOUND_FILTER_PRIORITY = SRCNAT_PRIORITY * 2  # after the source translation
_ALL = frozenset({"prerouting", "forward", "postrouting"})


class _Unknown(ValueError):
    """A part of a line not understood: the message says which."""


def interface_name(name: str) -> str:
    """The full name of an interface written short (``Gi0/0`` → ``GigabitEthernet0/0``)."""
    head = name.rstrip("0123456789/.:")
    full = _ABBREVIATIONS.get(head.lower())
    return full + name[len(head) :] if full else name


def interface_names(full: str) -> Interfaces:
    """An interface under its full name and the short ones a site file may use (``Gi0/0``)."""
    names = [full]
    for short, long in _ABBREVIATIONS.items():
        if full.startswith(long) and full[len(long) :][:1].isdigit():
            rest = full[len(long) :]
            names += [short + rest, short.capitalize() + rest]
    return Interfaces(tuple(dict.fromkeys(names)))


@dataclass
class _Entry:
    sequence: int
    line: int
    text: str
    words: list[str]
    standard: bool


@dataclass
class _Parser:
    lines: list[str]
    ruleset: Ruleset = field(default_factory=lambda: Ruleset("cisco-ios"))
    acls: dict[str, dict[int, _Entry]] = field(default_factory=dict)  # by sequence number
    groups: list[tuple[str, str, str, int, str]] = field(default_factory=list)  # if acl dir
    last_sequence: dict[str, int] = field(default_factory=dict)
    nat_outside: list[str] = field(default_factory=list)
    nat_rules: list[tuple[int, str, list[str]]] = field(default_factory=list)
    inspect: list[tuple[int, str]] = field(default_factory=list)
    zones: list[tuple[int, str]] = field(default_factory=list)
    keys: int = 0

    def unrecognised(self, number: int, text: str, reason: str, hooks: frozenset[str]) -> None:
        self.ruleset.unrecognised.append(Unrecognised(number, text, reason, hooks))

    def read(self) -> None:
        context, name = "", ""
        for number, raw in enumerate(self.lines, start=1):
            text = raw.strip()
            if not text or text.startswith("!"):
                continue
            words = text.split()
            if raw[:1].isspace() and context:
                self.sub_line(context, name, number, text, words)
                continue
            context, name = "", ""
            if words[0] == "interface" and len(words) == 2:
                context, name = "interface", interface_name(words[1])
            elif words[:2] == ["ip", "access-list"] and len(words) == 4:
                if words[2] in ("extended", "standard"):
                    context, name = words[2], words[3]
                    self.acls.setdefault(name, {})
            elif words[0] == "access-list" and len(words) > 2 and words[1].isdigit():
                self.numbered(number, text, words)
            elif words[:4] == ["ip", "nat", "inside", "source"]:
                self.nat_rules.append((number, text, words[4:]))
            elif words[:2] == ["ip", "nat"]:
                self.unrecognised(number, text, "this NAT form is not analysed", _ALL)
            elif words[:2] in (["zone", "security"], ["zone-pair", "security"]):
                self.zones.append((number, text))
            # Everything else (hostname, secrets, routing, services …) leaves the filtering of
            # forwarded IPv4 alone; so do the sub-lines of its block.

    def numbered(self, number: int, text: str, words: list[str]) -> None:
        acl = int(words[1])
        if words[2] == "remark":
            return
        standard = acl < 100 or 1300 <= acl <= 1999
        self.add_entry(words[1], _Entry(0, number, text, words[2:], standard))

    def sub_line(self, context: str, name: str, number: int, text: str, words: list[str]) -> None:
        if context == "interface":
            if words[:2] == ["ip", "access-group"] and len(words) == 4:
                self.groups.append((name, words[2], words[3], number, text))
            elif words[:3] == ["ip", "nat", "outside"]:
                self.nat_outside.append(name)
            elif words[:2] == ["ip", "inspect"]:
                self.inspect.append((number, text))
            elif words[:2] == ["zone-member", "security"]:
                self.zones.append((number, text))
            return
        if words[0] == "remark":
            return
        sequence = 0
        if words[0].isdigit():
            sequence, words = int(words[0]), words[1:]
        self.add_entry(name, _Entry(sequence, number, text, words, context == "standard"))

    def add_entry(self, acl: str, entry: _Entry) -> None:
        """An entry at its sequence number (replacing one there), or 10 after the last one."""
        entries = self.acls.setdefault(acl, {})
        if not entry.sequence:
            entry.sequence = self.last_sequence.get(acl, 0) + 10
        entries[entry.sequence] = entry
        self.last_sequence[acl] = max(self.last_sequence.get(acl, 0), entry.sequence)

    # -- building --------------------------------------------------------------------------

    def rule(self, number: int, text: str, match: Match, action: Action) -> Rule:
        self.keys += 1
        return Rule(self.keys, number, text, match, action)

    def entry_rules(self, acl: str, base: Match) -> list[Rule]:
        rules = []
        entries = self.acls.get(acl, {})
        for entry in (entries[sequence] for sequence in sorted(entries)):
            try:
                match, kind = self.entry_match(entry)
                action = Action(kind)
            except (_Unknown, ValueError, LookupError) as error:
                reason = str(error) or "not understood"
                self.unrecognised(entry.line, entry.text, reason, _ALL)
                match, action = Match(unknown=reason), Action(ActionKind.UNKNOWN, detail=reason)
            match = replace(match, in_interface=base.in_interface, out_interface=base.out_interface)
            rules.append(self.rule(entry.line, entry.text, match, action))
        return rules

    def entry_match(self, entry: _Entry) -> tuple[Match, ActionKind]:
        verb, words = entry.words[0], entry.words[1:]
        if verb not in ("permit", "deny"):
            raise _Unknown(f"{verb} entries are not analysed")
        kind = ActionKind.ACCEPT if verb == "permit" else ActionKind.DROP
        if entry.standard:
            source, rest = _address(words)
            if rest and rest != ["log"]:
                raise _Unknown(" ".join(rest))
            return Match(source=source), kind
        protocols = None if words[0] == "ip" else _protocols(words[0])
        source, words = _address(words[1:])
        source_ports, words = _ports(words)
        destination, words = _address(words)
        destination_ports, words = _ports(words)
        ct_state = None
        unknown = []
        for word in words:
            if word == "established" and protocols == frozenset({"tcp"}):
                ct_state = frozenset({"established"})
            elif word not in ("log", "log-input"):
                unknown.append(word)
        return (
            Match(
                source=source,
                destination=destination,
                protocols=protocols,
                source_ports=source_ports,
                destination_ports=destination_ports,
                ct_state=ct_state,
                unknown=" ".join(unknown),
            ),
            kind,
        )

    def build(self) -> Ruleset:
        table = Table("ip", "ios")
        chains = {
            "inbound": Chain("inbound", hook="prerouting", priority=_INBOUND_FILTER_PRIORITY),
            "prerouting": Chain(
                "prerouting", hook="prerouting", type="nat", priority=DSTNAT_PRIORITY
            ),
            "forward": Chain("forward", hook="forward"),
            "postrouting": Chain(
                "postrouting", hook="postrouting", type="nat", priority=SRCNAT_PRIORITY
            ),
            "outbound": Chain("outbound", hook="postrouting", priority=_OUTBOUND_FILTER_PRIORITY),
        }
        table.chains.update(chains)
        self.build_state(chains)
        self.build_nat(chains)
        for interface, acl, direction, number, text in self.groups:
            names = interface_names(interface)
            if direction == "in":
                chain, base = chains["inbound"], Match(in_interface=names)
            elif interface in self.nat_outside:
                chain, base = chains["outbound"], Match(out_interface=names)
            else:
                chain, base = chains["forward"], Match(out_interface=names)
            if acl not in self.acls:
                continue  # IOS: an access group naming no list filters nothing
            chain.rules.extend(self.entry_rules(acl, base))
            chain.rules.append(self.rule(number, text, base, Action(ActionKind.DROP)))
        self.ruleset.tables.append(table)
        return self.ruleset

    def build_state(self, chains: dict[str, Chain]) -> None:
        for number, text in self.zones:
            reason = "the zone-based firewall is not analysed"
            self.unrecognised(number, text, reason, _ALL)
            rule = self.rule(
                number, text, Match(unknown=reason), Action(ActionKind.UNKNOWN, detail=reason)
            )
            chains["forward"].rules.append(rule)
        for number, text in self.inspect:
            reason = "ip inspect lets replies through; which protocols is not analysed"
            self.unrecognised(number, text, reason, _ALL)
            replies = Match(ct_state=frozenset({"established"}), unknown=reason)
            for name in ("inbound", "outbound"):
                chains[name].rules.insert(
                    0, self.rule(number, text, replies, Action(ActionKind.ACCEPT))
                )

    def build_nat(self, chains: dict[str, Chain]) -> None:
        outside = Interfaces(tuple(n for i in self.nat_outside for n in interface_names(i).names))
        ordered = sorted(self.nat_rules, key=lambda n: n[2][0] != "static")
        for number, text, words in ordered:
            try:
                if words[0] == "static":
                    self.static_nat(chains, outside, number, text, words[1:])
                elif words[0] == "list" and len(words) >= 4:
                    self.dynamic_nat(chains, words[1:])
                else:
                    raise _Unknown("this NAT form (pools, route maps) is not analysed")
            except (_Unknown, ValueError, LookupError) as error:
                reason = str(error) or "not understood"
                self.unrecognised(number, text, reason, _ALL)
                rule = self.rule(
                    number, text, Match(unknown=reason), Action(ActionKind.UNKNOWN, detail=reason)
                )
                chains["postrouting"].rules.append(rule)

    def static_nat(
        self,
        chains: dict[str, Chain],
        outside: Interfaces,
        number: int,
        text: str,
        words: list[str],
    ) -> None:
        protocols: frozenset[str] | None = None
        words = [w for w in words if w not in ("extendable", "no-alias", "no-payload")]
        if {"route-map", "redundancy", "vrf", "network"} & set(words):
            raise _Unknown("static NAT with route maps, redundancy, VRFs or networks")
        if words[0] in ("tcp", "udp"):
            protocols, words = frozenset({words[0]}), words[1:]
            local, local_port = IPv4Address(words[0]), _port(words[1])
            global_words, global_port = words[2:-1], _port(words[-1])
        else:
            local, local_port, global_words, global_port = (
                IPv4Address(words[0]),
                None,
                words[1:],
                None,
            )
        interface = global_words[0] == "interface"
        address = None if interface else IPv4Address(global_words[0])
        inbound = Match(
            in_interface=outside,
            destination=None if interface else Addresses((IPv4Network(address),)),
            local_destination=True if interface else None,
            protocols=protocols,
            destination_ports=Ports(((global_port, global_port),)) if global_port else None,
        )
        dnat = Action(ActionKind.DNAT, address=local, port=local_port)
        chains["prerouting"].rules.append(self.rule(number, text, inbound, dnat))
        outbound = Match(
            out_interface=outside,
            source=Addresses((IPv4Network(local),)),
            protocols=protocols,
            source_ports=Ports(((local_port, local_port),)) if local_port else None,
        )
        snat = (
            Action(ActionKind.MASQUERADE, port=global_port)
            if interface
            else Action(ActionKind.SNAT, address=address, port=global_port)
        )
        chains["postrouting"].rules.append(self.rule(number, text, outbound, snat))

    def dynamic_nat(self, chains: dict[str, Chain], words: list[str]) -> None:
        acl, rest = words[0], words[1:]
        if rest[0] != "interface" or rest[2:] != ["overload"]:
            raise _Unknown("only `list ACL interface IF overload` is analysed")
        out = interface_names(interface_name(rest[1]))
        # The list's permits are translated, its denies and the rest are not.
        for rule in self.entry_rules(acl, Match(out_interface=out)):
            if rule.action.kind is ActionKind.ACCEPT:
                rule = Rule(
                    rule.key, rule.line, rule.text, rule.match, Action(ActionKind.MASQUERADE)
                )
            chains["postrouting"].rules.append(rule)


def _protocols(word: str) -> frozenset[str]:
    if word in ("tcp", "udp", "icmp", "esp", "ahp", "gre"):
        return frozenset({"ah" if word == "ahp" else word})
    if word in ("6", "17"):
        return frozenset({"tcp" if word == "6" else "udp"})
    raise _Unknown(f"the protocol {word} is not analysed")


def _address(words: list[str]) -> tuple[Addresses | None, list[str]]:
    head = words[0]
    if head == "any":
        return None, words[1:]
    if head == "host":
        return Addresses((IPv4Network(words[1]),)), words[2:]
    if head in ("object-group", "addrgroup"):
        raise _Unknown("object groups are not analysed")
    if len(words) > 1 and words[1].count(".") == 3:
        try:
            return Addresses((IPv4Network(f"{head}/{words[1]}"),)), words[2:]
        except ValueError:
            raise _Unknown(f"the wildcard {words[1]} is not contiguous") from None
    return Addresses((IPv4Network(head),)), words[1:]


def _port(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word in _NAMED_PORTS:
        return _NAMED_PORTS[word]
    raise _Unknown(f"the port name {word} is not known")


def _ports(words: list[str]) -> tuple[Ports | None, list[str]]:
    if not words or words[0] not in _OPERATORS:
        return None, words
    operator, words = words[0], words[1:]
    if operator == "range":
        return Ports(((_port(words[0]), _port(words[1])),)), words[2:]
    if operator == "eq":
        ports = []
        while words and (words[0].isdigit() or words[0] in _NAMED_PORTS):
            ports.append(_port(words.pop(0)))
        return Ports(tuple((p, p) for p in ports)), words
    port = _port(words[0])
    ranges = {
        "lt": [(1, port - 1)],
        "gt": [(port + 1, 65535)],
        "neq": [(1, port - 1), (port + 1, 65535)],
    }[operator]
    return Ports(tuple(ranges)), words[1:]


def parse_cisco_ios(data: str | bytes) -> Ruleset:
    """The ruleset of an IOS/IOS-XE ``show running-config`` (or pasted CLI); raises
    ``ConfigError`` for input the limits refuse."""
    parser = _Parser(config_lines(data))
    parser.read()
    return parser.build()
