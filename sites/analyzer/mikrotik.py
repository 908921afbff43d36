"""MikroTik RouterOS 7 ``/export`` into the netfilter-shaped model.

RouterOS's packet flow is netfilter's: ``dstnat`` at prerouting, the ``forward`` filter, then
``srcnat`` at postrouting, with ``raw`` before connection tracking; chains without rules accept.
The export is read in two passes: first the sections (``/ip firewall address-list``,
``/interface list member``, filter, nat, raw), then each rule's lists and interface lists are
resolved, so the order of sections does not matter and a pasted block can simply be appended.

``place-before=N`` puts a rule before the Nth rule of its chain (the numbering of ``print where
chain=…``); ``place-before=[find where comment="…"]`` before the rule with that comment, and
``place-before=[:pick [/ip firewall filter find where chain=… dynamic=no] 0]`` (the portal's instructions: above the
first static rule, since a dynamic FastTrack rule may hold the top) at the top, as an export lists
no dynamic rules. ``action=fasttrack-connection`` is read
as an accept: the connections it marks bypass the rest of the filter. An interface list stands
for its members and its own name, and an interface also for the lists it is a member of, so a
site that names the list (the default ``LAN``/``WAN``) matches rules naming the interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
    CONNTRACK_PRIORITY,
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

RAW_PRIORITY = CONNTRACK_PRIORITY - 100
# (table, chain) -> (hook, type, priority) for RouterOS's built-in chains.
BUILTIN_CHAINS = {
    ("filter", "forward"): ("forward", "filter", 0),
    ("filter", "input"): ("input", "filter", 0),
    ("filter", "output"): ("output", "filter", 0),
    ("nat", "dstnat"): ("prerouting", "nat", DSTNAT_PRIORITY),
    ("nat", "srcnat"): ("postrouting", "nat", SRCNAT_PRIORITY),
    ("raw", "prerouting"): ("prerouting", "filter", RAW_PRIORITY),
    ("raw", "output"): ("output", "filter", RAW_PRIORITY),
}
SECTIONS = {
    "/ip firewall filter": "filter",
    "/ip firewall nat": "nat",
    "/ip firewall raw": "raw",
    "/ip firewall address-list": "address-list",
    "/interface list member": "list-member",
    "/ip firewall mangle": "mangle",
}
COMMANDS = ("add", "set", "remove", "print", "move", "enable", "disable", "export", "edit")
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp"}
NAT_STATES = {"dstnat": "dnat", "srcnat": "snat"}
CONNECTION_STATES = frozenset({"established", "related", "new", "invalid", "untracked"})
IGNORED_KEYS = frozenset(
    {"chain", "action", "comment", "disabled", "log", "log-prefix", "place-before", "hw-offload"}
)
# Parameters of an action, not of the match.
ACTION_KEYS = frozenset(
    {
        "jump-target",
        "to-addresses",
        "to-ports",
        "reject-with",
        "address-list",
        "address-list-timeout",
    }
)
_ARGUMENT = re.compile(r'([a-z0-9-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_CONTINUE_ACTIONS = frozenset(
    {"passthrough", "log", "add-src-to-address-list", "add-dst-to-address-list"}
)


@dataclass
class _Command:
    line: int
    text: str
    section: str
    arguments: dict[str, str]


@dataclass
class _Export:
    rules: list[_Command] = field(default_factory=list)
    address_lists: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    interface_lists: dict[str, set[str]] = field(default_factory=dict)
    unrecognised: list[Unrecognised] = field(default_factory=list)


def parse_mikrotik(data: str | bytes) -> Ruleset:
    """The ruleset of a RouterOS ``/export`` (or ``ConfigError`` if it is not one)."""
    export = _read(config_lines(data))
    if not export.rules and not export.address_lists and not export.interface_lists:
        raise ConfigError(
            "no /ip firewall section found: this is not a RouterOS /export (paste the output of "
            "/export, or of /ip firewall export)"
        )
    return _Builder(export).build()


def _logical_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Lines with their ``\\`` continuations joined, each numbered by its first physical line."""
    joined: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        if not current:
            start = number
        piece = raw.strip() if not current else raw.lstrip()
        if piece.rstrip().endswith("\\"):
            current.append(piece.rstrip()[:-1])  # the export breaks anywhere, even in a word
            continue
        current.append(piece.rstrip())
        joined.append((start, "".join(current).strip()))
        current = []
    if current:
        joined.append((start, "".join(current).strip()))
    return joined


def _read(lines: list[str]) -> _Export:
    export = _Export()
    section = ""
    for number, text in _logical_lines(lines):
        if not text or text.startswith("#"):
            continue
        body = text
        if text.startswith("/"):
            words = text.split()
            path = [w for w in words if not w.startswith("[")]
            cut = next((i for i, w in enumerate(path) if w in COMMANDS), len(path))
            section = " ".join(path[:cut])
            body = " ".join(path[cut:])
            if not body:
                continue
        kind = SECTIONS.get(section)
        if kind is None:
            continue  # interfaces, addresses, services …: nothing that filters forwarded IPv4
        command, _, rest = body.partition(" ")
        if command == "print" or command == "export":
            continue
        if kind == "mangle":
            export.unrecognised.append(
                Unrecognised(number, text, "mangle is not analysed: it marks, it cannot drop")
            )
            continue
        if command != "add":
            hooks = frozenset() if kind in ("address-list", "list-member") else _ALL_PATH
            export.unrecognised.append(
                Unrecognised(number, text, f"'{command}' is not analysed (only add)", hooks)
            )
            continue
        rest, commands = _bracketed(rest)
        arguments = {k: _unquote(v) for k, v in _ARGUMENT.findall(rest)}
        arguments.update(commands)
        if arguments.get("disabled") == "yes":
            continue
        if kind == "address-list":
            export.address_lists.setdefault(arguments.get("list", ""), []).append(
                (number, arguments.get("address", ""))
            )
        elif kind == "list-member":
            export.interface_lists.setdefault(arguments.get("list", ""), set()).add(
                arguments.get("interface", "")
            )
        else:
            export.rules.append(_Command(number, text, kind, arguments))
    return export


_ALL_PATH = frozenset({"prerouting", "forward", "postrouting"})
_FIND_COMMENT = re.compile(r'comment="((?:[^"\\]|\\.)*)"')
_FIRST_STATIC = re.compile(
    r"^\[:pick \[(?:/ip firewall (?:filter|nat) )?find where chain=[a-z0-9-]+ dynamic=no\] 0\]$"
)


def _bracketed(rest: str) -> tuple[str, dict[str, str]]:
    """``rest`` without its ``name=[command]`` arguments, and those arguments with the command
    whole (``place-before=[find where comment="x"]``), so the words of a command are not read as
    the rule's own."""
    commands: dict[str, str] = {}
    kept: list[str] = []
    at = 0
    while (start := rest.find("=[", at)) != -1:
        name_start = start
        while name_start > at and (rest[name_start - 1].isalnum() or rest[name_start - 1] == "-"):
            name_start -= 1
        depth, end = 0, start + 1
        for end in range(start + 1, len(rest)):
            depth += {"[": 1, "]": -1}.get(rest[end], 0)
            if depth == 0:
                break
        commands[rest[name_start:start]] = rest[start + 1 : end + 1]
        kept.append(rest[at:name_start])
        at = end + 1
    kept.append(rest[at:])
    return "".join(kept), commands


def _placement(position: str, chain: Chain) -> int | None:
    """Where ``place-before=`` puts a rule in ``chain`` (``None``: at the end)."""
    if position.isdigit():
        return int(position) if int(position) < len(chain.rules) else None
    if _FIRST_STATIC.match(position):
        return 0 if chain.rules else None
    found = _FIND_COMMENT.search(position)
    if position.startswith(("[find", "[/ip firewall")) and found:
        comment = _unquote(f'"{found.group(1)}"')
        return next((n for n, r in enumerate(chain.rules) if r.comment == comment), None)
    return None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


class _Unknown(Exception):
    """A rule part the parser does not understand (kept as ``Match.unknown``)."""


@dataclass
class _Builder:
    export: _Export
    unrecognised: list[Unrecognised] = field(default_factory=list)

    def build(self) -> Ruleset:
        tables: dict[str, Table] = {}
        for key, command in enumerate(self.export.rules):
            table = tables.setdefault(command.section, Table("ip", command.section))
            name = command.arguments.get("chain", "")
            chain = table.chains.get(name)
            if chain is None:
                hook, kind, priority = BUILTIN_CHAINS.get((command.section, name), (None, "", 0))
                chain = Chain(name, hook=hook, type=kind or "filter", priority=priority)
                if command.section == "nat":
                    chain.type = "nat"
                table.chains[name] = chain
            rule = self.rule(key, command, chain)
            position = _placement(command.arguments.get("place-before", ""), chain)
            if position is not None:
                chain.rules.insert(position, rule)
            else:
                chain.rules.append(rule)
        ordered = [tables[n] for n in ("raw", "nat", "filter") if n in tables]
        return Ruleset(
            "mikrotik", ordered, self.export.unrecognised + self.unrecognised, self.objects()
        )

    def objects(self) -> list[NamedObject]:
        """The address lists whose entries are all IPv4 addresses, ranges or networks (a
        rule names a list wherever it takes addresses: ``src-address-list=``)."""
        found = []
        for name, entries in self.export.address_lists.items():
            try:
                networks = self.address_list(name)
            except _Unknown:
                continue
            if networks and entries:
                text = f"address-list {name}"
                found.append(NamedObject(GROUP, name, entries[0][0], text, address_value(networks)))
        return found

    def rule(self, key: int, command: _Command, chain: Chain) -> Rule:
        arguments = command.arguments
        hooks = frozenset({chain.hook}) if chain.hook else _ALL_PATH
        if chain.hook in ("input", "output"):
            hooks = frozenset()
        unknown: list[str] = []
        match = self.match(arguments, unknown)
        action = _action(arguments, command.section)
        if unknown:
            match = replace(match, unknown="; ".join(unknown))
        if unknown or action.kind is ActionKind.UNKNOWN:
            failed = [action.detail] if action.kind is ActionKind.UNKNOWN else []
            reason = "; ".join([*unknown, *failed])
            self.unrecognised.append(Unrecognised(command.line, command.text, reason, hooks))
        return Rule(key, command.line, command.text, match, action, arguments.get("comment", ""))

    def match(self, arguments: dict[str, str], unknown: list[str]) -> Match:
        values: dict[str, object] = {}
        for key, raw in arguments.items():
            if key in IGNORED_KEYS or key in ACTION_KEYS:
                continue
            negated, value = raw.startswith("!"), raw.removeprefix("!")
            try:
                self.option(key, value, negated, values)
            except _Unknown as error:
                unknown.append(str(error) or f"{key}={raw}")
            except ValueError:
                unknown.append(f"{key}={raw} is not understood")
        if values.pop("ipsec", False):
            values["source"] = Addresses(())  # no address: the rule never matches
        return Match(**values)  # type: ignore[arg-type]

    def option(self, key: str, value: str, negated: bool, values: dict[str, object]) -> None:
        if key in ("src-address", "dst-address"):
            values[_SIDE[key]] = Addresses(_networks(value), negated)
        elif key in ("src-address-list", "dst-address-list"):
            values[_SIDE[key]] = Addresses(self.address_list(value), negated)
        elif key == "protocol":
            values["protocols"] = frozenset({PROTOCOL_NUMBERS.get(value, value)})
            values["protocols_negated"] = negated
        elif key in ("src-port", "dst-port"):
            values[_SIDE[key] + "_ports"] = Ports(_port_ranges(value), negated)
        elif key in ("in-interface", "out-interface"):
            names = (
                value,
                *sorted(n for n, m in self.export.interface_lists.items() if value in m),
            )
            values[_SIDE[key] + "_interface"] = Interfaces(names, (), negated)
        elif key in ("in-interface-list", "out-interface-list"):
            values[_SIDE[key] + "_interface"] = self.interface_list(value, negated)
        elif key == "connection-state":
            states = frozenset(value.split(","))
            if not states <= CONNECTION_STATES:
                raise _Unknown(f"connection-state={value} is not understood")
            values["ct_state"], values["ct_state_negated"] = states, negated
        elif key == "connection-nat-state":
            nat_states = value.split(",")
            if not set(nat_states) <= set(NAT_STATES):
                raise _Unknown(f"connection-nat-state={value} is not understood")
            values["ct_status"] = frozenset(NAT_STATES[state] for state in nat_states)
            values["ct_status_negated"] = negated
        elif key in ("src-address-type", "dst-address-type") and value == "local":
            values["local_" + _SIDE[key]] = not negated
        elif key == "ipsec-policy":
            if value.endswith(",ipsec") != negated:
                # The flows checked are plain IP, never carried by an IPsec policy.
                values["ipsec"] = True
        else:
            raise _Unknown(f"{key}= is not analysed")

    def address_list(self, name: str) -> tuple[IPv4Network, ...]:
        networks: list[IPv4Network] = []
        for _, entry in self.export.address_lists.get(name, []):
            try:
                networks += _networks(entry)
            except ValueError:
                raise _Unknown(
                    f"the address list {name} holds {entry!r} (a DNS name or IPv6)"
                ) from None
        return tuple(networks)

    def interface_list(self, name: str, negated: bool) -> Interfaces:
        if name == "all":
            return Interfaces((), ("",), negated)
        if name == "none":
            return Interfaces((), (), negated)
        if name == "dynamic":
            raise _Unknown("the interface list dynamic is not analysed")
        members = sorted(self.export.interface_lists.get(name, set()))
        return Interfaces((name, *members), (), negated)


_SIDE = {
    "src-address": "source",
    "dst-address": "destination",
    "src-address-list": "source",
    "dst-address-list": "destination",
    "src-port": "source",
    "dst-port": "destination",
    "in-interface": "in",
    "out-interface": "out",
    "in-interface-list": "in",
    "out-interface-list": "out",
    "src-address-type": "source",
    "dst-address-type": "destination",
}


def _networks(value: str) -> tuple[IPv4Network, ...]:
    """``10.0.0.1``, ``10.0.0.0/8`` or ``10.0.0.1-10.0.0.9`` (``ValueError`` otherwise)."""
    if "-" in value:
        low, high = (IPv4Address(part) for part in value.split("-", 1))
        return tuple(summarize_address_range(low, high))
    return (IPv4Network(value, strict=False),)


def _port_ranges(value: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for part in value.split(","):
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return tuple(ranges)


def _action(arguments: dict[str, str], section: str) -> Action:
    name = arguments.get("action", "accept")
    if name in ("accept", "fasttrack-connection"):
        return Action(ActionKind.ACCEPT, detail=name)
    if name in ("drop", "tarpit"):
        return Action(ActionKind.DROP)
    if name == "reject":
        return Action(ActionKind.REJECT)
    if name == "jump":
        return Action(ActionKind.JUMP, chain=arguments.get("jump-target", ""))
    if name == "return":
        return Action(ActionKind.RETURN)
    if name in _CONTINUE_ACTIONS:
        return Action(ActionKind.CONTINUE)
    if section == "nat" and name in ("masquerade", "src-nat", "dst-nat", "redirect"):
        try:
            address, port = _nat_target(arguments)
        except ValueError:
            return Action(ActionKind.UNKNOWN, detail=f"action={name} with a pool or range")
        kind = {
            "masquerade": ActionKind.MASQUERADE,
            "src-nat": ActionKind.SNAT,
            "dst-nat": ActionKind.DNAT,
            "redirect": ActionKind.REDIRECT,
        }[name]
        return Action(kind, address=address, port=port)
    return Action(ActionKind.UNKNOWN, detail=f"action={name} is not analysed")


def _nat_target(arguments: dict[str, str]) -> tuple[IPv4Address | None, int | None]:
    """``to-addresses`` and ``to-ports`` as one address and one port (``ValueError`` for a
    range of more than one)."""
    addresses, ports = arguments.get("to-addresses", ""), arguments.get("to-ports", "")
    address = None
    if addresses:
        low, _, high = addresses.partition("-")
        if high and high != low:
            raise ValueError(addresses)
        address = IPv4Address(low)
    port = None
    if ports:
        low, _, high = ports.partition("-")
        if high and high != low:
            raise ValueError(ports)
        port = int(low)
    return address, port
