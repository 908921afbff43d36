"""Cisco IOS / IOS-XE router doing NAT for the LAN (ISR, ISR 4000, Catalyst 8000 edge).

Targets Cisco IOS 15.x and IOS-XE 16.x / 17.x, configured from the CLI (``configure terminal``);
named extended access lists with sequence numbers (IOS 12.3 and later) and NAT overload on an
interface. The module is named ``cisco_ios`` because a module name cannot hold the slug's hyphen.

How it handles the traps:

- **Wildcard masks, not netmasks**: every access list entry writes ``host A``, or the network
  and its wildcard (``203.0.113.0 0.0.0.255``).
- **Ranges**: an IOS access list entry takes no address range, so a range becomes the exact
  CIDR blocks that cover it (``HostMatch.networks()``), one entry each; the base class warns.
- **Transparency** is a change: a router translates nothing until it is configured. An access
  list of the backup traffic only (``OBM-NAT``) feeds ``ip nat inside source list … interface
  … overload``, with ``ip nat inside`` / ``ip nat outside`` on the interfaces. An existing
  overload rule for the whole LAN on the same interface gives the same translation.
- **One protocol per static NAT**: ``ip nat inside source static tcp …`` and ``… udp …`` are
  separate lines, one per forwarded port, with ``extendable`` because the same host address
  appears in several of them.
- **Inbound rules name the public address**: an access list applied inbound on the outside
  interface is checked *before* NAT translates the destination, so its entries name the public
  address (``any`` when the address is dynamic; the static NAT still only forwards the given
  ports to the host).
- **IOS access lists are stateless**: applying a new list to an interface would drop the
  replies and all other traffic. The steps never bind a list; they add entries (sequence numbers
  1, 2, …, before the first entry of a list numbered 10, 20, … by default) to the lists already
  bound, which the first step finds. Where no list is bound, the router already forwards the
  traffic, and the steps say so.
- **Dynamic public address**: the static NAT uses ``interface <outside>`` instead of an address.
- **Replies of the forwarded ports**: the inside interface's list is stateless too, so the
  host's answers to the monitoring connections need entries there (UDP has no ``established``).

Markers and plans: every access list entry has a ``remark`` holding its marker
``obm:<site>:<key>`` just above it; NAT lines take no comment on the router, so the instructions
show their marker as a ``!`` comment and the plans find them by their exact text. The complete
instructions and the plans' items come from one list (``_entries``). Entries get explicit
sequence numbers, stable for an entry's role (see ``_entries``), are removed with ``no N`` (and
``no remark …``) inside ``ip access-list extended NAME``, and rewritten in place as ``no N`` then
``N permit …``; NAT lines are removed with ``no ip nat inside source …`` before the access list
entries they use. ``ip nat inside``/``ip nat outside`` on the interfaces stay: other NAT may use
them. When more of our entries are needed than fit in 1–9, the first step asks the customer to
renumber the list from 100 first (``_top``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, network_key, rule_key
from sites.vendors.restriction import only_monitoring_sources, source_words, sources_label

LANGUAGE = "cisco-ios"
CLI = "CLI: privileged EXEC mode (the lines enter and leave configuration mode)"
NAT_ACL = "OBM-NAT"
INSIDE_ACL = "INSIDE-IN"
OUTSIDE_ACL = "OUTSIDE-IN"


class CiscoIosRenderer(Renderer):
    slug = "cisco-ios"
    name = "Cisco IOS / IOS-XE router"
    versions = "Cisco IOS 15.x and IOS-XE 16.x / 17.x (ISR, ISR 4000, Catalyst 8000 edge)"
    # 2: markers (remarks), stable sequence numbers, the forwarded ports' replies on the inside
    # list.
    renderer_version = 2
    markers_since = 2
    plan_gui_path = CLI
    plan_language = LANGUAGE
    supports_ranges = False  # an access list entry takes a host or a network with wildcard
    hides_lan_by_default = False
    default_interfaces = ("GigabitEthernet0/1", "GigabitEthernet0/0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        entries = _entries(policy, site, inside, outside)
        steps = [
            self._find_acls_step(inside, outside, bool(inbound), _top(policy)),
            self._outbound_step(entries, outbound, inside),
        ]
        if snat:
            steps.append(self._transparency_step(entries, snat, inside, outside))
        if forwards:
            steps.append(self._forward_step(entries, forwards, outside))
        if inbound:
            steps.append(self._inbound_step(entries, inbound, outside))
            steps.append(self._replies_step(entries, inbound, inside))
        steps.append(
            Step(
                title="Save the configuration",
                gui_path=CLI,
                config="write memory",
                config_language=LANGUAGE,
                reason="The router runs the new lines at once but loses them at the next restart "
                "until the running configuration is saved.",
                verify=f"show startup-config | include {NAT_ACL}",
            )
        )

        inbound_verify = ""
        if inbound:
            inbound_verify = "\n".join(
                [
                    "! while the portal checks:",
                    f"show ip nat translations | include {inbound[0].required_hosts.start}",
                    f"show access-lists {OUTSIDE_ACL}",
                ]
            )
        steps += verification_steps(
            policy,
            gui_path=CLI,
            outbound_verify="\n".join(
                [
                    "! while the probe runs on the backup host:",
                    *(
                        f"show ip nat translations {r.protocol} | include :{r.port}"
                        for r in outbound
                    ),
                    f"show access-lists {NAT_ACL}",
                    "show ip nat statistics",
                ]
            ),
            inbound_verify=inbound_verify,
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        return tuple(entry.item for entry in _entries(policy, site, inside, outside))

    def plan_section(self, section: str, body: str) -> str:
        return f"configure terminal\n{body}end\n"

    def plan_file(self, steps: Iterable[Step]) -> str:
        return super().plan_file(steps) + "write memory\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        items = list(items)
        lines = [f"show running-config | include {item.marker}" for item in items]
        expected = "each shows its line" if present else "each shows nothing"
        lines.append(
            f"! {expected} (NAT lines carry no marker: show running-config | include ip nat); "
            "then save: write memory"
        )
        if not present and any(item.key.startswith(("dnat-", "snat-overload")) for item in items):
            # IOS keeps a NAT rule whose translations are in use (it asks, or refuses).
            lines.append(
                "! If IOS asks to confirm a NAT line's removal, answer yes; if it refuses one as "
                "in use, clear its translations (clear ip nat translation *, at a quiet moment) "
                "and enter the line again"
            )
        return "\n".join(lines)

    def _find_acls_step(
        self, inside: str, outside: str, monitoring: bool, top: tuple[int, int]
    ) -> Step:
        interfaces = [inside] + ([outside] if monitoring else [])
        renumber = [
            f"{acl} (on {name})"
            for acl, name, first in ((INSIDE_ACL, inside, top[0]), (OUTSIDE_ACL, outside, top[1]))
            if first == 100 and (monitoring or acl == INSIDE_ACL)
        ]
        return Step(
            kind=StepKind.CHECK,
            title="Find the access lists applied to the interfaces",
            gui_path=CLI,
            config="",
            config_language=LANGUAGE,
            reason=(
                f"The next steps add entries to the inbound access list of {inside} "
                f"(called {INSIDE_ACL} here)"
                + (f" and of {outside} (called {OUTSIDE_ACL})" if monitoring else "")
                + ". Where the command shows `Inbound access list is NAME`, use NAME (a name "
                "or a number) in their place. Where it shows `Inbound access list is not set`, "
                "that interface filters nothing: skip the matching step and do not apply a "
                "new list there, because an IOS access list is not stateful and its implicit "
                "deny would drop all other traffic, replies included. If the router uses the "
                "zone-based firewall (`show zone-pair security` lists zone pairs), allow the "
                "traffic in its zone-pair policies instead."
                + (
                    " These instructions add more entries than fit above a list numbered 10, "
                    "20, …: first renumber "
                    + " and ".join(renumber)
                    + " so that its first entry is 100 (`ip access-list resequence NAME 100 10`,"
                    " which keeps its order)."
                    if renumber
                    else ""
                )
            ),
            verify="\n".join(
                f"show ip interface {name} | include access list" for name in interfaces
            ),
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _outbound_step(self, entries: list[_Entry], rules: tuple[Rule, ...], inside: str) -> Step:
        lines = ["configure terminal", *_config(entries, "outbound"), "end"]
        return Step(
            title=f"Allow the backup traffic out on {inside} (only if it has an inbound access list)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter. The sequence numbers put "
                f"the entries at the top of the list on {inside}, above any deny; each remark "
                "holds the entry's marker (obm:…), which later change and removal "
                f"instructions look for. Skip this "
                f"step if {inside} has no inbound access list: the router then forwards this "
                "traffic already. " + rules[0].reason.detail
            ),
            verify=f"show access-lists {INSIDE_ACL}",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, entries: list[_Entry], rules: tuple[Rule, ...], inside: str, outside: str
    ) -> Step:
        *acl, overload_marker, overload = _config(entries, "transparency")
        lines = [
            "configure terminal",
            *acl,
            f"interface {inside}",
            " ip nat inside",
            f"interface {outside}",
            " ip nat outside",
            overload_marker,
            overload,
            "end",
        ]
        return Step(
            title="Translate the backup connections to the outside address (NAT overload)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"The guide's transparency: the backup connections leave with the address of "
                f"{outside} (port address translation), and only they, so nothing else changes. "
                f"`ip nat inside` and `ip nat outside` mark the interfaces; if they are already "
                "set, repeating them changes nothing. If the router already translates the whole "
                "LAN on the same interface, this rule gives the same translation."
            ),
            verify="show ip nat statistics\nshow running-config | include ip nat",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, entries: list[_Entry], rules: tuple[Rule, ...], outside: str) -> Step:
        public = rules[0].public_address
        lines = ["configure terminal", *_config(entries, "forwards"), "end"]
        where = (
            f"on the public address {public}"
            if public is not None
            else f"on whatever address {outside} has at the moment (`interface`), so they keep "
            "working when the provider changes it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (static NAT, one line per protocol)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "The monitoring GUI connects to the router, which passes each port on to the "
                f"backup host, {where}. A static NAT names one protocol, so TCP 4403 and UDP "
                "4403 are two lines; `extendable` lets the same host address appear in several."
            ),
            verify=f"show ip nat translations | include {rules[0].required_hosts.start}",
            guide_rules=guide_rules_of(rules),
        )

    def _replies_step(self, entries: list[_Entry], rules: tuple[Rule, ...], inside: str) -> Step:
        return Step(
            title=f"Let the monitoring replies out on {inside} (only if it has an inbound access "
            "list)",
            gui_path=CLI,
            config="\n".join(["configure terminal", *_config(entries, "replies"), "end"]),
            config_language=LANGUAGE,
            reason=(
                "An IOS access list has no state: the backup host's answers to the monitoring "
                f"connections enter {inside} and pass its inbound list like any packet. These "
                "entries let them through, from the forwarded ports to "
                + sources_label(rules[0], "the monitoring computers")
                + " "
                "(TCP only for `established` connections); a list that already lets the LAN's "
                "TCP replies through still drops the UDP ones. Their sequence numbers count down "
                "from just below the list's first entry, the backup entries' count up from 1. "
                f"Skip this step if {inside} has no inbound access list."
            ),
            verify=f"show access-lists {INSIDE_ACL}",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, entries: list[_Entry], rules: tuple[Rule, ...], outside: str) -> Step:
        public = rules[0].public_address
        lines = ["configure terminal", *_config(entries, "inbound"), "end"]
        sources = rules[0].allowed_sources
        if public is not None:
            names = (
                f"so its entries name the public address {public}, not the backup host's "
                f"private {rules[0].required_hosts.start}"
            )
        else:
            names = (
                "so its entries would name the public address; as that address is dynamic, "
                "they name `any`, and the static NAT still forwards only these ports"
            )
        return Step(
            title=f"Allow the monitoring GUI in on {outside} (inbound access list, public address)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"An access list applied inbound on {outside} is checked before NAT translates "
                f"the destination, {names}. "
                + (
                    only_monitoring_sources(rules[0]) + " "
                    if sources
                    else "Any address may connect. "
                )
                + f"If {outside} has no inbound access list, skip this step: the forwards work "
                "without it but stay open to any address, and restricting them takes an outside "
                "list that also lets in the replies to the LAN's traffic (or the zone-based "
                "firewall), which is more than these lines."
            ),
            verify=f"show access-lists {OUTSIDE_ACL}",
            guide_rules=guide_rules_of(rules),
        )


def _wildcard(network: IPv4Network | None) -> str:
    """An access list address: ``any``, ``host A`` or ``NETWORK WILDCARD`` (not a netmask)."""
    if network is None or network.prefixlen == 0:
        return "any"
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"{network.network_address} {network.hostmask}"


@dataclass(frozen=True)
class _Entry:
    """One item the instructions create and the step of the complete instructions it is in."""

    step: str
    item: ManagedItem


def _entries(policy: Policy, site: SiteDescription, inside: str, outside: str) -> list[_Entry]:
    """Every access list entry and NAT rule the instructions create, in the order of the
    complete instructions.

    The entries of the customer's lists get sequence numbers below 10 (above a list numbered
    10, 20, … by default), derived from their place among this version's entries of their kind:
    the backup entries count up from 1 (a datacenter network added at the end keeps the others'
    numbers), the replies of the forwarded ports count down from 9 on the same list, the
    monitoring entries count up from 1 on the outside list. An entry whose text changes keeps
    its number and is rewritten in place (``no N``, then ``N permit …``)."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    snat = policy.of_kind(RuleKind.SOURCE_NAT)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    entries: list[_Entry] = []

    def add(step, key, title, exposure, create, remove, rules, uses=(), update=""):
        entries.append(
            _Entry(
                step,
                ManagedItem(
                    key=key,
                    marker=marker(site, key),
                    title=title,
                    exposure=exposure,
                    create=create,
                    remove=remove,
                    update=update,
                    uses=tuple(uses),
                    guide_rules=guide_rules_of(rules),
                ),
            )
        )

    def acl_entry(step, acl, sequence, key, title, exposure, ace, rules, words):
        remark = " remark " + f"{marker(site, key)} {words}"[:100]  # IOS's limit for a remark
        head = f"ip access-list extended {acl}\n"
        create = f"{head}{remark}\n {sequence} {ace}\n"
        add(
            step,
            key,
            title,
            exposure,
            create,
            f"{head} no {sequence}\n no{remark}\n",
            rules,
            # The remark too goes and comes back, so it stays one, just above its entry.
            update=f"{head} no {sequence}\n no{remark}\n{remark}\n {sequence} {ace}\n",
        )

    def suffix(network: IPv4Network | None, word: str, several: bool) -> str:
        return f"-{word}-{network_key(network)}" if network is not None and several else ""

    sequence = 0
    for rule in outbound:
        sources = rule.required_hosts.networks()
        for source in sources:
            for destination in rule.datacenter:
                sequence += 1
                acl_entry(
                    "outbound",
                    INSIDE_ACL,
                    sequence,
                    f"{rule_key(rule)}-to-{network_key(destination)}"
                    + suffix(
                        source, "from", len(sources) > 1 or rule.required_hosts.kind == "range"
                    ),
                    f"{INSIDE_ACL} {sequence}: permit {rule.port_spec} from {source} to "
                    f"{destination}",
                    Exposure.OUTBOUND,
                    f"permit {rule.protocol} {_wildcard(source)} {_wildcard(destination)} "
                    f"eq {rule.port}",
                    [rule],
                    f"backup -> datacenter, {rule.port_spec}",
                )
    sequence = _top(policy)[0]
    for rule in inbound:
        # The inside list is stateless too: the host's answers to the monitoring connections
        # enter it from the host's port (UDP has no `established` a customer's list may have).
        for peer in rule.allowed_sources or (None,):
            sequence -= 1
            acl_entry(
                "replies",
                INSIDE_ACL,
                sequence,
                f"reply-{rule.protocol}-{rule.port}"
                + suffix(peer, "to", bool(rule.allowed_sources)),
                f"{INSIDE_ACL} {sequence}: permit the replies of {rule.port_spec} to "
                + (source_words(peer, rule) if peer else "any address"),
                Exposure.INBOUND,
                f"permit {rule.protocol} host {rule.required_hosts.start} eq {rule.port} "
                f"{_wildcard(peer)}" + (" established" if rule.protocol == "tcp" else ""),
                [rule],
                ("portal check replies" if peer == rule.check_source else "monitoring replies")
                + f", {rule.port_spec}",
            )
    sequence = 0
    for rule in snat:
        sources = rule.required_hosts.networks()
        keys = []
        for source in sources:
            for destination in rule.datacenter:
                sequence += 10  # our own list: numbered as IOS would
                keys.append(
                    f"{rule_key(rule)}-to-{network_key(destination)}"
                    + suffix(
                        source, "from", len(sources) > 1 or rule.required_hosts.kind == "range"
                    )
                )
                acl_entry(
                    "transparency",
                    NAT_ACL,
                    sequence,
                    keys[-1],
                    f"{NAT_ACL} {sequence}: translate {rule.port_spec} from {source} to "
                    f"{destination}",
                    Exposure.SUPPORT,
                    f"permit {rule.protocol} {_wildcard(source)} {_wildcard(destination)} "
                    f"eq {rule.port}",
                    [rule],
                    f"NAT to the outside address, {rule.port_spec}",
                )
    if snat:
        overload = f"ip nat inside source list {NAT_ACL} interface {outside} overload"
        add(
            "transparency",
            "snat-overload",
            f"NAT overload of {NAT_ACL} to {outside}",
            Exposure.SUPPORT,
            f"! {marker(site, 'snat-overload')}\n{overload}\n",
            f"no {overload}\n",
            snat,
            [e.item.key for e in entries if e.step == "transparency"],
        )
    public = forwards[0].public_address if forwards else None
    for rule in forwards:
        mapped = f"{public}" if public is not None else f"interface {outside}"
        static = (
            f"ip nat inside source static {rule.protocol} {rule.required_hosts.start} "
            f"{rule.port} {mapped} {rule.port} extendable"
        )
        add(
            "forwards",
            rule_key(rule),
            f"Static NAT of {rule.port_spec} to {rule.required_hosts.start}",
            Exposure.INBOUND,
            # A NAT line carries no comment on the router: the marker is a comment in the text,
            # and the plans find the line by its exact text.
            f"! {marker(site, rule_key(rule))}\n{static}\n",
            f"no {static}\n",
            [rule],
        )
    public_match = f"host {public}" if public is not None else "any"
    sequence = 0
    for rule in inbound:
        for peer in rule.allowed_sources or (None,):
            sequence += 1
            acl_entry(
                "inbound",
                OUTSIDE_ACL,
                sequence,
                rule_key(rule) + suffix(peer, "from", bool(rule.allowed_sources)),
                f"{OUTSIDE_ACL} {sequence}: permit {rule.port_spec} from "
                + (source_words(peer, rule) if peer else "any address"),
                Exposure.INBOUND,
                f"permit {rule.protocol} {_wildcard(peer)} {public_match} eq {rule.port}",
                [rule],
                ("portal check" if peer == rule.check_source else "monitoring GUI")
                + f" -> backup host, {rule.port_spec}",
            )
    return entries


def _top(policy: Policy) -> tuple[int, int]:
    """The first sequence number of a customer's list that ours must stay above, for the inside
    and the outside list: 10 (a list numbered 10, 20, … as IOS does by default) while our
    entries fit in 1–9; 100 when they do not, after the customer renumbers the list
    (``ip access-list resequence NAME 100 10``, which the first step then asks for)."""
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    per_rule = [max(len(r.allowed_sources), 1) for r in inbound]
    backup = sum(
        len(r.required_hosts.networks()) * len(r.datacenter)
        for r in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    )
    inside = 10 if backup + sum(per_rule) <= 9 else 100
    outside = 10 if sum(per_rule) <= 9 else 100
    return inside, outside


def _config(entries: list[_Entry], step: str) -> list[str]:
    """The lines of one step of the complete instructions, an access list's header once."""
    lines: list[str] = []
    for entry in entries:
        if entry.step != step:
            continue
        for line in entry.item.create.splitlines():
            if line.startswith("ip access-list extended ") and line in lines:
                continue
            lines.append(line)
    return lines
