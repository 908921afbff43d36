"""Sophos Firewall (SFOS), configured in its web admin console.

Targets SFOS 19.0 and later (19.5, 20.0, 21.0), where firewall rules and NAT rules are separate
tables (since 18.0). Everything is given as the fields of the web admin dialogs; the device
console is used for verification only (``tcpdump``, ``drop-packet-capture``).

How it handles the traps:

- TCP and UDP in one object: an SFOS service of type TCP/UDP may list several protocol and
  port rows, so the forwarded ports (TCP 4403, UDP 4403, TCP 4401) are one service, and the DNAT
  rule and the inbound firewall rule each name it once.
- Which address the inbound rule names: for incoming traffic SFOS looks up the DNAT rule first
  and matches the firewall rule against the translated (post-NAT) destination: the firewall
  rule's destination zone is the backup host's zone (LAN) and its destination network the
  backup host's private IP host, not the public address.
- Hide NAT by default: the rule "Default SNAT IPv4" masquerades (MASQ) all traffic leaving
  through a WAN interface, so transparency is a *check* step (with the firewall rule's "Create
  linked NAT rule" as the fix when the default rule is gone).
- Ranges: an IP host of type IP range names them. DHCP: an IP host of type Network for the LAN.
- Dynamic public address: the DNAT rule's original destination is the WAN port's own interface
  object (e.g. ``#Port2``), which follows the address the port gets by DHCP or PPPoE.

Markers (change and removal plans): an SFOS IP host or service has a name and no description
(Sophos' own Ansible modules know only name and address for an IP host), so every object's
**name** is its marker ``obm:<site>:<key>``, and so is every firewall and NAT rule's *Rule name*
(the Description says what it is for). Keys are by role, and by the network itself for the
datacenter networks and monitoring sources (``dc-203.0.113.0-24``), which sit in one IP host group
each: adding a network is one new IP host and an edit of the group's members, renaming nothing.
Everything is done in the web admin console, where editing an object or rule overwrites it, so
every item has an in-place edit; removal deletes the object or rule by its name. A firewall rule
whose "Create linked NAT rule" was turned on (the transparency step's fallback) has a linked NAT
rule: the removal says to delete it too if it is still listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.gui_items import GuiItem, listed_verify, managed_item
from sites.vendors.managed import Exposure, ManagedItem, marker, network_key
from sites.vendors.restriction import (
    allowed_source_key,
    connecting,
    only_monitoring_sources,
    source_words,
    sources_label,
)

HOSTS_GUI = "Hosts and services › IP host"
GROUPS_GUI = "Hosts and services › IP host group"
SERVICES_GUI = "Hosts and services › Services"
FIREWALL_GUI = "Rules and policies › Firewall rules"
NAT_GUI = "Rules and policies › NAT rules"
ADD_FIREWALL_RULE = f"{FIREWALL_GUI} › Add firewall rule › New firewall rule"


class SophosRenderer(Renderer):
    slug = "sophos"
    name = "Sophos Firewall (SFOS)"
    versions = "SFOS 19.0 and later (web admin console)"
    renderer_version = 2  # 2: markers as object and rule names; one IP host per network
    markers_since = 2
    plan_gui_path = "Web admin console"
    plan_language = "text"
    supports_ranges = True  # IP host of type IP range
    hides_lan_by_default = True  # "Default SNAT IPv4" (MASQ)
    default_interfaces = ("Port1", "Port2")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        items = _items(policy, site, profile, outside)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        def of(*prefixes: str) -> list[GuiItem]:
            return [item for item in items if item.key.startswith(prefixes)]

        out_rule, dnat, in_rule = of("out-"), of("dnat-"), of("in-")
        steps = [
            self._hosts_step(
                of("host", "hosts", "lan", "dc", "public", "mon", "check"), site, forwards
            ),
            self._services_step(outbound, forwards, of("svc-")),
            self._outbound_step(outbound, out_rule),
            self._transparency_step(policy.of_kind(RuleKind.SOURCE_NAT), out_rule, outside),
        ]
        if forwards:
            steps += [
                self._dnat_step(forwards, dnat, site),
                self._inbound_step(inbound, in_rule),
            ]
        outbound_ports = " or ".join(f"port {r.port}" for r in outbound)
        outbound_filter = " or ".join(f"{r.protocol} port {r.port}" for r in outbound)
        inbound_ports = " or ".join(f"port {p}" for p in sorted({r.required_port for r in inbound}))
        steps += verification_steps(
            policy,
            gui_path="Diagnostics › Packet capture; Log viewer (Firewall)",
            outbound_verify=(
                "While the probe runs on the backup host: Log viewer, module Firewall, shows the "
                f'connection allowed by "{out_rule[0].marker}" with the NAT rule "Default SNAT '
                'IPv4". On the device console (SSH, menu 4. Device console):\n'
                f"tcpdump -n '{outbound_filter}'\n"
                "# packets leave the WAN port with its public address as source; if none pass:\n"
                f"drop-packet-capture '{outbound_ports}'"
            ),
            inbound_verify=(
                (
                    "While the portal checks: Log viewer, module Firewall, shows the connections "
                    f'allowed by "{in_rule[0].marker}" with the NAT rule "{dnat[0].marker}". '
                    "On the device console:\n"
                    f"tcpdump -n 'host {inbound[0].required_hosts.start} and ({inbound_ports})'\n"
                    f"drop-packet-capture '{inbound_ports}'"
                )
                if inbound
                else ""
            ),
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        _, outside = self.interfaces(site)
        return tuple(
            managed_item(item, save="Save.") for item in _items(policy, site, profile, outside)
        )

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        return listed_verify(items, present=present, holds="name")

    def _hosts_step(
        self, hosts: list[GuiItem], site: SiteDescription, forwards: tuple[Rule, ...]
    ) -> Step:
        return Step(
            title="Create the IP hosts",
            gui_path=f"{HOSTS_GUI} › Add",
            config="\n".join(item.fields for item in hosts),
            config_language="text",
            reason=(
                (
                    "Names for the backup host, the datacenter and the monitoring side"
                    if forwards
                    else "Names for the backup host and the datacenter"
                )
                + ", used by the rules below. Each name is its marker (obm:…), which finds the "
                "object again when it is changed or removed. Each datacenter network (and each "
                "monitoring source) is its own IP host in an IP host group (Hosts and services › "
                "IP host group › Add) named as shown."
                + (
                    " No fixed public address: the DNAT rule uses the WAN port's own interface "
                    "object instead."
                    if forwards and not site.public_address
                    else ""
                )
            ),
            verify="Hosts and services › IP host lists the hosts with these addresses; IP host group lists the groups with these members.",
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _services_step(
        self, outbound: tuple[Rule, ...], forwards: tuple[Rule, ...], services: list[GuiItem]
    ) -> Step:
        return Step(
            title="Create the services",
            gui_path=f"{SERVICES_GUI} › Add",
            config="\n".join(item.fields for item in services),
            config_language="text",
            reason=(
                "The backup port"
                + (
                    ", and one service holding every forwarded port: an SFOS service of type "
                    "TCP/UDP may list TCP and UDP rows together, so one DNAT rule and one firewall "
                    "rule cover them all."
                    if forwards
                    else "."
                )
            ),
            verify="Hosts and services › Services lists the services with these protocols and ports.",
            guide_rules=guide_rules_of(outbound + forwards),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], out_rule: list[GuiItem]) -> Step:
        return Step(
            title="Allow the backup connection out (firewall rule LAN → WAN)",
            gui_path=ADD_FIREWALL_RULE,
            config="\n\n".join(item.fields for item in out_rule),
            config_language="text",
            reason=str(rules[0].reason)
            + " Rule position Top keeps it above any rule that drops LAN → WAN traffic.",
            verify=f'Rules and policies › Firewall rules lists "{out_rule[0].marker}" enabled, above any drop rule for LAN → WAN.',
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], out_rule: list[GuiItem], outside: str
    ) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Check that the backup connection is masqueraded (Default SNAT IPv4)",
            gui_path=NAT_GUI,
            config="\n".join(
                [
                    'The rule "Default SNAT IPv4" is turned on, with:',
                    "  Original source: Any    Translated source (SNAT): MASQ",
                    "  Original destination: Any    Original service: Any",
                    f"  Outbound interface: Any (or {outside})",
                    "and no NAT rule above it matches the backup host with Translated source: Original.",
                    f'If it is missing: edit "{out_rule[0].marker}" and turn on Create linked NAT '
                    "rule with",
                    "  Translated source: MASQ (for the backup traffic only).",
                ]
            ),
            config_language="text",
            reason=(
                "SFOS masquerades traffic leaving through a WAN port with the default SNAT rule, "
                "so the backup connection already leaves with the firewall's public address. "
                + rules[0].reason.detail
            ),
            verify='Log viewer, module Firewall: the backup connection shows NAT rule "Default SNAT IPv4" (or the linked rule).',
            guide_rules=guide_rules_of(rules),
        )

    def _dnat_step(
        self, rules: tuple[Rule, ...], dnat: list[GuiItem], site: SiteDescription
    ) -> Step:
        return Step(
            title="Forward the monitoring ports to the backup host (DNAT rule)",
            gui_path=f"{NAT_GUI} › Add NAT rule › New NAT rule",
            config=dnat[0].fields,
            config_language="text",
            reason=(
                f"Connections to {'the public address' if site.public_address else 'the WAN port address'} on "
                + ", ".join(str(r.port_spec) for r in rules)
                + f" go to the backup host {rules[0].required_hosts.start}. The Server access "
                "assistant "
                "(Add NAT rule › Server access assistant (DNAT)) creates this rule together with "
                "the firewall rule of the next step, plus reflexive and loopback rules you do not "
                "need here; if you use it, check its rules against these values and give them "
                "these names."
            ),
            verify=f'Rules and policies › NAT rules lists "{dnat[0].marker}" enabled, above any other rule for the same destination and services.',
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], in_rule: list[GuiItem]) -> Step:
        return Step(
            title="Allow the monitoring connections in (firewall rule WAN → LAN, naming the private host)",
            gui_path=ADD_FIREWALL_RULE,
            config=in_rule[0].fields,
            config_language="text",
            reason=(
                "SFOS applies the DNAT rule before it matches firewall rules, so this rule names "
                f"the backup host's private address {rules[0].required_hosts.start} and the zone "
                "it is in. "
                + (
                    only_monitoring_sources(rules[0], "the monitoring sources")
                    if rules[0].allowed_sources
                    else "Any address may connect; restricting it to the monitoring computers is safer."
                )
            ),
            verify=f'Rules and policies › Firewall rules lists "{in_rule[0].marker}" enabled, above any drop rule for WAN → LAN.',
            guide_rules=guide_rules_of(rules),
        )


def _items(
    policy: Policy, site: SiteDescription, profile: ProfileSpec, outside: str
) -> list[GuiItem]:
    """Everything the instructions create, in the order of the complete instructions."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[GuiItem] = []

    def name(key: str) -> str:
        return marker(site, key)

    def host(key: str, fields: str, title: str, rules: tuple[Rule, ...]) -> None:
        items.append(
            GuiItem(
                key=key,
                marker=name(key),
                title=title,
                exposure=Exposure.SUPPORT,
                add_path=f"{HOSTS_GUI} › Add",
                listed=HOSTS_GUI,
                what="the IP host",
                found_by=f"named {name(key)}",
                fields=f"Name: {name(key)} | IP version: IPv4 | {fields}",
                remove_note="The rules and groups that used it are changed or deleted before it.",
                rules=rules,
            )
        )

    def group(key: str, members: list[str], what: str, rules: tuple[Rule, ...]) -> None:
        items.append(
            GuiItem(
                key=key,
                marker=name(key),
                title=f"the IP host group of the {what}",
                exposure=Exposure.SUPPORT,
                add_path=f"{GROUPS_GUI} › Add",
                listed=GROUPS_GUI,
                what="the IP host group",
                found_by=f"named {name(key)}",
                fields=(
                    f"IP host group: {name(key)} | Description: {profile.name}: {what} | "
                    "members (exactly these): " + ", ".join(name(m) for m in members)
                ),
                uses=tuple(members),
                rules=rules,
            )
        )

    source = outbound[0].required_hosts
    source_key = {"address": "host", "range": "hosts", "network": "lan"}[source.kind]
    host(source_key, _host_fields(source), f"the IP host for {source}", outbound)
    host_key = source_key
    if forwards and (source.kind != "address" or source.start != forwards[0].required_hosts.start):
        host_key = "host"
        host(
            "host",
            _host_fields(forwards[0].required_hosts),
            f"the IP host for the backup host {forwards[0].required_hosts.start}",
            forwards,
        )
    datacenter = [f"dc-{network_key(n)}" for n in outbound[0].datacenter]
    for key, network in zip(datacenter, outbound[0].datacenter, strict=True):
        host(
            key,
            _network_fields(network),
            f"the IP host for the datacenter network {network}",
            outbound,
        )
    group("dc", datacenter, "datacenter networks", outbound)
    if forwards and site.public_address:
        host(
            "public",
            f"Type: IP | IP address: {site.public_address}",
            "the IP host for the public address",
            forwards,
        )
    sources = forwards[0].allowed_sources if forwards else ()
    monitoring = [allowed_source_key(n, forwards[0]) for n in sources]
    for key, network in zip(monitoring, sources, strict=True):
        host(
            key,
            _network_fields(network),
            "the IP host for " + source_words(network, forwards[0], "the monitoring source "),
            forwards,
        )
    if monitoring:
        group("mon", monitoring, sources_label(forwards[0], "monitoring sources"), forwards)

    for rule in outbound:
        key = f"svc-{rule.protocol}-{rule.port}"
        items.append(
            GuiItem(
                key=key,
                marker=name(key),
                title=f"the service {rule.port_spec}",
                exposure=Exposure.SUPPORT,
                add_path=f"{SERVICES_GUI} › Add",
                listed=SERVICES_GUI,
                what="the service",
                found_by=f"named {name(key)}",
                fields=(
                    f"Name: {name(key)} | Type: TCP/UDP | Protocol: "
                    f"{rule.required_protocol.upper()} | Source port: 1:65535 | Destination "
                    f"port: {rule.port}"
                ),
                rules=(rule,),
            )
        )
    if forwards:
        items.append(
            GuiItem(
                key="svc-monitoring",
                marker=name("svc-monitoring"),
                title="the service of the forwarded ports",
                exposure=Exposure.SUPPORT,
                add_path=f"{SERVICES_GUI} › Add",
                listed=SERVICES_GUI,
                what="the service",
                found_by=f"named {name('svc-monitoring')}",
                fields="\n".join(
                    [
                        f"Name: {name('svc-monitoring')} | Type: TCP/UDP | one row per protocol "
                        "and port (Add), exactly these:"
                    ]
                    + [
                        f"  Protocol: {r.required_protocol.upper()} | Source port: 1:65535 | "
                        f"Destination port: {r.port}"
                        for r in forwards
                    ]
                ),
                rules=forwards,
            )
        )

    source_name = name(source_key)
    services = [f"svc-{r.protocol}-{r.port}" for r in outbound]
    key = "out-" + "-".join(f"{r.protocol}-{r.port}" for r in outbound)
    items.append(
        GuiItem(
            key=key,
            marker=name(key),
            title="the LAN → WAN firewall rule of the backup ports",
            exposure=Exposure.OUTBOUND,
            add_path=ADD_FIREWALL_RULE,
            listed=FIREWALL_GUI,
            what="the firewall rule",
            found_by=f"named {name(key)}",
            fields="\n".join(
                [
                    f"Rule name: {name(key)}",
                    f"Description: {profile.name}: backup host to the datacenter",
                    "Action: Accept    Log firewall traffic: on",
                    "Rule position: Top",
                    "Source zones: LAN",
                    f"Source networks and devices: {source_name}",
                    "Destination zones: WAN",
                    f"Destination networks: {name('dc')}",
                    "Services: " + ", ".join(name(s) for s in services),
                    "Create linked NAT rule: off (the default SNAT rule translates it, see next step)",
                ]
            ),
            remove_note=(
                "If you turned on its Create linked NAT rule, Rules and policies › NAT rules "
                "lists that linked rule under this rule's name: delete it too if it is still "
                'listed. The "Default SNAT IPv4" rule is SFOS\'s own and stays.'
            ),
            uses=(source_key, "dc", *services),
            rules=outbound,
        )
    )
    if not forwards:
        return items

    public = name("public") if site.public_address else f"#{outside}"
    sources_name = name("mon") if monitoring else "Any"
    source_uses = ("mon",) if monitoring else ()
    public_uses = ("public",) if site.public_address else ()
    items.append(
        GuiItem(
            key="dnat-monitoring",
            marker=name("dnat-monitoring"),
            title="the DNAT rule of the monitoring ports",
            exposure=Exposure.INBOUND,
            add_path=f"{NAT_GUI} › Add NAT rule › New NAT rule",
            listed=NAT_GUI,
            what="the NAT rule",
            found_by=f"named {name('dnat-monitoring')}",
            fields="\n".join(
                [
                    f"Rule name: {name('dnat-monitoring')}",
                    f"Description: {profile.name}: monitoring ports to the backup host",
                    f"Original source: {sources_name}    Translated source (SNAT): Original",
                    f"Original destination: {public}    Translated destination (DNAT): "
                    f"{name(host_key)}",
                    f"Original service: {name('svc-monitoring')}    Translated service (PAT): "
                    "Original",
                    f"Inbound interface: {outside}    Outbound interface: Any",
                    "Create loopback rule: off    Create reflexive rule: off",
                ]
            ),
            uses=(*source_uses, *public_uses, host_key, "svc-monitoring"),
            rules=forwards,
        )
    )
    items.append(
        GuiItem(
            key="in-monitoring",
            marker=name("in-monitoring"),
            title="the WAN → LAN firewall rule of the monitoring ports",
            exposure=Exposure.INBOUND,
            add_path=ADD_FIREWALL_RULE,
            listed=FIREWALL_GUI,
            what="the firewall rule",
            found_by=f"named {name('in-monitoring')}",
            fields="\n".join(
                [
                    f"Rule name: {name('in-monitoring')}",
                    f"Description: {profile.name}: {connecting(forwards[0])} to the backup host",
                    "Action: Accept    Log firewall traffic: on",
                    "Rule position: Top",
                    "Source zones: WAN",
                    f"Source networks and devices: {sources_name}",
                    "Destination zones: LAN",
                    f"Destination networks: {name(host_key)}    (the backup host's translated, "
                    "private address)",
                    f"Services: {name('svc-monitoring')}",
                ]
            ),
            uses=(*source_uses, host_key, "svc-monitoring"),
            rules=inbound,
        )
    )
    return items


def _host_fields(hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"Type: IP | IP address: {hosts.start}"
    if hosts.kind == "range":
        return f"Type: IP range | {hosts.start} – {hosts.end}"
    assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
    return _network_fields(hosts.network)


def _network_fields(network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f"Type: IP | IP address: {network.network_address}"
    return (
        f"Type: Network | IP address: {network.network_address} | Subnet: /{network.prefixlen} "
        f"({network.netmask})"
    )
