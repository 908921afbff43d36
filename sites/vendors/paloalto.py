"""Palo Alto Networks next-generation firewall (PAN-OS ``set`` commands, with the web UI paths).

Targets PAN-OS 10.1, 10.2, 11.0 and 11.1 on a single-vsys firewall managed locally (not from
Panorama): the commands are pasted in configure mode (``configure``) and take effect with
``commit``. The zones are the factory names ``trust`` (inside) and ``untrust`` (outside); the
outside interface (default ``ethernet1/1``) is named where source NAT needs it. Objects are
named ``obm-…``.

How the traps are handled:

- **One protocol per service object.** A PAN-OS service has one protocol, so TCP 4403 and UDP
  4403 are two services (``obm-tcp-4403``, ``obm-udp-4403``); a NAT rule takes a single
  service, so there is one destination NAT rule per protocol and port.
- **Which address the inbound security rule names.** PAN-OS matches security rules on the
  *pre-NAT* destination address with the *post-NAT* zone: the inbound rule goes from
  ``untrust`` to ``trust`` (the zone of the backup host) and names the *public* address.
  The destination NAT rule itself goes from ``untrust`` to ``untrust`` (the zone the public
  address routes to).
- **Transparency**: PAN-OS translates nothing by default, so source NAT is a change: a NAT
  rule for the backup traffic with ``dynamic-ip-and-port interface-address`` (the outside
  interface's address).
- **Ranges** are native (``ip-range`` address objects); a DHCP host is the LAN network.
- **Monitoring sources** restrict the destination NAT rules and the inbound security rule.
- **Dynamic public address**: no object can hold an address that changes, so the NAT and
  security rules name destination ``any``; with the zones (``untrust`` to ``untrust``,
  resp. to ``trust``) and the service they still only match the forwarded ports.
- New rules are appended below existing ones; each is moved to the ``top`` so that no broader
  deny rule shadows it (the rules are narrow, so being first changes nothing else).

Markers and plans: every object and rule carries its marker ``obm:<site>:<key>`` as its
``description`` (set before the rest of the line: ``set`` descends into what it names, so a
description after ``protocol tcp port 4401`` or a translation would land inside it). The complete
instructions and the plans' items come from one list (``_items``). The datacenter networks and
the monitoring sources are address objects named by the network (``obm-dc-198.51.100.0-24``)
in the address groups ``obm-dc`` and ``obm-mon`` that the rules name, so a network added or
dropped is one group member more or less. ``set`` replaces a leaf (an address, a port, a
translated address) but *adds* to a member list, so a rule changed in place first deletes its
source, destination (and service) lists. Removal is ``delete rulebase security|nat rules NAME``,
``delete address-group GROUP static MEMBER``, ``delete address NAME``, ``delete service NAME``,
rules before the objects they name (PAN-OS refuses to delete an object that is referenced). Each
plan step is committed on its own (``configure`` … ``commit``), so the firewall passes through the
engine's safe order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.analyzer.model import ADDRESS, GROUP, ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, and_list, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, OwnObject, marker, rule_key
from sites.vendors.names import (
    hosts_object_name,
    network_object_name,
    port_object_name,
    source_object_names,
)
from sites.vendors.restriction import (
    CHECK_SOURCE_WORDS,
    connecting,
    is_check_source,
    only_monitoring_sources,
    sources_label,
)
from sites.vendors.reuse import guide_objects
from sites.vendors.sample_addresses import (
    address_in,
    backup_host_address,
    monitoring_source_address,
)

TRUST, UNTRUST = "trust", "untrust"
OUTBOUND_RULE = "obm-backup-out"
INBOUND_RULE = "obm-monitoring-in"
DATACENTER = "obm-dc"
MONITORING = "obm-mon"
PUBLIC = "obm-public"
NAMING_NOTE = (
    "PAN-OS names interfaces like ethernet1/1 (Network › Interfaces), and the zones the rules "
    "name must already exist (Network › Zones): the commands create neither."
)
ZONE_NOTE = (
    "The rules use the factory zone names trust (inside) and untrust (outside); if your zones "
    "are named differently, replace them before pasting."
)


class PaloAltoRenderer(Renderer):
    slug = "paloalto"
    name = "Palo Alto Networks (PAN-OS)"
    versions = "PAN-OS 10.1, 10.2, 11.0, 11.1 (single vsys, managed locally)"
    # 3: markers in descriptions, networks named by network in address groups the rules name.
    renderer_version = 3
    markers_since = 3
    plan_gui_path = "CLI: configure mode"
    plan_language = "panos"
    supports_ranges = True  # address objects of type ip-range
    hides_lan_by_default = False
    default_interfaces = ("ethernet1/2", "ethernet1/1")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        _, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        all_rules = outbound + snat + forwards + inbound
        items = _items(policy, site, outside)

        steps = [
            Step(
                title="Create the address objects",
                gui_path="Objects › Addresses › Add",
                config="configure\n" + _config(items, "addresses"),
                config_language="panos",
                reason=(
                    f"{NAMING_NOTE} "
                    "Enter configure mode and create the objects the rules name: "
                    + and_list(
                        [
                            {
                                "address": "the backup host",
                                "range": "the backup hosts (an IP range)",
                                "network": "the LAN (the backup host's address comes from DHCP)",
                            }[outbound[0].required_hosts.kind],
                            "the datacenter networks",
                            *(
                                [sources_label(inbound[0])]
                                if inbound and inbound[0].allowed_sources
                                else []
                            ),
                            *(
                                ["the public address"]
                                if inbound and inbound[0].public_address
                                else []
                            ),
                        ]
                    )
                    + ". The rules name the address groups (obm-dc"
                    + (", obm-mon" if inbound and inbound[0].allowed_sources else "")
                    + "), so a network added later joins a group and the rules stay as they are. "
                    "Each description holds the object's marker (obm:…), which later change and "
                    "removal instructions look for."
                ),
                verify="show address\nshow address-group",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the services, one per protocol",
                gui_path="Objects › Services › Add",
                config=_config(items, "services"),
                config_language="panos",
                reason=(
                    "A PAN-OS service object has a single protocol"
                    + (", so TCP 4403 and UDP 4403 are two services." if inbound else ".")
                ),
                verify="show service",
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Allow the backup connection out (security rule)",
                gui_path=f"Policies › Security › Add (Source zone {TRUST}, Destination zone {UNTRUST})",
                config=_config(items, "out"),
                config_language="panos",
                reason=f"{outbound[0].reason.detail} {ZONE_NOTE}",
                verify=f"show rulebase security rules {OUTBOUND_RULE}",
                guide_rules=guide_rules_of(outbound),
            ),
            Step(
                title="Translate the backup connections to the outside address (source NAT)",
                gui_path=(
                    f"Policies › NAT › Add (Translated Packet: Dynamic IP And Port, Interface "
                    f"Address, {outside})"
                ),
                config=_config(items, "snat"),
                config_language="panos",
                reason=(
                    "PAN-OS translates nothing by default. This rule hides the backup connections "
                    f"behind the address of {outside} (the guide's transparency), and only them. "
                    "If a broader source NAT rule for the LAN already exists, this one changes "
                    "nothing for other traffic."
                ),
                verify="\n".join(
                    f"show rulebase nat rules obm-snat-{r.protocol}-{r.port}" for r in snat
                ),
                guide_rules=guide_rules_of(snat),
            ),
        ]
        if forwards:
            public = forwards[0].public_address
            steps.append(
                Step(
                    title="Forward the monitoring ports (destination NAT, one rule per protocol)",
                    gui_path=(
                        f"Policies › NAT › Add (Source zone {UNTRUST}, Destination zone {UNTRUST}, "
                        "Translated Packet: Destination Address Translation, Static IP)"
                    ),
                    config=_config(items, "dnat"),
                    config_language="panos",
                    reason=(
                        "A NAT rule takes one service, so every protocol and port has its own rule. "
                        f"Both zones are {UNTRUST}: before translation the destination is the "
                        "firewall's public address, which lives in that zone. "
                        + (
                            f"The rules match the public address {public}."
                            if public
                            else "The public address is dynamic, so the rules match any destination in "
                            f"{UNTRUST} on these ports (that is the firewall's own address)."
                        )
                    ),
                    verify="\n".join(
                        f"show rulebase nat rules obm-dnat-{r.protocol}-{r.port}" for r in forwards
                    ),
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            public = inbound[0].public_address
            steps.append(
                Step(
                    title="Allow the monitoring GUI in (security rule on the public address)",
                    gui_path=(
                        f"Policies › Security › Add (Source zone {UNTRUST}, Destination zone {TRUST}, "
                        "Destination Address: the public address)"
                    ),
                    config=_config(items, "in"),
                    config_language="panos",
                    reason=(
                        "PAN-OS matches security rules on the destination address *before* NAT and "
                        f"the zone *after* NAT: the rule goes to {TRUST}, where the backup host is, "
                        "but names the "
                        + (
                            f"public address {public}"
                            if public
                            else "public address, here any because it is dynamic"
                        )
                        + f", not the host's private address {inbound[0].required_hosts.start}. "
                        + (
                            only_monitoring_sources(inbound[0])
                            if inbound[0].allowed_sources
                            else "Any address may connect; give the monitoring computers' addresses "
                            "to narrow it."
                        )
                    ),
                    verify=f"show rulebase security rules {INBOUND_RULE}",
                    guide_rules=guide_rules_of(inbound),
                )
            )
        steps.append(
            Step(
                title="Commit the configuration",
                gui_path="Commit › Commit",
                config="commit\n",
                config_language="panos",
                reason=(
                    "Nothing takes effect before the commit. Leave configure mode (`exit`) for the "
                    "checks below."
                ),
                verify="show jobs processed",
                guide_rules=guide_rules_of(all_rules),
            )
        )

        dc_probe = address_in(outbound[0].datacenter[0])
        host = backup_host_address(outbound[0].required_hosts)
        out_checks = [
            f"test security-policy-match from {TRUST} to {UNTRUST} source {host} "
            f"destination {dc_probe} destination-port {r.port} protocol {_proto(r)}"
            for r in outbound
        ] + [
            f"test nat-policy-match from {TRUST} to {UNTRUST} source {host} "
            f"destination {dc_probe} destination-port {r.port} protocol {_proto(r)}"
            for r in snat
        ]
        in_checks: list[str] = []
        if inbound:
            source = monitoring_source_address(inbound[0].allowed_sources)
            destination = str(inbound[0].public_address) if inbound[0].public_address else "PUBLIC"
            if not inbound[0].public_address:
                in_checks.append(
                    f"# PUBLIC: the current address of {outside} (show interface {outside})"
                )
            for r in forwards:
                in_checks.append(
                    f"test nat-policy-match from {UNTRUST} to {UNTRUST} source {source} "
                    f"destination {destination} destination-port {r.port} protocol {_proto(r)}"
                )
            for r in inbound:
                in_checks.append(
                    f"test security-policy-match from {UNTRUST} to {TRUST} source {source} "
                    f"destination {destination} destination-port {r.port} protocol {_proto(r)}"
                )
            in_checks.append("# while the portal checks:")
            in_checks += [
                f"show session all filter destination-port {p}"
                for p in sorted({r.required_port for r in inbound})
            ]
        steps += verification_steps(
            policy,
            gui_path="Monitor › Logs › Traffic",
            outbound_verify="\n".join(
                out_checks
                + ["# while the probe runs on the backup host:"]
                + [f"show session all filter destination-port {r.port}" for r in outbound]
            ),
            inbound_verify="\n".join(in_checks),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        _, outside = self.interfaces(site)
        return tuple(item for _, item in _items(policy, site, outside))

    # -- Adjusted to a checked configuration (sites.vendors.reuse) -----------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The backup hosts, the datacenter and monitoring groups, the public address and the
        services: a rule names an address or an address group alike."""
        own = guide_objects(
            policy, datacenter=DATACENTER, monitoring=MONITORING, address_kinds=(ADDRESS, GROUP)
        )
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound and inbound[0].public_address is not None:
            public = IPv4Network(inbound[0].public_address)
            own.append(OwnObject(_key(PUBLIC), PUBLIC, (ADDRESS, GROUP), (public,)))
        return tuple(own)

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """PAN-OS matches security rules top-down (first match): the rule is moved right above
        the deny rule (``move … before``) rather than to the top."""
        rule = OUTBOUND_RULE if OUTBOUND_RULE in step.config else INBOUND_RULE
        path = f"move rulebase security rules {rule} top"
        if not deny.name or path not in step.config:
            return super().place_above(step, deny)
        before = f'move rulebase security rules {rule} before "{deny.name}"'
        return dataclasses.replace(
            step,
            config=step.config.replace(path, before),
            reason=(
                f"{step.reason} Your security rule {deny.name} (line {deny.line}) denies this "
                "connection and comes first (PAN-OS uses the first rule that matches): "
                f"`{before}` puts this rule right above it."
            ),
        )

    def plan_section(self, section: str, body: str) -> str:
        # Each step is committed on its own, so the firewall runs each safe state in turn.
        return f"configure\n{body}commit\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        lines = [f"show config running | match {item.marker}" for item in items]
        expected = "each shows its line" if present else "each shows nothing"
        return "\n".join(lines) + f"\n# {expected} (configure mode: `run show config …`)"


def _security_spec(
    src_zone: str, dst_zone: str, sources: list[str], destinations: list[str], services: list[str]
) -> str:
    return (
        f"from {src_zone} to {dst_zone} source {_members(sources)} "
        f"destination {_members(destinations)} application any service {_members(services)} "
        "action allow"
    )


def _nat_spec(
    src_zone: str,
    dst_zone: str,
    sources: list[str],
    destinations: list[str],
    service: str,
    translation: str,
) -> str:
    return (
        f"from {src_zone} to {dst_zone} source {_members(sources)} "
        f"destination {_members(destinations)} service {service} {translation}"
    )


def _members(names: Iterable[str]) -> str:
    """One member as is, several in PAN-OS list brackets."""
    names = list(names)
    return names[0] if len(names) == 1 else "[ " + " ".join(names) + " ]"


def _host_value(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"ip-range {hosts.start}-{hosts.end}"
    return f"ip-netmask {hosts.networks()[0]}"


def _unique_ports(rules: Iterable[Rule]) -> list[Rule]:
    seen: dict[str, Rule] = {}
    for rule in rules:
        seen.setdefault(port_object_name(rule), rule)
    return list(seen.values())


def _proto(rule: Rule) -> int:
    return {"tcp": 6, "udp": 17}[rule.required_protocol]


def _items(policy: Policy, site: SiteDescription, outside: str) -> list[tuple[str, ManagedItem]]:
    """Every object and rule the instructions create, in the order of the complete
    instructions, each with the step that creates it ("addresses", "services", "out", "snat",
    "dnat", "in")."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    snat = policy.of_kind(RuleKind.SOURCE_NAT)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[tuple[str, ManagedItem]] = []

    def add(
        step: str,
        key: str,
        title: str,
        exposure: Exposure,
        create: str,
        remove: str,
        rules: Iterable[Rule],
        uses: Iterable[str] = (),
        update: str | None = None,
        gui_path: str = "",
    ) -> None:
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
                    # `set` replaces a leaf (an address, a port, a translated address) in place.
                    update=create if update is None else update,
                    uses=tuple(uses),
                    gui_path=gui_path,
                    guide_rules=guide_rules_of(rules),
                ),
            )
        )

    def address(step, name, value, title, rules, group="") -> str:
        key = _key(name)
        # The description before the value: a `set` line descends into what it names, so what
        # follows a nested value (a protocol's port, a translation) would land inside it.
        create = f"set address {name} description {marker(site, key)} {value}\n"
        remove = f"delete address {name}\n"
        if group:
            # A member of the group the rules name: `set` adds it to the list, `delete … NAME`
            # takes it out (before the object goes: an object in use cannot be deleted).
            create += f"set address-group {group} static {name}\n"
            remove = f"delete address-group {group} static {name}\n" + remove
        add(
            step,
            key,
            title,
            Exposure.SUPPORT,
            create,
            remove,
            rules,
            [_key(group)] if group else (),
            update=f"set address {name} description {marker(site, key)} {value}\n",
            gui_path="Objects › Addresses",
        )
        return key

    def group(name: str, what: str, rules) -> None:
        key = _key(name)
        add(
            "addresses",
            key,
            f"Address group {name} ({what})",
            Exposure.SUPPORT,
            f"set address-group {name} description {marker(site, key)}\n",
            f"delete address-group {name}\n",
            rules,
            gui_path="Objects › Address Groups",
        )

    hosts = outbound[0].required_hosts
    host_name = hosts_object_name(hosts)
    address("addresses", host_name, _host_value(hosts), f"Address {host_name} ({hosts})", outbound)
    group(DATACENTER, "the datacenter networks", outbound)
    for network in outbound[0].datacenter:
        name = network_object_name(DATACENTER, network)
        address(
            "addresses",
            name,
            f"ip-netmask {network}",
            f"Address {name} in {DATACENTER}",
            outbound,
            DATACENTER,
        )
    sources = inbound[0].allowed_sources if inbound else ()
    if sources:
        group(MONITORING, sources_label(inbound[0]), inbound)
        for network, name in zip(sources, source_object_names(MONITORING, inbound[0]), strict=True):
            what = f" ({CHECK_SOURCE_WORDS})" if is_check_source(network, inbound[0]) else ""
            address(
                "addresses",
                name,
                f"ip-netmask {network}",
                f"Address {name}{what} in {MONITORING}",
                inbound,
                MONITORING,
            )
    public = inbound[0].public_address if inbound else None
    if public is not None:
        address(
            "addresses",
            PUBLIC,
            f"ip-netmask {public}/32",
            f"Address {PUBLIC} ({public})",
            forwards + inbound,
        )
    for rule in _unique_ports(outbound + snat + forwards + inbound):
        name = port_object_name(rule)
        add(
            "services",
            _key(name),
            f"Service {name} ({rule.port_spec})",
            Exposure.SUPPORT,
            f"set service {name} description {marker(site, _key(name))} "
            f"protocol {rule.protocol} port {rule.port}\n",
            f"delete service {name}\n",
            [rule],
            gui_path="Objects › Services",
        )

    def rule_item(step, rulebase, name, key, title, exposure, spec, lists, rules, uses, gui_path):
        """A security or NAT rule, created and moved to the top. In place, its member lists are
        emptied first: ``set`` adds to a list, it does not replace it."""
        path = f"rulebase {rulebase} rules {name}"
        text = f"set {path} description {marker(site, key)} {spec}\n"
        add(
            step,
            key,
            title,
            exposure,
            text + f"move {path} top\n",
            f"delete {path}\n",
            rules,
            uses,
            update="".join(f"delete {path} {field}\n" for field in lists) + text,
            gui_path=gui_path,
        )

    host_key = _key(host_name)
    rule_item(
        "out",
        "security",
        OUTBOUND_RULE,
        "security-out",
        f"Security rule {OUTBOUND_RULE} (backup host -> datacenter)",
        Exposure.OUTBOUND,
        _security_spec(
            TRUST, UNTRUST, [host_name], [DATACENTER], [port_object_name(r) for r in outbound]
        ),
        ("source", "destination", "service"),
        outbound,
        [host_key, _key(DATACENTER), *(_key(port_object_name(r)) for r in outbound)],
        "Policies › Security",
    )
    for rule in snat:
        rule_item(
            "snat",
            "nat",
            _nat_name(rule),
            rule_key(rule),
            f"NAT rule {_nat_name(rule)} (source NAT of {rule.port_spec} to {outside})",
            Exposure.SUPPORT,
            _nat_spec(
                TRUST,
                UNTRUST,
                [host_name],
                [DATACENTER],
                port_object_name(rule),
                f"source-translation dynamic-ip-and-port interface-address interface {outside}",
            ),
            ("source", "destination"),
            [rule],
            [host_key, _key(DATACENTER), _key(port_object_name(rule))],
            "Policies › NAT",
        )
    destination = [PUBLIC if public else "any"]
    address_keys = [_key(PUBLIC)] if public else []
    source_names = [MONITORING] if sources else ["any"]
    source_keys = [_key(MONITORING)] if sources else []
    for rule in forwards:
        rule_item(
            "dnat",
            "nat",
            _nat_name(rule),
            rule_key(rule),
            f"NAT rule {_nat_name(rule)} (forwards {rule.port_spec} to "
            f"{rule.required_hosts.start})",
            Exposure.INBOUND,
            _nat_spec(
                UNTRUST,
                UNTRUST,
                source_names,
                destination,
                port_object_name(rule),
                f"destination-translation translated-address {rule.required_hosts.start}",
            ),
            ("source", "destination"),
            [rule],
            [*source_keys, *address_keys, _key(port_object_name(rule))],
            "Policies › NAT",
        )
    if inbound:
        rule_item(
            "in",
            "security",
            INBOUND_RULE,
            "security-in",
            f"Security rule {INBOUND_RULE} (" + connecting(inbound[0]) + " -> backup host)",
            Exposure.INBOUND,
            _security_spec(
                UNTRUST, TRUST, source_names, destination, [port_object_name(r) for r in inbound]
            ),
            ("source", "destination", "service"),
            inbound,
            [*source_keys, *address_keys, *(_key(port_object_name(r)) for r in inbound)],
            "Policies › Security",
        )
    return items


def _key(name: str) -> str:
    """An object's or rule's item key: its name without ``obm-``."""
    return name.removeprefix("obm-")


def _nat_name(rule: Rule) -> str:
    return f"obm-{rule_key(rule)}"


def _config(items: list[tuple[str, ManagedItem]], step: str) -> str:
    return "".join(item.create for name, item in items if name == step)
