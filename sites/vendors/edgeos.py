"""Ubiquiti EdgeOS (EdgeRouter) and UniFi gateways.

Targets EdgeOS 2.0 and later on EdgeRouters, configured from the CLI (``configure`` … ``commit``,
``save``), with the EdgeOS web UI paths; and, for UniFi gateways (USG, UDM, UCG, UXG), the UniFi
Network application 8.x / 9.x paths given beside each step. A UniFi gateway's configuration is
written by the Network application, which overwrites CLI changes at the next provisioning, so
there the GUI paths are the instructions and the commands show the values.

How it handles the traps:

- **TCP and UDP together**: EdgeOS NAT and firewall rules accept ``protocol tcp_udp``, so a
  port forwarded for both protocols (4403) is one destination NAT rule and one firewall rule;
  a port for one protocol (TCP 4401) keeps its own protocol. A UniFi port forward likewise
  takes "TCP/UDP" ("Both").
- **Inbound rules name the private address**: EdgeOS filters forwarded traffic after destination
  NAT, so the ``WAN_IN`` rule names the host's private address.
- **Transparency is a check**: the setup wizard creates a masquerade rule for the WAN interface
  (rule 5010) and UniFi gateways masquerade the LANs automatically. The step checks it and gives,
  commented out, a masquerade for the backup traffic only, for a router without one.
- **Rule numbers** come from the item, never from its position: a rule's number is its port
  (``LAN_IN`` rule 4401 for TCP 4401, destination NAT rule 4403 for TCP+UDP 4403; source NAT,
  which must be 5000-9999, 1000 above it: 5401), so a new port or network never renumbers the
  others. A port outside its range (destination NAT must stay below 5000, firewall rules below
  10000) gets a number derived from the item's key in a range no wizard uses. ``set`` merges
  into an existing rule of the same number, so these numbers must be free. A firewall ruleset acts only when attached to an interface; the
  first step finds which are. The outbound allow goes into the ruleset on the LAN interface's
  ``in`` direction if there is one; without one the router forwards LAN traffic already, and a
  new ruleset would drop everything else (its default action is drop).
- **Monitoring sources** are the address group ``obm-monitoring`` (networks written as ranges),
  matched by both the NAT and the firewall rule; the datacenter networks are the network group
  ``obm-dc``.
- **Dynamic public address**: the destination NAT rule matches on the inbound interface only;
  with a fixed address it also names the address.
- **Ranges** are native (``source address A-B``); the DHCP LAN is its network.

**Markers**: every rule and group we create has a description that begins with its marker,
``obm:<site>:<key>`` (the monitoring group's goes on to name the portal's check address where it
holds it); the key of a rule names its role and port (``out-4401``, ``dnat-4403``), as its number
does. A rule or group is
removed with ``delete firewall name LAN_IN rule 4401`` (``delete service nat rule 4403``,
``delete firewall group network-group obm-dc``) and changed in place by deleting and setting it
again in the same ``commit``: a commit applies all its changes at once, so nothing is ever half
changed, and a group keeps its name for the rules that use it (a group still in use cannot be
deleted: rules go before their groups). Every plan step is one ``configure`` … ``commit``,
``save``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, site_tag
from sites.vendors.restriction import (
    CHECK_SOURCE_UNQUOTED,
    only_monitoring_sources,
    sources_label,
)

LANGUAGE = "edgeos"
CLI = "EdgeOS CLI (SSH, or the web UI's CLI button)"
DATACENTER = "obm-dc"
MONITORING = "obm-monitoring"
LAN_RULESET = "LAN_IN"
WAN_RULESET = "WAN_IN"
# (lowest, highest) number of each kind of rule, and where a port that does not fit goes.
FIREWALL_RULES = (1, 9999)
DESTINATION_NAT_RULES = (1, 4999)
SOURCE_NAT_RULES = (5000, 9999)
DERIVED = {
    FIREWALL_RULES: (6000, 9999),
    DESTINATION_NAT_RULES: (3000, 4999),
    SOURCE_NAT_RULES: (6000, 9999),
}
COMMIT = ("commit", "save", "exit")


@dataclass(frozen=True)
class _Forward:
    """One forwarded port for one or both protocols: ``protocol`` is tcp, udp or tcp_udp."""

    protocol: str
    port: int
    rules: tuple[Rule, ...]

    @property
    def label(self) -> str:
        return f"{'TCP+UDP' if self.protocol == 'tcp_udp' else self.protocol.upper()} {self.port}"

    @property
    def first(self) -> Rule:
        return self.rules[0]


@dataclass(frozen=True)
class _Entry:
    """One rule or group the instructions create: its configuration path and the values set
    below it (the description with the marker first). ``fallback``: given commented out, for a
    router that lacks it."""

    key: str
    marker: str
    path: str
    values: tuple[str, ...]
    title: str
    exposure: Exposure
    guide_rules: tuple[GuideRule, ...] = ()
    uses: tuple[str, ...] = ()
    fallback: bool = False

    @property
    def lines(self) -> list[str]:
        sets = [f"set {self.path} {value}" for value in self.values]
        return [f"# {line}" for line in sets] if self.fallback else sets

    @property
    def delete(self) -> str:
        return f"delete {self.path}"


class EdgeosRenderer(Renderer):
    slug = "edgeos"
    name = "Ubiquiti EdgeOS / UniFi"
    versions = "EdgeOS 2.0 and later (EdgeRouter); UniFi Network 8.x / 9.x for UniFi gateways"
    renderer_version = 2  # 2: markers as descriptions, rule numbers from the ports
    markers_since = 2
    plan_language = LANGUAGE
    plan_gui_path = CLI
    supports_ranges = True  # source address 192.168.1.10-192.168.1.20
    hides_lan_by_default = True  # wizard masquerade rule 5010; UniFi masquerades automatically
    default_interfaces = ("eth1", "eth0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        entries = _entries(policy, site, profile, inside, outside)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = list(_combine(policy.of_kind(RuleKind.DESTINATION_NAT)))
        inbound = list(_combine(policy.of_kind(RuleKind.ALLOW_INBOUND)))
        tag = site_tag(site)

        steps = [
            self._find_rulesets_step(inside, outside, bool(inbound)),
            self._outbound_step(outbound, inside, _chosen(entries, "dc", "out-")),
        ]
        if snat:
            steps.append(self._transparency_step(snat, outside, _chosen(entries, "snat-")))
        if forwards:
            steps.append(
                self._forward_step(forwards, outside, _chosen(entries, "monitoring", "dnat-"))
            )
        if inbound:
            steps.append(self._inbound_step(inbound, _chosen(entries, "in-")))
        steps += verification_steps(
            policy,
            gui_path=CLI,
            outbound_verify="\n".join(
                ["# while the probe runs on the backup host:"]
                + [f"show conntrack table ipv4 | match {r.port}" for r in outbound]
                + ["show nat statistics", f"show configuration commands | match obm:{tag}:"]
            ),
            inbound_verify="\n".join(
                [
                    "# while the portal checks, the counters of the obm rules rise:",
                    "show nat statistics",
                    f"show firewall name {WAN_RULESET} statistics",
                ]
            ),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        items = []
        for entry in _entries(policy, site, profile, inside, outside):
            create = "\n".join(entry.lines)
            remove, update = entry.delete, "\n".join([entry.delete, *entry.lines])
            if entry.fallback:
                only = (
                    f"# Only if you added it (description '{entry.marker}'), remove the leading #:"
                )
                create = f"# Only if you have no masquerade rule, remove the leading # and paste:\n{create}"
                remove = f"{only}\n# {remove}"
                update = "\n".join([only, f"# {entry.delete}", *entry.lines])
            items.append(
                ManagedItem(
                    key=entry.key,
                    marker=entry.marker,
                    title=entry.title,
                    exposure=entry.exposure,
                    create=create,
                    remove=remove,
                    update=update,
                    renames_in_place=True,  # found by its rule number
                    uses=entry.uses,
                    guide_rules=entry.guide_rules,
                )
            )
        return tuple(items)

    def plan_section(self, section: str, body: str) -> str:
        # One commit per step: what the step changes applies at once.
        return "configure\n" + body + "\n".join(COMMIT) + "\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        """Each item's configuration, found by its path: as the step set it, or nothing."""
        lines = [
            "# each lists what the step set (a fallback only where you added it):"
            if present
            else "# none of these lists anything:"
        ]
        for item in items:
            described = next(line for line in item.create.splitlines() if " description '" in line)
            path = described.removeprefix("# ").removeprefix("set ").split(" description '")[0]
            lines.append(f'show configuration commands | match "{path} "')
        return "\n".join(lines)

    def _find_rulesets_step(self, inside: str, outside: str, monitoring: bool) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Find the firewall rulesets attached to the interfaces",
            gui_path="EdgeOS: Firewall/NAT › Firewall Policies (column Interfaces) · "
            "UniFi Network: Settings › Security › Firewall Rules",
            config="",
            config_language=LANGUAGE,
            reason=(
                f"The next steps assume the setup wizard's names: {LAN_RULESET} for traffic "
                f"coming in from the LAN ({inside})"
                + (
                    f" and {WAN_RULESET} for traffic coming in from the Internet ({outside}, or "
                    "pppoe0 with PPPoE)"
                    if monitoring
                    else ""
                )
                + ". If the command shows other names on those interfaces' `in` direction, use "
                f"them instead. If {inside} has no `in` ruleset, skip the outbound step: the "
                "router forwards LAN traffic already. The rule numbers of the next steps must "
                "be free (`show firewall name NAME`, `show nat rules`); `set` on an existing "
                "number changes that rule. On a UniFi gateway the Network application "
                "overwrites changes made on the command line: make the changes in the UniFi "
                "paths given with each step."
            ),
            verify='show configuration commands | match "firewall in"',
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], inside: str, entries: list[_Entry]) -> Step:
        lines = ["configure", *(line for e in entries for line in e.lines), *COMMIT]
        return Step(
            title=f"Allow the backup traffic out to the datacenter ({LAN_RULESET}, only if "
            f"{inside} has an in ruleset)",
            gui_path="EdgeOS: Firewall/NAT › Firewall Policies › "
            f"{LAN_RULESET} › Actions › Edit Ruleset › Add New Rule · UniFi Network: "
            "Settings › Security › Firewall Rules › LAN In",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter (network group "
                f"{DATACENTER}). Needed only where a ruleset filters what comes in from the LAN: "
                f"the rule must come before any drop rule of {LAN_RULESET}. Do not attach a new "
                f"{LAN_RULESET} just for this: a ruleset drops everything else by default. "
                + rules[0].reason.detail
            ),
            verify=f"show firewall name {LAN_RULESET}\nshow firewall group {DATACENTER}",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], outside: str, entries: list[_Entry]
    ) -> Step:
        fallback = ["# configure", *(line for e in entries for line in e.lines)]
        fallback += [f"# {word}" for word in COMMIT]
        return Step(
            kind=StepKind.CHECK,
            title="Check that the LAN is masqueraded (transparency)",
            gui_path="EdgeOS: Firewall/NAT › NAT (Source NAT Rules) · UniFi Network: automatic, "
            "nothing to set",
            config="\n".join(
                [
                    f"# Only if no masquerade rule exists for {outside}, remove the leading # and paste:",
                    *fallback,
                ]
            ),
            config_language=LANGUAGE,
            reason=(
                f"The setup wizard masquerades everything that leaves through {outside} (rule "
                "5010, type masquerade), and UniFi gateways masquerade their LANs automatically; "
                "that gives the guide's transparency. Check that such a rule is there; if not, "
                "add the masquerade shown, which covers the backup connections only."
            ),
            verify="show nat rules",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, forwards: list[_Forward], outside: str, entries: list[_Entry]) -> Step:
        sources = forwards[0].first.allowed_sources
        public = forwards[0].first.public_address
        lines = ["configure", *(line for e in entries for line in e.lines), *COMMIT]
        where = (
            f"addressed to {public}"
            if public
            else f"arriving on {outside}, whatever address the provider gives it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (destination NAT)",
            gui_path="EdgeOS: Firewall/NAT › NAT › Add Destination NAT Rule · UniFi Network: "
            "Settings › Routing › Port Forwarding › Create Entry (Protocol: Both for "
            "4403; From: Limited, the monitoring addresses)",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"The monitoring GUI connects to the router; connections {where} on these ports "
                "are passed on to the backup host. `tcp_udp` covers TCP and UDP 4403 in one "
                "rule. "
                + (
                    f"Only the addresses in {MONITORING} are forwarded. "
                    if sources
                    else "Any address is forwarded; listing the monitoring computers would "
                    "restrict it. "
                )
                + "In UniFi, the port forward also creates its firewall allow, so the next step "
                "is done."
            ),
            verify="show nat rules",
            guide_rules=guide_rules_of(r for f in forwards for r in f.rules),
        )

    def _inbound_step(self, forwards: list[_Forward], entries: list[_Entry]) -> Step:
        lines = ["configure", *(line for e in entries for line in e.lines), *COMMIT]
        host = forwards[0].first.required_hosts.start
        return Step(
            title=f"Allow the forwarded monitoring ports in ({WAN_RULESET}, private address)",
            gui_path=f"EdgeOS: Firewall/NAT › Firewall Policies › {WAN_RULESET} › Actions › "
            "Edit Ruleset › Add New Rule · UniFi Network: created with the port forward",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"{WAN_RULESET} drops what it does not allow, and it sees the connections after "
                f"destination NAT, so the rules name the backup host's private address {host}. "
                + (
                    only_monitoring_sources(forwards[0].first)
                    if forwards[0].first.allowed_sources
                    else "Any address may connect."
                )
            ),
            verify=f"show firewall name {WAN_RULESET}",
            guide_rules=guide_rules_of(r for f in forwards for r in f.rules),
        )


def _entries(
    policy: Policy, site: SiteDescription, profile: ProfileSpec, inside: str, outside: str
) -> list[_Entry]:
    """Every group and rule, in the order of the complete instructions."""
    entries: list[_Entry] = []
    numbers = _Numbers()

    def add(key, path, values, title, exposure, rules=(), describe="", **more):
        mark = marker(site, key)
        entries.append(
            _Entry(
                key=key,
                marker=mark,
                path=path,
                # The marker first, then (where given) what the item holds.
                values=(f"description '{' '.join(filter(None, (mark, describe)))}'", *values),
                title=title,
                exposure=exposure,
                guide_rules=guide_rules_of(rules),
                **more,
            )
        )

    outbound = list(_combine(policy.of_kind(RuleKind.ALLOW_OUTBOUND)))
    datacenter = outbound[0].first.datacenter if outbound else profile.datacenter_networks
    add(
        "dc",
        f"firewall group network-group {DATACENTER}",
        [f"network {n}" for n in datacenter],
        f"Network group {DATACENTER}: the datacenter networks",
        Exposure.SUPPORT,
    )
    for forward in outbound:
        key = f"out-{forward.port}"
        add(
            key,
            f"firewall name {LAN_RULESET} rule {numbers.of(LAN_RULESET, key, forward.port, FIREWALL_RULES)}",
            [
                "action accept",
                f"destination group network-group {DATACENTER}",
                f"destination port {forward.port}",
                f"protocol {forward.protocol}",
                f"source address {_hosts(forward.first.required_hosts)}",
            ],
            f"{LAN_RULESET}: allow {forward.label} from the backup host to {DATACENTER}",
            Exposure.OUTBOUND,
            forward.rules,
            uses=("dc",),
        )
    for forward in _combine(policy.of_kind(RuleKind.SOURCE_NAT)):
        key = f"snat-{forward.port}"
        number = numbers.of("nat", key, forward.port + 1000, SOURCE_NAT_RULES)
        add(
            key,
            f"service nat rule {number}",
            [
                f"destination port {forward.port}",
                f"outbound-interface {outside}",
                f"protocol {forward.protocol}",
                f"source address {_hosts(forward.first.required_hosts)}",
                "type masquerade",
            ],
            f"Masquerade {forward.label} (where you added it)",
            Exposure.SUPPORT,
            forward.rules,
            fallback=True,
        )
    forwards = list(_combine(policy.of_kind(RuleKind.DESTINATION_NAT)))
    inbound = list(_combine(policy.of_kind(RuleKind.ALLOW_INBOUND)))
    sources = (forwards or inbound)[0].first.allowed_sources if forwards or inbound else ()
    group = ("monitoring",) if sources else ()
    check = (forwards or inbound)[0].first.check_source if forwards or inbound else None
    if sources:
        add(
            "monitoring",
            f"firewall group address-group {MONITORING}",
            [f"address {_range(n)}" for n in sources],
            f"Address group {MONITORING}: "
            + sources_label((forwards or inbound)[0].first, "the monitoring sources"),
            # Used by the forwards: created before and removed after them, changed in place
            # in one commit, so the old and the new sources are never let in together.
            Exposure.SUPPORT,
            # A member has no description of its own: the group's names the portal's check.
            describe=f"with {CHECK_SOURCE_UNQUOTED} {check.network_address}" if check else "",
        )
    for forward in forwards:
        public = forward.first.public_address
        key = f"dnat-{forward.port}"
        add(
            key,
            f"service nat rule {numbers.of('nat', key, forward.port, DESTINATION_NAT_RULES)}",
            [
                *([f"destination address {public}"] if public else []),
                f"destination port {forward.port}",
                f"inbound-interface {outside}",
                f"inside-address address {forward.first.required_hosts.start}",
                f"inside-address port {forward.port}",
                "log disable",
                f"protocol {forward.protocol}",
                *([f"source group address-group {MONITORING}"] if sources else []),
                "type destination",
            ],
            f"Forward {forward.label} to the backup host",
            Exposure.INBOUND,
            forward.rules,
            uses=group,
        )
    for forward in inbound:
        key = f"in-{forward.port}"
        add(
            key,
            f"firewall name {WAN_RULESET} rule {numbers.of(WAN_RULESET, key, forward.port, FIREWALL_RULES)}",
            [
                "action accept",
                f"destination address {forward.first.required_hosts.start}",
                f"destination port {forward.port}",
                f"protocol {forward.protocol}",
                *([f"source group address-group {MONITORING}"] if sources else []),
            ],
            f"{WAN_RULESET}: allow {forward.label} in to the backup host",
            Exposure.INBOUND,
            forward.rules,
            uses=group,
        )
    return entries


class _Numbers:
    """Rule numbers from the items, never from their positions: the preferred number (the port)
    where it fits the kind's range, else one derived from the key (CRC-32) in a part of the range
    no wizard uses, moving on to the next free number if another item has it."""

    def __init__(self) -> None:
        self.taken: dict[str, set[int]] = {}

    def of(self, ruleset: str, key: str, preferred: int, limits: tuple[int, int]) -> int:
        taken = self.taken.setdefault(ruleset, set())
        low, high = limits
        number = preferred
        if not low <= number <= high or number in taken:
            low, high = DERIVED[limits]
            number = low + zlib.crc32(key.encode()) % (high - low + 1)
            while number in taken:
                number = low if number == high else number + 1
        taken.add(number)
        return number


def _chosen(entries: list[_Entry], *prefixes: str) -> list[_Entry]:
    return [e for e in entries if e.key.startswith(prefixes)]


def _combine(rules: tuple[Rule, ...]) -> Iterator[_Forward]:
    """Merge the TCP and UDP rules of one port into one ``tcp_udp`` entry, in policy order."""
    by_port: dict[int, list[Rule]] = {}
    for rule in rules:
        by_port.setdefault(rule.required_port, []).append(rule)
    for port, same_port in by_port.items():
        protocols = {r.protocol for r in same_port}
        protocol = "tcp_udp" if protocols == {"tcp", "udp"} else same_port[0].required_protocol
        yield _Forward(protocol, port, tuple(same_port))


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"{hosts.start}-{hosts.end}"
    return str(hosts.start) if hosts.kind == "address" else str(hosts.network)


def _range(network: IPv4Network) -> str:
    """An address-group entry: one address, or the network as a range of addresses."""
    if network.prefixlen == 32:
        return str(network.network_address)
    return f"{network.network_address}-{network.broadcast_address}"
