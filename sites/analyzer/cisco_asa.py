"""Cisco ASA (8.3 and later) ``show running-config``, mapped onto the netfilter model so the one
evaluator answers for it.

The ASA's order maps onto the kernel's: object NAT's static translations are undone before the
access lists run (since 8.3 an inbound ACL names the *real* address: the forward hook after the
prerouting DNAT); the source is translated on the way out (postrouting). In the forward chain, a
connection's return traffic is always allowed (the ASA is stateful); an interface with an
``access-group … in`` runs that list, ending in its implicit deny (cited as the ``access-group``
line); an interface without one lets traffic go to lower security levels only (cited as its
``security-level`` line). Object NAT runs static rules before dynamic ones, the most specific
first. CLI as pasted is read too: ``access-list NAME line N …`` inserts at line N,
``configure terminal``, ``end`` and ``write memory`` change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
    ADDRESS,
    DSTNAT_PRIORITY,
    GROUP,
    SRCNAT_PRIORITY,
    Action,
    ActionKind,
    Addresses,
    Chain,
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

_NAMED_PORTS = {
    "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "www": 80, "http": 80,
    "pop3": 110, "ntp": 123, "imap4": 143, "snmp": 161, "ldap": 389, "https": 443,
    "syslog": 514, "sqlnet": 1521, "rdp": 3389,
}  # fmt: skip
_OPERATORS = ("eq", "lt", "gt", "neq", "range")
_IGNORED = ("configure terminal", "end", "write memory", "exit", ": ", "!", "ASA Version")
_FORWARD = frozenset({"forward"})
_NAT_HOOKS = frozenset({"prerouting", "postrouting"})
_STATEFUL_TEXT = "(ASA: the return traffic of an allowed connection is always allowed)"


class _Unknown(ValueError):
    """A part of a line not understood: the message says which."""


@dataclass
class _Interface:
    physical: str
    nameif: str = ""
    level: int | None = None
    level_line: int = 0
    level_text: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.nameif, self.physical) if n)


@dataclass
class _Entry:
    """An ACE (or a remark, which holds a line number too) in its access list."""

    line: int
    text: str
    tokens: list[str]


@dataclass
class _ObjectNat:
    line: int
    text: str
    object_name: str
    real_if: str
    mapped_if: str
    kind: str  # "static" or "dynamic"
    mapped: list[str]  # the words after the kind


@dataclass
class _Parser:
    lines: list[str]
    ruleset: Ruleset = field(default_factory=lambda: Ruleset("cisco-asa"))
    interfaces: list[_Interface] = field(default_factory=list)
    networks: dict[str, list[IPv4Network] | None] = field(default_factory=dict)
    services: dict[str, tuple[frozenset[str] | None, list[tuple[int, int]]]] = field(
        default_factory=dict
    )
    acls: dict[str, list[_Entry]] = field(default_factory=dict)
    groups: list[tuple[str, str, int, str]] = field(default_factory=list)  # acl, if, line, text
    nats: list[_ObjectNat] = field(default_factory=list)
    twice_nats: list[tuple[int, str, list[str]]] = field(default_factory=list)
    same_security: bool = False
    keys: int = 0
    # Where each network object and group is defined: name -> (kind, line, text).
    defined: dict[str, tuple[str, int, str]] = field(default_factory=dict)

    def unrecognised(self, number: int, text: str, reason: str, hooks: frozenset[str]) -> None:
        self.ruleset.unrecognised.append(Unrecognised(number, text, reason, hooks))

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> None:
        context: tuple[str, str] = ("", "")
        for number, raw in enumerate(self.lines, start=1):
            text = raw.rstrip()
            stripped = text.strip()
            if not stripped or stripped.startswith(_IGNORED) or stripped == ":":
                continue
            words = stripped.split()
            if raw[:1].isspace() and context[0]:
                self.sub_line(context, number, stripped, words)
                continue
            context = ("", "")
            head = words[0]
            if head == "interface" and len(words) == 2:
                self.interfaces.append(_Interface(words[1]))
                context = ("interface", words[1])
            elif head == "object" and len(words) == 3 and words[1] in ("network", "service"):
                context = (f"object {words[1]}", words[2])
                if words[1] == "network":
                    self.networks.setdefault(words[2], [])
                    self.defined.setdefault(words[2], (ADDRESS, number, stripped))
            elif head == "object-group" and len(words) >= 3 and words[1] in ("network", "service"):
                context = (f"group {words[1]}", words[2])
                if words[1] == "network":
                    self.networks.setdefault(words[2], [])
                    self.defined.setdefault(words[2], (GROUP, number, stripped))
                else:
                    protocols = _protocols(words[3]) if len(words) > 3 else None
                    self.services[words[2]] = (protocols, [])
            elif head == "access-list" and len(words) >= 3:
                self.access_list(number, stripped, words)
            elif head == "access-group" and len(words) == 5 and words[2:4] == ["in", "interface"]:
                self.groups.append((words[1], words[4], number, stripped))
            elif head == "access-group":
                self.unrecognised(
                    number,
                    stripped,
                    "only `access-group NAME in interface IF` is analysed",
                    _FORWARD,
                )
            elif stripped == "same-security-traffic permit inter-interface":
                self.same_security = True
            elif head == "nat":
                self.twice_nats.append((number, stripped, words))
                self.unrecognised(
                    number, stripped, "twice NAT (manual NAT) is not analysed", _NAT_HOOKS
                )
            # Every other command (hostname, passwords, logging, routes, inspection …) leaves
            # the filtering of forwarded IPv4 alone; so do the sub-lines of its block.

    def sub_line(self, context: tuple[str, str], number: int, text: str, words: list[str]) -> None:
        kind, name = context
        try:
            if kind == "interface":
                self.interface_line(number, text, words)
            elif kind in ("object network", "group network"):
                if words[0] == "nat":
                    self.object_nat(number, text, name, words, kind)
                elif words[0] != "description":
                    found = self.network_words(words[1:] if kind == "group network" else words)
                    known = self.networks.get(name)
                    if known is not None:
                        known.extend(found)
            elif kind == "group service":
                self.service_line(name, words)
            elif kind == "object service" and words[0] == "service":
                protocols = _protocols(words[1])
                ports = _ports(words[words.index("eq" if "eq" in words else "range") :])
                if "source" in words:
                    raise _Unknown("a service object with a source port")
                self.services[name] = (protocols, ports)
        except (_Unknown, ValueError, LookupError) as error:
            if kind in ("object network", "group network"):
                self.networks[name] = None
            hooks = frozenset() if kind == "interface" else _FORWARD | _NAT_HOOKS
            self.unrecognised(number, text, str(error) or "not understood", hooks)

    def objects(self) -> list[NamedObject]:
        """The network objects (``object network``) and groups (``object-group network``) whose
        addresses are understood."""
        return [
            NamedObject(kind, name, line, text, address_value(networks))
            for name, (kind, line, text) in self.defined.items()
            if (networks := self.networks.get(name))
        ]

    def interface_line(self, number: int, text: str, words: list[str]) -> None:
        interface = self.interfaces[-1]
        if words[0] == "nameif" and len(words) == 2:
            interface.nameif = words[1]
        elif words[0] == "security-level" and len(words) == 2:
            interface.level, interface.level_line, interface.level_text = (
                int(words[1]),
                number,
                text,
            )

    def service_line(self, name: str, words: list[str]) -> None:
        protocols, ports = self.services[name]
        if words[0] == "port-object":
            ports.extend(_ports(words[1:]))
        elif words[0] == "service-object" and len(words) >= 2:
            rest = [w for w in words[2:] if w != "destination"]
            self.services[name] = (
                (protocols or frozenset()) | _protocols(words[1]),
                ports + (_ports(rest) if rest else [(1, 65535)]),
            )
        elif words[0] == "group-object":
            other = self.services.get(words[1])
            if other is None:
                raise _Unknown(f"the service group {words[1]} is not defined above")
            self.services[name] = (protocols, ports + other[1])
        elif words[0] != "description":
            raise _Unknown("not a service group entry analysed here")

    def network_words(self, words: list[str]) -> list[IPv4Network]:
        """``host A``, ``subnet A M``, ``range A B``, ``A M``, ``object N``, ``group-object N``."""
        head = words[0]
        if head == "host":
            return [IPv4Network(words[1])]
        if head == "subnet":
            return [IPv4Network(f"{words[1]}/{words[2]}")]
        if head == "range":
            return list(summarize_address_range(IPv4Address(words[1]), IPv4Address(words[2])))
        if head in ("object", "group-object"):
            found = self.networks.get(words[1])
            if found is None:
                raise _Unknown(f"the object {words[1]} is not defined above or not understood")
            return list(found)
        if head == "fqdn":
            raise _Unknown("fqdn objects are not analysed")
        return [IPv4Network(f"{words[0]}/{words[1]}")]

    def access_list(self, number: int, text: str, words: list[str]) -> None:
        name, rest = words[1], words[2:]
        entries = self.acls.setdefault(name, [])
        position = len(entries)
        if rest[0] == "line" and len(rest) > 1 and rest[1].isdigit():
            position = min(max(int(rest[1]) - 1, 0), len(entries))
            rest = rest[2:]
        if rest and rest[0] in ("remark", "extended"):
            entries.insert(position, _Entry(number, text, rest))
        elif rest and rest[0] in ("standard", "webtype", "ethertype"):
            return  # not for forwarded traffic's access-group here
        else:
            entries.insert(position, _Entry(number, text, ["extended", *rest]))

    def object_nat(self, number: int, text: str, name: str, words: list[str], kind: str) -> None:
        if kind != "object network" or len(words) < 3 or not words[1].startswith("("):
            raise _Unknown("a NAT rule of this form is not analysed")
        real_if, _, mapped_if = words[1].strip("()").partition(",")
        if words[2] not in ("static", "dynamic"):
            raise _Unknown(f"{words[2]} NAT is not analysed")
        self.nats.append(_ObjectNat(number, text, name, real_if, mapped_if, words[2], words[3:]))

    # -- building the ruleset ------------------------------------------------------------------

    def rule(self, number: int, text: str, match: Match, action: Action) -> Rule:
        self.keys += 1
        return Rule(self.keys, number, text, match, action)

    def interface_names(self, name: str) -> Interfaces | None:
        if name == "any":
            return None
        for interface in self.interfaces:
            if name in interface.names:
                return Interfaces(interface.names)
        return Interfaces((name,))

    def build(self) -> Ruleset:
        table = Table("ip", "asa")
        table.chains["prerouting"] = Chain(
            "prerouting", hook="prerouting", type="nat", priority=DSTNAT_PRIORITY
        )
        table.chains["postrouting"] = Chain(
            "postrouting", hook="postrouting", type="nat", priority=SRCNAT_PRIORITY
        )
        forward = Chain("forward", hook="forward", policy="drop")
        table.chains["forward"] = forward
        self.build_nat(table)
        self.twice_nat_rules(table)
        stateful = Match(ct_state=frozenset({"established", "related"}))
        forward.rules.append(self.rule(0, _STATEFUL_TEXT, stateful, Action(ActionKind.ACCEPT)))
        bound = self.build_access_groups(forward)
        self.build_security_levels(forward, bound)
        self.ruleset.tables.append(table)
        return self.ruleset

    def build_access_groups(self, forward: Chain) -> set[str]:
        bound: set[str] = set()
        for acl, interface_name, number, text in self.groups:
            interfaces = self.interface_names(interface_name)
            if interfaces is None:
                continue
            bound.update(interfaces.names)
            for entry in self.acls.get(acl, []):
                if entry.tokens[0] == "remark":
                    continue
                rule = self.ace(entry, interfaces)
                if rule is not None:
                    forward.rules.append(rule)
            implicit_deny = Match(in_interface=interfaces)
            forward.rules.append(self.rule(number, text, implicit_deny, Action(ActionKind.DROP)))
        return bound

    def build_security_levels(self, forward: Chain, bound: set[str]) -> None:
        known = [(i, i.level) for i in self.interfaces if i.nameif and i.level is not None]
        for source, source_level in known:
            if set(source.names) & bound:
                continue
            for target, target_level in known:
                if target is source:
                    continue
                higher = source_level > target_level
                equal = source_level == target_level and self.same_security
                match = Match(
                    in_interface=Interfaces(source.names), out_interface=Interfaces(target.names)
                )
                kind = ActionKind.ACCEPT if higher or equal else ActionKind.DROP
                forward.rules.append(
                    self.rule(source.level_line, source.level_text, match, Action(kind))
                )
        unknown = Match(unknown="the security levels of an interface not in the configuration")
        text = "(ASA: an interface whose nameif and security-level are not in the configuration)"
        forward.rules.append(self.rule(0, text, unknown, Action(ActionKind.ACCEPT)))

    def ace(self, entry: _Entry, interfaces: Interfaces) -> Rule | None:
        words = entry.tokens[1:]
        try:
            if "inactive" in words:
                return None
            match, action = self.ace_match(words)
        except (_Unknown, ValueError, LookupError) as error:
            reason = str(error) or "not understood"
            self.unrecognised(entry.line, entry.text, reason, _FORWARD)
            match, action = Match(unknown=reason), Action(ActionKind.UNKNOWN, detail=reason)
        match = Match(**{**match.__dict__, "in_interface": interfaces})
        return self.rule(entry.line, entry.text, match, action)

    def ace_match(self, words: list[str]) -> tuple[Match, Action]:
        verb, words = words[0], words[1:]
        if verb not in ("permit", "deny"):
            raise _Unknown(f"the action {verb} is not analysed")
        action = Action(ActionKind.ACCEPT if verb == "permit" else ActionKind.DROP)
        protocols, ports, words = self.ace_protocol(words)
        source, words = self.ace_address(words)
        source_ports, words = self.ace_ports(words, protocols)
        destination, words = self.ace_address(words)
        destination_ports, words = self.ace_ports(words, protocols)
        if ports is not None:
            destination_ports = ports
        unknown = "; ".join(a for a in (source, destination) if isinstance(a, str) and a != "any6")
        while words:
            if words[0] == "log":
                words = words[1:]
                while words and (
                    words[0].isdigit() or words[0] in ("interval", "disable", "default")
                ):
                    words = words[1:]
            else:
                unknown = "; ".join(filter(None, (unknown, " ".join(words))))
                break
        ipv6_only = source == "any6" or destination == "any6"
        return (
            Match(
                source=None if isinstance(source, str) else source,
                destination=None if isinstance(destination, str) else destination,
                protocols=protocols,
                source_ports=source_ports,
                destination_ports=destination_ports,
                ipv6_only=ipv6_only,
                unknown=unknown,
            ),
            action,
        )

    def ace_protocol(
        self, words: list[str]
    ) -> tuple[frozenset[str] | None, Ports | None, list[str]]:
        if words[0] in ("object", "object-group") and words[1] in self.services:
            protocols, ranges = self.services[words[1]]
            return protocols, Ports(tuple(ranges)) if ranges else None, words[2:]
        if words[0] in ("ip", "0"):
            return None, None, words[1:]
        return _protocols(words[0]), None, words[1:]

    def ace_address(self, words: list[str]) -> tuple[Addresses | str | None, list[str]]:
        head = words[0]
        if head in ("any", "any4"):
            return None, words[1:]
        if head == "any6":
            return "any6", words[1:]
        if head == "host":
            return Addresses((IPv4Network(words[1]),)), words[2:]
        if head in ("object", "object-group"):
            found = self.networks.get(words[1])
            if found is None:
                return f"the object {words[1]} (not defined, or not understood)", words[2:]
            return Addresses(tuple(found)), words[2:]
        if head == "interface":
            raise _Unknown("an interface address in an access list is not analysed")
        return Addresses((IPv4Network(f"{words[0]}/{words[1]}"),)), words[2:]

    def ace_ports(
        self, words: list[str], protocols: frozenset[str] | None
    ) -> tuple[Ports | None, list[str]]:
        if not words:
            return None, words
        if words[0] in _OPERATORS:
            count = 3 if words[0] == "range" else 2
            return Ports(tuple(_ports(words[:count]))), words[count:]
        if words[0] == "object-group" and words[1] in self.services:
            return Ports(tuple(self.services[words[1]][1])), words[2:]
        return None, words

    def build_nat(self, table: Table) -> None:
        statics = [n for n in self.nats if n.kind == "static"]
        dynamics = sorted(
            (n for n in self.nats if n.kind == "dynamic"),
            key=lambda n: (
                -max((net.prefixlen for net in self.networks.get(n.object_name) or []), default=0)
            ),
        )
        for nat in statics + dynamics:
            try:
                self.nat_rules(table, nat)
            except (_Unknown, ValueError, LookupError) as error:
                reason = str(error) or "not understood"
                self.unrecognised(nat.line, nat.text, reason, _NAT_HOOKS)
                unknown = Match(unknown=reason)
                action = Action(ActionKind.UNKNOWN, detail=reason)
                chain = "prerouting" if nat.kind == "static" else "postrouting"
                table.chains[chain].rules.append(self.rule(nat.line, nat.text, unknown, action))

    def twice_nat_rules(self, table: Table) -> None:
        """Twice NAT runs before object NAT: not analysed, it makes a verdict unknown where its
        source (and, for static, its mapped source) could match."""
        reason = "twice NAT (manual NAT) is not analysed"
        action = Action(ActionKind.UNKNOWN, detail=reason)
        for number, text, words in reversed(self.twice_nats):
            real = mapped = None
            if len(words) >= 6 and words[2] == "source":
                real, mapped = self.networks.get(words[4]), self.networks.get(words[5])
            source = Match(source=Addresses(tuple(real)) if real else None, unknown=reason)
            destination = Match(
                destination=Addresses(tuple(mapped)) if mapped else None, unknown=reason
            )
            table.chains["postrouting"].rules.insert(0, self.rule(number, text, source, action))
            if words[3:4] != ["dynamic"]:
                rule = self.rule(number, text, destination, action)
                table.chains["prerouting"].rules.insert(0, rule)

    def nat_rules(self, table: Table, nat: _ObjectNat) -> None:
        real = self.networks.get(nat.object_name)
        if not real:
            raise _Unknown(f"the object {nat.object_name} has no address understood")
        mapped_if = self.interface_names(nat.mapped_if)
        words = nat.mapped
        mapped_interface = words[0] == "interface"
        mapped_address: IPv4Address | None = None
        if not mapped_interface:
            mapped = self.networks.get(words[0]) or [IPv4Network(words[0])]
            mapped_address = mapped[0].network_address
        extra = words[1:]
        if nat.kind == "dynamic":
            if extra:
                raise _Unknown("dynamic NAT options are not analysed")
            action = (
                Action(ActionKind.MASQUERADE)
                if mapped_interface
                else Action(ActionKind.SNAT, address=mapped_address)
            )
            match = Match(out_interface=mapped_if, source=Addresses(tuple(real)))
            table.chains["postrouting"].rules.append(self.rule(nat.line, nat.text, match, action))
            return
        if len(real) != 1 or real[0].num_addresses != 1:
            raise _Unknown("static NAT of more than one address is not analysed")
        host = real[0].network_address
        protocols: frozenset[str] | None = None
        real_port = mapped_port = None
        if extra:
            if extra[0] != "service" or len(extra) != 4:
                raise _Unknown("static NAT options are not analysed")
            protocols = _protocols(extra[1])
            real_port, mapped_port = _port(extra[2]), _port(extra[3])
        inbound = Match(
            in_interface=mapped_if,
            destination=None if mapped_interface else Addresses((IPv4Network(mapped_address),)),
            local_destination=True if mapped_interface else None,
            protocols=protocols,
            destination_ports=Ports(((mapped_port, mapped_port),)) if mapped_port else None,
        )
        dnat = Action(ActionKind.DNAT, address=host, port=real_port)
        table.chains["prerouting"].rules.append(self.rule(nat.line, nat.text, inbound, dnat))
        outbound = Match(
            out_interface=mapped_if,
            source=Addresses((real[0],)),
            protocols=protocols,
            source_ports=Ports(((real_port, real_port),)) if real_port else None,
        )
        snat = (
            Action(ActionKind.MASQUERADE, port=mapped_port)
            if mapped_interface
            else Action(ActionKind.SNAT, address=mapped_address, port=mapped_port)
        )
        table.chains["postrouting"].rules.append(self.rule(nat.line, nat.text, outbound, snat))


def _protocols(word: str) -> frozenset[str]:
    if word == "tcp-udp":
        return frozenset({"tcp", "udp"})
    if word in ("tcp", "udp", "icmp", "esp", "ah", "gre", "sctp"):
        return frozenset({word})
    if word in ("6", "17"):
        return frozenset({"tcp" if word == "6" else "udp"})
    raise _Unknown(f"the protocol {word} is not analysed")


def _port(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word in _NAMED_PORTS:
        return _NAMED_PORTS[word]
    raise _Unknown(f"the port name {word} is not known")


def _ports(words: list[str]) -> list[tuple[int, int]]:
    operator = words[0]
    if operator == "range":
        return [(_port(words[1]), _port(words[2]))]
    port = _port(words[1])
    if operator == "eq":
        return [(port, port)]
    if operator == "lt":
        return [(1, port - 1)]
    if operator == "gt":
        return [(port + 1, 65535)]
    if operator == "neq":
        return [(1, port - 1), (port + 1, 65535)]
    raise _Unknown(f"the port operator {operator} is not analysed")


def parse_cisco_asa(data: str | bytes) -> Ruleset:
    """The ruleset of an ASA ``show running-config`` (or pasted CLI); raises ``ConfigError``
    for input the limits refuse."""
    parser = _Parser(config_lines(data))
    parser.read()
    ruleset = parser.build()
    ruleset.objects = parser.objects()
    return ruleset
