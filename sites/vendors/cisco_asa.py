"""Cisco ASA (Adaptive Security Appliance) in routed mode.

Targets ASA software 8.3 and later, including every 9.x release (network object NAT and the
8.3+ rule that access lists name the *real* address), configured from the CLI in configuration
mode or from ASDM (6.3 and later); the GUI paths are ASDM's. The module is named ``cisco_asa``
because a module name cannot hold the slug's hyphen.

How it handles the traps:

- **An access list on inside removes the implicit allow.** Without an access list, the ASA
  lets the inside interface reach any less secure interface. Binding one replaces that with the
  list's implicit deny. The first step finds the access lists already bound
  (``show running-config access-group``). The outbound rules are inserted at the top of the
  inside list (``line 1``…), so they come before any deny. A separate step, only for an inside
  interface that had no list, ends the new list with ``permit ip any any`` before binding it,
  which keeps the other outbound traffic working, with a ``deny`` of the backup port to the
  datacenter above it, so that only the backup host reaches it (the guide's source
  restriction). That step must be skipped when a list already existed: appended after its
  implicit deny, the lines would open what the customer blocks.
- **Transparency** is object NAT in the backup host's object:
  ``nat (inside,outside) dynamic interface`` (interface PAT). Object NAT cannot match a
  destination or port, so it translates every connection of those addresses. A factory-default
  PAT for the whole LAN (``obj_any``) is less specific, so this rule takes precedence with the
  same result. The ASA does not translate by default, so this is a change, not a check.
- **One protocol per static PAT.** A network object holds one NAT rule and
  ``service tcp|udp`` takes one protocol. Every forwarded port gets its own object
  (``obm-host-tcp-4403``, ``obm-host-udp-4403``, …) with
  ``nat (inside,outside) static interface service <proto> <port> <port>``.
- **Inbound rules name the real address.** Since 8.3 the outside access list is checked after
  the destination is translated back, so it names the host's private address, never the
  public one.
- **Dynamic public address.** Static PAT ``interface`` maps the ports on whatever address the
  outside interface has, so nothing changes when it changes.
- **Ranges** are native (``object network … range``). The DHCP LAN is a ``subnet`` object.

Markers and plans: every object carries its marker ``obm:<site>:<key>`` as its
``description`` (the host object also the marker of its object NAT), every access list entry a
``remark`` holding it just above. The complete instructions and the plans' items come from one
list (``_entries``). Each datacenter network and monitoring source is an object of its own,
named by the network (``obm-dc-198.51.100.0-24``), in the group the rules name, so a network
added or dropped is a group member more or less. Objects and object NAT are redefined in place
(a new ``host`` or ``nat`` line replaces the old one); access list entries are removed with
``no access-list NAME extended …`` and their remark with ``no access-list NAME remark …``, NAT
with ``no nat (…)`` inside its object, objects with ``no object network`` after every entry
and NAT rule that uses them (the ASA refuses to remove an object in use or to empty a group in
use, Cisco ASA configuration guide, "Objects", guidelines). The catch-all ``permit ip any any``
and the ``access-group`` bindings are not removed: other traffic depends on them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.model import ADDRESS, GROUP, NamedObject, ShadowingRule
from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, OwnObject, marker, rule_key
from sites.vendors.names import hosts_object_name, network_names, source_object_names
from sites.vendors.restriction import (
    only_monitoring_sources,
    source_words,
    sources_label,
)
from sites.vendors.reuse import guide_objects
from sites.vendors.sample_addresses import address_in

LANGUAGE = "cisco-asa"
CLI = "CLI: configuration mode"
ASDM_OBJECTS = "ASDM: Configuration › Firewall › Objects › Network Objects/Groups"
ASDM_ACCESS = "ASDM: Configuration › Firewall › Access Rules"
ASDM_NAT = "ASDM: Configuration › Firewall › NAT Rules"
DATACENTER = "obm-dc"
MONITORING = "obm-monitoring"
# An outside address for packet-tracer when monitoring is allowed from anywhere.
ANY_SOURCE_EXAMPLE = IPv4Address("198.51.100.100")


class CiscoAsaRenderer(Renderer):
    slug = "cisco-asa"
    name = "Cisco ASA"
    versions = "ASA software 8.3 and later, 9.x (object NAT); ASDM 6.3 and later"
    # 2: markers (object descriptions, ACL remarks), networks as objects named by network in
    # the groups, the outside ACL names the forwards' objects, the catch-all keeps the backup
    # port to the backup host.
    renderer_version = 2
    markers_since = 2
    plan_gui_path = CLI
    plan_language = LANGUAGE
    supports_ranges = True  # object network … range
    hides_lan_by_default = False
    default_interfaces = ("inside", "outside")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        inside_acl, outside_acl = f"{inside}_access_in", f"{outside}_access_in"
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        hosts = outbound[0].required_hosts
        host_object = hosts_object_name(hosts)

        entries = _entries(policy, site, inside, outside)
        steps = [
            self._find_acls_step(inside, outside, inside_acl, outside_acl, bool(inbound)),
            self._objects_step(entries, host_object, hosts, profile, inbound),
            self._outbound_step(entries, outbound, inside, inside_acl),
            self._keep_outbound_step(entries, outbound, inside, inside_acl),
        ]
        if snat:
            steps.append(self._transparency_step(entries, snat, host_object, outside))
        if forwards:
            steps.append(self._forward_step(entries, forwards, outside))
        if inbound:
            steps.append(self._inbound_step(entries, inbound, outside, outside_acl))
        steps.append(
            Step(
                title="Save the configuration",
                gui_path="ASDM: File › Save Running Configuration to Flash · CLI: privileged EXEC mode",
                config="write memory",
                config_language=LANGUAGE,
                reason="The ASA runs the new rules at once but loses them at the next restart until "
                "the running configuration is saved.",
                verify="show startup-config | include obm-",
            )
        )

        sample_host = _sample_address(hosts, site)
        sample_dc = address_in(profile.datacenter_networks[0])
        outbound_verify = [
            f"packet-tracer input {inside} {r.protocol} {sample_host} 50000 {sample_dc} {r.port}"
            for r in outbound
        ]
        outbound_verify += [
            "! while the probe runs on the backup host:",
            f"show xlate local {sample_host}",
        ]
        outbound_verify += [f"show conn port {r.port}" for r in outbound]
        inbound_verify: list[str] = []
        if inbound:
            target = inbound[0].required_hosts.start
            sources = inbound[0].allowed_sources
            source = address_in(sources[0]) if sources else ANY_SOURCE_EXAMPLE
            public = inbound[0].public_address
            if public is None:
                inbound_verify += [
                    f"show ip address {outside}",
                    f"! OUTSIDE-ADDRESS below: the current address of {outside} shown above",
                ]
            mapped = str(public) if public else "OUTSIDE-ADDRESS"
            inbound_verify += [
                f"packet-tracer input {outside} {r.protocol} {source} 50000 {mapped} {r.port}"
                for r in inbound
            ]
            inbound_verify += [
                "! while the portal checks:",
                f"show conn address {target}",
                f"show access-list {outside_acl}",
            ]
        steps += verification_steps(
            policy,
            gui_path="ASDM: Tools › Packet Tracer; Monitoring › Properties › Connections",
            outbound_verify="\n".join(outbound_verify),
            inbound_verify="\n".join(inbound_verify),
        )
        return steps

    def _find_acls_step(
        self, inside: str, outside: str, inside_acl: str, outside_acl: str, monitoring: bool
    ) -> Step:
        names = (
            f"the access lists {inside_acl} and {outside_acl}, the names ASDM gives them"
            if monitoring
            else f"the access list {inside_acl}, the name ASDM gives it"
        )
        return Step(
            kind=StepKind.CHECK,
            title="Find the access lists already bound to the interfaces",
            gui_path=ASDM_ACCESS,
            config="",
            config_language=LANGUAGE,
            reason=(
                f"The next steps add rules to {names}. If the command lists `access-group NAME in interface {inside}`"
                + (f" (or `… interface {outside}`)" if monitoring else "")
                + ", use that NAME instead in every step: binding a second list to an "
                f"interface replaces the first one. Note whether the {inside} interface has a "
                'list at all: if it has none, the step "Keep the rest of the outbound traffic '
                'working" is needed; if it has one, skip that step.'
            ),
            verify="show running-config access-group",
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        inside, outside = self.interfaces(site)
        return tuple(entry.item for entry in _entries(policy, site, inside, outside))

    def plan_section(self, section: str, body: str) -> str:
        return f"configure terminal\n{body}end\n"

    # -- Adjusted to a checked configuration (sites.vendors.reuse) -----------------------------

    def reusable_objects(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[OwnObject, ...]:
        """The datacenter and monitoring groups: a customer's network object or group of the
        same networks stands for one. Not the backup host: our object ``obm-host`` carries the
        object NAT, which would replace a NAT rule the customer's object may have."""
        own = guide_objects(
            policy,
            datacenter=DATACENTER,
            monitoring=MONITORING,
            address_kinds=(GROUP, ADDRESS),
            services=False,
        )
        return tuple(o for o in own if o.name in (DATACENTER, MONITORING))

    def rename_object(self, text: str, ours: str, theirs: NamedObject) -> str:
        if theirs.kind == ADDRESS:  # an ACE names a network object as `object NAME`
            text = re.sub(
                rf"object-group( id)? {re.escape(ours)}(?![\w.-])", rf"object\1 {theirs.name}", text
            )
        return super().rename_object(text, ours, theirs)

    def place_above(self, step: Step, deny: ShadowingRule) -> Step:
        """The ASA matches an access list top-down (first match); the rules are inserted at
        ``line 1`` of the list bound to the interface, which is the list the deny is in."""
        found = re.search(r"access-list (\S+) line 1 ", step.config)
        if found is None or not deny.name:
            return super().place_above(step, deny)
        acl = re.compile(rf"(?<![\w.-]){re.escape(found.group(1))}(?![\w.-])")
        return dataclasses.replace(
            step,
            config=acl.sub(deny.name, step.config),
            verify=acl.sub(deny.name, step.verify),
            title=acl.sub(deny.name, step.title),
            gui_path=acl.sub(deny.name, step.gui_path),
            reason=(
                f"{step.reason} Your access list {deny.name} refuses this connection at line "
                f"{deny.line} (`{deny.text}`), and the ASA uses the first entry that matches: "
                f"these rules go in at `line 1` of {deny.name}, above it."
            ),
        )

    def plan_file(self, steps: Iterable[Step]) -> str:
        return super().plan_file(steps) + "write memory\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        lines = [f"show running-config | include {item.marker}" for item in items]
        expected = "each shows its line" if present else "each shows nothing"
        return "\n".join(lines) + f"\n! {expected}; then save: write memory"

    def _objects_step(
        self,
        entries: list[_Entry],
        host_object: str,
        hosts: HostMatch,
        profile: ProfileSpec,
        inbound: tuple[Rule, ...],
    ) -> Step:
        lines = ["configure terminal", *_config(entries, "objects"), "end"]
        sources = inbound[0].allowed_sources if inbound else ()
        what = [
            {
                "address": "the backup host",
                "range": "the backup hosts' range",
                "network": "the LAN (the host's address comes from DHCP)",
            }[hosts.kind],
            f"the datacenter networks of {profile.name}",
        ]
        if sources:
            what.append(sources_label(inbound[0], "the computers the monitoring GUI connects from"))
        return Step(
            title="Define the backup host and the datacenter (network objects)",
            gui_path=ASDM_OBJECTS,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"Names {', '.join(what[:-1])} and {what[-1]}, so that the access rules and "
                "NAT rules below can refer to them. Each network is an object of its own in its "
                "group, so a network added later joins the group and the rules stay as they are. "
                "Each description holds the object's marker (obm:…), which later change and "
                "removal instructions look for."
            ),
            verify=(
                f"show running-config object network {host_object}\n"
                f"show running-config object-group id {DATACENTER}"
                + (f"\nshow running-config object-group id {MONITORING}" if sources else "")
            ),
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _outbound_step(
        self, entries: list[_Entry], rules: tuple[Rule, ...], inside: str, acl: str
    ) -> Step:
        lines = ["configure terminal", *_config(entries, "outbound"), "end"]
        return Step(
            title=f"Allow the backup traffic out on the {inside} interface (access list {acl})",
            gui_path=ASDM_ACCESS + f" › {inside} › Add › Insert…",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter. The rules go to the top of "
                f"the {inside} access list (`line 1`, …), above any deny rule it has. "
                + rules[0].reason.detail
            ),
            verify=f"show access-list {acl}",
            guide_rules=guide_rules_of(rules),
        )

    def _keep_outbound_step(
        self, entries: list[_Entry], rules: tuple[Rule, ...], inside: str, acl: str
    ) -> Step:
        ports = " and ".join(str(r.port_spec) for r in rules)
        return Step(
            title="Keep the rest of the outbound traffic working (only if the inside interface "
            "had no access list)",
            gui_path=ASDM_ACCESS + f" › {inside}",
            config="\n".join(
                [
                    "configure terminal",
                    *_config(entries, "keep"),
                    f"access-list {acl} remark Keep what the security levels allowed before",
                    f"access-list {acl} extended permit ip any any",
                    f"access-group {acl} in interface {inside}",
                    "end",
                ]
            ),
            config_language=LANGUAGE,
            reason=(
                f"Without an access list, the ASA lets the {inside} interface reach every less "
                "secure interface. Binding a list replaces that implicit permit with the list's "
                "implicit deny, which would cut off all other traffic from the LAN. The "
                "`permit ip any any` at the end keeps it flowing as before; the `deny` above it "
                f"keeps the other LAN hosts from the datacenter's {ports}, as the guide asks "
                "(the backup host's own permit is at the top of the list). When this site's "
                "instructions are removed later, the `permit ip any any` and the binding stay: "
                "the LAN's other traffic depends on them. Skip this step if "
                f"the first step found an access list on {inside}: that list already decides "
                "what else may leave, and these lines, appended after it, would open up what it "
                "blocks."
            ),
            verify=f"show running-config access-group\nshow access-list {acl}",
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _transparency_step(
        self, entries: list[_Entry], rules: tuple[Rule, ...], host_object: str, outside: str
    ) -> Step:
        return Step(
            title="Translate the backup connections to the outside address (object NAT, interface PAT)",
            gui_path=ASDM_NAT + f" › Add › Network Object NAT Rule ({host_object})",
            config="\n".join(["configure terminal", *_config(entries, "transparency"), "end"]),
            config_language=LANGUAGE,
            reason=(
                "The guide's transparency: connections from the backup host leave with the "
                f"address of {outside} (port address translation). Network object NAT cannot "
                "match a destination or port, so the rule covers every connection of these "
                "addresses, not only the backup traffic (the guide allows either). If the ASA "
                "already translates the whole "
                "LAN (for example the factory default `obj_any`), this more specific rule is "
                "used first, with the same result. Each network object holds one NAT rule, "
                "which is why the port forwards below use their own objects."
            ),
            verify=f"show nat detail\nshow running-config object network {host_object}",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, entries: list[_Entry], rules: tuple[Rule, ...], outside: str) -> Step:
        lines = ["configure terminal", *_config(entries, "forwards"), "end"]
        objects = [_forward_object_name(rule) for rule in rules]
        public = rules[0].public_address
        if public is not None:
            where = (
                f"`interface` maps them on the address of {outside}, {public}. If {public} is "
                f"another address of your range rather than the one {outside} has, put a "
                f"network object holding {public} in place of `interface`."
            )
        else:
            where = (
                f"`interface` maps them on whatever address {outside} has at the moment, so "
                "the forwards keep working when the provider changes it."
            )
        return Step(
            title="Forward the monitoring ports to the backup host (static PAT, one object per protocol)",
            gui_path=ASDM_NAT
            + " › Add › Network Object NAT Rule (Type: Static, Advanced › Protocol)",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "The monitoring GUI connects to the outside address; static PAT passes each "
                "port on to the backup host. A network object holds one NAT rule and a "
                "`service` names one protocol, so TCP 4403 and UDP 4403 each need their own "
                f"object. {where}"
            ),
            verify="show nat detail\n"
            + "\n".join(f"show running-config object network {name}" for name in objects),
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(
        self, entries: list[_Entry], rules: tuple[Rule, ...], outside: str, acl: str
    ) -> Step:
        lines = ["configure terminal", *_config(entries, "inbound")]
        lines += [f"access-group {acl} in interface {outside}", "end"]
        sources = rules[0].allowed_sources
        return Step(
            title=f"Allow the monitoring GUI in on the {outside} interface (access list {acl})",
            gui_path=ASDM_ACCESS + f" › {outside} › Add › Insert…",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Static PAT alone lets nothing in: the outside access list must allow it. Since "
                "ASA 8.3 the list is checked after the destination is translated back, so the "
                f"rules name the backup host's real address {rules[0].required_hosts.start} (through "
                "the forwards' objects, which hold it), not the public one. "
                + (
                    only_monitoring_sources(rules[0]) + " "
                    if sources
                    else "Any address may connect; giving the monitoring computers' addresses "
                    "would restrict it. "
                )
                + f"Binding the list to {outside} again is harmless when it is already bound "
                "there."
            ),
            verify=f"show access-list {acl}\nshow running-config access-group",
            guide_rules=guide_rules_of(rules),
        )


def _object_value(hosts: HostMatch) -> str:
    """The body line of a network object for these addresses."""
    if hosts.kind == "address":
        return f"host {hosts.start}"
    if hosts.kind == "range":
        return f"range {hosts.start} {hosts.end}"
    assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
    return f"subnet {hosts.network.network_address} {hosts.network.netmask}"


def _subnet_value(network: IPv4Network) -> str:
    """``host A`` or ``subnet A MASK``: a network object's body line (ASA takes netmasks)."""
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"subnet {network.network_address} {network.netmask}"


def _forward_object_name(rule: Rule) -> str:
    return f"obm-host-{rule.protocol}-{rule.port}"


def _sample_address(hosts: HostMatch, site: SiteDescription) -> IPv4Address:
    """A backup host address for packet-tracer: the host, the range start, or a LAN address."""
    if hosts.kind != "network":
        return hosts.start
    if site.host_address is not None:
        return site.host_address
    candidate = address_in(site.lan_network)
    return candidate + 1 if candidate == site.lan_gateway else candidate


@dataclass(frozen=True)
class _Entry:
    """One item the instructions create (``item``), the step that creates it, and its text in
    the complete instructions (access list lines numbered in order there; an item's own
    ``create`` inserts at line 1)."""

    step: str
    item: ManagedItem
    complete: str


def _entries(policy: Policy, site: SiteDescription, inside: str, outside: str) -> list[_Entry]:
    """Every object, NAT rule and access list entry the instructions create, in the order of the
    complete instructions."""
    inside_acl, outside_acl = f"{inside}_access_in", f"{outside}_access_in"
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    snat = policy.of_kind(RuleKind.SOURCE_NAT)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    hosts = outbound[0].required_hosts
    host_object = hosts_object_name(hosts)
    entries: list[_Entry] = []
    acl_lines = {inside_acl: 0, outside_acl: 0}

    def add(
        step: str,
        key: str,
        title: str,
        exposure: Exposure,
        create: list[str],
        remove: list[str],
        rules: Iterable[Rule] = (),
        uses: Iterable[str] = (),
        *,
        update: bool = False,
        gui_path: str = "",
        complete: list[str] | None = None,
    ) -> None:
        text = "\n".join(create) + "\n"
        item = ManagedItem(
            key=key,
            marker=marker(site, key),
            title=title,
            exposure=exposure,
            create=text,
            remove="\n".join(remove) + "\n",
            # Objects and object NAT are redefined in place: a new host/subnet/range line or a
            # new nat line replaces the object's old one.
            update=text if update else "",
            uses=tuple(uses),
            gui_path=gui_path,
            guide_rules=guide_rules_of(rules),
        )
        entries.append(_Entry(step, item, text if complete is None else "\n".join(complete) + "\n"))

    def mark(key: str) -> str:
        return marker(site, key)

    def acl_entry(step, key, title, exposure, acl, words, ace, rules, uses, gui_path, bind=""):
        """A remark carrying the marker and the entry below it, inserted at the top (line 1 and
        2) in a plan, numbered in order in the complete instructions."""
        remark = f"remark {mark(key)} {words}"[:100]  # the ASA's limit for a remark
        first = acl_lines[acl] + 1
        acl_lines[acl] += 2
        binding = [bind] if bind else []
        add(
            step,
            key,
            title,
            exposure,
            [f"access-list {acl} line 1 {remark}", f"access-list {acl} line 2 {ace}", *binding],
            [f"no access-list {acl} {ace}", f"no access-list {acl} {remark}"],
            rules,
            uses,
            gui_path=gui_path,
            complete=[
                f"access-list {acl} line {first} {remark}",
                f"access-list {acl} line {first + 1} {ace}",
            ],
        )

    host_key = _key(host_object)
    # The object NAT lives in this object and has no description of its own: the object's
    # description carries its marker too.
    # Keyed by the object it lives in: another object (a host turned DHCP LAN) is another NAT
    # rule, and the old one is taken out (`no nat`) before its object goes.
    snat_key = f"snat-{host_key}"
    description = mark(host_key) + (f" {mark(snat_key)}" if snat else "")
    add(
        "objects",
        host_key,
        f"Network object {host_object} ({hosts})",
        Exposure.SUPPORT,
        [
            f"object network {host_object}",
            f" {_object_value(hosts)}",
            f" description {description}",
        ],
        [f"no object network {host_object}"],
        outbound,
        update=True,
        gui_path=ASDM_OBJECTS,
    )

    def group(
        name: str, networks: tuple[IPv4Network, ...], what: str, rules, check: Rule | None = None
    ) -> list[str]:
        group_key = _key(name)
        add(
            "objects",
            group_key,
            f"Network object group {name} ({what})",
            Exposure.SUPPORT,
            [f"object-group network {name}", f" description {mark(group_key)}"],
            [f"no object-group network {name}"],
            rules,
            gui_path=ASDM_OBJECTS,
        )
        keys = [group_key]
        # One object per network, named by it, as a member of the group: a network added or
        # dropped is one member more or less, and the rules naming the group stay as they are.
        # An object group in use cannot be emptied, so the new member comes before the old goes.
        # The portal's check source is no monitoring computer: its own name, and its own key,
        # so a new check address replaces it (``source_object_names``).
        members = source_object_names(name, check) if check else network_names(name, networks)
        for network, member in zip(networks, members, strict=True):
            keys.append(_key(member))
            add(
                "objects",
                keys[-1],
                f"Network object {member} ("
                + (source_words(network, check) if check else str(network))
                + f") in {name}",
                Exposure.SUPPORT,
                [
                    f"object network {member}",
                    f" {_subnet_value(network)}",
                    f" description {mark(keys[-1])}",
                    f"object-group network {name}",
                    f" network-object object {member}",
                ],
                [
                    f"object-group network {name}",
                    f" no network-object object {member}",
                    f"no object network {member}",
                ],
                rules,
                [group_key],
                gui_path=ASDM_OBJECTS,
            )
        return keys

    group(DATACENTER, outbound[0].datacenter, "the datacenter networks", outbound)
    sources = inbound[0].allowed_sources if inbound else ()
    if sources:
        group(MONITORING, sources, sources_label(inbound[0]), inbound, inbound[0])

    for rule in outbound:
        acl_entry(
            "outbound",
            rule_key(rule),
            f"Access list {inside_acl}: permit {rule.port_spec} from {host_object} to {DATACENTER}",
            Exposure.OUTBOUND,
            inside_acl,
            # What the entry names, so an old and a new entry's remarks differ.
            f"{host_object} -> {DATACENTER}, {rule.port_spec}",
            f"extended permit {rule.protocol} object {host_object} object-group {DATACENTER} "
            f"eq {rule.port}",
            [rule],
            [host_key, _key(DATACENTER)],
            ASDM_ACCESS + f" › {inside}",
        )
    for rule in outbound:
        # Only for an inside interface that had no list (the "keep" step): the other LAN hosts
        # must not reach the datacenter on the backup port through the catch-all below it.
        key = f"deny-others-{rule.protocol}-{rule.port}"
        remark = f"remark {mark(key)} other hosts -> datacenter, {rule.port_spec}"[:100]
        ace = f"extended deny {rule.protocol} any object-group {DATACENTER} eq {rule.port}"
        add(
            "keep",
            key,
            f"Access list {inside_acl}: deny {rule.port_spec} to {DATACENTER} from the other "
            "hosts (only where the step keeping the other outbound traffic was applied)",
            Exposure.SUPPORT,
            [f"access-list {inside_acl} {remark}", f"access-list {inside_acl} {ace}"],
            [f"no access-list {inside_acl} {ace}", f"no access-list {inside_acl} {remark}"],
            [rule],
            [_key(DATACENTER)],
            gui_path=ASDM_ACCESS + f" › {inside}",
        )
    if snat:
        nat = f"nat ({inside},{outside}) dynamic interface"
        add(
            "transparency",
            snat_key,
            f"Object NAT in {host_object}: interface PAT to {outside}",
            Exposure.SUPPORT,
            [f"object network {host_object}", f" {nat}"],
            [f"object network {host_object}", f" no {nat}"],
            snat,
            [host_key],
            update=True,
            gui_path=ASDM_NAT,
        )
    for rule in forwards:
        name = _forward_object_name(rule)
        nat = (
            f"nat ({inside},{outside}) static interface service {rule.protocol} "
            f"{rule.port} {rule.port}"
        )
        add(
            "forwards",
            rule_key(rule),
            f"Network object {name}: static PAT of {rule.port_spec} to {rule.required_hosts.start}",
            Exposure.INBOUND,
            [
                f"object network {name}",
                f" host {rule.required_hosts.start}",
                f" description {mark(rule_key(rule))}",
                f" {nat}",
            ],
            [f"object network {name}", f" no {nat}", f"no object network {name}"],
            [rule],
            update=True,
            gui_path=ASDM_NAT,
        )
    forward_keys = {(r.protocol, r.port): rule_key(r) for r in forwards}
    for rule in inbound:
        source = f"object-group {MONITORING}" if rule.allowed_sources else "any"
        forward = forward_keys[(rule.protocol, rule.port)]
        acl_entry(
            "inbound",
            rule_key(rule),
            f"Access list {outside_acl}: permit {rule.port_spec} to "
            f"{_forward_object_name(rule)} from {source.removeprefix('object-group ')}",
            Exposure.INBOUND,
            outside_acl,
            f"{source.removeprefix('object-group ')} -> {_forward_object_name(rule)}, "
            f"{rule.port_spec}",
            # The forward's object: the host's real address (8.3+), and a host that moves
            # changes the object, not this entry.
            f"extended permit {rule.protocol} {source} object {_forward_object_name(rule)} "
            f"eq {rule.port}",
            [rule],
            [forward, *([_key(MONITORING)] if rule.allowed_sources else [])],
            ASDM_ACCESS + f" › {outside}",
            # Binding again is harmless; a plan that adds the first entries needs it.
            bind=f"access-group {outside_acl} in interface {outside}",
        )
    return entries


def _key(name: str) -> str:
    """An object's item key: its name without ``obm-``."""
    return name.removeprefix("obm-")


def _config(entries: list[_Entry], step: str) -> list[str]:
    """The complete instructions' lines of one step."""
    return [line for e in entries if e.step == step for line in e.complete.splitlines()]
