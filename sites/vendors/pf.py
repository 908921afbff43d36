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
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import (
    Renderer,
    Step,
    guide_rules_of,
    monitoring_sources,
    verification_steps,
)
from sites.vendors.port_groups import by_port, ports_regex, protocols_label

PF_CONF = "/etc/pf.conf"
EXT, INT = "$obm_ext_if", "$obm_int_if"
DC_TABLE, MONITOR_TABLE = "<obm_dc>", "<obm_monitor>"
CHECK_AND_LOAD = (
    f"Check the whole file with `pfctl -nf {PF_CONF}` (no output means it parses), then load it "
    f"with `pfctl -f {PF_CONF}`; established connections keep their states."
)


class PfRenderer(Renderer):
    slug = "pf"
    name = "OpenBSD / FreeBSD pf"
    versions = "OpenBSD 6.x-7.x pf (match, nat-to, rdr-to); FreeBSD 13-15 pf (nat, rdr)"
    renderer_version = 1
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
        steps = [
            Step(
                title="Define the interfaces and the address tables",
                gui_path=f"{PF_CONF}, near the top, after your own macros and tables",
                config=self._definitions(policy, site, profile),
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
                config=self._translation(policy, freebsd),
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
                config=self._filter(policy),
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
                    if inbound[0].allowed_sources
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

    def _definitions(self, policy: Policy, site: SiteDescription, profile: ProfileSpec) -> str:
        inside, outside = self.interfaces(site)
        egress = (
            "  # OpenBSD: the group of the interface with the default route"
            if outside == "egress"
            else ""
        )
        lines = [
            f"# {profile.name}: interfaces"
            + ("" if site.inside_interface and site.outside_interface else " (set them to yours)")
            + " and address tables.",
            f'obm_int_if = "{inside}"',
            f'obm_ext_if = "{outside}"{egress}',
        ]
        datacenter = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        networks = datacenter[0].datacenter if datacenter else profile.datacenter_networks
        lines.append(f"table {DC_TABLE} const {{ {_list(networks)} }}")
        sources = monitoring_sources(policy)
        if sources:
            # Not const: the portal's address can be added for the verification.
            lines.append(f"table {MONITOR_TABLE} {{ {_list(sources)} }}")
        return "\n".join(lines) + "\n"

    def _translation(self, policy: Policy, freebsd: bool) -> str:
        lines = []
        for group in by_port(policy.of_kind(RuleKind.SOURCE_NAT)):
            rule = group[0]
            lines.append(
                f"# {rule.reason.label}: backup connections leave with the outside address."
            )
            match = (
                f"on {EXT} inet {_proto(group)} from {_hosts(rule.required_hosts)} "
                f"to {DC_TABLE} port {rule.port}"
            )
            lines.append(
                f"nat {match} -> ({EXT})" if freebsd else f"match out {match} nat-to ({EXT}:0)"
            )
        for group in by_port(policy.of_kind(RuleKind.DESTINATION_NAT)):
            rule = group[0]
            lines.append(
                f"# {rule.reason.label}: redirect {protocols_label(group)} to the backup host."
            )
            public = str(rule.public_address) if rule.public_address else f"({EXT})"
            match = (
                f"on {EXT} inet {_proto(group)} from {_sources(rule.allowed_sources)} "
                f"to {public} port {rule.port}"
            )
            target = f"{rule.required_hosts.start} port {rule.port}"
            lines.append(
                f"rdr {match} -> {target}" if freebsd else f"match in {match} rdr-to {target}"
            )
        return "\n".join(lines) + "\n"

    def _filter(self, policy: Policy) -> str:
        lines = []
        for group in by_port(policy.of_kind(RuleKind.ALLOW_OUTBOUND)):
            rule = group[0]
            lines += [
                f"# {rule.reason.label}: backup host -> datacenter, {protocols_label(group)}.",
                f"pass in log on {INT} inet {_proto(group)} from {_hosts(rule.required_hosts)} "
                f"to {DC_TABLE} port {rule.port}",
                "# Already translated here: the source is the firewall's outside address.",
                f"pass out on {EXT} inet {_proto(group)} to {DC_TABLE} port {rule.port}",
            ]
        inbound = by_port(policy.of_kind(RuleKind.ALLOW_INBOUND))
        if inbound:
            lines.append("# After the redirection pf filters on the private address of the host.")
        for group in inbound:
            rule = group[0]
            match = (
                f"inet {_proto(group)} from {_sources(rule.allowed_sources)} "
                f"to {rule.required_hosts.start} port {rule.port}"
            )
            lines += [
                f"# {rule.reason.label}: monitoring GUI -> backup host, {protocols_label(group)}.",
                f"pass in log on {EXT} {match}",
                f"pass out on {INT} {match}",
            ]
        return "\n".join(lines) + "\n"


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
