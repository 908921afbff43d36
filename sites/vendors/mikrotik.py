"""MikroTik RouterOS 7 (RouterBOARD, CCR, hAP, CHR), configured from the terminal.

Targets RouterOS 7.1 and later; the commands are pasted into a terminal (WinBox › New
Terminal, WebFig › Terminal, SSH). WinBox / WebFig menu paths are given for each step. RouterOS
saves every change immediately, so there is no save step.

How it handles the traps:

- **Rule order**: a filter rule appended after a final drop never matches, so every accept goes
  to the top of the forward chain. Not with ``place-before=0``: while FastTrack is on, RouterOS
  keeps a dynamic rule ("special dummy rule to show fasttrack counters") at the top of the chain,
  and nothing can be placed before a dynamic rule. The accepts are placed before the first
  *static* forward rule, found when the command runs:
  ``place-before=[:pick [/ip firewall filter find where chain=forward dynamic=no] 0]`` (``find`` gives internal
  ids, which ``place-before`` takes as well as numbers; no ``print`` is needed first).
- **Replies need an established accept**: the accepts match new connections only
  (``connection-state=new``), so FastTrack keeps carrying the backup traffic, and the replies
  pass the chain's established/related accept (``defconf: accept established,related,
  untracked``). The first step checks that the chain has one, and gives one, commented out,
  for a router without it.
- **Transparency is a check**: the default configuration masquerades everything leaving the
  ``WAN`` interface list (``defconf: masquerade``). The step checks it and gives, commented
  out, a masquerade for the backup traffic only, for a router without one.
- **One protocol per dst-nat rule**: ``protocol=`` takes one, so TCP 4403 and UDP 4403 are two
  rules (as is TCP 4401).
- **Inbound rules name the private address**: the forward chain sees packets after dst-nat, so
  the accept names the host's private address, with ``connection-nat-state=dstnat`` so it only
  lets in connections that came through the port forwards.
- **Monitoring sources** become the address list ``obm-monitoring``, matched by both the dst-nat
  and the forward rules; the datacenter networks the address list ``obm-dc``.
- **Dynamic public address**: the dst-nat matches ``dst-address-type=local`` on the WAN side
  instead of a fixed ``dst-address``.
- **Ranges** are native (``src-address=A-B``); the DHCP LAN is its network.

**Markers**: every address-list entry, filter and NAT rule carries ``comment="obm:<site>:<key>"``
and is removed with ``remove [find where comment="…"]`` in its menu. A changed backup rule is
added before the old one goes, and both carry the same marker for a moment, so the removal of a
rule that is not monitoring access also names what tells the old one apart (its source address,
its interface); monitoring access is removed before its successor is added, so its comment alone
finds it. ``remove`` of a ``find`` that finds nothing does nothing, so removing a fallback the
customer never added is harmless.

Interfaces: the defaults ``WAN`` and ``LAN`` are the default configuration's interface lists
(``in-interface-list=WAN``); any other name the site gives is taken as an interface
(``in-interface=ether1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.analyzer.model import GROUP
from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import (
    Renderer,
    Step,
    StepKind,
    guide_rules_of,
    monitoring_sources,
    verification_steps,
)
from sites.vendors.managed import (
    Exposure,
    ManagedItem,
    OwnObject,
    marker,
    network_key,
    rule_key,
    site_tag,
)
from sites.vendors.restriction import allowed_source_key, source_words

LANGUAGE = "routeros"
TERMINAL = "WinBox › New Terminal (or WebFig › Terminal, SSH)"
FILTER_GUI = "WinBox: IP › Firewall › Filter Rules"
NAT_GUI = "WinBox: IP › Firewall › NAT"
DATACENTER = "obm-dc"
MONITORING = "obm-monitoring"
INTERFACE_LISTS = ("WAN", "LAN")  # the default configuration's interface lists
FILTER, NAT, LISTS = "/ip firewall filter", "/ip firewall nat", "/ip firewall address-list"
# Above the first static forward rule: the dynamic FastTrack counter rule may hold the top.
# The find names its menu, so the line works from any menu (a bare find runs in the current one).
TOP = "place-before=[:pick [/ip firewall filter find where chain=forward dynamic=no] 0]"
IF_MISSING = "# Only if the print shows none, remove the leading # and paste:"
_FIND = re.compile(r"\[find where (.+)\]$")


@dataclass(frozen=True)
class _Entry:
    """One address-list entry or rule the instructions create: its menu, its properties in
    order, whether it goes to the top of the forward chain, and the properties its removal
    names besides the comment. ``fallback``: given commented out, for a router that lacks it."""

    menu: str
    key: str
    marker: str
    properties: tuple[tuple[str, str], ...]
    title: str
    exposure: Exposure
    guide_rules: tuple[GuideRule, ...] = ()
    uses: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    on_top: bool = False
    fallback: bool = False

    @property
    def add(self) -> str:
        words = [f"{name}={value}" for name, value in self.properties]
        words.append(f'comment="{self.marker}"')
        if self.on_top:
            words.append(TOP)
        return "add " + " ".join(words)

    @property
    def remove(self) -> str:
        values = dict(self.properties)
        names = [f'comment="{self.marker}"'] + [f"{n}={values[n]}" for n in self.identity]
        return f"remove [find where {' '.join(names)}]"

    @property
    def update(self) -> str:
        """An address-list entry's key holds its address, so only its comment (the marker, after
        a site is renamed) can change: set in place, since adding the same address to the list
        again would be refused. Rules have none: they are added anew and the old one removed."""
        if self.menu != LISTS:
            return ""
        values = dict(self.properties)
        return (
            f"set [find where list={values['list']} address={values['address']}] "
            f'comment="{self.marker}"'
        )

    @property
    def line(self) -> str:
        """The line as the complete instructions give it (commented out for a fallback)."""
        return f"# {self.menu} {self.add}" if self.fallback else self.add


class MikrotikRenderer(Renderer):
    slug = "mikrotik"
    name = "MikroTik RouterOS"
    versions = "RouterOS 7.1 and later"
    # 2: markers as comments, accepts placed above the first static rule for new connections,
    # the established/related check.
    renderer_version = 2
    markers_since = 2
    plan_language = LANGUAGE
    plan_gui_path = f"{TERMINAL}; WinBox: IP › Firewall (Filter Rules, NAT, Address Lists)"
    supports_ranges = True  # src-address=192.168.1.10-192.168.1.20
    hides_lan_by_default = True  # defconf: masquerade out-interface-list=WAN
    default_interfaces = ("LAN", "WAN")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        _, outside = self.interfaces(site)
        entries = _entries(policy, site, profile, outside)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        tag = site_tag(site)

        steps = [
            self._established_step(_chosen(entries, "established")),
            self._outbound_step(outbound, _chosen(entries, "dc-", "out-")),
        ]
        if snat:
            steps.append(self._transparency_step(snat, outside, _chosen(entries, "snat-")))
        if forwards:
            steps.append(
                self._forward_step(forwards, outside, _chosen(entries, "mon-", "check-", "dnat-"))
            )
        if inbound:
            steps.append(self._inbound_step(inbound, _chosen(entries, "in-")))
        steps += verification_steps(
            policy,
            gui_path=TERMINAL + "; WinBox: IP › Firewall › Connections",
            outbound_verify="\n".join(
                ["# while the probe runs on the backup host:"]
                + [
                    f'/ip firewall connection print where dst-address~":{r.port}" '
                    f"and protocol={r.protocol}"
                    for r in outbound
                ]
                + [f'/ip firewall filter print stats where comment~"^obm:{tag}:"']
            ),
            inbound_verify="\n".join(
                [
                    "# while the portal checks, the counters of the obm rules rise:",
                    f'/ip firewall nat print stats where comment~"^obm:{tag}:"',
                    f'/ip firewall filter print stats where comment~"^obm:{tag}:"',
                ]
            ),
        )
        return steps

    # -- Adjusted to a checked configuration (sites.vendors.reuse) -----------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The address lists ``obm-dc`` and ``obm-monitoring``: an existing list of exactly the
        same addresses stands for ours (``dst-address-list=``/``src-address-list=``). A list is
        its entries, so no item stands for the list itself: ours are not added."""
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        datacenter = outbound[0].datacenter if outbound else profile.datacenter_networks
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        lists = [
            (DATACENTER, "dc", datacenter, tuple(f"dc-{network_key(n)}" for n in datacenter)),
            (
                MONITORING,
                "mon",
                monitoring_sources(policy),
                tuple(allowed_source_key(n, inbound[0]) for n in monitoring_sources(policy)),
            ),
        ]
        return tuple(
            OwnObject(f"list-{prefix}", name, (GROUP,), tuple(networks), members=members)
            for name, prefix, networks, members in lists
            if networks
        )

    def tidy_config(self, config: str) -> str:
        # A menu line left without entries before the next menu line or the end.
        return re.sub(rf"^{re.escape(LISTS)}\n(?=/|\Z)", "", config, flags=re.MULTILINE)

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        _, outside = self.interfaces(site)
        items = []
        for entry in _entries(policy, site, profile, outside):
            create = entry.line
            remove = entry.remove
            if entry.fallback:
                create = f"# Only if you have no such rule, remove the leading # and paste:\n# {entry.add}"
                remove = f"# Finds nothing where you did not add it:\n{remove}"
            items.append(
                ManagedItem(
                    key=entry.key,
                    marker=entry.marker,
                    title=entry.title,
                    exposure=entry.exposure,
                    create=create,
                    remove=remove,
                    update=entry.update,
                    renames_in_place=True,  # found by list and address
                    section=entry.menu,
                    uses=entry.uses,
                    guide_rules=entry.guide_rules,
                )
            )
        return tuple(items)

    def plan_section(self, section: str, body: str) -> str:
        return f"{section}\n{body}"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        """A ``print`` per item: of its comment where it must be there; of what its removal finds
        where it must be gone (a changed backup rule's successor has the same comment)."""
        lines = [
            "# each of these must list one entry (a fallback only where you added it):"
            if present
            else "# none of these may list anything:"
        ]
        for item in items:
            condition = f'comment="{item.marker}"'
            found = _FIND.search(item.remove)
            if not present and found:
                condition = found.group(1).replace(" ", " and ")
            lines.append(f"{item.section} print where {condition}")
        return "\n".join(lines)

    def _established_step(self, entries: list[_Entry]) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Check that the forward chain lets replies through (established, related)",
            gui_path=f"{TERMINAL}; {FILTER_GUI}",
            config="\n".join([IF_MISSING, *(e.line for e in entries)]),
            config_language=LANGUAGE,
            reason=(
                "The rules of the next steps accept the first packet of each connection "
                "(`connection-state=new`), so FastTrack keeps carrying the backup traffic; the "
                "replies and the rest of each connection pass the forward chain's accept for "
                "established and related connections. The default configuration has one "
                "(comment `defconf: accept established,related, untracked`). If the print shows "
                "none, add the one given: without it, a final drop rule drops the replies."
            ),
            verify='/ip firewall filter print where chain=forward and connection-state~"established"',
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], entries: list[_Entry]) -> Step:
        lines = _menus(entries)
        return Step(
            title="Allow the backup traffic out to the datacenter (forward filter)",
            gui_path=f"{TERMINAL}; {FILTER_GUI} and IP › Firewall › Address Lists",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter (address list "
                f"{DATACENTER}). The rule goes above the first static rule of the forward chain "
                "(`place-before=[…]` finds it; `place-before=0` fails where the dynamic FastTrack "
                "counter rule holds the top), so a final drop rule cannot catch it first; if the "
                "forward chain has no rules of its own yet, leave out `place-before=[…]`. Paste "
                "once: pasting again adds the rules again. Safe Mode (Ctrl+X) undoes the changes "
                "if the session drops. " + rules[0].reason.detail
            ),
            verify=(
                f"/ip firewall address-list print where list={DATACENTER}\n"
                "/ip firewall filter print where chain=forward"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], outside: str, entries: list[_Entry]
    ) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Check that the LAN is masqueraded (transparency)",
            gui_path=f"{TERMINAL}; {NAT_GUI}",
            config="\n".join(
                [
                    f"# Only if the print shows no masquerade or src-nat rule for {outside}, "
                    "remove the leading # and paste:",
                    *(e.line for e in entries),
                ]
            ),
            config_language=LANGUAGE,
            reason=(
                "The default configuration masquerades everything that leaves through the WAN "
                "interface list (comment `defconf: masquerade`), which gives the guide's "
                "transparency. Check that such a rule is there and enabled; if not, add the "
                "masquerade shown, which covers the backup connections only."
            ),
            verify="/ip firewall nat print where chain=srcnat",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], outside: str, entries: list[_Entry]) -> Step:
        sources = rules[0].allowed_sources
        public = rules[0].public_address
        where = (
            f"addressed to the public address {public}"
            if public
            else "addressed to the router itself (`dst-address-type=local`), whatever address "
            "the provider gives it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (dst-nat, one rule per protocol)",
            gui_path=f"{TERMINAL}; {NAT_GUI} (Action: dst-nat)",
            config="\n".join(_menus(entries)),
            config_language=LANGUAGE,
            reason=(
                f"The monitoring GUI connects to the router; connections {where} on these ports "
                "are passed on to the backup host. A rule takes one protocol, so TCP 4403 and "
                "UDP 4403 are two rules. "
                + (
                    f"Only the addresses in {MONITORING} are forwarded."
                    if sources
                    else "Any address is forwarded; listing the monitoring computers would restrict it."
                )
            ),
            verify='/ip firewall nat print where chain=dstnat and comment~"^obm:"',
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], entries: list[_Entry]) -> Step:
        return Step(
            title="Allow the forwarded monitoring ports in (forward filter, private address)",
            gui_path=f"{TERMINAL}; {FILTER_GUI}",
            config="\n".join(_menus(entries)),
            config_language=LANGUAGE,
            reason=(
                "The forward chain sees the connections after dst-nat, so the rules name the "
                f"backup host's private address {rules[0].required_hosts.start}; "
                "`connection-nat-state=dstnat` limits them to connections that came through the "
                "port forwards. The default configuration already lets dst-nat connections in; "
                "these rules keep them allowed above any drop rule you added."
            ),
            verify='/ip firewall filter print where chain=forward and connection-nat-state=dstnat and comment~"^obm:"',
            guide_rules=guide_rules_of(rules),
        )


def _entries(
    policy: Policy, site: SiteDescription, profile: ProfileSpec, outside: str
) -> list[_Entry]:
    """Every entry and rule, in the order of the complete instructions."""
    entries: list[_Entry] = []

    def add(menu, key, properties, title, exposure, rule=None, **more):
        entries.append(
            _Entry(
                menu=menu,
                key=key,
                marker=marker(site, key),
                properties=tuple(properties),
                title=title,
                exposure=exposure,
                guide_rules=rule.reason.guide_rules if rule else (),
                **more,
            )
        )

    add(
        FILTER,
        "established",
        [
            ("chain", "forward"),
            ("action", "accept"),
            ("connection-state", "established,related,untracked"),
        ],
        "Accept the replies of allowed connections (where you added it)",
        Exposure.SUPPORT,
        on_top=True,
        fallback=True,
    )
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    datacenter = outbound[0].datacenter if outbound else profile.datacenter_networks
    dc_keys = tuple(f"dc-{network_key(n)}" for n in datacenter)
    for network, key in zip(datacenter, dc_keys, strict=True):
        add(
            LISTS,
            key,
            [("list", DATACENTER), ("address", _address(network))],
            f"Address list {DATACENTER}: {network}",
            Exposure.SUPPORT,
        )
    for rule in outbound:
        add(
            FILTER,
            rule_key(rule),
            [
                ("chain", "forward"),
                ("action", "accept"),
                ("connection-state", "new"),
                ("protocol", rule.protocol),
                ("src-address", _hosts(rule.required_hosts)),
                ("dst-address-list", DATACENTER),
                ("dst-port", str(rule.port)),
            ],
            f"Allow {rule.port_spec} from the backup host to {DATACENTER}",
            Exposure.OUTBOUND,
            rule,
            uses=dc_keys,
            identity=("src-address",),
            on_top=True,
        )
    for rule in policy.of_kind(RuleKind.SOURCE_NAT):
        interface = _interface("out", outside)
        add(
            NAT,
            rule_key(rule),
            [
                ("chain", "srcnat"),
                ("action", "masquerade"),
                interface,
                ("protocol", rule.protocol),
                ("src-address", _hosts(rule.required_hosts)),
                ("dst-address-list", DATACENTER),
                ("dst-port", str(rule.port)),
            ],
            f"Masquerade {rule.port_spec} to {DATACENTER} (where you added it)",
            Exposure.SUPPORT,
            rule,
            uses=dc_keys,
            identity=("src-address", interface[0]),
            fallback=True,
        )
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    sources = (forwards or inbound)[0].allowed_sources if forwards or inbound else ()
    first = (forwards or inbound)[0] if forwards or inbound else None
    mon_keys = tuple(allowed_source_key(n, first) for n in sources) if first else ()
    if forwards:
        for network, key in zip(sources, mon_keys, strict=True):
            add(
                LISTS,
                key,
                [("list", MONITORING), ("address", _address(network))],
                f"Address list {MONITORING}: " + source_words(network, forwards[0]),
                # An entry lets its address in through the forwards: inbound access, removed
                # before a new source is added, so the old and the new are never both let in.
                Exposure.INBOUND,
            )
    for rule in forwards:
        public = rule.public_address
        add(
            NAT,
            rule_key(rule),
            [
                ("chain", "dstnat"),
                ("action", "dst-nat"),
                _interface("in", outside),
                ("dst-address", str(public)) if public else ("dst-address-type", "local"),
                ("protocol", rule.protocol),
                ("dst-port", str(rule.port)),
                *([("src-address-list", MONITORING)] if rule.allowed_sources else []),
                ("to-addresses", str(rule.required_hosts.start)),
                ("to-ports", str(rule.port)),
            ],
            f"Forward {rule.port_spec} to the backup host",
            Exposure.INBOUND,
            rule,
            uses=mon_keys,
        )
    for rule in inbound:
        add(
            FILTER,
            rule_key(rule),
            [
                ("chain", "forward"),
                ("action", "accept"),
                ("connection-state", "new"),
                ("connection-nat-state", "dstnat"),
                ("protocol", rule.protocol),
                ("dst-address", str(rule.required_hosts.start)),
                ("dst-port", str(rule.port)),
                *([("src-address-list", MONITORING)] if rule.allowed_sources else []),
            ],
            f"Allow {rule.port_spec} in to the backup host",
            Exposure.INBOUND,
            rule,
            uses=mon_keys,
            on_top=True,
        )
    return entries


def _chosen(entries: list[_Entry], *prefixes: str) -> list[_Entry]:
    return [e for e in entries if e.key.startswith(prefixes)]


def _menus(entries: list[_Entry]) -> list[str]:
    """The lines of ``entries`` under their menus, a menu line wherever the menu changes."""
    lines: list[str] = []
    menu = ""
    for entry in entries:
        if entry.menu != menu:
            menu = entry.menu
            lines.append(menu)
        lines.append(entry.line)
    return lines


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"{hosts.start}-{hosts.end}"
    return str(hosts) if hosts.kind == "address" else str(hosts.network)


def _address(network: IPv4Network) -> str:
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def _interface(direction: str, name: str) -> tuple[str, str]:
    """``in-interface-list=WAN`` for the default lists, ``in-interface=ether1`` otherwise."""
    if name in INTERFACE_LISTS:
        return f"{direction}-interface-list", name
    return f"{direction}-interface", name
