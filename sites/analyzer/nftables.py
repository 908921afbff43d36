"""Read ``nft list ruleset`` text, an ``nft -f`` file (tables plus ``add``/``insert rule``
commands) or ``nft -j list ruleset`` JSON into the model.

Tables of family ``ip`` and ``inet`` are analysed; ``ip6`` tables are listed as not analysed (they
never see IPv4); ``bridge``, ``arp`` and ``netdev`` tables are listed as not analysed, and a
netdev chain with rules as one that could affect every flow. JSON rules are turned back into the
text syntax first, so both inputs share one rule parser and a cited line reads like ``nft list``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, summarize_address_range
from typing import Any

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
    HOOKS,
    Action,
    ActionKind,
    Addresses,
    Chain,
    ConfigError,
    Interfaces,
    Match,
    Ports,
    Rule,
    Ruleset,
    Table,
    Unrecognised,
)

ANALYSED_FAMILIES = ("ip", "inet")
PRIORITY_NAMES = {
    "raw": -300,
    "mangle": -150,
    "dstnat": -100,
    "filter": 0,
    "security": 50,
    "srcnat": 100,
}
SERVICE_PORTS = {"ssh": 22, "http": 80, "https": 443, "domain": 53, "smtp": 25, "ntp": 123}
CT_STATES = {"new", "established", "related", "invalid", "untracked"}
CT_STATUSES = {"dnat", "snat", "expected", "seen-reply", "assured", "confirmed", "dying"}
PROTOCOLS = {"tcp", "udp", "icmp", "sctp", "dccp", "udplite", "gre", "esp", "ah"}
ALL_HOOKS = frozenset(HOOKS)
# Statements that begin a new part of a rule: where skipping an unknown part stops.
KEYWORDS = frozenset(
    {"iifname", "oifname", "iif", "oif", "meta", "ip", "ip6", "tcp", "udp", "th", "sctp", "ct"}
    | {"counter", "log", "limit", "comment", "accept", "drop", "reject", "return", "jump"}
    | {"goto", "continue", "queue", "dnat", "snat", "masquerade", "redirect", "notrack", "fib"}
)


class _Unknown(ValueError):
    """A part of a rule this parser does not understand (the message says which)."""


def parse_nftables(data: str | bytes) -> Ruleset:
    """Parse ``nft list ruleset`` text or ``nft -j list ruleset`` JSON into a :class:`Ruleset`."""
    lines = config_lines(data)
    head = next((line.strip() for line in lines if line.strip()), "")
    parser = _Parser()
    if head.startswith("{"):
        parser.json_document("\n".join(lines))
    else:
        for number, line in enumerate(lines, start=1):
            parser.line(number, line)
    return parser.finish()


@dataclass
class _Set:
    kind: str = ""  # "ipv4_addr", "inet_service", …
    elements: list[str] | None = None
    dynamic: bool = False


@dataclass
class _PendingRule:
    line: int
    text: str
    tokens: list[str]
    insert: bool = False


@dataclass
class _TableState:
    table: Table
    sets: dict[str, _Set] = field(default_factory=dict)
    rules: dict[str, list[_PendingRule]] = field(default_factory=dict)
    analysed: bool = True


@dataclass
class _Parser:
    ruleset: Ruleset = field(default_factory=lambda: Ruleset(vendor="nftables"))
    tables: dict[tuple[str, str], _TableState] = field(default_factory=dict)
    table: _TableState | None = None
    chain: Chain | None = None
    set_name: str = ""
    set_text: list[str] = field(default_factory=list)
    skip_depth: int = 0  # inside a block this parser does not read (flowtable, map, …)
    key: int = 0

    # -- text ------------------------------------------------------------------------------------

    def line(self, number: int, raw: str) -> None:
        text = _strip_comment(raw).strip()
        if not text:
            return
        if self.skip_depth:
            self.skip_depth += text.count("{") - text.count("}")
            return
        if self.set_name:
            self.set_line(text)
            return
        words = _tokens(text)
        if self.chain is not None:
            self.chain_line(number, text, words)
        elif self.table is not None:
            self.table_line(number, text, words)
        else:
            self.top_line(number, text, words)

    def top_line(self, number: int, text: str, words: list[str]) -> None:
        if words[:2] == ["flush", "ruleset"]:
            self.tables.clear()
            return
        verb = words[0]
        if verb in ("add", "create", "insert") and len(words) > 1:
            noun, rest = words[1], words[2:]
            if noun == "table" and rest:
                family, name = _family_and_name(rest)
                self.open_table(number, text, family, name)
                if "{" in words:
                    return
                self.table = None
                return
            if noun == "chain" and len(rest) >= 2:
                family, table_name, chain_name = _chain_address(rest)
                state = self.open_table(number, text, family, table_name)
                self.table = None
                chain = state.table.chains.setdefault(chain_name, Chain(chain_name))
                body = " ".join(rest).partition("{")[2].rstrip("}").strip()
                if body:
                    self.chain_header(number, text, chain, _tokens(body))
                return
            if noun == "rule" and len(rest) >= 3:
                family, table_name, chain_name = _chain_address(rest)
                target = self.tables.get((family, table_name))
                if target is None:
                    self.unrecognised(number, text, "a rule for a table not defined before it")
                    return
                target.table.chains.setdefault(chain_name, Chain(chain_name))
                tokens = rest[3:] if rest[0] in _FAMILIES else rest[2:]
                pending = _PendingRule(number, text, tokens, insert=verb == "insert")
                target.rules.setdefault(chain_name, []).append(pending)
                return
        if verb == "table" and len(words) >= 2:
            family, name = _family_and_name(words[1:])
            self.open_table(number, text, family, name)
            return
        if verb == "flush" or verb == "delete":
            self.unrecognised(number, text, f"the command {verb} is not analysed")
            return
        self.unrecognised(number, text, "not understood here (define and include are not read)")

    def open_table(self, number: int, text: str, family: str, name: str) -> _TableState:
        key = (family, name)
        if key not in self.tables:
            analysed = family in ANALYSED_FAMILIES
            self.tables[key] = _TableState(Table(family, name), analysed=analysed)
            if not analysed:
                affects = ALL_HOOKS if family == "netdev" else frozenset()
                why = "IPv6 is" if family == "ip6" else f"{family} tables are"
                self.unrecognised(number, text, f"{why} not analysed", affects)
        self.table = self.tables[key]
        return self.table

    def table_line(self, number: int, text: str, words: list[str]) -> None:
        assert self.table is not None
        if words == ["}"]:
            self.table = None
        elif words[0] == "chain" and len(words) >= 2:
            name = words[1]
            self.chain = self.table.table.chains.setdefault(name, Chain(name))
            if not self.chain.line:
                self.chain.line, self.chain.text = number, text
        elif words[0] == "set" and len(words) >= 2:
            self.set_name, self.set_text = words[1], []
        elif words[0] in ("flags", "comment"):
            return
        elif "{" in words:
            self.skip_depth = 1  # map, flowtable, counter, quota, …
            if words[0] == "map":
                self.unrecognised(number, text, "maps are not analysed", frozenset())
        else:
            self.unrecognised(number, text, "not understood in a table")

    def set_line(self, text: str) -> None:
        self.set_text.append(text)
        joined = " ".join(self.set_text)
        if joined.count("{") + 1 > joined.count("}"):
            return
        assert self.table is not None
        self.table.sets[self.set_name] = _parse_set(" ".join(self.set_text[:-1]))
        self.set_name = ""

    def chain_line(self, number: int, text: str, words: list[str]) -> None:
        assert self.table is not None and self.chain is not None
        if words == ["}"]:
            self.chain = None
            return
        if words[0] in ("type", "policy", "comment") and self.chain_header(
            number, text, self.chain, words
        ):
            return
        pending = _PendingRule(number, text, words)
        self.table.rules.setdefault(self.chain.name, []).append(pending)

    def chain_header(self, number: int, text: str, chain: Chain, words: list[str]) -> bool:
        """``type filter hook forward priority filter; policy drop;``: True if it was one."""
        if words[0] == "comment":
            return True
        statements = " ".join(words).replace(";", " ; ").split(";")
        for statement in statements:
            parts = statement.split()
            if not parts:
                continue
            if parts[0] == "policy" and len(parts) == 2 and parts[1] in ("accept", "drop"):
                chain.policy = parts[1]
                chain.line, chain.text = number, text
            elif parts[0] == "type" and "priority" in parts and parts[2:3] == ["hook"]:
                chain.type = "nat" if parts[1] == "nat" else "filter"
                chain.hook = parts[3]
                chain.priority = _priority(parts[parts.index("priority") + 1 :])
                if chain.policy == "accept":  # a policy declared earlier stays the one cited
                    chain.line, chain.text = number, text
                if parts[1] not in ("filter", "nat"):
                    self.unrecognised(
                        number, text, f"{parts[1]} chains are not analysed", frozenset({parts[3]})
                    )
            else:
                return False
        return True

    def unrecognised(
        self, number: int, text: str, reason: str, hooks: frozenset[str] = ALL_HOOKS
    ) -> None:
        self.ruleset.unrecognised.append(Unrecognised(number, text, reason, hooks))

    # -- JSON ------------------------------------------------------------------------------------

    def json_document(self, text: str) -> None:
        try:
            document = json.loads(text)
            objects = document["nftables"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError('not nft JSON: expected {"nftables": [ … ]}') from None
        if not isinstance(objects, list):
            raise ConfigError('not nft JSON: "nftables" is not a list')
        for number, item in enumerate(objects, start=1):
            if isinstance(item, dict):
                self.json_object(number, item)

    def json_object(self, number: int, item: dict[str, Any]) -> None:
        if "table" in item:
            table = item["table"]
            self.open_table(
                number, json.dumps(item), table.get("family", ""), table.get("name", "")
            )
            self.table = None
        elif "chain" in item:
            chain_data = item["chain"]
            state = self.tables.get((chain_data.get("family", ""), chain_data.get("table", "")))
            if state is None:
                return
            name = chain_data.get("name", "")
            chain = state.table.chains.setdefault(name, Chain(name))
            chain.line = number
            if "hook" in chain_data:
                chain.hook = chain_data["hook"]
                chain.type = "nat" if chain_data.get("type") == "nat" else "filter"
                priority = chain_data.get("prio", 0)
                chain.priority = _priority([str(priority)])
                chain.policy = chain_data.get("policy", "accept")
                chain.text = (
                    f"chain {name} {{ type {chain_data.get('type')} hook {chain.hook} "
                    f"priority {priority}; policy {chain.policy}; }}"
                )
        elif "set" in item:
            set_data = item["set"]
            state = self.tables.get((set_data.get("family", ""), set_data.get("table", "")))
            if state is not None:
                elements = set_data.get("elem")
                state.sets[set_data.get("name", "")] = _Set(
                    kind=str(set_data.get("type", "")),
                    elements=None if elements is None else [_json_value(e) for e in elements],
                    dynamic="dynamic" in set_data.get("flags", []) or "timeout" in set_data,
                )
        elif "rule" in item:
            rule = item["rule"]
            state = self.tables.get((rule.get("family", ""), rule.get("table", "")))
            if state is None:
                return
            try:
                words = [w for expr in rule.get("expr", []) for w in _json_statement(expr)]
            except _Unknown as error:
                words = ["unknown-json", str(error)]
            if rule.get("comment"):
                words += ["comment", rule["comment"]]
            text = " ".join(_quoted(w) for w in words).replace(" , ", ", ")
            pending = _PendingRule(number, text, words)
            state.rules.setdefault(rule.get("chain", ""), []).append(pending)

    # -- the end ---------------------------------------------------------------------------------

    def finish(self) -> Ruleset:
        for state in self.tables.values():
            for chain_name, pending_rules in state.rules.items():
                chain = state.table.chains[chain_name]
                for pending in pending_rules:
                    self.key += 1
                    rule = _rule(self.key, pending, state)
                    if pending.insert:
                        chain.rules.insert(0, rule)
                    else:
                        chain.rules.append(rule)
                    if not rule.understood and state.analysed:
                        hooks = frozenset({chain.hook}) if chain.hook else ALL_HOOKS
                        reason = rule.match.unknown or rule.action.detail
                        self.unrecognised(rule.line, rule.text, reason, hooks)
            if state.analysed:
                self.ruleset.tables.append(state.table)
        self.ruleset.unrecognised.sort(key=lambda u: u.line)
        return self.ruleset


_FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")


def _family_and_name(words: list[str]) -> tuple[str, str]:
    if words[0] in _FAMILIES and len(words) > 1 and words[1] != "{":
        return words[0], words[1]
    return "ip", words[0]


def _chain_address(words: list[str]) -> tuple[str, str, str]:
    if words[0] in _FAMILIES:
        return words[0], words[1], words[2] if len(words) > 2 else ""
    return "ip", words[0], words[1]


def _strip_comment(line: str) -> str:
    """The line without a trailing ``# …`` (``nft -a`` handles), quotes respected."""
    if "#" not in line:
        return line
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index]
    return line


def _tokens(text: str) -> list[str]:
    """Words, quoted strings (without quotes), and ``{`` ``}`` ``,`` ``;`` as their own words."""
    tokens: list[str] = []
    for index, part in enumerate(text.split('"')):
        if index % 2:
            tokens.append(part)  # a quoted string, spaces and all
        else:
            tokens += part.translate(_PUNCTUATION).split()
    return tokens


_PUNCTUATION = str.maketrans({c: f" {c} " for c in "{},;"})


def _quoted(word: str) -> str:
    return f'"{word}"' if (" " in word or not word) else word


def _priority(words: list[str]) -> int:
    """``filter``, ``dstnat - 5``, ``-100``: the number."""
    total, sign = 0, 1
    for word in words:
        if word in ("+", "-"):
            sign = 1 if word == "+" else -1
            continue  # the sign applies to the next word (nft lists "filter - 10")
        if word in PRIORITY_NAMES:
            total += sign * PRIORITY_NAMES[word]
        elif word.lstrip("-").isdigit():
            total += sign * int(word)
        sign = 1
    return total


def _parse_set(body: str) -> _Set:
    words = _tokens(body)
    result = _Set()
    if "type" in words:
        result.kind = words[words.index("type") + 1]
    if "timeout" in words or "dynamic" in words:
        result.dynamic = True
    if "elements" in words:
        start = words.index("elements")
        values = words[start + 3 : words.index("}", start)] if "}" in words[start:] else []
        result.elements = [v for v in values if v != ","]
    return result


# -- one rule ------------------------------------------------------------------------------------


@dataclass
class _RuleBuilder:
    tokens: list[str]
    state: _TableState
    i: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    action: Action | None = None
    comment: str = ""

    def peek(self) -> str:
        return self.tokens[self.i] if self.i < len(self.tokens) else ""

    def take(self) -> str:
        i = self.i
        self.i = i + 1
        return self.tokens[i] if i < len(self.tokens) else ""

    def operator(self) -> bool:
        """Reads an optional ``==`` / ``!=``; True when negated."""
        if self.peek() in ("==", "!="):
            return self.take() == "!="
        return False

    def values_of(self) -> list[str]:
        """One value, or the members of ``{ a, b }``."""
        if self.peek() != "{":
            values = [self.take()]
            while self.peek() == ",":  # ct state established,related
                self.take()
                values.append(self.take())
            return values
        self.take()
        members = []
        while self.peek() not in ("}", ""):
            word = self.take()
            if word != ",":
                members.append(word)
        self.take()
        return members

    def skip_unknown(self, what: str) -> None:
        self.unknown.append(what)
        while self.peek() and self.peek() not in KEYWORDS:
            if self.peek() == "{":
                self.values_of()
            else:
                self.take()

    def build(self) -> tuple[Match, Action, str]:
        while self.i < len(self.tokens):
            word = self.take()
            try:
                self.statement(word)
            except _Unknown as error:
                self.skip_unknown(str(error))
            except (ValueError, IndexError):
                self.skip_unknown(f"{word} …")
        match = Match(**self.values, unknown="; ".join(dict.fromkeys(self.unknown)))
        return match, self.action or Action(ActionKind.CONTINUE), self.comment

    def set_action(self, action: Action) -> None:
        if self.action is not None and self.action.kind is not ActionKind.CONTINUE:
            raise _Unknown("two verdicts in one rule")
        self.action = action

    def statement(self, word: str) -> None:
        if word == "meta":
            word = self.take()
            if word in ("nfproto", "protocol"):
                negated, values = self.operator(), self.values_of()
                is_ipv4 = any(v in ("ipv4", "ip") for v in values)
                if is_ipv4 == negated:
                    self.values["ipv6_only"] = True  # never an IPv4 packet
                return
        if word in ("iifname", "oifname", "iif", "oif"):
            negated = self.operator()
            names = self.values_of()
            field_name = "in_interface" if word.startswith("i") else "out_interface"
            self.values[field_name] = Interfaces(
                names=tuple(n for n in names if not n.endswith("*")),
                prefixes=tuple(n[:-1] for n in names if n.endswith("*")),
                negated=negated,
            )
        elif word in ("l4proto",) or (word == "ip" and self.peek() == "protocol"):
            if word == "ip":
                self.take()
            negated, names = self.operator(), self.values_of()
            self.protocols(frozenset(_protocol(n) for n in names), negated)
        elif word == "ip":
            direction = self.take()
            if direction not in ("saddr", "daddr"):
                raise _Unknown(f"ip {direction}")
            negated = self.operator()
            networks = self.addresses(self.values_of())
            field_name = "source" if direction == "saddr" else "destination"
            self.values[field_name] = Addresses(networks, negated)
        elif word == "ip6":
            self.values["ipv6_only"] = True
            self.take()
            self.operator()
            self.values_of()
        elif word in ("tcp", "udp", "th", "sctp", "udplite", "dccp"):
            direction = self.take()
            if direction not in ("dport", "sport"):
                raise _Unknown(f"{word} {direction}")
            if word != "th":
                self.protocols(frozenset({word}), False)
            negated = self.operator()
            ports = Ports(self.ports(self.values_of()), negated)
            self.values["destination_ports" if direction == "dport" else "source_ports"] = ports
        elif word == "ct":
            self.conntrack(self.take())
        elif word == "fib":
            words = [self.take() for _ in range(3)]
            if words[:2] != ["daddr", "type"] or words[2] not in ("local", "!="):
                raise _Unknown("fib " + " ".join(words))
            negated = words[2] == "!="
            if negated:
                self.take()
            self.values["local_destination"] = not negated
        elif word == "counter":
            while self.peek() in ("packets", "bytes"):
                self.take()
                self.take()
        elif word == "log":
            while self.peek() in ("prefix", "level", "group", "snaplen", "queue-threshold"):
                self.take()
                self.take()  # its value, even one that reads like a keyword ("accept")
            while self.peek() and self.peek() not in KEYWORDS:  # flags …
                self.take()
        elif word == "comment":
            self.comment = self.take()
        else:
            self.verdict(word)

    def verdict(self, word: str) -> None:
        simple = {"accept": ActionKind.ACCEPT, "drop": ActionKind.DROP, "return": ActionKind.RETURN}
        if word in simple:
            self.set_action(Action(simple[word]))
        elif word == "reject":
            self.set_action(Action(ActionKind.REJECT))
            if self.peek() == "with":  # with tcp reset | with icmp[x|v6] [type] CODE
                self.take()
                self.take()
                if self.peek() == "type":
                    self.take()
                self.take()
        elif word in ("jump", "goto"):
            kind = ActionKind.JUMP if word == "jump" else ActionKind.GOTO
            self.set_action(Action(kind, chain=self.take()))
        elif word == "continue":
            return
        elif word in ("dnat", "snat"):
            if self.peek() == "ip":
                self.take()
            if self.take() != "to":
                raise _Unknown(f"{word} without 'to'")
            address, port = _nat_target(self.take())
            kind = ActionKind.DNAT if word == "dnat" else ActionKind.SNAT
            self.set_action(Action(kind, address=address, port=port))
            self.skip_nat_flags()
        elif word == "masquerade":
            self.set_action(Action(ActionKind.MASQUERADE))
            self.skip_nat_flags()
        elif word == "redirect":
            port = None
            if self.peek() == "to":
                self.take()
                port = int(self.take().lstrip(":"))
            self.set_action(Action(ActionKind.REDIRECT, port=port))
            self.skip_nat_flags()
        elif word in ("queue", "notrack") or word == "unknown-json":
            detail = f"{word} is not analysed"
            if word == "unknown-json":
                detail = self.take()
            self.set_action(Action(ActionKind.UNKNOWN, detail=detail))
            while self.peek() and self.peek() not in KEYWORDS:
                self.take()
        else:
            raise _Unknown(word)

    def skip_nat_flags(self) -> None:
        while self.peek() in ("random", "fully-random", "persistent", ","):
            self.take()

    def conntrack(self, key: str) -> None:
        negated = self.operator()
        values = set(self.values_of())
        flags = {v for part in values for v in part.split(",") if v}
        if key == "state" and flags <= CT_STATES:
            self.values["ct_state"], self.values["ct_state_negated"] = frozenset(flags), negated
        elif key == "status" and flags <= CT_STATUSES:
            self.values["ct_status"], self.values["ct_status_negated"] = frozenset(flags), negated
        else:
            raise _Unknown(f"ct {key} {','.join(sorted(flags))}")

    def protocols(self, names: frozenset[str], negated: bool) -> None:
        current = self.values.get("protocols")
        if current is None:
            self.values["protocols"], self.values["protocols_negated"] = names, negated
        elif not negated and not self.values.get("protocols_negated"):
            self.values["protocols"] = current & names  # empty: the rule never matches
        else:
            raise _Unknown("a negated protocol combined with another")

    def addresses(self, values: list[str]) -> tuple[IPv4Network, ...]:
        networks: list[IPv4Network] = []
        for value in values:
            if value.startswith("@"):
                networks += self.named_set(value[1:], "ipv4_addr", self.addresses)
            elif "-" in value:
                low, high = value.split("-", 1)
                networks += summarize_address_range(IPv4Address(low), IPv4Address(high))
            else:
                networks.append(_network(value))
        return tuple(networks)

    def ports(self, values: list[str]) -> tuple[tuple[int, int], ...]:
        ranges: list[tuple[int, int]] = []
        for value in values:
            if value.startswith("@"):
                ranges += self.named_set(value[1:], "inet_service", self.ports)
                continue
            low, _, high = value.partition("-")
            ranges.append((_port(low), _port(high or low)))
        return tuple(ranges)

    def named_set(self, name: str, kind: str, convert: Any) -> list[Any]:
        found = self.state.sets.get(name)
        if found is None:
            raise _Unknown(f"the set @{name} is not defined in the table")
        if found.elements is None or found.dynamic:
            raise _Unknown(f"the set @{name}: its members are filled at run time")
        if found.kind and found.kind != kind:
            raise _Unknown(f"the set @{name} of type {found.kind}")
        if any(element.startswith("@") for element in found.elements):
            raise _Unknown(f"the set @{name} names another set")
        return list(convert(found.elements))


@lru_cache(maxsize=4096)
def _network(value: str) -> IPv4Network:
    """One address or prefix (cached: a big ruleset repeats the same few hundred)."""
    try:
        return IPv4Network(value, strict=False)
    except ValueError:
        raise _Unknown(f"the address {value!r}") from None


def _protocol(name: str) -> str:
    numbers = {"6": "tcp", "17": "udp", "1": "icmp"}
    name = numbers.get(name, name)
    if name not in PROTOCOLS:
        raise _Unknown(f"the protocol {name!r}")
    return name


def _port(value: str) -> int:
    if value.isdigit():
        return int(value)
    if value in SERVICE_PORTS:
        return SERVICE_PORTS[value]
    raise _Unknown(f"the port {value!r}")


def _nat_target(value: str) -> tuple[IPv4Address | None, int | None]:
    host, _, port = value.partition(":")
    if "-" in host or "-" in port:
        raise _Unknown(f"the range {value} (the kernel picks one per connection)")
    try:
        address = IPv4Address(host) if host else None
    except ValueError:
        raise _Unknown(f"the NAT target {value!r}") from None
    return address, int(port) if port else None


def _rule(key: int, pending: _PendingRule, state: _TableState) -> Rule:
    match, action, comment = _RuleBuilder(pending.tokens, state).build()
    if action.kind in (ActionKind.JUMP, ActionKind.GOTO) and action.chain not in (
        state.table.chains
    ):
        action = Action(ActionKind.UNKNOWN, detail=f"the chain {action.chain} does not exist")
    return Rule(key, pending.line, pending.text, match, action, comment)


# -- JSON → the text syntax ------------------------------------------------------------------------


def _json_value(value: Any) -> str:
    """One JSON right-hand side as nft text (``{`` … ``}`` sets come out as several words)."""
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, dict):
        if "prefix" in value:
            return f"{value['prefix']['addr']}/{value['prefix']['len']}"
        if "range" in value:
            low, high = value["range"]
            return f"{_json_value(low)}-{_json_value(high)}"
        if "elem" in value:
            return _json_value(value["elem"].get("val"))
    raise _Unknown(f"the value {json.dumps(value)}")


def _json_right(value: Any) -> list[str]:
    if isinstance(value, dict) and "set" in value:
        members = [_json_value(v) for v in value["set"]]
        return ["{", *_commas(members), "}"]
    if isinstance(value, list):  # flags: ct state established,related
        return [",".join(_json_value(v) for v in value)]
    return [_json_value(value)]


def _commas(members: list[str]) -> list[str]:
    out: list[str] = []
    for member in members:
        if out:
            out.append(",")
        out.append(member)
    return out


def _json_statement(expr: dict[str, Any]) -> list[str]:
    """One JSON statement as the words of its text form."""
    ((name, body),) = expr.items()
    if name == "match":
        left = body["left"]
        op = {"==": [], "!=": ["!="], "in": []}.get(body.get("op", "=="))
        if op is None:
            raise _Unknown(f"the operator {body.get('op')}")
        if "meta" in left:
            selector = ["meta", left["meta"]["key"]]
        elif "payload" in left:
            selector = [left["payload"].get("protocol", ""), left["payload"].get("field", "")]
        elif "ct" in left:
            selector = ["ct", left["ct"]["key"]]
        elif "fib" in left:
            selector = ["fib", "daddr", "type"]
        else:
            raise _Unknown(f"the match {json.dumps(left)}")
        if selector[:2] in (["meta", "iifname"], ["meta", "oifname"], ["meta", "l4proto"]):
            selector = selector[1:]
        return [*selector, *op, *_json_right(body["right"])]
    if name in ("accept", "drop", "return", "continue", "masquerade", "notrack"):
        return [name]
    if name == "reject":
        return ["reject"]
    if name in ("jump", "goto"):
        return [name, body["target"]]
    if name in ("counter", "log"):
        return []
    if name in ("dnat", "snat"):
        target = str(body.get("addr", ""))
        if "port" in body:
            target += f":{body['port']}"
        return [name, "to", target]
    if name == "redirect":
        return ["redirect", "to", f":{body['port']}"] if body and "port" in body else ["redirect"]
    raise _Unknown(f"the statement {name}")
