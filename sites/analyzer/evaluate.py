"""Whether a forwarded IPv4 connection works through a Linux (netfilter) ruleset, and which lines
decide it.

The path is the kernel's. The first packet (conntrack state NEW) passes the prerouting hook, where
the first nat chain that translates binds the destination NAT; routing then picks the output
interface from the translated destination; the forward hook's filter chains see the translated
destination; the postrouting hook binds the source NAT. A connection works only if its replies
(state ESTABLISHED, carrying the connection's ``dnat``/``snat`` status) come back through the same
hooks, translated back, and, for TCP, the sender's later packets pass too. At one hook the base
chains run in priority order: an accept ends one chain, a drop ends everything.

A rule the parser did not fully understand *might* match: the evaluation is run both ways, and
the verdict is ``unknown`` only when the two answers differ, i.e. when the line could change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.flows import Flow
from sites.analyzer.model import (
    CONNTRACK_PRIORITY,
    DSTNAT_PRIORITY,
    NAT_ACTIONS,
    SRCNAT_PRIORITY,
    TERMINAL,
    ActionKind,
    Chain,
    Rule,
    Ruleset,
    Table,
)
from sites.description import SiteDescription

ALLOWED, BLOCKED, UNKNOWN = "allowed", "blocked", "unknown"
MAX_UNRECOGNISED_ON_PATH = 8  # each doubles the work; beyond this the answer is "unknown"
MAX_STEPS = 1_000_000  # rules visited in one walk: bounds goto loops the kernel would refuse
DEFAULT_INTERFACES = ("lan0", "wan0")  # what the iptables and nftables instructions assume
_VERB = {ActionKind.DROP: "drops", ActionKind.REJECT: "rejects"}


@dataclass(frozen=True)
class Topology:
    """The firewall around the rules: its two interfaces, the LAN behind the inside one, and its
    own addresses (the LAN gateway and the public address)."""

    inside: str
    outside: str
    inside_network: IPv4Network
    inside_address: IPv4Address
    outside_address: IPv4Address | None

    @classmethod
    def of_site(cls, site: SiteDescription, *, inside: str = "", outside: str = "") -> Topology:
        """From the site file; blank interface names default to what the instructions assume."""
        return cls(
            inside=inside or site.inside_interface or DEFAULT_INTERFACES[0],
            outside=outside or site.outside_interface or DEFAULT_INTERFACES[1],
            inside_network=site.lan_network,
            inside_address=site.lan_gateway,
            outside_address=site.public_address,
        )

    def route(self, destination: IPv4Address) -> str:
        """The interface a packet to ``destination`` leaves by ("" when it is for the firewall)."""
        if self.is_local(destination):
            return ""
        return self.inside if destination in self.inside_network else self.outside

    def is_local(self, address: IPv4Address) -> bool:
        return address in (self.inside_address, self.outside_address)

    def address_of(self, interface: str) -> IPv4Address | None:
        return self.inside_address if interface == self.inside else self.outside_address


@dataclass(frozen=True)
class CitedLine:
    """A line of the configuration that takes part in the verdict, and what it does."""

    line: int
    text: str
    effect: str

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "text": self.text, "effect": self.effect}


@dataclass(frozen=True)
class Verdict:
    """The answer for one flow. Translated addresses are what the peer sees (``None``: none)."""

    verdict: str  # ALLOWED, BLOCKED or UNKNOWN
    lines: tuple[CitedLine, ...]
    translated_source: str | None
    translated_destination: str | None
    reason: str


@dataclass(frozen=True)
class _Packet:
    protocol: str
    source: IPv4Address
    destination: IPv4Address
    source_port: int | None  # None: a client's ephemeral port
    destination_port: int | None
    in_interface: str  # "" where the kernel has none (postrouting)
    out_interface: str  # "" where the kernel has none yet (prerouting)
    state: str  # "new", "established", or "invalid" before conntrack has seen it
    reply: bool = False  # the direction of an established packet
    status: frozenset[str] = frozenset()  # the connection's "dnat" / "snat"


@dataclass(frozen=True)
class _Endpoint:
    address: IPv4Address | None  # None: the (dynamic) address of an interface
    port: int | None
    interface: str = ""

    def __str__(self) -> str:
        address = str(self.address) if self.address else f"the address of {self.interface}"
        return address if self.port is None else f"{address}:{self.port}"


class _NeedsAssumption(Exception):
    def __init__(self, rule: Rule):
        self.rule = rule


class _Undecidable(Exception):
    def __init__(self, rule: Rule | None, reason: str):
        self.rule, self.reason = rule, reason


@dataclass
class _Outcome:
    verdict: str
    lines: list[CitedLine]
    translated_source: str | None
    translated_destination: str | None
    reason: str
    assumed: dict[int, bool] = field(default_factory=dict)

    @property
    def answer(self) -> tuple[str, str | None, str | None]:
        return (self.verdict, self.translated_source, self.translated_destination)


def evaluate(ruleset: Ruleset, flow: Flow, topology: Topology) -> Verdict:
    """The verdict for ``flow``; ``unknown`` only if a line not understood could change it."""
    rules = {
        rule.key: rule
        for table in ruleset.tables
        for chain in table.chains.values()
        for rule in chain.rules
    }
    outcomes: list[_Outcome] = []
    pending: list[dict[int, bool]] = [{}]
    while pending:
        assumptions = pending.pop()
        try:
            outcome = _Connection(ruleset, topology, assumptions).run(flow)
        except _NeedsAssumption as need:
            if len(assumptions) >= MAX_UNRECOGNISED_ON_PATH:
                return _unknown_verdict(
                    [rules[k] for k in assumptions] + [need.rule],
                    "too many lines not understood on the path to tell",
                )
            pending.append({**assumptions, need.rule.key: True})
            pending.append({**assumptions, need.rule.key: False})
            continue
        except _Undecidable as undecidable:
            cited = [rules[k] for k in assumptions]
            return _unknown_verdict(
                cited + ([undecidable.rule] if undecidable.rule else []), undecidable.reason
            )
        outcome.assumed = assumptions
        outcomes.append(outcome)
    first = outcomes[0]
    if len({o.answer for o in outcomes}) == 1:
        reason = first.reason
        ignored = sorted({rules[k].line for o in outcomes for k in o.assumed})
        if ignored:
            numbers = ", ".join(str(n) for n in ignored)
            reason += f" Not understood, but without effect on this flow: line {numbers}."
        return Verdict(
            first.verdict,
            tuple(first.lines),
            first.translated_source,
            first.translated_destination,
            reason,
        )
    deciding = sorted({k for o in outcomes for k in o.assumed})
    return _unknown_verdict([rules[k] for k in deciding], "whether they match decides it")


def _cite_accept_policy(table: Table, chain: Chain) -> bool:
    """An accept policy decides where the chain could have said otherwise: it has rules that
    decide, or it is the forward filter itself (iptables' mangle and security tables aside)."""
    if not chain.line:
        return False
    if any(rule.action.kind is not ActionKind.CONTINUE for rule in chain.rules):
        return True
    return chain.hook == "forward" and table.name not in ("mangle", "security")


def _unknown_verdict(rules: list[Rule], why: str) -> Verdict:
    unique = sorted({r.key: r for r in rules}.values(), key=lambda r: r.line)
    cited = tuple(
        CitedLine(r.line, r.text, "not understood: " + (r.match.unknown or r.action.detail))
        for r in unique
    )
    numbers = ", ".join(str(c.line) for c in cited)
    return Verdict(UNKNOWN, cited, None, None, f"Line {numbers} not understood, and {why}.")


@dataclass
class _Connection:
    """One evaluation of a connection under fixed assumptions about the lines not understood."""

    ruleset: Ruleset
    topology: Topology
    assumptions: dict[int, bool]
    cited: list[tuple[Rule | Chain, str]] = field(default_factory=list)
    original_source: _Endpoint | None = None
    original_destination: _Endpoint | None = None
    arrived_on: str = ""  # the interface the first packet came in by
    dnat: _Endpoint | None = None  # where the first packet was sent to instead
    snat: _Endpoint | None = None  # the source it left with

    def run(self, flow: Flow) -> _Outcome:
        self.original_source = _Endpoint(flow.source, flow.source_port)
        self.original_destination = _Endpoint(flow.destination, flow.destination_port)
        self.arrived_on = self.topology.route(flow.source) or self.topology.inside
        first = _Packet(
            flow.protocol,
            flow.source,
            flow.destination,
            flow.source_port,
            flow.destination_port,
            self.arrived_on,
            "",
            "new",
        )
        what = "the new connection"
        packet = self.hook("prerouting", first, what)
        if packet is None:
            return self.outcome(BLOCKED, "The new connection is dropped before routing.")
        out = self.topology.route(packet.destination)
        if not out:
            return self.outcome(
                BLOCKED,
                f"The connection is addressed to the firewall itself ({packet.destination}): "
                "no port-forward translates it, so it is not forwarded.",
            )
        packet = self.hook("forward", replace(packet, out_interface=out), what)
        if packet is None:
            return self.outcome(BLOCKED, "The new connection is not forwarded.")
        sent = self.hook("postrouting", replace(packet, in_interface=""), what)
        if sent is None:
            return self.outcome(BLOCKED, "The new connection is dropped on its way out.")
        if out == first.in_interface and not (
            self.snat and self.snat.address and self.topology.is_local(self.snat.address)
        ):
            return self.outcome(
                BLOCKED,
                f"The connection is sent back out of {out}, the side it came from, without "
                "translating its source to the firewall: the replies go straight to the sender, "
                "past the firewall, and the connection fails.",
            )
        if not self.reply(sent, out, first.in_interface):
            return self.outcome(BLOCKED, "The connection is forwarded but its replies are not.")
        if flow.protocol == "tcp" and not self.later(first, out):
            return self.outcome(
                BLOCKED,
                "The first packet is forwarded but the connection's later packets are not.",
            )
        return self.outcome(ALLOWED, "Forwarded, translated as shown, and its replies come back.")

    def outcome(self, verdict: str, reason: str) -> _Outcome:
        effects: dict[int, tuple[str, list[str]]] = {}
        for item, effect in self.cited:
            text = item.text
            entry = effects.setdefault(item.line, (text, []))
            if effect not in entry[1]:
                entry[1].append(effect)
        lines = [CitedLine(n, text, "; ".join(e)) for n, (text, e) in effects.items()]
        if verdict == BLOCKED and self.cited:
            deciding, effect = self.cited[-1]
            reason += f" Line {deciding.line}: {effect}."
        return _Outcome(
            verdict,
            lines,
            str(self.snat) if self.snat else None,
            str(self.dnat) if self.dnat else None,
            reason,
        )

    # -- the packets after the first ---------------------------------------------------------

    def status(self) -> frozenset[str]:
        return frozenset(
            name for name, bound in (("dnat", self.dnat), ("snat", self.snat)) if bound
        )

    def reply(self, sent: _Packet, out: str, back: str) -> bool:
        """The answer arrives from the translated destination to the translated source."""
        packet = _Packet(
            sent.protocol,
            sent.destination,
            sent.source,
            sent.destination_port,
            sent.source_port,
            out,
            "",
            "established",
            reply=True,
            status=self.status(),
        )
        return self._through(packet, back, "the replies")

    def later(self, first: _Packet, out: str) -> bool:
        """The sender's packets after the first (conntrack state ESTABLISHED)."""
        packet = replace(first, state="established", status=self.status())
        return self._through(packet, out, "the connection's later packets")

    def _through(self, packet: _Packet, out: str, what: str) -> bool:
        routed = self.hook("prerouting", packet, what)
        if routed is None:
            return False
        forwarded = self.hook("forward", replace(routed, out_interface=out), what)
        if forwarded is None:
            return False
        return self.hook("postrouting", replace(forwarded, in_interface=""), what) is not None

    # -- one hook ----------------------------------------------------------------------------

    def hook(self, hook: str, packet: _Packet, what: str) -> _Packet | None:
        """``packet`` after ``hook`` (translated where NAT applies), or ``None`` if dropped."""
        manip_priority = DSTNAT_PRIORITY if hook == "prerouting" else SRCNAT_PRIORITY
        pending_manip = packet.state == "established" and hook in ("prerouting", "postrouting")
        for table, chain in self.ruleset.base_chains(hook):
            if pending_manip and chain.priority > manip_priority:
                packet, pending_manip = self.translate(hook, packet), False
            if hook == "prerouting" and chain.priority < CONNTRACK_PRIORITY:
                # Not tracked yet: conntrack matches see an "invalid" packet without status.
                untracked = replace(packet, state="invalid", status=frozenset())
                if self.traverse_filter(table, chain, untracked, what) is None:
                    return None
                continue
            if chain.type == "nat":
                if packet.state == "new" and hook in ("prerouting", "postrouting"):
                    translated = self.nat(hook, table, chain, packet, what)
                    if translated is None:
                        return None
                    packet = translated
                continue
            if self.traverse_filter(table, chain, packet, what) is None:
                return None
        if pending_manip:
            packet = self.translate(hook, packet)
        return packet

    def traverse_filter(
        self, table: Table, chain: Chain, packet: _Packet, what: str
    ) -> _Packet | None:
        """``packet`` if the filter chain lets it on, ``None`` if it drops it."""
        rule = self.traverse(table, chain, packet, what)
        if rule is None:
            if chain.policy == "drop":
                self.cited.append((chain, f"the chain's policy drops {what}"))
                return None
            if _cite_accept_policy(table, chain):
                self.cited.append((chain, f"the chain's policy accepts {what}"))
        elif rule.action.kind is ActionKind.ACCEPT:
            self.cited.append((rule, f"accepts {what}"))
        elif rule.action.kind in (ActionKind.DROP, ActionKind.REJECT):
            self.cited.append((rule, f"{_VERB[rule.action.kind]} {what}"))
            return None
        else:
            raise _Undecidable(rule, f"{rule.action.kind} in a filter chain is not analysed")
        return packet

    def translate(self, hook: str, packet: _Packet) -> _Packet:
        """What conntrack does to a later packet of a translated connection at this hook: the
        destination at prerouting, the source at postrouting, each undone for replies."""
        if hook == "prerouting":
            endpoint = (self.original_source if self.snat else None) if packet.reply else self.dnat
            if endpoint is None:
                return packet
            return replace(
                packet,
                destination=endpoint.address or packet.destination,
                destination_port=endpoint.port,
            )
        endpoint = (self.original_destination if self.dnat else None) if packet.reply else self.snat
        if endpoint is None:
            return packet
        port = endpoint.port if endpoint.port is not None else packet.source_port
        return replace(packet, source=endpoint.address or packet.source, source_port=port)

    def nat(
        self, hook: str, table: Table, chain: Chain, packet: _Packet, what: str
    ) -> _Packet | None:
        """The first packet through a nat chain: binds the translation if a rule says so."""
        if (self.dnat if hook == "prerouting" else self.snat) is not None:
            return packet  # the first nat chain that translates wins
        rule = self.traverse(table, chain, packet, what)
        if rule is None or rule.action.kind is ActionKind.ACCEPT:
            return packet
        action = rule.action
        if action.kind in (ActionKind.DROP, ActionKind.REJECT):
            self.cited.append((rule, f"drops {what}"))
            return None
        if hook == "prerouting" and action.kind in (ActionKind.DNAT, ActionKind.REDIRECT):
            address = action.address
            if action.kind is ActionKind.REDIRECT:
                address = self.topology.address_of(packet.in_interface)
            self.dnat = _Endpoint(
                address or packet.destination,
                action.port if action.port is not None else packet.destination_port,
            )
            self.cited.append((rule, f"translates the destination to {self.dnat}"))
            return replace(
                packet,
                destination=self.dnat.address or packet.destination,
                destination_port=self.dnat.port,
                status=packet.status | {"dnat"},
            )
        if hook == "postrouting" and action.kind in (ActionKind.SNAT, ActionKind.MASQUERADE):
            if action.kind is ActionKind.MASQUERADE:
                address = self.topology.address_of(packet.out_interface)
                self.snat = _Endpoint(address, action.port, packet.out_interface)
                effect = f"masquerades the source as {self.snat}"
            else:
                self.snat = _Endpoint(action.address, action.port)
                effect = f"translates the source to {self.snat}"
            self.cited.append((rule, effect))
            return replace(
                packet,
                source=self.snat.address or packet.source,
                source_port=self.snat.port if self.snat.port is not None else packet.source_port,
                status=packet.status | {"snat"},
            )
        raise _Undecidable(rule, f"{action.kind} in the {hook} nat chain is not analysed")

    # -- one chain ---------------------------------------------------------------------------

    def traverse(self, table: Table, chain: Chain, packet: _Packet, what: str) -> Rule | None:
        """The rule that ends ``packet``'s walk from base chain ``chain`` (accept, drop,
        reject or a translation), citing the jumps on the way; ``None``: the policy applies."""
        stack: list[tuple[Chain, int, int]] = []
        path: list[Rule] = []
        current, index = chain, 0
        for _ in range(MAX_STEPS):
            if index >= len(current.rules):
                if not stack:
                    return None
                current, index, depth = stack.pop()
                del path[depth:]
                continue
            rule = current.rules[index]
            index += 1
            kind = rule.action.kind
            if kind is ActionKind.CONTINUE or not self.matches(rule, packet):
                continue  # a LOG or counter changes nothing, matched or not
            if kind in (ActionKind.JUMP, ActionKind.GOTO):
                target = table.chains.get(rule.action.chain)
                if target is None:
                    raise _Undecidable(rule, f"the chain {rule.action.chain} does not exist")
                if kind is ActionKind.JUMP:
                    if len(stack) > 64:
                        raise _Undecidable(rule, "the chains nest too deep")
                    stack.append((current, index, len(path)))
                path.append(rule)
                current, index = target, 0
                continue
            if kind is ActionKind.RETURN:
                if not stack:
                    return None
                current, index, depth = stack.pop()
                del path[depth:]
                continue
            if kind in TERMINAL or kind in NAT_ACTIONS:
                self.cited.extend((jump, f"passes {what} to {jump.action.chain}") for jump in path)
                return rule
            raise _Undecidable(rule, rule.action.detail or f"{kind} is not analysed")
        raise _Undecidable(None, "the chains loop")

    def matches(self, rule: Rule, packet: _Packet) -> bool:
        """Whether ``rule`` matches; asks for an assumption when only an unknown part could."""
        match = rule.match
        if match.ipv6_only:
            return False
        if match.protocols is not None and (packet.protocol in match.protocols) == (
            match.protocols_negated
        ):
            return False
        for interfaces, name in (
            (match.in_interface, packet.in_interface),
            (match.out_interface, packet.out_interface),
        ):
            if interfaces is not None and (not name or not interfaces.matches(name)):
                return False
        if match.source is not None and not match.source.matches(packet.source):
            return False
        original = self.original_destination
        if original is not None and original.address is not None:
            if match.original_destination is not None and not match.original_destination.matches(
                original.address
            ):
                return False
            if match.original_destination_ports is not None and (
                match.original_destination_ports.matches(original.port) is False
            ):
                return False
        if match.arrived_on is not None and not match.arrived_on.matches(self.arrived_on):
            return False
        if match.destination is not None and not match.destination.matches(packet.destination):
            return False
        uncertain = bool(match.unknown)
        for ports, port in (
            (match.source_ports, packet.source_port),
            (match.destination_ports, packet.destination_port),
        ):
            if ports is not None:
                hit = ports.matches(port)
                if hit is False:
                    return False
                uncertain = uncertain or hit is None
        flags = packet.status | {packet.state}
        if match.ct_state is not None and bool(flags & match.ct_state) == match.ct_state_negated:
            return False
        if match.ct_status is not None and (
            packet.state == "invalid"  # not tracked yet: nft's ct status never matches
            or bool(packet.status & match.ct_status) == match.ct_status_negated
        ):
            return False
        if match.local_destination is not None and (
            self.topology.is_local(packet.destination) != match.local_destination
        ):
            return False
        if match.local_source is not None and (
            self.topology.is_local(packet.source) != match.local_source
        ):
            return False
        if not uncertain:
            return True
        if rule.key in self.assumptions:
            return self.assumptions[rule.key]
        raise _NeedsAssumption(rule)
