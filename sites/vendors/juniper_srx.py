"""Juniper SRX Series (Junos OS ``set`` commands, with the J-Web paths).

Targets Junos OS 15.1X49 and later on SRX Series firewalls (branch SRX300/SRX1500 series and
vSRX; Junos 19.x to 23.x are the current trains): the commands are pasted in configuration mode
(``configure``), checked with ``commit check`` and applied with ``commit``. The zones are the
factory names ``trust`` (inside) and ``untrust`` (outside); the rules name zones, not interfaces.
Objects go into the global address book and are named ``obm-…``.

How the traps are handled:

- **TCP and UDP 4403**: a Junos application has one protocol, so each protocol and port is an
  application (``obm-tcp-4403``, ``obm-udp-4403``, …) and the monitoring ports are grouped in
  the application-set ``obm-monitoring`` the inbound policy names. Destination NAT has one rule
  per protocol and port (``match protocol``), all to the same pool.
- **Which address the inbound policy names.** The SRX applies destination NAT before the
  security policy lookup, so the inbound policy names the host's *private* address
  (``obm-host``), never the public one.
- **Transparency**: interface source NAT (``then source-nat interface``) for the backup traffic,
  a change. It goes into the rule-set ``trust-to-untrust``, the name the factory configuration
  uses for trust → untrust, so it joins that rule-set where it exists (the factory rule already
  translates the whole LAN; the new rule is then harmless) and creates it where it does not.
- **Ranges**: policies use a ``range-address`` entry; NAT rules take prefixes, so they list the
  exact CIDR cover of the range (``HostMatch.networks()``). A DHCP host is the LAN prefix.
- **Monitoring sources** restrict the destination NAT rules and the inbound policy.
- **Dynamic public address**: destination NAT matches ``destination-address 0.0.0.0/0`` on
  traffic from the untrust zone, i.e. whatever address the outside interface has, limited by
  protocol and port.
- New policies are appended to their zone pair; the step says how to ``insert`` one above a
  deny policy the customer may have.

Markers and plans: every address, application, policy, NAT pool, rule-set and rule carries its
marker ``obm:<site>:<key>`` as its ``description``; the complete instructions and the plans'
items come from one list (``_items``); networks are address-book entries named by the network
(``obm-dc-198.51.100.0-24``). A commit applies at once, so an item changes in place as
``delete PATH`` then its ``set`` lines in the same commit (a policy deletes only its ``match``,
so it keeps its place), and is removed with ``delete PATH`` (``delete security policies
from-zone … to-zone … policy obm-…``, ``delete security address-book global address obm-…``).
Each plan step is committed on its own, so the engine's order (policies before the objects they
name) is the order the firewall sees. The factory rule-set ``trust-to-untrust`` stays when our
rule leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.names import (
    hosts_object_name,
    network_names,
    port_object_name,
    source_object_names,
)
from sites.vendors.restriction import (
    only_monitoring_sources,
    source_words,
    sources_label,
)
from sites.vendors.sample_addresses import (
    address_in,
    backup_host_address,
    monitoring_source_address,
)

TRUST, UNTRUST = "trust", "untrust"
OUTBOUND_POLICY = "obm-backup-out"
INBOUND_POLICY = "obm-monitoring-in"
MONITORING_SET = "obm-monitoring"
SNAT_RULE_SET = "trust-to-untrust"  # the factory default's name for trust -> untrust
DNAT_RULE_SET = "obm-dnat"
POOL = "obm-host"
TARGET = "obm-host"  # the address the inbound policy names: where the forwards go
SNAT_RULE = "obm-backup"
ZONE_NOTE = (
    "The commands use the factory zone names trust (inside) and untrust (outside); if your "
    "zones are named differently, replace them before pasting."
)


class JuniperSrxRenderer(Renderer):
    slug = "juniper-srx"
    name = "Juniper SRX (Junos OS)"
    versions = "Junos OS 15.1X49 and later on SRX Series (SRX300/SRX1500 series, vSRX)"
    renderer_version = 3  # 3: markers in descriptions; networks named by network
    markers_since = 3
    plan_gui_path = "CLI: configuration mode"
    plan_language = "junos"
    supports_ranges = True  # range-address in the address book; NAT rules get the CIDR cover
    hides_lan_by_default = False
    default_interfaces = None  # policies and NAT rule-sets name zones, not interfaces

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        all_rules = outbound + snat + forwards + inbound
        outside = site.outside_interface or "the outside interface"
        items = _items(policy, site)

        steps = [
            Step(
                title="Create the address-book entries",
                gui_path="Security Policies & Objects › Global Addresses › Add",
                config="configure\n" + _config(items, "addresses"),
                config_language="junos",
                reason=(
                    "Enter configuration mode and create the addresses the policies name, in the "
                    "global address book. If your zones keep their own address books (`security "
                    "zones security-zone … address-book`), put the entries there instead: Junos "
                    "does not accept both styles at once. Each description holds the object's "
                    "marker (obm:…), which later change and removal instructions look for."
                ),
                verify="show security address-book global",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the applications, one per protocol and port",
                gui_path="Security Policies & Objects › Services › Custom Applications › Add",
                config=_config(items, "applications"),
                config_language="junos",
                reason=(
                    "A Junos application has one protocol"
                    + (
                        f"; the application-set {MONITORING_SET} groups TCP 4403, UDP 4403 and "
                        "the backup port for the inbound policy."
                        if inbound
                        else "."
                    )
                ),
                verify="show applications",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Allow the backup connection out (security policy trust → untrust)",
                gui_path="Security Policies & Objects › Security Policies › Add",
                config=_config(items, "out"),
                config_language="junos",
                reason=(
                    f"{outbound[0].reason.detail} {ZONE_NOTE} Junos adds the policy at the end of "
                    "the trust → untrust policies; if one of them denies this traffic first, move "
                    f"it up: `insert security policies from-zone {TRUST} to-zone {UNTRUST} policy "
                    f"{OUTBOUND_POLICY} before policy <name>`."
                ),
                verify=f"show security policies from-zone {TRUST} to-zone {UNTRUST} policy {OUTBOUND_POLICY}",
                guide_rules=guide_rules_of(outbound),
            ),
            Step(
                title="Translate the backup connections to the outside address (source NAT)",
                gui_path="Network › NAT › Source NAT › Rule Sets › Add",
                config=_config(items, "snat"),
                config_language="junos",
                reason=(
                    "Interface source NAT gives the backup connections the outside interface's "
                    f"address (the guide's transparency). The rule joins the rule-set "
                    f"{SNAT_RULE_SET}, which the factory configuration already uses for trust → "
                    "untrust; if yours has another name for that zone pair, use that name instead."
                ),
                verify=f"show security nat source rule-set {SNAT_RULE_SET}",
                guide_rules=guide_rules_of(snat),
            ),
        ]
        if forwards:
            public = forwards[0].public_address
            steps.append(
                Step(
                    title="Forward the monitoring ports (destination NAT, one rule per protocol)",
                    gui_path="Network › NAT › Destination NAT › Pool › Add, then Rule Set › Add",
                    config=_config(items, "dnat"),
                    config_language="junos",
                    reason=(
                        f"The pool {POOL} holds the backup host's private address; one rule per "
                        "protocol and port sends the monitoring connections there"
                        + (
                            f" from {sources_label(forwards[0])} only."
                            if forwards[0].allowed_sources
                            else "."
                        )
                        + (
                            f" If {public} is not the address of {outside} itself but another address "
                            f"of its subnet, the SRX must also answer ARP for it: `set security nat "
                            f"proxy-arp interface <outside-interface.unit> address {public}/32`."
                            if public
                            else " The public address is dynamic, so the rules match any destination "
                            "address arriving from untrust (the address the outside interface has), "
                            "on these protocols and ports only."
                        )
                        + f" If a destination NAT rule-set from zone {UNTRUST} already exists, add the "
                        "rules to it (commit check reports the clash)."
                    ),
                    verify="show security nat destination",
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            steps.append(
                Step(
                    title="Allow the monitoring GUI in (security policy untrust → trust, private address)",
                    gui_path="Security Policies & Objects › Security Policies › Add",
                    config=_config(items, "in"),
                    config_language="junos",
                    reason=(
                        "The SRX translates the destination before it looks up the security policy, "
                        f"so the policy names the backup host's private address {inbound[0].required_hosts.start} "
                        "(obm-host), not the public one. "
                        + (
                            only_monitoring_sources(inbound[0])
                            if inbound[0].allowed_sources
                            else "Any address may connect; give the monitoring computers' addresses to "
                            "narrow it."
                        )
                    ),
                    verify=f"show security policies from-zone {UNTRUST} to-zone {TRUST} policy {INBOUND_POLICY}",
                    guide_rules=guide_rules_of(inbound),
                )
            )
        steps.append(
            Step(
                title="Check and commit the configuration",
                gui_path="Commit › Commit check, then Commit",
                config="commit check\ncommit\n",
                config_language="junos",
                reason=(
                    "`commit check` validates the candidate configuration without applying it; "
                    "`commit` applies it. Leave configuration mode (`exit`) for the checks below."
                ),
                verify="run show system commit",
                guide_rules=guide_rules_of(all_rules),
            )
        )

        host = backup_host_address(outbound[0].required_hosts)
        dc = address_in(outbound[0].datacenter[0])
        outbound_verify = (
            [
                f"show security match-policies from-zone {TRUST} to-zone {UNTRUST} source-ip {host} "
                f"destination-ip {dc} source-port 50000 destination-port {r.port} protocol {r.protocol}"
                for r in outbound
            ]
            + [
                "show security nat source rule all",
                "# while the probe runs on the backup host (the reverse flow shows the outside address):",
            ]
            + [f"show security flow session destination-port {r.port}" for r in outbound]
        )
        inbound_verify: list[str] = []
        if inbound:
            source = monitoring_source_address(inbound[0].allowed_sources)
            inbound_verify = (
                [
                    f"show security match-policies from-zone {UNTRUST} to-zone {TRUST} "
                    f"source-ip {source} destination-ip {r.required_hosts.start} source-port 50000 "
                    f"destination-port {r.port} protocol {r.protocol}"
                    for r in inbound
                ]
                + [
                    "show security nat destination rule all",
                    "# while the portal checks (the hit counters and sessions rise):",
                ]
                + [
                    f"show security flow session destination-port {p}"
                    for p in sorted({r.required_port for r in inbound})
                ]
            )
        steps += verification_steps(
            policy,
            gui_path="Monitor › Security Events › Policy; Monitor › NAT",
            outbound_verify="\n".join(outbound_verify),
            inbound_verify="\n".join(inbound_verify),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        return tuple(item for _, item in _items(policy, site))

    def plan_section(self, section: str, body: str) -> str:
        # Each step is committed on its own, so the firewall passes through each safe state.
        return f"configure\n{body}commit check\ncommit\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        lines = [f'show configuration | display set | match "{item.marker}"' for item in items]
        expected = "each shows its line" if present else "each shows nothing"
        return "\n".join(lines) + f"\n# {expected} (in configuration mode: run show …)"


def _host_value(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"range-address {hosts.start} to {hosts.end}"
    return str(hosts.networks()[0])


def _items(policy: Policy, site: SiteDescription) -> list[tuple[str, ManagedItem]]:
    """Every object, policy and NAT rule the instructions create, in the order of the complete
    instructions, each with the step that creates it ("addresses", "applications", "out",
    "snat", "dnat", "in")."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    snat = policy.of_kind(RuleKind.SOURCE_NAT)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[tuple[str, ManagedItem]] = []

    def add(step, key, title, exposure, path, lines, rules, uses=(), gui_path="", keep="") -> None:
        """An item at a configuration ``path``: its ``set`` lines, ``delete path`` to remove
        it, and both in one commit to change it in place (Junos applies a commit at once). With
        ``keep``, a change deletes only ``path match`` first, so a policy keeps its place in
        its zone pair's list (a policy deleted and set again goes to the end)."""
        description = f'set {path} description "{marker(site, key)}"\n'
        create = "".join(f"set {path} {line}\n" for line in lines) + description
        remove = f"delete {path}\n"
        items.append(
            (
                step,
                ManagedItem(
                    key=key,
                    marker=marker(site, key),
                    title=title,
                    exposure=exposure,
                    create=create,
                    remove=remove,
                    update=(f"delete {path} match\n" if keep else remove) + create,
                    uses=tuple(uses),
                    gui_path=gui_path,
                    guide_rules=guide_rules_of(rules),
                ),
            )
        )

    def address(name: str, value: str, title: str, rules) -> str:
        add(
            "addresses",
            _key(name),
            title,
            Exposure.SUPPORT,
            f"security address-book global address {name}",
            [value],
            rules,
            gui_path="Security Policies & Objects › Global Addresses",
        )
        return _key(name)

    hosts = outbound[0].required_hosts
    host_name = hosts_object_name(hosts)
    host_key = address(host_name, _host_value(hosts), f"Address {host_name} ({hosts})", outbound)
    target_key = host_key
    if inbound and host_name != TARGET:
        # The inbound policy names the one address the forwards go to.
        target = inbound[0].required_hosts.start
        target_key = address(TARGET, f"{target}/32", f"Address {TARGET} ({target})", inbound)
    dc_names = network_names("obm-dc", outbound[0].datacenter)
    for name, network in zip(dc_names, outbound[0].datacenter, strict=True):
        address(name, str(network), f"Address {name} (datacenter {network})", outbound)
    sources = inbound[0].allowed_sources if inbound else ()
    mon_names = source_object_names("obm-mon", inbound[0]) if inbound else []
    for name, network in zip(mon_names, sources, strict=True):
        what = source_words(network, inbound[0], "monitoring computers ")
        address(name, str(network), f"Address {name} ({what})", inbound)

    for rule in _unique_ports(outbound + snat + forwards + inbound):
        name = port_object_name(rule)
        add(
            "applications",
            _key(name),
            f"Application {name} ({rule.port_spec})",
            Exposure.SUPPORT,
            f"applications application {name}",
            [f"protocol {rule.protocol} destination-port {rule.port}"],
            [rule],
            gui_path="Security Policies & Objects › Services › Custom Applications",
        )
    if inbound:
        add(
            "applications",
            _key(MONITORING_SET),
            f"Application set {MONITORING_SET} (the monitoring ports)",
            Exposure.SUPPORT,
            f"applications application-set {MONITORING_SET}",
            [f"application {port_object_name(r)}" for r in inbound],
            inbound,
            [_key(port_object_name(r)) for r in inbound],
            gui_path="Security Policies & Objects › Services › Application Sets",
        )

    add(
        "out",
        "policy-out",
        f"Security policy {OUTBOUND_POLICY} ({TRUST} -> {UNTRUST})",
        Exposure.OUTBOUND,
        f"security policies from-zone {TRUST} to-zone {UNTRUST} policy {OUTBOUND_POLICY}",
        [f"match source-address {host_name}"]
        + [f"match destination-address {name}" for name in dc_names]
        + [f"match application {port_object_name(r)}" for r in outbound]
        + ["then permit", "then log session-close"],
        outbound,
        [host_key, *(_key(n) for n in dc_names), *(_key(port_object_name(r)) for r in outbound)],
        gui_path="Security Policies & Objects › Security Policies",
        keep="match",
    )
    if snat:
        # Every source NAT rule of the policy has the same hosts and datacenter (only the port
        # differs), and interface NAT does not depend on the port: one Junos rule covers them.
        # It joins the factory rule-set, which stays when the rule goes.
        first = snat[0]
        add(
            "snat",
            "snat",
            f"Source NAT rule {SNAT_RULE} in {SNAT_RULE_SET} (interface NAT)",
            Exposure.SUPPORT,
            f"security nat source rule-set {SNAT_RULE_SET} rule {SNAT_RULE}",
            [f"match source-address {n}" for n in first.required_hosts.networks()]
            + [f"match destination-address {n}" for n in first.datacenter]
            + ["then source-nat interface"],
            snat,
            gui_path="Network › NAT › Source NAT",
        )
    if forwards:
        add(
            "dnat",
            "dnat-pool",
            f"Destination NAT pool {POOL} ({forwards[0].required_hosts.start})",
            Exposure.SUPPORT,
            f"security nat destination pool {POOL}",
            [f"address {forwards[0].required_hosts.start}/32"],
            forwards,
            gui_path="Network › NAT › Destination NAT › Pool",
        )
        add(
            "dnat",
            "dnat-rule-set",
            f"Destination NAT rule-set {DNAT_RULE_SET} (from {UNTRUST})",
            Exposure.SUPPORT,
            f"security nat destination rule-set {DNAT_RULE_SET}",
            [f"from zone {UNTRUST}"],
            forwards,
            gui_path="Network › NAT › Destination NAT › Rule Set",
        )
    for r in forwards:
        destination = f"{r.public_address}/32" if r.public_address else "0.0.0.0/0"
        add(
            "dnat",
            rule_key(r),
            f"Destination NAT rule obm-{r.protocol}-{r.port} ({r.port_spec} to the pool)",
            Exposure.INBOUND,
            f"security nat destination rule-set {DNAT_RULE_SET} rule obm-{r.protocol}-{r.port}",
            [f"match source-address {n}" for n in r.allowed_sources]
            + [
                f"match destination-address {destination}",
                f"match destination-port {r.port}",
                f"match protocol {r.protocol}",
                f"then destination-nat pool {POOL}",
            ],
            [r],
            ["dnat-pool", "dnat-rule-set"],
            gui_path="Network › NAT › Destination NAT › Rule Set",
        )
    if inbound:
        add(
            "in",
            "policy-in",
            f"Security policy {INBOUND_POLICY} ({UNTRUST} -> {TRUST})",
            Exposure.INBOUND,
            f"security policies from-zone {UNTRUST} to-zone {TRUST} policy {INBOUND_POLICY}",
            [f"match source-address {name}" for name in mon_names or ["any"]]
            + [
                f"match destination-address {TARGET}",
                f"match application {MONITORING_SET}",
                "then permit",
                "then log session-close",
            ],
            inbound,
            [*(_key(n) for n in mon_names), target_key, _key(MONITORING_SET)],
            gui_path="Security Policies & Objects › Security Policies",
            keep="match",
        )
    return items


def _key(name: str) -> str:
    """An object's item key: its name without ``obm-``."""
    return name.removeprefix("obm-")


def _config(items: list[tuple[str, ManagedItem]], step: str) -> str:
    return "".join(item.create for name, item in items if name == step)


def _unique_ports(rules: Iterable[Rule]) -> list[Rule]:
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(port_object_name(rule), rule)
    return list(seen.values())
