"""A vendor-neutral model of a firewall configuration: what the parsers produce and the evaluator
reads.

The shape follows the Linux netfilter model, which is general enough for the other vendors to map
into later: tables hold chains; a *base* chain is attached to a hook (prerouting, forward,
postrouting, …) with a type (filter or nat), a priority and a policy; a rule is a match plus one
action, and keeps the line number and text it came from so a verdict can cite it.

A match part the parser does not understand is kept as ``Match.unknown`` (the rest of the match
still counts: a rule for UDP never matches a TCP flow, whatever else it says); an action it does
not understand is ``ActionKind.UNKNOWN``. Either way the line is also listed as
:class:`Unrecognised`, and the evaluator decides whether it could change a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, collapse_addresses

HOOKS = ("prerouting", "input", "forward", "output", "postrouting")
# Where the kernel applies the address translation already bound to a connection (conntrack's
# NAT hooks): chains before it see the packet's addresses untranslated, chains after translated.
CONNTRACK_PRIORITY = -200  # chains before it (the raw table) see packets not yet tracked
DSTNAT_PRIORITY = -100
SRCNAT_PRIORITY = 100
# Source ports clients pick (Linux 32768-60999, Windows and macOS 49152-65535): a rule on ports
# outside them never sees a client's source port, one covering them always does.
EPHEMERAL_PORTS = (32768, 65535)


@dataclass(frozen=True)
class Interfaces:
    """Interface names a rule matches: exact names, or prefixes (``eth+`` / ``"eth*"``)."""

    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    negated: bool = False

    def matches(self, name: str) -> bool:
        hit = name in self.names or any(name.startswith(p) for p in self.prefixes)
        return hit != self.negated


@dataclass(frozen=True)
class Addresses:
    """IPv4 networks a rule matches (a single address is a /32)."""

    networks: tuple[IPv4Network, ...]
    negated: bool = False

    def matches(self, address: IPv4Address) -> bool:
        return any(address in n for n in self.networks) != self.negated


@dataclass(frozen=True)
class Ports:
    """Port ranges (inclusive) a rule matches; a single port is ``(p, p)``."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def matches(self, port: int | None) -> bool | None:
        """``port`` ``None`` is "an ephemeral port": the answer is ``None`` (might match) unless
        the ranges cover all of :data:`EPHEMERAL_PORTS` or none of it."""
        if port is not None:
            return any(low <= port <= high for low, high in self.ranges) != self.negated
        first, last = EPHEMERAL_PORTS
        overlap = [(max(low, first), min(high, last)) for low, high in self.ranges]
        covered = sum(high - low + 1 for low, high in overlap if low <= high)
        if covered == 0:
            return self.negated
        if covered >= last - first + 1 and _disjoint(self.ranges):
            return not self.negated
        return None


def _disjoint(ranges: tuple[tuple[int, int], ...]) -> bool:
    ordered = sorted(ranges)
    return all(a[1] < b[0] for a, b in zip(ordered, ordered[1:], strict=False))


@dataclass(frozen=True)
class Match:
    """What a packet must look like for a rule to apply; ``None`` means "any".

    ``protocols`` holds lower-case names ("tcp", "udp", "icmp", …). ``ct_state`` holds conntrack
    states ("new", "established", "related", "invalid", "untracked"); ``ct_status`` holds the
    translation flags of the connection ("dnat", "snat"). iptables' ``--ctstate DNAT`` is
    ``ct_status={"dnat"}``. ``local_destination`` / ``local_source`` are iptables' addrtype
    ``LOCAL`` (and nft's ``fib daddr type local``): one of the firewall's own addresses.
    """

    in_interface: Interfaces | None = None
    out_interface: Interfaces | None = None
    source: Addresses | None = None
    destination: Addresses | None = None
    protocols: frozenset[str] | None = None
    protocols_negated: bool = False
    source_ports: Ports | None = None
    destination_ports: Ports | None = None
    ct_state: frozenset[str] | None = None
    ct_state_negated: bool = False
    ct_status: frozenset[str] | None = None
    ct_status_negated: bool = False
    local_destination: bool | None = None
    local_source: bool | None = None
    ipv6_only: bool = False  # an IPv6 match in an inet table: never an IPv4 packet
    # The connection's original direction, as its first packet had it before any translation
    # (conntrack's ``--ctorigdst``/``--ctorigdstport``, PAN-OS's pre-NAT addresses), and the
    # interface that first packet arrived on (PAN-OS's source zone, also at postrouting).
    original_destination: Addresses | None = None
    original_destination_ports: Ports | None = None
    arrived_on: Interfaces | None = None
    unknown: str = ""  # the part not understood; the rule then *might* match


class ActionKind(StrEnum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    JUMP = "jump"
    GOTO = "goto"
    RETURN = "return"
    CONTINUE = "continue"  # non-terminating: LOG, counter, mark …
    DNAT = "dnat"
    REDIRECT = "redirect"
    SNAT = "snat"
    MASQUERADE = "masquerade"
    UNKNOWN = "unknown"


TERMINAL = frozenset({ActionKind.ACCEPT, ActionKind.DROP, ActionKind.REJECT})
NAT_ACTIONS = frozenset(
    {ActionKind.DNAT, ActionKind.REDIRECT, ActionKind.SNAT, ActionKind.MASQUERADE}
)


@dataclass(frozen=True)
class Action:
    """What a matching rule does. ``chain`` for jump/goto; ``address``/``port`` for NAT targets
    (``None`` keeps the packet's own); ``detail`` says what an unknown action was."""

    kind: ActionKind
    chain: str = ""
    address: IPv4Address | None = None
    port: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Rule:
    """One rule, with where it came from. ``key`` is unique within a ruleset."""

    key: int
    line: int
    text: str
    match: Match
    action: Action
    comment: str = ""

    @property
    def understood(self) -> bool:
        return not self.match.unknown and self.action.kind is not ActionKind.UNKNOWN


@dataclass
class Chain:
    """A chain; a base chain has a ``hook`` (and a ``type`` "filter" or "nat")."""

    name: str
    rules: list[Rule] = field(default_factory=list)
    hook: str | None = None
    type: str = "filter"
    priority: int = 0
    policy: str = "accept"  # "accept" or "drop"
    line: int = 0  # where the chain (and its policy) is declared
    text: str = ""


@dataclass
class Table:
    """A table of chains; ``family`` "ip" or "inet" (both see IPv4 packets)."""

    family: str
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)

    def base_chains(self, hook: str) -> list[Chain]:
        return [c for c in self.chains.values() if c.hook == hook]


@dataclass(frozen=True)
class Unrecognised:
    """A line the parser did not fully understand, and the hooks it could affect (empty when it
    cannot affect forwarded IPv4 traffic, e.g. an IPv6 table)."""

    line: int
    text: str
    reason: str
    could_affect: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "text": self.text,
            "reason": self.reason,
            "could_affect": sorted(self.could_affect),
        }


ADDRESS, GROUP, SERVICE = "address", "group", "service"


@dataclass(frozen=True)
class NamedObject:
    """A named object of the configuration that rules refer to: an address object
    (``ADDRESS``), an address group, alias or list (``GROUP``), or a service (``SERVICE``), with
    the value it resolves to and the line that defines it.

    ``networks``: the addresses, collapsed (two /25s equal one /24); ``services``: (protocol,
    low port, high port) triples. A value not fully understood is not listed at all: an object
    is only reused when its value is known to equal ours."""

    kind: str
    name: str
    line: int
    text: str
    networks: frozenset[IPv4Network] = frozenset()
    services: frozenset[tuple[str, int, int]] = frozenset()


def address_value(networks) -> frozenset[IPv4Network]:
    """Networks as an object's value: collapsed, so equal address sets compare equal."""
    networks = list(networks)
    if len(networks) == 1:  # most objects: nothing to collapse
        return frozenset(networks)
    return frozenset(collapse_addresses(networks))


@dataclass(frozen=True)
class ExistingObjects:
    """The named objects of an analysed configuration, looked up by value: the renderers reuse
    one whose value equals an object they would create (``sites.vendors.reuse``)."""

    objects: tuple[NamedObject, ...] = ()

    def with_addresses(self, networks, kinds: tuple[str, ...]) -> NamedObject | None:
        """The first object (in configuration order) of one of ``kinds`` holding exactly
        ``networks``."""
        wanted = address_value(networks)
        return next(
            (o for o in self.objects if o.kind in kinds and o.networks == wanted and wanted),
            None,
        )

    def with_services(self, services: frozenset[tuple[str, int, int]]) -> NamedObject | None:
        """The first service object holding exactly ``services``."""
        return next(
            (o for o in self.objects if o.kind == SERVICE and o.services == services and services),
            None,
        )


@dataclass(frozen=True)
class ShadowingRule:
    """An explicit drop or reject that refuses a flow the guide needs before the place where
    the instructions would add their accept: its line, its text, the chain it is in (``table`` and
    ``family`` where the vendor has them) and its 1-based position there, and how the vendor names
    it (a FortiGate policy ID, a PAN-OS rule name, an ACL name …)."""

    line: int
    text: str
    chain: str
    position: int
    table: str = ""
    family: str = ""
    name: str = ""
    hook: str = ""  # the hook of its chain, if a base chain ("forward", "prerouting" …)
    flow: str = ""
    guide_rules: tuple[int, ...] = ()  # the guide rules of the flow, the first the main one


@dataclass
class Ruleset:
    """A parsed configuration: its tables, the lines not understood and the named objects."""

    vendor: str
    tables: list[Table] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    objects: list[NamedObject] = field(default_factory=list)

    def table(self, family: str, name: str) -> Table | None:
        for table in self.tables:
            if (table.family, table.name) == (family, name):
                return table
        return None

    def base_chains(self, hook: str) -> list[tuple[Table, Chain]]:
        """Every base chain at ``hook``, in the order the kernel runs them (priority)."""
        found = [(t, c) for t in self.tables for c in t.base_chains(hook)]
        return sorted(found, key=lambda pair: pair[1].priority)


class ConfigError(ValueError):
    """The input cannot be analysed at all (too big, binary, not the format): a clear message."""
