"""Fortinet FortiGate (FortiOS 7.x, CLI with the matching GUI paths).

Targets FortiOS 7.0, 7.2 and 7.4 in the default policy-based NAT mode (``central-nat
disable``); the CLI blocks are pasted into the FortiGate CLI console or an SSH session, one
``config … end`` block at a time. The objects are named ``obm-…`` so the customer finds them
again.

How the traps are handled:

- **One protocol per VIP.** A FortiGate virtual IP with port forwarding takes one
  ``protocol``, so every monitoring port gets its own VIP (``obm-vip-tcp-4403``,
  ``obm-vip-udp-4403``, ``obm-vip-tcp-4401``). Custom services could carry TCP and UDP at
  once; they are still one per protocol and port, so each rule reads on its own.
- **Which address the inbound policy names.** Neither the public nor the private address:
  a FortiGate policy matches a port-forward by naming the *VIP objects* as ``dstaddr`` of a
  policy from the outside to the inside interface.
- **Transparency** is ``set nat enable`` in the outbound policy (translate to the outgoing
  interface's address), so it is part of that change step, not a check: FortiOS does not
  translate traffic of a policy without it.
- **Ranges** are native (``set type iprange``); a DHCP host is the LAN subnet.
- **Monitoring sources** restrict both the VIPs (``src-filter``) and the inbound policy's
  ``srcaddr``; without sources, the policy names ``all``.
- **Dynamic public address**: the VIPs use ``set extip 0.0.0.0``, which FortiOS reads as
  "whatever address the external interface (``extintf``) has", so a DHCP or PPPoE WAN keeps
  working when its address changes.
- New policies land at the bottom of the interface pair's list, above the implicit deny; the
  steps say how to move them above a deny policy the customer may have.

Markers and plans: every object carries its marker ``obm:<site>:<key>`` in ``set comment`` (a
policy in ``set comments``), and the complete instructions and the plans' items are built from
one list (``_items``). The policies name *groups* (``obm-dc``, ``obm-mon``, ``addrgrp``) rather
than the networks, so a datacenter network or a monitoring source that comes or goes changes
only a group's ``set member`` list, in place: FortiOS edits a policy by its numeric ID only
(``edit <policyid>``, CLI Reference ``config firewall policy``), which the customer has to look
up (``show firewall policy | grep -f obm-backup-out`` shows the policy with its ``edit N`` line).
Objects are updated in place (``edit "obm-…"`` then ``set`` overwrites, lists included),
policies the same way by that ID; a policy is created with ``edit 0`` and deleted by its ID. A VIP or address in use cannot be deleted, so the
policies go first and the objects last.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.model import ADDRESS, GROUP, ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, and_list, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, OwnObject, marker, rule_key
from sites.vendors.names import (
    hosts_object_name,
    network_names,
    port_object_name,
    source_object_names,
)
from sites.vendors.restriction import (
    CHECK_SOURCE_LABEL,
    connecting,
    is_check_source,
    only_monitoring_sources,
    source_words,
    sources_label,
)
from sites.vendors.reuse import guide_objects

OUTBOUND_POLICY = "obm-backup-out"
INBOUND_POLICY = "obm-monitoring-in"
DATACENTER_GROUP = "obm-dc"
MONITORING_GROUP = "obm-mon"
CLI = "CLI Console (or SSH)"


class FortigateRenderer(Renderer):
    slug = "fortigate"
    name = "Fortinet FortiGate"
    versions = "FortiOS 7.0, 7.2, 7.4 (policy-based NAT, central NAT disabled)"
    renderer_version = 3  # 2: markers in comments, networks in groups, objects named by network;
    # 3: the first step names where the address groups are made
    markers_since = 2
    plan_gui_path = CLI
    plan_language = "fortios"
    supports_ranges = True  # firewall address "set type iprange"
    hides_lan_by_default = False  # NAT is per policy: "set nat enable"
    default_interfaces = ("internal", "wan1")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        items = _items(policy, site, inside, outside)

        steps = [
            Step(
                title="Create the address objects and groups",
                gui_path=(
                    "Policy & Objects › Addresses › Create New › Address, then Create New › "
                    "Address Group"
                ),
                config=_config(items, "addresses"),
                config_language="fortios",
                reason=(
                    "The policies name these objects: "
                    + and_list(
                        [
                            {
                                "address": "the backup host",
                                "range": "the backup hosts (an address range)",
                                "network": "the LAN (the backup host's address comes from DHCP)",
                            }[outbound[0].required_hosts.kind],
                            "the datacenter networks",
                            *(
                                [sources_label(inbound[0])]
                                if inbound and inbound[0].allowed_sources
                                else []
                            ),
                        ]
                    )
                    + ". The policies name the groups (obm-dc"
                    + (", obm-mon" if inbound and inbound[0].allowed_sources else "")
                    + "), so a network added later changes a group, not a policy. If an object "
                    "of the same name exists, FortiOS edits it. Each comment starts with the "
                    "object's marker (obm:…), which later change and removal instructions look for."
                ),
                verify='show firewall address | grep -f "obm-"\nshow firewall addrgrp | grep -f "obm-"',
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the services, one per protocol and port",
                gui_path="Policy & Objects › Services › Create New › Service",
                config=_config(items, "services"),
                config_language="fortios",
                reason=(
                    "Custom services for the backup port"
                    + (" and the monitoring ports" if inbound else "")
                    + "; one protocol each, so every rule shows exactly what it opens."
                ),
                verify='show firewall service custom | grep -f "obm-"',
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Allow the backup connection out, with NAT (transparency)",
                gui_path=(
                    f"Policy & Objects › Firewall Policy › Create New (Incoming Interface {inside}, "
                    f"Outgoing Interface {outside}, NAT on, Use Outgoing Interface Address)"
                ),
                config=_config(items, "out"),
                config_language="fortios",
                reason=(
                    f"{outbound[0].reason.detail} `set nat enable` translates these connections "
                    f"to the address of {outside} (the guide's transparency); FortiOS translates "
                    "nothing in a policy without it. `edit 0` takes the next free policy ID. "
                    "A new policy goes to the bottom of the list: if a policy above it denies this "
                    "traffic, drag it above that one (or `move <new-id> before <deny-id>` in "
                    "`config firewall policy`)."
                ),
                verify=f'show firewall policy | grep -f "{OUTBOUND_POLICY}"',
                guide_rules=guide_rules_of(outbound + snat),
            ),
        ]
        if forwards:
            steps.append(
                Step(
                    title="Forward the monitoring ports: one virtual IP per protocol and port",
                    gui_path=(
                        "Policy & Objects › Virtual IPs › Create New › Virtual IP "
                        "(Port Forwarding on, one protocol each)"
                    ),
                    config=_config(items, "vips"),
                    config_language="fortios",
                    reason=(
                        "A FortiGate virtual IP forwards one protocol, so TCP 4403 and UDP 4403 are "
                        "two VIPs. "
                        + (
                            f"They forward the public address {forwards[0].public_address}"
                            if forwards[0].public_address
                            else f"The public address is dynamic: `extip 0.0.0.0` forwards whatever "
                            f"address {outside} has at the moment"
                        )
                        + f" to the backup host {forwards[0].required_hosts.start}"
                        + (
                            f", and only for {sources_label(forwards[0])} (`src-filter`)."
                            if forwards[0].allowed_sources
                            else "."
                        )
                    ),
                    verify='show firewall vip | grep -f "obm-vip-"',
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            steps.append(
                Step(
                    title="Allow the monitoring GUI in through the virtual IPs",
                    gui_path=(
                        f"Policy & Objects › Firewall Policy › Create New (Incoming Interface {outside}, "
                        f"Outgoing Interface {inside}, Destination: the obm-vip-… virtual IPs, NAT off)"
                    ),
                    config=_config(items, "in"),
                    config_language="fortios",
                    reason=(
                        "A VIP only translates; the policy lets the connections through. On a "
                        "FortiGate the policy names the VIPs as destination, not the public or the "
                        "private address. "
                        + (
                            only_monitoring_sources(inbound[0])
                            if inbound[0].allowed_sources
                            else 'Any address may connect (`srcaddr "all"`); give the monitoring '
                            "computers' addresses to narrow it."
                        )
                    ),
                    verify=f'show firewall policy | grep -f "{INBOUND_POLICY}"',
                    guide_rules=guide_rules_of(inbound),
                )
            )

        outbound_ports = " or ".join(f"port {r.port}" for r in outbound)
        steps += verification_steps(
            policy,
            gui_path="Log & Report › Forward Traffic; Dashboard › FortiView Sessions",
            outbound_verify="\n".join(
                ["# while the probe runs on the backup host:", "diagnose sys session filter clear"]
                + [f"diagnose sys session filter dport {r.port}" for r in outbound[:1]]
                + [
                    "# the session shows act=snat, translated to the outside address:",
                    "diagnose sys session list",
                    f"diagnose sniffer packet any '{outbound_ports}' 4 20 l",
                ]
            ),
            inbound_verify="\n".join(
                [
                    "# while the portal checks:",
                    "diagnose sniffer packet any '"
                    + " or ".join(f"port {p}" for p in sorted({r.required_port for r in inbound}))
                    + "' 4 20 l",
                    "diagnose sys session filter clear",
                ]
                + [f"diagnose sys session filter dport {r.port}" for r in inbound[:1]]
                + [
                    "# the sessions show act=dnat, translated to the backup host:",
                    "diagnose sys session list",
                ]
            )
            if inbound
            else "",
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        return tuple(item for _, item in _items(policy, site, inside, outside))

    def plan_section(self, section: str, body: str) -> str:
        return f"config {section}\n{body}end\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        lines = [f'show {item.section} | grep -f "{item.marker}"' for item in items]
        expected = "each shows its entry" if present else "each shows nothing"
        return "\n".join(lines) + f"\n# {expected}"

    # -- Adjusted to a checked configuration (sites.vendors.reuse) -----------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The backup hosts' address, the datacenter and monitoring groups and the services: a
        policy names an address object or a group alike, so either may stand for ours."""
        return tuple(
            guide_objects(
                policy,
                datacenter=DATACENTER_GROUP,
                monitoring=MONITORING_GROUP,
                address_kinds=(ADDRESS, GROUP),
            )
        )

    def can_reference(self, name: str) -> bool:
        return '"' not in name and "\n" not in name  # names are quoted in the CLI

    def tidy_config(self, config: str) -> str:
        return re.sub(r"^config [^\n]+\nend\n", "", config, flags=re.MULTILINE)

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """FortiOS matches policies top-down (first match); a new one lands at the bottom, so it
        is moved above the deny policy by ID (`move … before …`)."""
        policy = next((p for p in (OUTBOUND_POLICY, INBOUND_POLICY) if p in step.config), "")
        if not deny.name or not policy:
            return super().place_above(step, deny)
        move = f"config firewall policy\n    move <ID of {policy}> before {deny.name}\nend\n"
        return dataclasses.replace(
            step,
            config=step.config + move,
            reason=(
                f"{step.reason} Your policy {deny.name} (line {deny.line}) denies this "
                "connection and comes first (FortiOS uses the first policy that matches), so "
                f"the new policy would never be reached: `move <ID of {policy}> before "
                f"{deny.name}` puts it above (the ID: show firewall policy | grep -f {policy})."
            ),
        )


def _items(
    policy: Policy, site: SiteDescription, inside: str, outside: str
) -> list[tuple[str, ManagedItem]]:
    """Every object and policy the instructions create, in the order of the complete
    instructions, each with the step that creates it ("addresses", "services", "out", "vips",
    "in")."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    snat = policy.of_kind(RuleKind.SOURCE_NAT)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[tuple[str, ManagedItem]] = []

    def add(
        step: str,
        section: str,
        name: str,
        title: str,
        exposure: Exposure,
        settings: list[str],
        rules: Iterable[Rule],
        *,
        key: str = "",
        uses: Iterable[str] = (),
        update_extra: tuple[str, ...] = (),
    ) -> None:
        key = key or name.removeprefix("obm-")
        mark = marker(site, key)
        if section == "firewall policy":
            # Created with the next free ID, deleted by its ID (see the module docstring).
            settings = [f'set name "{name}"', f'set comments "{mark}"', *settings]
            # `set` replaces a policy's lists, so the policy is updated in place by its ID (a
            # second policy of the same name would be refused).
            create, update = _entry("edit 0", settings), _entry(f"edit <ID of {name}>", settings)
            title += f" (its ID: show firewall policy | grep -f {name})"
            remove = f"    delete <ID of {name}>\n"
        else:
            # The first setting is the comment: the marker goes first in it.
            comment, *rest = settings
            settings = [comment.replace('set comment "', f'set comment "{mark} ', 1), *rest]
            create = _entry(f'edit "{name}"', settings)
            update = _entry(f'edit "{name}"', settings + list(update_extra))
            remove = f'    delete "{name}"\n'
        items.append(
            (
                step,
                ManagedItem(
                    key=key,
                    marker=mark,
                    title=title,
                    exposure=exposure,
                    create=create,
                    remove=remove,
                    update=update,
                    section=section,
                    uses=tuple(uses),
                    gui_path=_GUI_PATHS[section],
                    guide_rules=guide_rules_of(rules),
                ),
            )
        )

    hosts = outbound[0].required_hosts
    host_name = hosts_object_name(hosts)
    add(
        "addresses",
        "firewall address",
        host_name,
        f"Address {host_name} ({hosts})",
        Exposure.SUPPORT,
        _host_lines(hosts),
        outbound,
    )
    dc_names = network_names(DATACENTER_GROUP, outbound[0].datacenter)
    for name, network in zip(dc_names, outbound[0].datacenter, strict=True):
        add(
            "addresses",
            "firewall address",
            name,
            f"Address {name} (datacenter {network})",
            Exposure.SUPPORT,
            ['set comment "Backup datacenter"', f"set subnet {_subnet(network)}"],
            outbound,
        )
    sources = inbound[0].allowed_sources if inbound else ()
    mon_names = source_object_names(MONITORING_GROUP, inbound[0]) if inbound else []
    for name, network in zip(mon_names, sources, strict=True):
        check = is_check_source(network, inbound[0])
        add(
            "addresses",
            "firewall address",
            name,
            f"Address {name} ({source_words(network, inbound[0], 'monitoring computers ')})",
            Exposure.SUPPORT,
            [
                f'set comment "{CHECK_SOURCE_LABEL if check else "Monitoring GUI"}"',
                f"set subnet {_subnet(network)}",
            ],
            inbound,
        )
    # The policies name the groups: a network that comes or goes changes a member list only.
    add(
        "addresses",
        "firewall addrgrp",
        DATACENTER_GROUP,
        f"Address group {DATACENTER_GROUP} (the datacenter networks)",
        Exposure.SUPPORT,
        ['set comment "Backup datacenter networks"', "set member " + _quoted(dc_names)],
        outbound,
        uses=[_key(name) for name in dc_names],
    )
    if mon_names:
        add(
            "addresses",
            "firewall addrgrp",
            MONITORING_GROUP,
            f"Address group {MONITORING_GROUP} ({sources_label(inbound[0])})",
            Exposure.SUPPORT,
            [
                f'set comment "{sources_label(inbound[0]).removeprefix("the ").capitalize()}"',
                "set member " + _quoted(mon_names),
            ],
            inbound,
            uses=[_key(name) for name in mon_names],
        )
    services: dict[str, Rule] = {}
    for rule in outbound + snat + forwards + inbound:
        services.setdefault(port_object_name(rule), rule)
    for name, rule in services.items():
        add(
            "services",
            "firewall service custom",
            name,
            f"Service {name} ({rule.port_spec})",
            Exposure.SUPPORT,
            [f'set comment "{rule.port_spec}"', f"set {rule.protocol}-portrange {rule.port}"],
            [rule],
        )
    add(
        "out",
        "firewall policy",
        OUTBOUND_POLICY,
        f"Policy {OUTBOUND_POLICY} (backup host -> datacenter, with NAT)",
        Exposure.OUTBOUND,
        [
            f'set srcintf "{inside}"',
            f'set dstintf "{outside}"',
            "set action accept",
            f'set srcaddr "{host_name}"',
            f'set dstaddr "{DATACENTER_GROUP}"',
            'set schedule "always"',
            "set service " + _quoted(port_object_name(r) for r in outbound),
            "set logtraffic all",
            "set nat enable",
        ],
        outbound + snat,
        key="policy-out",
        uses=[_key(host_name), _key(DATACENTER_GROUP)]
        + [_key(port_object_name(r)) for r in outbound],
    )
    for rule in forwards:
        lines = [
            f'set comment "Monitoring: {rule.port_spec} to the backup host"',
            f"set extip {_extip(rule.public_address)}",
            f'set mappedip "{rule.required_hosts.start}"',
            f'set extintf "{outside}"',
            "set portforward enable",
            f"set protocol {rule.protocol}",
            f"set extport {rule.port}",
            f"set mappedport {rule.port}",
        ]
        if rule.allowed_sources:
            lines.append("set src-filter " + _quoted(str(n) for n in rule.allowed_sources))
        add(
            "vips",
            "firewall vip",
            _vip(rule),
            f"Virtual IP {_vip(rule)} ({rule.port_spec} to {rule.required_hosts.start})",
            Exposure.INBOUND,
            lines,
            [rule],
            key=rule_key(rule),
            # Edited in place, a VIP would keep a source filter this version no longer has.
            update_extra=() if rule.allowed_sources else ("unset src-filter",),
        )
    if inbound:
        add(
            "in",
            "firewall policy",
            INBOUND_POLICY,
            f"Policy {INBOUND_POLICY} ("
            + connecting(inbound[0])
            + " -> backup host through the VIPs)",
            Exposure.INBOUND,
            [
                f'set srcintf "{outside}"',
                f'set dstintf "{inside}"',
                "set action accept",
                "set srcaddr " + (f'"{MONITORING_GROUP}"' if mon_names else '"all"'),
                "set dstaddr " + _quoted(_vip(r) for r in inbound),
                'set schedule "always"',
                "set service " + _quoted(port_object_name(r) for r in inbound),
                "set logtraffic all",
            ],
            inbound,
            key="policy-in",
            uses=([_key(MONITORING_GROUP)] if mon_names else [])
            + [rule_key(r) for r in forwards]
            + [_key(port_object_name(r)) for r in inbound],
        )
    return items


_GUI_PATHS = {
    "firewall address": "Policy & Objects › Addresses",
    "firewall addrgrp": "Policy & Objects › Addresses (Address Group)",
    "firewall service custom": "Policy & Objects › Services",
    "firewall vip": "Policy & Objects › Virtual IPs",
    "firewall policy": "Policy & Objects › Firewall Policy",
}


def _key(name: str) -> str:
    """An object's item key: its name without ``obm-``."""
    return name.removeprefix("obm-")


def _config(items: list[tuple[str, ManagedItem]], *steps: str) -> str:
    """The ``config … end`` blocks that create the items of these steps, one block per section
    in the order the sections first appear (as a plan step joins them)."""
    sections: dict[str, list[str]] = {}
    for step, item in items:
        if step in steps:
            sections.setdefault(item.section, []).append(item.create)
    return "".join(f"config {section}\n{''.join(body)}end\n" for section, body in sections.items())


def _entry(head: str, settings: list[str]) -> str:
    return f"    {head}\n" + "".join(f"        {s}\n" for s in settings) + "    next\n"


def _host_lines(hosts: HostMatch) -> list[str]:
    if hosts.kind == "range":
        return [
            'set comment "Backup hosts"',
            "set type iprange",
            f"set start-ip {hosts.start}",
            f"set end-ip {hosts.end}",
        ]
    if hosts.kind == "network":
        return ['set comment "LAN (backup host on DHCP)"', f"set subnet {_subnet(hosts.network)}"]
    return ['set comment "Backup host"', f"set subnet {_subnet(IPv4Network(hosts.start))}"]


def _subnet(network: IPv4Network | None) -> str:
    assert network is not None
    return f"{network.network_address} {network.netmask}"


def _extip(public: IPv4Address | None) -> str:
    return str(public) if public is not None else "0.0.0.0"


def _vip(rule: Rule) -> str:
    return f"obm-vip-{rule.protocol}-{rule.port}"


def _quoted(names) -> str:
    return " ".join(f'"{name}"' for name in names)
