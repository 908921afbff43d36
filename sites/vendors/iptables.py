"""Linux iptables (a Linux router or firewall box doing NAT for the LAN).

Targets iptables 1.8 with either backend (legacy or nf_tables) and the ``iptables-restore``
file format; checked here with ``iptables-restore --test``.

The output is one ``iptables-restore`` file, one step per table, so the steps' configuration
concatenated in order is a complete file with a single ``COMMIT`` per table:

- ``*filter``: an ``ESTABLISHED,RELATED`` accept (replies must pass whatever the chain's
  policy is), the outbound accepts, and, with monitoring, the inbound accepts. FORWARD sees
  packets after destination NAT, so inbound accepts name the host's *private* address. Rules
  are inserted at numbered positions (``-I FORWARD n``) so they come before any final
  DROP/REJECT rule the customer already has.
- ``*nat``: ``MASQUERADE`` for the backup traffic only (transparency), and one ``DNAT`` per
  protocol and port for monitoring, restricted to the monitoring sources as well, so the host is
  not exposed when the FORWARD policy happens to be ACCEPT.

The file must be loaded with ``--noflush``: without it ``iptables-restore`` replaces every rule
of the tables it names.

Every rule carries its marker as ``-m comment --comment "obm:<site>:<key>"``, so a change or
removal plan deletes exactly it (``-D`` with the same specification) in a file loaded the same
way.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.analyzer.model import ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps, with_reason
from sites.vendors.managed import Exposure, ManagedItem, marker, network_key, rule_key
from sites.vendors.restriction import connecting

LOAD = "iptables-restore --noflush"


class IptablesRenderer(Renderer):
    slug = "iptables"
    name = "Linux iptables"
    versions = "iptables 1.8 (legacy and nf_tables backends), iptables-restore format"
    renderer_version = 3  # 2: inbound accepts require --ctstate DNAT; 3: markers
    markers_since = 3
    plan_language = "iptables-restore"
    supports_ranges = True  # -m iprange
    hides_lan_by_default = False
    default_interfaces = ("lan0", "wan0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        ports = sorted({r.port for r in policy.rules if r.port is not None and not r.kind.on_host})
        grep = "|".join(str(p) for p in ports)
        steps = [
            Step(
                title="Allow the backup traffic through the firewall (filter table)",
                gui_path="Command line",
                config=self._filter_table(policy, site, inside, outside),
                config_language="iptables-restore",
                reason=(
                    "Lets the backup host reach the datacenter"
                    + (
                        ", lets the monitoring GUI reach the backup host,"
                        if policy.of_kind(RuleKind.ALLOW_INBOUND)
                        else ""
                    )
                    + " and lets the replies of those connections back. "
                    f"Save the file and load it once with `{LOAD} FILE`: --noflush keeps your "
                    "other rules, and loading it twice adds the rules twice."
                ),
                verify=f"iptables -S FORWARD | grep -E -- 'ESTABLISHED|--dport ({grep})'",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
                ),
            ),
            Step(
                title=(
                    "Translate the backup connections"
                    + (
                        " and forward the monitoring ports"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + " (nat table)"
                ),
                gui_path="Command line",
                config=self._nat_table(policy, site, outside),
                config_language="iptables-restore",
                reason=(
                    "Masquerades the backup connections behind the firewall's outside address "
                    "(the guide's transparency)"
                    + (
                        ", and forwards the monitoring ports from the public address to the "
                        "backup host"
                        if policy.of_kind(RuleKind.DESTINATION_NAT)
                        else ""
                    )
                    + f". Load it together with the filter table (`{LOAD} FILE`)."
                ),
                verify=f"iptables -t nat -S | grep -E -- '--dport ({grep})'",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.SOURCE_NAT, RuleKind.DESTINATION_NAT)
                ),
            ),
        ]
        steps += verification_steps(
            policy,
            gui_path="Command line",
            outbound_verify=(
                "# while the probe runs on the backup host:\n"
                + "\n".join(
                    f"conntrack -L -p {r.protocol} --dport {r.port}"
                    for r in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
                )
                + "\niptables -t nat -L POSTROUTING -v -n  # the MASQUERADE counters rise"
            ),
            inbound_verify=(
                "# while the portal checks, the DNAT and FORWARD counters rise:\n"
                "iptables -t nat -L PREROUTING -v -n\n"
                "iptables -L FORWARD -v -n"
            ),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        items = []
        for entry in _entries(policy, site, inside, outside):
            command = "-I" if entry.chain == "FORWARD" else "-A"
            position = " 1" if entry.chain == "FORWARD" else ""
            items.append(
                ManagedItem(
                    key=entry.key,
                    marker=entry.marker,
                    title=entry.title,
                    exposure=entry.exposure,
                    create=f"{command} {entry.chain}{position} {entry.spec}",
                    remove=f"-D {entry.chain} {entry.spec}",
                    section=entry.table,
                    guide_rules=entry.guide_rules,
                )
            )
        return tuple(items)

    def plan_section(self, section: str, body: str) -> str:
        return f"*{section}\n{body}COMMIT\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        chosen = list(items)
        markers = "|".join(dict.fromkeys(item.marker for item in chosen))
        expected = "one line per marker" if present else "nothing"
        if present and len(chosen) > len(set(item.marker for item in chosen)):
            # A rule copied above a deny in another table carries its original's marker.
            expected = "one line per marker, and one more per copy in another table"
        return f"iptables-save | grep -E -- '{markers}'  # {expected}"

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """The filter rules already go to the top of FORWARD (``-I FORWARD 1`` …), before any
        chain it jumps to. A deny in another table (mangle, raw) runs before the filter table,
        and an accept there does not skip it: the same rules go into that chain, at the deny's
        position (``-t TABLE -I CHAIN N``), so they come first there too."""
        ours = re.findall(r"^-I FORWARD \d+ (.*)$", step.config, flags=re.MULTILINE)
        if not ours:
            return super().place_above(step, deny)
        why = f"Your rule at line {deny.line} `{deny.text}` ({deny.table} table, {deny.chain})"
        if deny.table == "filter":
            return with_reason(
                step,
                f"{why} would otherwise block this connection first: these rules go to the top "
                "of FORWARD (`-I FORWARD 1`, …), so they come before it.",
            )
        before_routing = deny.chain == "PREROUTING"
        lines = [
            f"-I {deny.chain} {deny.position + offset} {_in_chain(rule, before_routing)}"
            for offset, rule in enumerate(ours)
        ]
        block = (
            f"*{deny.table}\n# Above your line {deny.line} ({deny.chain}), which would otherwise "
            "drop these connections first.\n" + "\n".join(lines) + "\nCOMMIT\n"
        )
        return dataclasses.replace(
            step,
            config=step.config + block,
            reason=(
                f"{step.reason} {why} would otherwise block this connection first: the "
                f"{deny.table} table runs before the filter table, and an accept in one table "
                f"does not skip another, so the same rules also go into {deny.chain} of the "
                f"{deny.table} table at its position {deny.position} (`-I {deny.chain} "
                f"{deny.position}`), above it."
            ),
            verify=step.verify + f"\niptables -t {deny.table} -S {deny.chain}",
        )

    def placed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec, deny: ShadowingRule
    ) -> tuple[ManagedItem, ...]:
        """The copies ``place_above`` puts into the chain of a deny in another table, each with
        its original's marker (the copy carries the same comment) and a key of its own; removed
        with ``-D CHAIN`` in that table."""
        if deny.table == "filter":
            return ()
        inside, outside = self.interfaces(site)
        before_routing = deny.chain == "PREROUTING"
        ours = [e for e in _entries(policy, site, inside, outside) if e.chain == "FORWARD"]
        items = []
        for offset, entry in enumerate(ours):
            spec = _in_chain(entry.spec, before_routing)
            items.append(
                ManagedItem(
                    key=f"{entry.key}@{deny.table}-{deny.chain}-{deny.line}",
                    marker=entry.marker,
                    title=f"{entry.title} ({deny.table} {deny.chain}, above your line {deny.line})",
                    exposure=entry.exposure,
                    create=f"-I {deny.chain} {deny.position + offset} {spec}",
                    remove=f"-D {deny.chain} {spec}",
                    section=deny.table,
                    guide_rules=entry.guide_rules,
                )
            )
        return tuple(items)

    def _filter_table(
        self, policy: Policy, site: SiteDescription, inside: str, outside: str
    ) -> str:
        lines = ["*filter"]
        position = 0
        for entry in _entries(policy, site, inside, outside):
            if entry.table != "filter":
                continue
            lines += entry.notes
            position += 1
            lines.append(f"-I FORWARD {position} {entry.spec}")
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"

    def _nat_table(self, policy: Policy, site: SiteDescription, outside: str) -> str:
        lines = ["*nat"]
        for entry in _entries(policy, site, "", outside):
            if entry.table == "nat":
                lines += entry.notes
                lines.append(f"-A {entry.chain} {entry.spec}")
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Entry:
    """One rule line the instructions create: its table and chain, its rule specification (with
    its marker), and the comment lines shown above it in the complete file."""

    table: str
    chain: str
    key: str
    marker: str
    spec: str
    title: str
    exposure: Exposure
    guide_rules: tuple[GuideRule, ...]
    notes: tuple[str, ...] = ()


def _entries(policy: Policy, site: SiteDescription, inside: str, outside: str) -> list[_Entry]:
    """Every rule line, filter table first, in the order of the complete file."""
    entries = []
    notes: tuple[str, ...]  # the comment lines above the next line of the complete file

    def add(table, chain, key, spec, title, exposure, rule=None, notes=()):
        mark = marker(site, key)
        entries.append(
            _Entry(
                table=table,
                chain=chain,
                key=key,
                marker=mark,
                spec=spec.replace(" -j ", f' -m comment --comment "{mark}" -j ', 1),
                title=title,
                exposure=exposure,
                guide_rules=rule.reason.guide_rules if rule else (),
                notes=notes,
            )
        )

    add(
        "filter",
        "FORWARD",
        "established",
        "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        "Accept the replies of allowed connections",
        Exposure.SUPPORT,
        notes=("# Replies to allowed connections; does not rely on the chain's policy.",),
    )
    for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
        notes = (f"# {rule.reason.label}: backup host -> datacenter, {rule.port_spec}.",)
        for destination in rule.datacenter:
            add(
                "filter",
                "FORWARD",
                f"{rule_key(rule)}-to-{network_key(destination)}",
                f"-i {inside} -o {outside} {_source(rule.required_hosts)} -d {destination} "
                f"{_port(rule)} -j ACCEPT",
                f"Allow {rule.port_spec} from the backup host to {destination}",
                Exposure.OUTBOUND,
                rule,
                notes,
            )
            notes = ()
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    for number, rule in enumerate(inbound):
        notes = (f"# {rule.reason.label}: {connecting(rule)} -> backup host, {rule.port_spec}.",)
        if number == 0:
            notes = (
                "# FORWARD sees forwarded packets after DNAT: match the private address, and only"
                " connections that came through the port-forward (--ctstate DNAT).",
                *notes,
            )
        for source_key, source, source_words in _sources(rule.allowed_sources, rule.check_source):
            add(
                "filter",
                "FORWARD",
                rule_key(rule) + source_key,
                f"-i {outside} -o {inside}{source} -d {rule.required_hosts.start}/32 "
                f"{_port(rule)} -m conntrack --ctstate DNAT -j ACCEPT",
                f"Allow {rule.port_spec} in to the backup host{source_words}",
                Exposure.INBOUND,
                rule,
                notes,
            )
            notes = ()
    for rule in policy.of_kind(RuleKind.SOURCE_NAT):
        notes = (f"# {rule.reason.label}: backup connections leave with the outside address.",)
        for destination in rule.datacenter:
            add(
                "nat",
                "POSTROUTING",
                f"{rule_key(rule)}-to-{network_key(destination)}",
                f"-o {outside} {_source(rule.required_hosts)} -d {destination} "
                f"{_port(rule)} -j MASQUERADE",
                f"Masquerade {rule.port_spec} to {destination}",
                Exposure.SUPPORT,
                rule,
                notes,
            )
            notes = ()
    for rule in policy.of_kind(RuleKind.DESTINATION_NAT):
        # A dynamic public address: match "addressed to this firewall" instead of -d.
        to_firewall = (
            f"-d {rule.public_address}/32"
            if rule.public_address
            else "-m addrtype --dst-type LOCAL"
        )
        notes = (f"# {rule.reason.label}: forward {rule.port_spec} to the backup host.",)
        for source_key, source, source_words in _sources(rule.allowed_sources, rule.check_source):
            add(
                "nat",
                "PREROUTING",
                rule_key(rule) + source_key,
                f"-i {outside}{source} {to_firewall} {_port(rule)} "
                f"-j DNAT --to-destination {rule.required_hosts.start}:{rule.port}",
                f"Forward {rule.port_spec} to the backup host{source_words}",
                Exposure.INBOUND,
                rule,
                notes,
            )
            notes = ()
    return entries


def _source(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"-m iprange --src-range {hosts}"
    return f"-s {hosts.networks()[0]}"


def _sources(
    networks: tuple[IPv4Network, ...], check: IPv4Network | None
) -> Iterator[tuple[str, str, str]]:
    """(key suffix, `` -s`` match, `` from …`` words) per allowed source, or one empty triple
    for "any source"; the words name the portal's check source (``check``) as what it is."""
    if not networks:
        yield "", "", ""
    for network in networks:
        words = (
            f" from the portal's inbound check {network.network_address}"
            if network == check
            else f" from {network}"
        )
        yield f"-from-{network_key(network)}", f" -s {network}", words


def _port(rule: Rule) -> str:
    return f"-p {rule.protocol} -m {rule.protocol} --dport {rule.port}"


def _in_chain(rule: str, before_routing: bool) -> str:
    """A FORWARD rule as a rule of another chain: before routing no output interface is known
    (iptables refuses ``-o`` in PREROUTING)."""
    return re.sub(r" -o \S+", "", rule) if before_routing else rule
