"""SonicWall firewalls running SonicOS 7 in Classic mode (TZ, NSa, NSv, NSsp except 15700).

Targets SonicOS 7.0 and 7.1, Classic mode: access rules per zone pair and NAT rules (Policy
mode, used by the NSsp 15700 and SonicOSX, has security policies instead and is not covered).
Menu paths are those of the SonicOS 7 management interface (Object, Policy, Monitor).

The address and service objects and the LAN → WAN access rules are given as SonicOS 7 CLI
commands (``configure`` … ``commit``), in the forms SonicOS itself exports; the service group,
the NAT rules and the WAN → LAN access rules are given as the fields of their GUI dialogs only,
because their CLI syntax could not be verified against SonicWall's documentation.

How it handles the traps:

- One protocol per service object: TCP 4403 and UDP 4403 are two service objects; the
  forwarded ports (TCP 4403, UDP 4403 and TCP 4401) are grouped in one service group, which the
  inbound NAT rule and the WAN → LAN access rule both name.
- Which address the inbound rule names: SonicOS matches access rules against the original
  (pre-NAT) destination, so the WAN → LAN access rule names the *public* object, never the
  backup host's private address.
- Hide NAT by default: SonicOS adds a NAT rule translating the LAN (X0 Subnet) to the WAN
  interface address (X1 IP) when X1 is configured, so transparency is a *check* step.
- Ranges: a Range address object names them natively. DHCP: a Network object for the LAN.
- Dynamic public address: the default address object "X1 IP" (named after the WAN interface)
  follows the address the interface gets by DHCP or PPPoE, so the NAT rule and the access rule
  name it instead of a fixed host object.

Markers (change and removal plans): SonicOS address and service objects have no comment field
(the SonicOS 7 API's address object is name, zone and address only), so their **name** is the
marker, ``obm:<site>:<key>`` (SonicOS names take colons, as its own "X0:V10 Subnet" objects do);
access rules and NAT rules carry it in their **Comment**. Keys are by role and, for networks, by
the network itself (``dc-203.0.113.0-24``, from ``network_key``), never by position, so a new
datacenter network adds one object and one rule and renames nothing. For the same reason there
are no address groups: one access rule per datacenter network, and one NAT rule and one inbound
rule per monitoring source, so adding or removing a network is adding or removing its own items.

Removal is SonicOS CLI where the item was created by CLI (``no address-object ipv4 "…"``,
``no service-object "…"``, ``no access-rule ipv4 from LAN to WAN action allow …`` with the same
match, as SonicOS identifies an access rule by it) and GUI text for the GUI-made items (delete
the rule whose Comment is the marker). Naming an existing object again with ``address-object``
edits it in place (as SonicWall's own CLI audit tests do), and a GUI dialog overwrites, so objects
and GUI items are updated in place; a CLI access rule whose match changes is removed and added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.gui_items import GuiItem, listed_verify, managed_item
from sites.vendors.managed import Exposure, ManagedItem, marker, network_key
from sites.vendors.restriction import (
    CHECK_SOURCE_WORDS,
    allowed_source_key,
    only_monitoring_sources,
    source_words,
)

OBJECTS_GUI = "Object › Match Objects › Addresses › Address Objects › Add"
SERVICES_GUI = "Object › Match Objects › Services › Service Objects › Add"
GROUPS_GUI = "Object › Match Objects › Services › Service Groups"
ACCESS_GUI = "Policy › Rules and Policies › Access Rules › {zones}"
NAT_GUI = "Policy › Rules and Policies › NAT Rules"
MONITOR_GUI = "Monitor › Tools & Monitors › Packet Monitor / Connections"
CLI = "cli"  # ManagedItem.section of the items given as CLI; GUI items have none


@dataclass(frozen=True)
class _Item:
    """One object or rule the instructions create: its CLI lines (``cli``) or its GUI dialog's
    fields (``fields``, added at ``add_path``), and how a plan removes and updates it."""

    key: str
    name: str  # the marker: the object's name, or the rule's Comment
    title: str
    exposure: Exposure
    cli: str = ""
    remove_cli: str = ""
    add_path: str = ""
    fields: str = ""
    listed: str = ""
    what: str = ""
    only_if: str = ""
    uses: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()


class SonicwallRenderer(Renderer):
    slug = "sonicwall"
    name = "SonicWall (SonicOS 7)"
    versions = "SonicOS 7.0 and 7.1, Classic mode"
    renderer_version = 2  # 2: markers as object names and rule comments; objects per network
    markers_since = 2
    plan_gui_path = "SonicOS management interface"
    plan_language = "text"  # CLI blocks (configure … end) and GUI dialogs, as each item is made
    supports_ranges = True  # Range address objects
    hides_lan_by_default = True  # default NAT rule X0 Subnet -> X1 IP
    default_interfaces = ("X0", "X1")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        items = _items(policy, site, profile, inside, outside)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        public = _public(site, outside)

        def of(*prefixes: str) -> list[_Item]:
            return [item for item in items if item.key.startswith(prefixes)]

        steps = [
            self._address_step(
                of("host", "hosts", "lan", "dc-", "public", "mon-", "check-"),
                site,
                bool(forwards),
                public,
            ),
            self._service_step(policy, of("svc-tcp-", "svc-udp-")),
            self._outbound_step(outbound, of("out-")),
            self._transparency_step(snat, of("snat-"), inside, outside),
        ]
        if forwards:
            steps += [
                self._group_step(forwards, of("svc-monitoring")),
                self._forward_step(
                    forwards,
                    of("dnat-"),
                    f"the public address {site.public_address} (object {public})"
                    if site.public_address
                    else public,
                ),
                self._inbound_step(inbound, of("in-"), public),
            ]
        ports = sorted({r.required_port for r in outbound})
        steps += verification_steps(
            policy,
            gui_path=MONITOR_GUI,
            outbound_verify=(
                "While the probe runs on the backup host:\n"
                + "\n".join(
                    f"- Packet Monitor › Monitor Filter: Destination Port {p}, Start Capture: the "
                    f"packets from the backup host are FORWARDED and leave {outside} with the "
                    f"{outside} address as source (not DROPPED)."
                    for p in ports
                )
                + "\n- Connections: filter on Destination Port "
                + ", ".join(map(str, ports))
                + " — the backup host's connection to the datacenter is listed."
            ),
            inbound_verify=(
                "While the portal checks: Packet Monitor with Destination Port "
                + ", ".join(sorted({str(r.port) for r in inbound}))
                + f" shows the packets arriving on {outside} for the public address and FORWARDED "
                "to the backup host; the hit counters of the NAT rules and WAN → LAN access rules "
                f"whose Comment begins with {marker(site, 'dnat-monitoring')} and "
                f"{marker(site, 'in-monitoring')} rise."
            ),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        managed = []
        for item in _items(policy, site, profile, inside, outside):
            if not item.cli:
                managed.append(managed_item(_gui(item), save="Click Save (or OK)."))
                continue
            objects = ("host", "hosts", "lan", "dc-", "public", "mon-", "check-", "svc-")
            managed.append(
                ManagedItem(
                    key=item.key,
                    marker=item.name,
                    title=item.title,
                    exposure=item.exposure,
                    create=item.cli,
                    remove=item.remove_cli,
                    # Naming an existing object again edits it; an access rule is found by its
                    # match, so a rule whose match changes is removed and added instead.
                    update=item.cli if item.key.startswith(objects) else "",
                    section=CLI,
                    uses=item.uses,
                    gui_path=item.listed,
                    guide_rules=guide_rules_of(item.rules),
                )
            )
        return tuple(managed)

    def plan_section(self, section: str, body: str) -> str:
        # The engine joins a step's items by section, in order of first appearance. Only GUI
        # items use CLI items (rules and groups name objects), never the other way round, so the
        # dependency order survives: CLI objects come first when adding, last when removing.
        if section == CLI:
            return f"configure\n{body}commit\nend\n"
        return body

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        return listed_verify(items, present=present, holds="name (objects) or Comment (rules)")

    def _address_step(
        self, objects: list[_Item], site: SiteDescription, forwards: bool, public: str
    ) -> Step:
        reason = (
            (
                "Names for the backup host, the datacenter and the monitoring side"
                if forwards
                else "Names for the backup host and the datacenter"
            )
            + ", used by the rules below; one object per datacenter network and per monitoring "
            "source. Each name is its marker (obm:…), which finds the object again when it is "
            "changed or removed. In the GUI: Add, then Name, Zone Assignment, Type (Host, Range "
            "or Network) and the address."
        )
        if forwards and not site.public_address:
            reason += (
                f' No fixed public address: the rules name the default object "{public}", '
                "which follows the address the WAN interface gets."
            )
        return Step(
            title="Create the address objects",
            gui_path=OBJECTS_GUI,
            config=_cli_block(objects),
            config_language="sonicos-cli",
            reason=reason,
            verify=f'show address-object ipv4 "{objects[0].name}"',
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _service_step(self, policy: Policy, services: list[_Item]) -> Step:
        return Step(
            title="Create the service objects, one per protocol and port",
            gui_path=SERVICES_GUI,
            config=_cli_block(services),
            config_language="sonicos-cli",
            reason=(
                "A SonicOS service object has one protocol, so TCP and UDP on the same port are "
                "two objects. In the GUI: Add, then Name, Protocol, Port Range (the same port "
                "twice)."
            ),
            verify="The objects are listed on the Service Objects tab with their protocol and port.",
            guide_rules=guide_rules_of(
                policy.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.ALLOW_INBOUND)
            ),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], access: list[_Item]) -> Step:
        return Step(
            title="Allow the backup connection out (access rule LAN → WAN)",
            gui_path=ACCESS_GUI.format(zones="LAN → WAN") + " › Add",
            config=_cli_block(access),
            config_language="sonicos-cli",
            reason=(
                str(rules[0].reason)
                + " The default LAN → WAN rule often allows everything already; these rules keep "
                "the backup working where that default has been tightened, one per datacenter "
                "network. In the GUI: Action Allow, Source, Destination and Service as above, "
                "Comment as above; drag them above any LAN → WAN deny rule."
            ),
            verify="The rules are listed under Access Rules, LAN → WAN, enabled, above any rule that denies this traffic.",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], mappings: list[_Item], inside: str, outside: str
    ) -> Step:
        lan = _interface_object(inside, "Subnet", "LAN Subnets")
        wan = _interface_object(outside, "IP", "WAN Primary IP")
        lines = [
            "The default rule for the LAN (Class: Default) is listed and enabled:",
            f"  Original Source: {lan}, Translated Source: {wan},",
            "  Original Destination: Any, Translated Destination: Original,",
            "  Original Service: Any, Translated Service: Original,",
            f"  Inbound Interface: {inside}, Outbound Interface: {outside}.",
            "If it is missing or disabled, add a NAT rule for the backup traffic instead, one per "
            "datacenter network:",
        ]
        lines += ["  " + line for item in mappings for line in item.fields.splitlines()]
        return Step(
            kind=StepKind.CHECK,
            title=f"Check that the LAN is translated to the {outside} address (default NAT rule)",
            gui_path=NAT_GUI,
            config="\n".join(lines),
            config_language="text",
            reason=(
                "SonicOS adds this NAT rule for the LAN when the WAN interface is set up, so the "
                "backup connection already leaves with the firewall's public address. "
                + rules[0].reason.detail
            ),
            verify=(
                f"The rule is listed and enabled, and no custom NAT rule above it matches the "
                f"backup host to the datacenter on {outside} with a different Translated Source."
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _group_step(self, rules: tuple[Rule, ...], group: list[_Item]) -> Step:
        return Step(
            title="Group the forwarded services",
            gui_path=f"{GROUPS_GUI} › Add",
            config=group[0].fields,
            config_language="text",
            reason=(
                "The NAT rule and the access rule take one service each; a group lets one rule "
                "cover TCP and UDP. GUI only: the SonicOS CLI for service groups is not given "
                "here."
            ),
            verify=f"The group {group[0].name} lists the members above.",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], nat: list[_Item], public: str) -> Step:
        return Step(
            title="Forward the monitoring ports to the backup host (inbound NAT rule)",
            gui_path=f"{NAT_GUI} › Add",
            config="\n\n".join(item.fields for item in nat),
            config_language="text",
            reason=(
                f"Destination NAT: connections to {public} on "
                + ", ".join(str(r.port_spec) for r in rules)
                + f" go to the backup host {rules[0].required_hosts.start}"
                + (", one NAT rule per monitoring source" if len(nat) > 1 else "")
                + ". The Public Server wizard (Quick Configuration › Public Server Guide) creates "
                "such a NAT rule with its access rule and objects; if you use it, check its rules "
                "against these values and give them these comments. GUI only: the SonicOS CLI for "
                "NAT rules is not given here."
            ),
            verify="The rules are listed and enabled under Custom rules, above any other rule for the same public address and services.",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], access: list[_Item], public: str) -> Step:
        return Step(
            title="Allow the monitoring connections in (access rule WAN → LAN, naming the public address)",
            gui_path=ACCESS_GUI.format(zones="WAN → LAN") + " › Add",
            config="\n\n".join(item.fields for item in access),
            config_language="text",
            reason=(
                "SonicOS checks inbound access rules against the original, public destination: "
                f"a rule naming the private address {rules[0].required_hosts.start} never matches. "
                + (
                    only_monitoring_sources(
                        rules[0], "the monitoring sources", suffix=", one rule per source"
                    )
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting Source to the monitoring computers is safer."
                )
            ),
            verify="The rules are listed under Access Rules, WAN → LAN, enabled, above any rule that denies this traffic; their Destination is the public object.",
            guide_rules=guide_rules_of(rules),
        )


def _items(
    policy: Policy, site: SiteDescription, profile: ProfileSpec, inside: str, outside: str
) -> list[_Item]:
    """Everything the instructions create, in the order of the complete instructions."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[_Item] = []

    def name(key: str) -> str:
        return marker(site, key)

    def address(key: str, value: str, zone: str, title: str, rules: tuple[Rule, ...]) -> None:
        items.append(
            _Item(
                key=key,
                name=name(key),
                title=title,
                exposure=Exposure.SUPPORT,
                cli=f'address-object ipv4 "{name(key)}" {value} zone {zone}',
                remove_cli=f'no address-object ipv4 "{name(key)}"',
                listed="Object › Match Objects › Addresses",
                rules=rules,
            )
        )

    source = outbound[0].required_hosts
    source_key = {"address": "host", "range": "hosts", "network": "lan"}[source.kind]
    address(source_key, _hosts_value(source), "LAN", f"the address object for {source}", outbound)
    host_key = source_key
    if forwards and (source.kind != "address" or source.start != forwards[0].required_hosts.start):
        host_key = "host"
        address(
            "host",
            _hosts_value(forwards[0].required_hosts),
            "LAN",
            f"the address object for the backup host {forwards[0].required_hosts.start}",
            forwards,
        )
    for network in outbound[0].datacenter:
        address(
            f"dc-{network_key(network)}",
            _network_value(network),
            "WAN",
            f"the address object for the datacenter network {network}",
            outbound,
        )
    public_key = ""
    if forwards and site.public_address:
        public_key = "public"
        address(
            "public", f"host {site.public_address}", "WAN", "the public address object", forwards
        )
    sources = forwards[0].allowed_sources if forwards else ()
    for network in sources:
        address(
            allowed_source_key(network, forwards[0]),
            _network_value(network),
            "WAN",
            "the address object for "
            + source_words(network, forwards[0], "the monitoring source "),
            forwards,
        )
    services: dict[str, Rule] = {}
    for rule in policy.rules:
        if not rule.kind.on_host and rule.port_spec is not None:
            services.setdefault(f"svc-{rule.protocol}-{rule.port}", rule)
    for key, rule in services.items():
        items.append(
            _Item(
                key=key,
                name=name(key),
                title=f"the service object {rule.required_protocol.upper()} {rule.port}",
                exposure=Exposure.SUPPORT,
                cli=(
                    f'service-object "{name(key)}" {rule.required_protocol.upper()} '
                    f"{rule.port} {rule.port}"
                ),
                remove_cli=f'no service-object "{name(key)}"',
                listed="Object › Match Objects › Services",
                rules=(rule,),
            )
        )

    for rule in outbound:
        for network in rule.datacenter:
            key = f"out-{rule.protocol}-{rule.port}-to-{network_key(network)}"
            match = (
                f'access-rule ipv4 from LAN to WAN action allow source address name "'
                f'{name(source_key)}" service name "{name(f"svc-{rule.protocol}-{rule.port}")}" '
                f'destination address name "{name(f"dc-{network_key(network)}")}"'
            )
            items.append(
                _Item(
                    key=key,
                    name=name(key),
                    title=f"the LAN → WAN access rule for {rule.port_spec} to {network}",
                    exposure=Exposure.OUTBOUND,
                    cli=f'{match}\ncomment "{name(key)} {profile.name}"\nexit',
                    remove_cli=f"no {match}",
                    listed=ACCESS_GUI.format(zones="LAN → WAN"),
                    uses=(
                        source_key,
                        f"svc-{rule.protocol}-{rule.port}",
                        f"dc-{network_key(network)}",
                    ),
                    rules=(rule,),
                )
            )

    wan = _interface_object(outside, "IP", "WAN Primary IP")
    for rule in policy.of_kind(RuleKind.SOURCE_NAT):
        for network in rule.datacenter:
            key = f"snat-{rule.protocol}-{rule.port}-to-{network_key(network)}"
            service = f"svc-{rule.protocol}-{rule.port}"
            items.append(
                _Item(
                    key=key,
                    name=name(key),
                    title=f"the NAT rule translating {rule.port_spec} to {network}",
                    exposure=Exposure.SUPPORT,
                    add_path=f"{NAT_GUI} › Add",
                    fields="\n".join(
                        [
                            f"Original Source: {name(source_key)}    Translated Source: {wan}",
                            f"Original Destination: {name(f'dc-{network_key(network)}')}    "
                            "Translated Destination: Original",
                            f"Original Service: {name(service)}    Translated Service: Original",
                            f"Inbound Interface: {inside}    Outbound Interface: {outside}",
                            f"Comment: {name(key)} {profile.name}",
                        ]
                    ),
                    listed=NAT_GUI,
                    what="the NAT rule",
                    only_if=(
                        "Only if the default NAT rule for the LAN is missing or disabled "
                        "(Policy › Rules and Policies › NAT Rules, Class: Default)"
                    ),
                    uses=(source_key, f"dc-{network_key(network)}", service),
                    rules=(rule,),
                )
            )

    if not forwards:
        return items
    public = name(public_key) if public_key else _public(site, outside)
    group_key = "svc-monitoring"
    members = [name(f"svc-{r.protocol}-{r.port}") for r in forwards]
    items.append(
        _Item(
            key=group_key,
            name=name(group_key),
            title="the service group of the forwarded ports",
            exposure=Exposure.SUPPORT,
            add_path=f"{GROUPS_GUI} › Add",
            fields="\n".join(
                [
                    f"Name: {name(group_key)}",
                    "Members (move to the right-hand list, and no others): " + ", ".join(members),
                ]
            ),
            listed=GROUPS_GUI,
            what="the service group",
            uses=tuple(f"svc-{r.protocol}-{r.port}" for r in forwards),
            rules=forwards,
        )
    )
    # One NAT rule and one inbound access rule per monitoring source ("Any": one of each).
    each_source: tuple[IPv4Network | None, ...] = sources or (None,)
    for monitor in each_source:
        suffix = f"-from-{network_key(monitor)}" if monitor else ""
        source_name = name(allowed_source_key(monitor, forwards[0])) if monitor else "Any"
        source_uses = (allowed_source_key(monitor, forwards[0]),) if monitor else ()
        # What the rule's title and comment say of its source: the portal's check is named so.
        from_words = f" from {source_words(monitor, forwards[0])}" if monitor else ""
        comment_words = f" ({CHECK_SOURCE_WORDS})" if monitor == forwards[0].check_source else ""
        public_uses = (public_key,) if public_key else ()
        key = f"dnat-monitoring{suffix}"
        items.append(
            _Item(
                key=key,
                name=name(key),
                title="the inbound NAT rule of the monitoring ports" + from_words,
                exposure=Exposure.INBOUND,
                add_path=f"{NAT_GUI} › Add",
                fields="\n".join(
                    [
                        f"Original Source: {source_name}    Translated Source: Original",
                        f"Original Destination: {public}    Translated Destination: "
                        f"{name(host_key)}",
                        f"Original Service: {name(group_key)}    Translated Service: Original",
                        f"Inbound Interface: {outside}    Outbound Interface: Any",
                        "Enable NAT Rule: on    Create a reflexive policy: off",
                        f"Comment: {name(key)} {profile.name}{comment_words}",
                    ]
                ),
                listed=NAT_GUI,
                what="the NAT rule",
                uses=(*source_uses, *public_uses, host_key, group_key),
                rules=forwards,
            )
        )
        key = f"in-monitoring{suffix}"
        items.append(
            _Item(
                key=key,
                name=name(key),
                title="the WAN → LAN access rule of the monitoring ports" + from_words,
                exposure=Exposure.INBOUND,
                add_path=ACCESS_GUI.format(zones="WAN → LAN") + " › Add",
                fields="\n".join(
                    [
                        "Action: Allow",
                        "From: WAN    To: LAN",
                        "Source Port: Any",
                        f"Service: {name(group_key)}",
                        f"Source: {source_name}",
                        f"Destination: {public}    (the public object, not the backup host's "
                        "private address)",
                        f"Comment: {name(key)} {profile.name}{comment_words}",
                    ]
                ),
                listed=ACCESS_GUI.format(zones="WAN → LAN"),
                what="the access rule",
                uses=(*source_uses, *public_uses, group_key),
                rules=inbound,
            )
        )
    return items


def _gui(item: _Item) -> GuiItem:
    """A GUI-made item (NAT rules, WAN → LAN rules, the service group) as the plans' GUI text."""
    field = "Name" if item.key == "svc-monitoring" else "Comment"
    return GuiItem(
        key=item.key,
        marker=item.name,
        title=item.title,
        exposure=item.exposure,
        add_path=item.add_path,
        listed=item.listed,
        what=item.what,
        found_by=f"whose {field} is {item.name}",
        fields=item.fields,
        only_if=item.only_if,
        uses=item.uses,
        rules=item.rules,
    )


def _cli_block(items: list[_Item]) -> str:
    return "\n".join(["configure", *(item.cli for item in items), "commit", "end"])


def _public(site: SiteDescription, outside: str) -> str:
    """The public address as the rules name it: our object, or the WAN interface's own."""
    if site.public_address:
        return marker(site, "public")
    return _interface_object(outside, "IP", "WAN Primary IP")


def _interface_object(interface: str, suffix: str, fallback: str) -> str:
    """SonicOS's default object for an interface ("X1 IP", "X0 Subnet"); for a name that is not
    a SonicOS interface (e.g. a zone name typed in), the zone-wide default object instead."""
    if re.fullmatch(r"(X\d+|U\d+|MGMT)(:V\d+)?", interface):
        return f"{interface} {suffix}"
    return fallback


def _hosts_value(hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"host {hosts.start}"
    if hosts.kind == "range":
        return f"range {hosts.start} {hosts.end}"
    assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
    return _network_value(hosts.network)


def _network_value(network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"network {network.network_address} {network.netmask}"
