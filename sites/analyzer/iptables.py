"""Read ``iptables-save`` output (or a script of ``iptables …`` commands) into the model.

Tables filter, nat, mangle, raw and security become chains at the hooks and priorities the kernel
gives them, so the evaluator walks them in the kernel's order. Options this module does not know
make the rule's match ``unknown`` (the rest still counts), unknown targets make its action
``UNKNOWN``; each such line is listed as :class:`Unrecognised` with its line number.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
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

# Each table's built-in chains: (hook, priority), as the kernel registers them.
BUILTIN_CHAINS: dict[str, dict[str, tuple[str, int]]] = {
    "raw": {"PREROUTING": ("prerouting", -300), "OUTPUT": ("output", -300)},
    "mangle": {
        "PREROUTING": ("prerouting", -150),
        "INPUT": ("input", -150),
        "FORWARD": ("forward", -150),
        "OUTPUT": ("output", -150),
        "POSTROUTING": ("postrouting", -150),
    },
    "nat": {
        "PREROUTING": ("prerouting", -100),
        "INPUT": ("input", 100),
        "OUTPUT": ("output", -100),
        "POSTROUTING": ("postrouting", 100),
    },
    "filter": {"INPUT": ("input", 0), "FORWARD": ("forward", 0), "OUTPUT": ("output", 0)},
    "security": {"INPUT": ("input", 50), "FORWARD": ("forward", 50), "OUTPUT": ("output", 50)},
}
# Targets that do something and let the packet go on to the next rule.
NON_TERMINATING = frozenset(
    {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "TTL"}
    | {"TRACE", "AUDIT", "CHECKSUM", "SET", "IDLETIMER", "LED", "SECMARK", "CONNSECMARK"}
)
TERMINATING = {"ACCEPT": ActionKind.ACCEPT, "DROP": ActionKind.DROP, "REJECT": ActionKind.REJECT}
PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "33": "dccp"}
CT_FLAGS = {"new", "established", "related", "invalid", "untracked", "snat", "dnat"}
ALL_HOOKS = frozenset({"prerouting", "input", "forward", "output", "postrouting"})
_ADDRESS_OPTIONS = {"-s": "source", "--source": "source", "--src": "source"} | {
    "-d": "destination",
    "--destination": "destination",
    "--dst": "destination",
}
_INTERFACE_OPTIONS = {"-i": "in_interface", "--in-interface": "in_interface"} | {
    "-o": "out_interface",
    "--out-interface": "out_interface",
}
_PORT_OPTIONS = {
    "--dport": "destination_ports",
    "--destination-port": "destination_ports",
    "--dports": "destination_ports",
    "--destination-ports": "destination_ports",
    "--sport": "source_ports",
    "--source-port": "source_ports",
    "--sports": "source_ports",
    "--source-ports": "source_ports",
}
# Match modules whose presence alone changes nothing (their options are read below).
_PLAIN_MODULES = {"tcp", "udp", "multiport", "conntrack", "state", "comment", "iprange", "addrtype"}


class _Unknown(ValueError):
    """A value or option this parser does not understand (the message says which)."""


def parse_iptables(data: str | bytes) -> Ruleset:
    """Parse ``iptables-save`` text (or ``iptables`` commands, one a line) into a :class:`Ruleset`."""
    parser = _Parser()
    for number, line in enumerate(config_lines(data), start=1):
        parser.line(number, line)
    return parser.finish()


@dataclass
class _PendingRule:
    line: int
    text: str
    match: Match
    target: str  # "" (none), a target or a chain; resolved once every chain is known
    goto: bool
    target_options: list[str]
    comment: str
    position: int | None  # -I CHAIN N


@dataclass
class _Parser:
    ruleset: Ruleset = field(default_factory=lambda: Ruleset(vendor="iptables"))
    table: str | None = None  # the table open in iptables-save's *table … COMMIT
    pending: dict[str, dict[str, list[_PendingRule]]] = field(default_factory=dict)
    chains: dict[str, dict[str, Chain]] = field(default_factory=dict)

    def line(self, number: int, raw: str) -> None:
        text = raw.strip()
        if not text or text.startswith("#"):
            return
        if text.startswith("*"):
            self.open_table(number, text, text[1:].strip())
        elif text == "COMMIT":
            self.table = None
        elif text.startswith(":"):
            self.declare_chain(number, text)
        else:
            tokens = _split(text)
            if tokens and tokens[0].rsplit("/", 1)[-1] in (
                "iptables",
                "iptables-legacy",
                "iptables-nft",
            ):
                self.command(number, text, tokens[1:], table="filter")
            elif self.table is None:
                self.unrecognised(number, text, "outside a *table … COMMIT block", ALL_HOOKS)
            else:
                self.command(number, text, tokens, table=self.table)

    def open_table(self, number: int, text: str, name: str) -> None:
        if name not in BUILTIN_CHAINS:
            self.unrecognised(number, text, f"unknown table {name!r}", ALL_HOOKS)
            self.table = None
            return
        self.table = name
        self.ensure_table(name)

    def ensure_table(self, name: str) -> dict[str, Chain]:
        if name not in self.chains:
            self.chains[name] = {}
            self.pending[name] = {}
            for chain_name, (hook, priority) in BUILTIN_CHAINS[name].items():
                self.chains[name][chain_name] = Chain(
                    chain_name,
                    hook=hook,
                    type="nat" if name == "nat" else "filter",
                    priority=priority,
                )
        return self.chains[name]

    def declare_chain(self, number: int, text: str) -> None:
        if self.table is None:
            self.unrecognised(number, text, "a chain outside a *table block", ALL_HOOKS)
            return
        parts = text[1:].split()
        if not parts:
            self.unrecognised(number, text, "a chain without a name", ALL_HOOKS)
            return
        chain = self.chain(self.table, parts[0])
        chain.line, chain.text = number, text
        policy = parts[1] if len(parts) > 1 else "-"
        if policy in ("ACCEPT", "DROP"):
            chain.policy = policy.lower()
        elif policy != "-":
            self.unrecognised(number, text, f"unknown policy {policy!r}", self.hooks_of(chain))

    def chain(self, table: str, name: str) -> Chain:
        chains = self.ensure_table(table)
        if name not in chains:
            chains[name] = Chain(name)
        return chains[name]

    def command(self, number: int, text: str, tokens: list[str], *, table: str) -> None:
        if "-t" in tokens[:-1]:
            at = tokens.index("-t")
            table = tokens[at + 1]
            tokens = tokens[:at] + tokens[at + 2 :]
            if table not in BUILTIN_CHAINS:
                self.unrecognised(number, text, f"unknown table {table!r}", ALL_HOOKS)
                return
        if len(tokens) < 2:
            self.unrecognised(number, text, "not a rule", ALL_HOOKS)
            return
        verb, chain_name, rest = tokens[0], tokens[1], tokens[2:]
        if verb in ("-N", "--new-chain"):
            self.chain(table, chain_name)
            return
        if verb in ("-P", "--policy") and rest and rest[0] in ("ACCEPT", "DROP"):
            chain = self.chain(table, chain_name)
            chain.policy, chain.line, chain.text = rest[0].lower(), number, text
            return
        if verb not in ("-A", "--append", "-I", "--insert"):
            self.unrecognised(number, text, f"the command {verb} is not analysed", ALL_HOOKS)
            return
        position = None
        if verb in ("-I", "--insert"):
            position = 1
            if rest and rest[0].isdigit():
                position, rest = int(rest[0]), rest[1:]
        self.chain(table, chain_name)
        rule = _parse_rule(number, text, rest, position)
        self.pending[table].setdefault(chain_name, []).append(rule)

    def hooks_of(self, chain: Chain) -> frozenset[str]:
        return frozenset({chain.hook}) if chain.hook else ALL_HOOKS

    def unrecognised(self, number: int, text: str, reason: str, hooks: frozenset[str]) -> None:
        self.ruleset.unrecognised.append(Unrecognised(number, text, reason, hooks))

    def finish(self) -> Ruleset:
        key = 0
        for table_name, chains in self.chains.items():
            table = Table("ip", table_name, chains)
            for chain_name, rules in self.pending[table_name].items():
                chain = chains[chain_name]
                for pending in rules:
                    key += 1
                    rule = _resolve(key, pending, chains)
                    if pending.position is None:
                        chain.rules.append(rule)
                    else:
                        chain.rules.insert(pending.position - 1, rule)
                    if not rule.understood:
                        reason = rule.match.unknown or rule.action.detail
                        self.unrecognised(rule.line, rule.text, reason, self.hooks_of(chain))
            self.ruleset.tables.append(table)
        self.ruleset.unrecognised.sort(key=lambda u: u.line)
        return self.ruleset


def _split(text: str) -> list[str]:
    """Split a rule into words; double-quoted words (comments) keep their spaces."""
    if '"' not in text:
        return text.split()
    words: list[str] = []
    for index, part in enumerate(text.split('"')):
        if index % 2:
            words.append(part)
        else:
            words.extend(part.split())
    return words


def _parse_rule(number: int, text: str, tokens: list[str], position: int | None) -> _PendingRule:
    values: dict[str, object] = {}
    unknown: list[str] = []
    comment = ""
    target, goto, target_options = "", False, []
    if tokens and tokens[0].startswith("[") and tokens[0].endswith("]"):  # -c counters
        tokens = tokens[1:]
    i, negate = 0, False
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "!":
            negate = True
            continue
        if token in ("-j", "--jump", "-g", "--goto"):
            target = tokens[i] if i < len(tokens) else ""
            goto, target_options = token in ("-g", "--goto"), tokens[i + 1 :]
            break
        if i < len(tokens) and tokens[i] == "!":  # the old "--dport ! 22" spelling
            negate, i = True, i + 1
        if token not in _ONE_VALUE:
            unknown.append(token)
            while i < len(tokens) and not tokens[i].startswith("-") and tokens[i] != "!":
                i += 1  # the unknown option's values
            negate = False
            continue
        value = tokens[i] if i < len(tokens) else ""
        i += 1
        try:
            comment = _option(token, value, negate, values, unknown) or comment
        except (_Unknown, ValueError) as error:
            unknown.append(str(error) or f"{token} {value}")
        if token == "--match-set":
            i += 1  # its direction (src, dst, …)
        negate = False
    match = Match(**values, unknown="; ".join(_unique(unknown)))  # type: ignore[arg-type]
    return _PendingRule(number, text, match, target, goto, target_options, comment, position)


_ONE_VALUE = frozenset(
    {*_ADDRESS_OPTIONS, *_INTERFACE_OPTIONS, *_PORT_OPTIONS, "-p", "--protocol", "-m", "--match"}
    | {"--ctstate", "--state", "--comment", "--src-range", "--dst-range", "--dst-type"}
    | {"--src-type", "--match-set"}
)


def _option(
    token: str, value: str, negate: bool, values: dict[str, object], unknown: list[str]
) -> str:
    """Record one option's meaning in ``values``; returns the comment if this was one."""
    if token in _ADDRESS_OPTIONS:
        values[_ADDRESS_OPTIONS[token]] = _addresses(value, negate)
    elif token in _INTERFACE_OPTIONS:
        values[_INTERFACE_OPTIONS[token]] = _interfaces(value, negate)
    elif token in ("-p", "--protocol"):
        name = PROTOCOL_NUMBERS.get(value, value.lower())
        if name not in ("all", "0"):
            values["protocols"], values["protocols_negated"] = frozenset({name}), negate
    elif token in ("-m", "--match"):
        if value not in _PLAIN_MODULES and value != "set":
            unknown.append(f"-m {value}")
    elif token in _PORT_OPTIONS:
        values[_PORT_OPTIONS[token]] = _ports(value, negate)
    elif token in ("--ctstate", "--state"):
        flags = frozenset(v.lower() for v in value.split(","))
        if not flags <= CT_FLAGS:
            raise _Unknown(f"{token} {value}")
        values["ct_state"], values["ct_state_negated"] = flags, negate
    elif token == "--comment":
        return value
    elif token in ("--src-range", "--dst-range"):
        low, _, high = value.partition("-")
        networks = ipaddress.summarize_address_range(IPv4Address(low), IPv4Address(high or low))
        field_name = "source" if token == "--src-range" else "destination"
        values[field_name] = Addresses(tuple(networks), negate)
    elif token in ("--dst-type", "--src-type"):
        if value != "LOCAL":
            raise _Unknown(f"{token} {value}")
        values["local_destination" if token == "--dst-type" else "local_source"] = not negate
    elif token == "--match-set":
        unknown.append(f"the ipset {value!r} (its members are not in the file)")
    return ""


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


@lru_cache(maxsize=4096)
def _addresses(value: str, negate: bool) -> Addresses:
    """``-s``/``-d`` values (cached: a big ruleset repeats the same few hundred)."""
    try:
        return Addresses(tuple(IPv4Network(v, strict=False) for v in value.split(",")), negate)
    except ValueError:
        raise _Unknown(f"the address {value!r} (names and IPv6 are not analysed)") from None


@lru_cache(maxsize=1024)
def _interfaces(value: str, negate: bool) -> Interfaces:
    if value.endswith("+"):
        return Interfaces(prefixes=(value[:-1],), negated=negate)
    return Interfaces(names=(value,), negated=negate)


@lru_cache(maxsize=4096)
def _ports(value: str, negate: bool) -> Ports:
    ranges = []
    for part in value.split(","):
        low, colon, high = part.partition(":")
        if not (low or high) or not (low.isdigit() or not low) or not (high.isdigit() or not high):
            raise _Unknown(f"the port {part!r} (service names are not analysed)")
        first = int(low) if low else 0
        last = int(high) if colon and high else (65535 if colon else first)
        ranges.append((first, last))
    return Ports(tuple(ranges), negate)


def _resolve(key: int, pending: _PendingRule, chains: dict[str, Chain]) -> Rule:
    """The rule with its target resolved now that every chain of the table is known."""
    action = _action(pending.target, pending.goto, pending.target_options, chains)
    match = pending.match
    return Rule(key, pending.line, pending.text, match, action, pending.comment)


def _action(target: str, goto: bool, options: list[str], chains: dict[str, Chain]) -> Action:
    if not target:
        return Action(ActionKind.CONTINUE)
    if target in chains and target not in TERMINATING:
        return Action(ActionKind.GOTO if goto else ActionKind.JUMP, chain=target)
    if target in TERMINATING:
        return Action(TERMINATING[target])
    if target == "RETURN":
        return Action(ActionKind.RETURN)
    if target in NON_TERMINATING:
        return Action(ActionKind.CONTINUE)
    option = dict(zip(options[::2], options[1::2], strict=False))
    try:
        if target == "DNAT" and "--to-destination" in option:
            address, port = _nat_target(option["--to-destination"])
            return Action(ActionKind.DNAT, address=address, port=port)
        if target == "SNAT" and "--to-source" in option:
            address, port = _nat_target(option["--to-source"])
            return Action(ActionKind.SNAT, address=address, port=port)
        if target == "MASQUERADE":
            return Action(ActionKind.MASQUERADE)
        if target == "REDIRECT":
            ports = option.get("--to-ports", "")
            return Action(ActionKind.REDIRECT, port=_single_port(ports) if ports else None)
    except _Unknown as error:
        return Action(ActionKind.UNKNOWN, detail=f"-j {target}: {error}")
    return Action(ActionKind.UNKNOWN, detail=f"the target {target} is not analysed")


def _nat_target(value: str) -> tuple[IPv4Address | None, int | None]:
    """``ip[:port]`` of DNAT/SNAT; ranges of addresses or ports are not analysed."""
    host, _, port = value.partition(":")
    if "-" in host:
        raise _Unknown(f"the address range {host} (the kernel picks one per connection)")
    try:
        address = IPv4Address(host) if host else None
    except ValueError:
        raise _Unknown(f"the address {host!r}") from None
    return address, _single_port(port) if port else None


def _single_port(value: str) -> int:
    low, _, high = value.partition("-")
    if not low.isdigit() or (high and high != low):
        raise _Unknown(f"the port range {value} (the kernel picks one per connection)")
    return int(low)
