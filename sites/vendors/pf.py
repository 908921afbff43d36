"""OpenBSD and FreeBSD pf (a BSD router or firewall box doing NAT for the LAN).

Targets OpenBSD 6.x and 7.x pf (``match``/``nat-to``/``rdr-to``, the syntax since OpenBSD 4.7)
and FreeBSD 13, 14 and 15 pf (``nat``/``rdr`` translation rules, which every FreeBSD release
accepts). The site's firmware field picks the variant: a firmware naming FreeBSD gets the
FreeBSD syntax, anything else (blank, "OpenBSD 7.6") the OpenBSD syntax, and the steps say how
to get the other one. pfctl is the checker (``pfctl -nf /etc/pf.conf``); it is not available
where the portal runs, so the tests check the syntax by content.

The output is three pieces of ``/etc/pf.conf`` whose concatenation, in step order, is itself a
valid pf.conf fragment: macros and tables first, then translation, then filtering (FreeBSD's
pfctl refuses translation rules after filter rules; OpenBSD evaluates ``match`` rules in order,
so they must precede the ``pass`` rules that see their result).

- Interfaces are macros ``obm_int_if`` / ``obm_ext_if`` (prefixed, so they cannot redefine the
  customer's own ``int_if``/``ext_if``). On OpenBSD the outside defaults to ``egress``, the
  group of the interface holding the default route; FreeBSD has no such group.
- Tables ``<obm_dc>`` (datacenter) and ``<obm_monitor>`` (monitoring sources, if known). A range
  of backup hosts is written ``a.b.c.d - a.b.c.e``, which pf matches natively.
- Transparency: pf translates nothing by default, so the NAT for the backup traffic is a change:
  ``match out … nat-to ($obm_ext_if:0)`` (OpenBSD) or ``nat on $obm_ext_if … -> ($obm_ext_if)``
  (FreeBSD); the parentheses follow a dynamic outside address.
- Filtering: a routed packet is filtered on both interfaces, so each direction has a ``pass in``
  and a ``pass out`` rule (a ruleset starting with ``block`` needs both). ``pass`` keeps state,
  so replies return. Filter rules see packets *after* translation: the ``pass out`` on the
  outside does not name the backup host (its source is already the firewall's address), and
  the forwarded monitoring traffic is passed to the host's *private* address. The rules go at
  the end of the file, where pf's last-match rule makes them win over earlier ``block`` rules;
  the ``pass in`` rules carry ``log`` so ``tcpdump -i pflog0`` shows each new connection.
- Monitoring: pf takes ``proto { tcp udp }`` in one rule (pfctl expands it), so TCP and UDP
  4403 share a line and TCP 4401 has its own. Redirection uses ``match in … rdr-to`` (OpenBSD)
  or ``rdr on …`` (FreeBSD), not ``rdr pass``, which would skip the filter rules; the sources
  are restricted in the redirection and in the pass rules. A dynamic public address is matched
  as ``($obm_ext_if)``, which pf updates when the address changes.

**Markers and plans.** Every line the instructions add carries its marker: filter rules and
OpenBSD's match rules a ``label "obm:<site>:<key>"`` (shown by ``pfctl -sr`` and counted by
``pfctl -s labels``), macros, tables and FreeBSD's nat/rdr rules (whose grammar has no label) a
trailing ``# obm:<site>:<key>`` comment. pf has no command that deletes one rule of the main
ruleset: it loads a whole file, atomically (``pfctl -f``). So a change or removal plan is what it
honestly is, edits to ``/etc/pf.conf``: lines to add where each step says, lines to replace in
place (found by their marker) and lines to delete, each step ending with ``pfctl -nf`` and
``pfctl -f``. The rules stay in pf.conf rather than in an anchor loaded with ``pfctl -a obm -f``:
an anchor is replaced whole too, so it would not make a plan more than a new file either, and
FreeBSD needs translation rules before filter rules, which a separate anchor would split into
``nat-anchor``/``rdr-anchor``/``anchor`` hooks in pf.conf anyway. Keys name a line's role and
port (``out-4401``, ``rdr-4403``), so a changed line is replaced in place, never deleted with its
successor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import (
    Renderer,
    Step,
    guide_rules_of,
    monitoring_sources,
    verification_steps,
)
from sites.vendors.managed import Exposure, ManagedItem, marker
from sites.vendors.port_groups import by_port, ports_regex, protocols_label
from sites.vendors.restriction import connecting, sources_label

PF_CONF = "/etc/pf.conf"
EXT, INT = "$obm_ext_if", "$obm_int_if"
DC_TABLE, MONITOR_TABLE = "<obm_dc>", "<obm_monitor>"
CHECK_AND_LOAD = (
    f"Check the whole file with `pfctl -nf {PF_CONF}` (no output means it parses), then load it "
    f"with `pfctl -f {PF_CONF}`; established connections keep their states."
)


RELOAD = f"pfctl -nf {PF_CONF} && pfctl -f {PF_CONF}  # check, then load the edited file"
DEFINITIONS, TRANSLATION, FILTER = "definitions", "translation", "filter"


@dataclass(frozen=True)
class _Entry:
    """One line the instructions add to pf.conf, with its marker in it, the comment lines shown
    above it in the complete instructions, and the part of the file it belongs to."""

    part: str
    key: str
    marker: str
    line: str
    title: str
    exposure: Exposure
    guide_rules: tuple[GuideRule, ...] = ()
    uses: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class PfRenderer(Renderer):
    slug = "pf"
    name = "OpenBSD / FreeBSD pf"
    versions = "OpenBSD 6.x-7.x pf (match, nat-to, rdr-to); FreeBSD 13-15 pf (nat, rdr)"
    renderer_version = 2  # 2: markers (labels, comments), plans as pf.conf edits
    markers_since = 2
    plan_language = "pf"
    plan_gui_path = PF_CONF
    supports_ranges = True  # from 192.168.1.10 - 192.168.1.20
    hides_lan_by_default = False
    default_interfaces = ("em1", "em0")  # FreeBSD; OpenBSD's outside default is egress

    def interfaces(self, site: SiteDescription) -> tuple[str, str]:
        inside, outside = super().interfaces(site)
        if not site.outside_interface and not _freebsd(site):
            outside = "egress"
        return inside, outside

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        freebsd = _freebsd(site)
        system = "FreeBSD" if freebsd else "OpenBSD"
        other = (
            "This is the FreeBSD syntax (nat/rdr rules)."
            if freebsd
            else "This is the OpenBSD syntax (match … nat-to / rdr-to); for FreeBSD, enter its "
            'version (e.g. "FreeBSD 14.1") in the site\'s firmware field to get nat/rdr rules.'
        )
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        entries = self._entries(policy, site, profile)
        steps = [
            Step(
                title="Define the interfaces and the address tables",
                gui_path=f"{PF_CONF}, near the top, after your own macros and tables",
                config=self._definitions(site, profile, entries),
                config_language="pf",
                reason=(
                    "The rules of the next steps name these macros and tables; set the two "
                    "interface macros to your inside and outside interfaces (`ifconfig`). "
                    "Macros and tables must be defined before the rules that use them. " + other
                ),
                verify=(
                    f"pfctl -nf {PF_CONF}\n"
                    "# after loading (step 3):\n"
                    + "\n".join(f"pfctl -t {t.strip('<>')} -T show" for t in _tables(policy))
                ),
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
                ),
            ),
            Step(
                title=(
                    "Translate the backup connections"
                    + (" and redirect the monitoring ports" if forwards else "")
                ),
                gui_path=(
                    f"{PF_CONF}, with your other nat and rdr rules, before the first filter "
                    "rule (pass, block, antispoof)"
                    if freebsd
                    else f"{PF_CONF}, after the tables and before your pass rules"
                ),
                config=_lines(entries, TRANSLATION),
                config_language="pf",
                reason=(
                    "pf translates nothing by default: this makes the backup connections leave "
                    "with the firewall's outside address (the guide's transparency)"
                    + (
                        ", and sends the monitoring ports arriving on the outside to the backup "
                        "host"
                        if forwards
                        else ""
                    )
                    + ". "
                    + (
                        "FreeBSD's pfctl requires translation rules before filter rules, and the "
                        "first matching nat or rdr rule applies."
                        if freebsd
                        else "Match rules apply in order, and the rules after them see the translated "
                        "addresses, so these must come before the pass rules of step 3."
                    )
                ),
                verify=(
                    "pfctl -sn  # the nat and rdr rules"
                    if freebsd
                    else "pfctl -sr | grep -E 'nat-to|rdr-to'"
                ),
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.SOURCE_NAT, RuleKind.DESTINATION_NAT)
                ),
            ),
            Step(
                title=(
                    "Pass the backup traffic"
                    + (" and the forwarded monitoring ports" if inbound else "")
                ),
                gui_path=f"{PF_CONF}, at the end of the file",
                config=_lines(entries, FILTER),
                config_language="pf",
                reason=(
                    "pf applies the last matching rule, so at the end of the file these pass "
                    "rules win over earlier block rules (not over `quick` ones: check that none "
                    "blocks this traffic). A forwarded packet is filtered entering and leaving "
                    "the firewall, hence a pass in and a pass out rule; pass keeps state, so the "
                    "replies return. "
                    + (
                        "After the redirection pf sees the private address of the backup host, "
                        "so the rules for the monitoring ports name it. "
                        if inbound
                        else ""
                    )
                    + CHECK_AND_LOAD
                    + (
                        " pf must be enabled: `sysrc pf_enable=YES pflog_enable=YES`, "
                        "`service pf start`, `service pflog start`."
                        if freebsd
                        else " pf is enabled by default (`pfctl -e` if not)."
                    )
                ),
                verify="pfctl -sr | grep -E 'port = (" + ports_regex(outbound + inbound) + ")'",
                guide_rules=guide_rules_of(
                    policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
                ),
            ),
        ]
        target = inbound[0].required_hosts.start if inbound else None
        steps += verification_steps(
            policy,
            gui_path=f"Command line ({system}, as root)",
            outbound_verify=(
                "# while the probe runs on the backup host:\n"
                + "\n".join(f"pfctl -ss | grep {r.port}" for r in outbound)
                + "  # the state shows the outside address, the backup host in parentheses\n"
                + "tcpdump -n -e -ttt -i pflog0 "
                + _tcpdump_ports(outbound)
                + "  # the logged pass in rule"
            ),
            inbound_verify=(
                (
                    "# let the portal's checks in while you verify (PORTAL_ADDRESS: the "
                    "portal's address); reloading pf.conf removes it again:\n"
                    f"pfctl -t {MONITOR_TABLE.strip('<>')} -T add PORTAL_ADDRESS\n"
                    # A known address is in the table already (sites.policy).
                    if inbound[0].allowed_sources and policy.probe_check_source is None
                    else ""
                )
                + "# while the portal checks:\n"
                f"pfctl -ss | grep -E '{target}:({ports_regex(inbound)})'\n"
                "tcpdump -n -e -ttt -i pflog0 " + _tcpdump_ports(inbound)
            )
            if inbound
            else "",
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        where = {
            DEFINITIONS: f"{PF_CONF}, near the top, with the other obm_ macros and tables",
            TRANSLATION: (
                f"{PF_CONF}, with the translation rules, before the first filter rule"
                if _freebsd(site)
                else f"{PF_CONF}, with the other obm match rules, before the pass rules"
            ),
            FILTER: f"{PF_CONF}, at the end of the file",
        }
        return tuple(
            ManagedItem(
                key=entry.key,
                marker=entry.marker,
                title=entry.title,
                exposure=entry.exposure,
                create=entry.line,
                # pf cannot delete one rule: the plan edits pf.conf, and the step's check loads it.
                remove=f"# Delete the line marked {entry.marker}:\n# {entry.line}",
                # By the key: after a site is renamed, the line still has the old site's marker.
                update=f"# Replace the line whose marker ends in :{entry.key} with:\n{entry.line}",
                renames_in_place=True,  # found by the key its marker ends in
                uses=entry.uses,
                gui_path=where[entry.part],
                guide_rules=entry.guide_rules,
            )
            for entry in self._entries(policy, site, profile)
        )

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        """Load the edited file, then find the markers in it and, for rules, in pf's ruleset."""
        chosen = list(items)
        keys = "|".join(item.key for item in chosen)
        tag = _site_of(chosen[0].marker)
        expected = "one line each" if present else "nothing"
        lines = [RELOAD, f"grep -nE 'obm:{tag}:({keys})(\"|$)' {PF_CONF}  # {expected}"]
        labelled = "|".join(i.key for i in chosen if f'label "{i.marker}"' in i.create)
        if labelled:
            # pfctl lists a rule for TCP and UDP as two rules, each with the label.
            loaded = "each is listed" if present else "nothing"
            lines.append(f"pfctl -sr | grep -E '\"obm:{tag}:({labelled})\"'  # {loaded}")
        return "\n".join(lines)

    def plan_file(self, steps: Iterable[Step]) -> str:
        return (
            f"# Edits to {PF_CONF}, step by step: add the lines, replace and delete the lines "
            f"marked as the comments say; after each step: pfctl -nf {PF_CONF} && pfctl -f "
            f"{PF_CONF}\n" + super().plan_file(steps)
        )

    def _definitions(
        self, site: SiteDescription, profile: ProfileSpec, entries: list[_Entry]
    ) -> str:
        heading = (
            f"# {profile.name}: interfaces"
            + ("" if site.inside_interface and site.outside_interface else " (set them to yours)")
            + " and address tables."
        )
        return heading + "\n" + _lines(entries, DEFINITIONS)

    def _entries(self, policy: Policy, site: SiteDescription, profile: ProfileSpec) -> list[_Entry]:
        """Every line, in the order of the complete instructions."""
        inside, outside = self.interfaces(site)
        freebsd = _freebsd(site)
        entries: list[_Entry] = []

        def add(part, key, line, title, exposure, rules=(), labelled=True, **more):
            mark = marker(site, key)
            entries.append(
                _Entry(
                    part=part,
                    key=key,
                    marker=mark,
                    line=f'{line} label "{mark}"' if labelled else f"{line}  # {mark}",
                    title=title,
                    exposure=exposure,
                    guide_rules=guide_rules_of(rules),
                    **more,
                )
            )

        egress = (
            " (OpenBSD: the group of the interface with the default route)"
            if outside == "egress"
            else ""
        )
        add(
            DEFINITIONS,
            "int-if",
            f'obm_int_if = "{inside}"',
            "Macro obm_int_if: the inside interface",
            Exposure.SUPPORT,
            labelled=False,
        )
        add(
            DEFINITIONS,
            "ext-if",
            f'obm_ext_if = "{outside}"',
            f"Macro obm_ext_if: the outside interface{egress}",
            Exposure.SUPPORT,
            labelled=False,
            notes=(f"# {outside}: the group of the interface with the default route (OpenBSD)",)
            if egress
            else (),
        )
        datacenter = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        networks = datacenter[0].datacenter if datacenter else profile.datacenter_networks
        add(
            DEFINITIONS,
            "dc",
            f"table {DC_TABLE} const {{ {_list(networks)} }}",
            f"Table {DC_TABLE}: the datacenter networks",
            Exposure.SUPPORT,
            labelled=False,
        )
        sources = monitoring_sources(policy)
        monitor = ("monitor",) if sources else ()
        if sources:
            add(
                DEFINITIONS,
                "monitor",
                # Not const: the portal's address can be added for the verification.
                f"table {MONITOR_TABLE} {{ {_list(sources)} }}",
                f"Table {MONITOR_TABLE}: "
                + sources_label(
                    policy.of_kind(RuleKind.ALLOW_INBOUND)[0], "the monitoring sources"
                ),
                # Replaced in place and loaded at once: never the old and new sources together.
                Exposure.SUPPORT,
                labelled=False,
            )
        for group in by_port(policy.of_kind(RuleKind.SOURCE_NAT)):
            rule = group[0]
            match = (
                f"on {EXT} inet {_proto(group)} from {_hosts(rule.required_hosts)} "
                f"to {DC_TABLE} port {rule.port}"
            )
            add(
                TRANSLATION,
                f"snat-{rule.port}",
                f"nat {match} -> ({EXT})" if freebsd else f"match out {match} nat-to ({EXT}:0)",
                f"Translate {protocols_label(group)} to the outside address",
                Exposure.SUPPORT,
                group,
                labelled=not freebsd,
                uses=("ext-if", "dc"),
                notes=(
                    f"# {rule.reason.label}: backup connections leave with the outside address.",
                ),
            )
        for group in by_port(policy.of_kind(RuleKind.DESTINATION_NAT)):
            rule = group[0]
            public = str(rule.public_address) if rule.public_address else f"({EXT})"
            match = (
                f"on {EXT} inet {_proto(group)} from {_sources(rule.allowed_sources)} "
                f"to {public} port {rule.port}"
            )
            target = f"{rule.required_hosts.start} port {rule.port}"
            add(
                TRANSLATION,
                f"rdr-{rule.port}",
                f"rdr {match} -> {target}" if freebsd else f"match in {match} rdr-to {target}",
                f"Redirect {protocols_label(group)} to the backup host",
                Exposure.INBOUND,
                group,
                labelled=not freebsd,
                uses=("ext-if", *monitor),
                notes=(
                    f"# {rule.reason.label}: redirect {protocols_label(group)} to the backup host.",
                ),
            )
        for group in by_port(policy.of_kind(RuleKind.ALLOW_OUTBOUND)):
            rule = group[0]
            add(
                FILTER,
                f"out-{rule.port}",
                f"pass in log on {INT} inet {_proto(group)} from {_hosts(rule.required_hosts)} "
                f"to {DC_TABLE} port {rule.port}",
                f"Pass {protocols_label(group)} in from the backup host",
                Exposure.OUTBOUND,
                group,
                uses=("int-if", "dc"),
                notes=(
                    f"# {rule.reason.label}: backup host -> datacenter, {protocols_label(group)}.",
                ),
            )
            add(
                FILTER,
                f"out-{rule.port}-outside",
                f"pass out on {EXT} inet {_proto(group)} to {DC_TABLE} port {rule.port}",
                f"Pass {protocols_label(group)} out to the datacenter",
                Exposure.OUTBOUND,
                group,
                uses=("ext-if", "dc"),
                notes=("# Already translated here: the source is the firewall's outside address.",),
            )
        inbound = by_port(policy.of_kind(RuleKind.ALLOW_INBOUND))
        for number, group in enumerate(inbound):
            rule = group[0]
            match = (
                f"inet {_proto(group)} from {_sources(rule.allowed_sources)} "
                f"to {rule.required_hosts.start} port {rule.port}"
            )
            first = (
                ("# After the redirection pf filters on the private address of the host.",)
                if number == 0
                else ()
            )
            label = protocols_label(group)
            add(
                FILTER,
                f"in-{rule.port}",
                f"pass in log on {EXT} {match}",
                f"Pass {label} in from the {connecting(rule)}",
                Exposure.INBOUND,
                group,
                uses=("ext-if", *monitor),
                notes=(
                    *first,
                    f"# {rule.reason.label}: {connecting(rule)} -> backup host, {label}.",
                ),
            )
            add(
                FILTER,
                f"in-{rule.port}-inside",
                f"pass out on {INT} {match}",
                f"Pass {label} on to the backup host",
                Exposure.INBOUND,
                group,
                uses=("int-if", *monitor),
            )
        return entries


def _lines(entries: list[_Entry], part: str) -> str:
    lines = []
    for entry in entries:
        if entry.part == part:
            lines += [*entry.notes, entry.line]
    return "\n".join(lines) + "\n"


def _site_of(mark: str) -> str:
    """The site part of a marker (``obm:<site>:<key>``)."""
    return mark.split(":")[1]


def _freebsd(site: SiteDescription) -> bool:
    return "freebsd" in site.firmware.lower()


def _proto(rules: tuple[Rule, ...]) -> str:
    protocols = list(dict.fromkeys(r.required_protocol for r in rules))
    if len(protocols) == 1:
        return f"proto {protocols[0]}"
    return "proto { " + " ".join(protocols) + " }"


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"{hosts.start} - {hosts.end}"  # pf's address range; spaces are required
    if hosts.kind == "address":
        return str(hosts.start)
    return str(hosts.network)


def _sources(networks: tuple[IPv4Network, ...]) -> str:
    return MONITOR_TABLE if networks else "any"


def _tables(policy: Policy) -> list[str]:
    return [DC_TABLE] + ([MONITOR_TABLE] if monitoring_sources(policy) else [])


def _list(networks: tuple[IPv4Network, ...]) -> str:
    return ", ".join(str(n.network_address) if n.prefixlen == 32 else str(n) for n in networks)


def _tcpdump_ports(rules: tuple[Rule, ...]) -> str:
    ports = list(dict.fromkeys(str(r.port) for r in rules))
    return "'" + " or ".join(f"port {p}" for p in ports) + "'"
