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
  which keeps the other outbound traffic working. That step must be skipped when a list already
  existed: appended after its implicit deny, the line would open what the customer blocks.
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
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name
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
    renderer_version = 1
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

        steps = [
            self._find_acls_step(inside, outside, inside_acl, outside_acl, bool(inbound)),
            self._objects_step(host_object, hosts, profile, inbound),
            self._outbound_step(outbound, host_object, inside, inside_acl),
            self._keep_outbound_step(inside, inside_acl),
        ]
        if snat:
            steps.append(self._transparency_step(snat, host_object, inside, outside))
        if forwards:
            steps.append(self._forward_step(forwards, inside, outside))
        if inbound:
            steps.append(self._inbound_step(inbound, outside, outside_acl))
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

    def _objects_step(
        self,
        host_object: str,
        hosts: HostMatch,
        profile: ProfileSpec,
        inbound: tuple[Rule, ...],
    ) -> Step:
        lines = ["configure terminal", f"object network {host_object}", f" {_object_value(hosts)}"]
        lines.append(f"object-group network {DATACENTER}")
        lines += [f" network-object {_network_object(n)}" for n in profile.datacenter_networks]
        sources = inbound[0].allowed_sources if inbound else ()
        if sources:
            lines.append(f"object-group network {MONITORING}")
            lines += [f" network-object {_network_object(n)}" for n in sources]
        lines.append("end")
        what = [
            {
                "address": "the backup host",
                "range": "the backup hosts' range",
                "network": "the LAN (the host's address comes from DHCP)",
            }[hosts.kind],
            f"the datacenter networks of {profile.name}",
        ]
        if sources:
            what.append("the computers the monitoring GUI connects from")
        return Step(
            title="Define the backup host and the datacenter (network objects)",
            gui_path=ASDM_OBJECTS,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"Names {', '.join(what[:-1])} and {what[-1]}, so that the access rules and "
                "NAT rules below can refer to them."
            ),
            verify=(
                f"show running-config object network {host_object}\n"
                f"show running-config object-group id {DATACENTER}"
                + (f"\nshow running-config object-group id {MONITORING}" if sources else "")
            ),
            guide_rules=(GuideRule.SOURCE_RESTRICTION,),
        )

    def _outbound_step(
        self, rules: tuple[Rule, ...], host_object: str, inside: str, acl: str
    ) -> Step:
        lines = ["configure terminal"]
        line = 1
        for rule in rules:
            lines.append(
                f"access-list {acl} line {line} remark {rule.reason.label}: "
                f"backup -> datacenter, {rule.port_spec}"
            )
            lines.append(
                f"access-list {acl} line {line + 1} extended permit {rule.protocol} "
                f"object {host_object} object-group {DATACENTER} eq {rule.port}"
            )
            line += 2
        lines.append("end")
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

    def _keep_outbound_step(self, inside: str, acl: str) -> Step:
        return Step(
            title="Keep the rest of the outbound traffic working (only if the inside interface "
            "had no access list)",
            gui_path=ASDM_ACCESS + f" › {inside}",
            config="\n".join(
                [
                    "configure terminal",
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
                "`permit ip any any` at the end keeps it flowing as before. Skip this step if "
                f"the first step found an access list on {inside}: that list already decides "
                "what else may leave, and this line, appended after it, would open up what it "
                "blocks."
            ),
            verify=f"show running-config access-group\nshow access-list {acl}",
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], host_object: str, inside: str, outside: str
    ) -> Step:
        return Step(
            title="Translate the backup connections to the outside address (object NAT, interface PAT)",
            gui_path=ASDM_NAT + f" › Add › Network Object NAT Rule ({host_object})",
            config="\n".join(
                [
                    "configure terminal",
                    f"object network {host_object}",
                    f" nat ({inside},{outside}) dynamic interface",
                    "end",
                ]
            ),
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

    def _forward_step(self, rules: tuple[Rule, ...], inside: str, outside: str) -> Step:
        lines = ["configure terminal"]
        objects = []
        for rule in rules:
            name = _forward_object_name(rule)
            objects.append(name)
            lines += [
                f"object network {name}",
                f" host {rule.required_hosts.start}",
                f" nat ({inside},{outside}) static interface service {rule.protocol} "
                f"{rule.port} {rule.port}",
            ]
        lines.append("end")
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

    def _inbound_step(self, rules: tuple[Rule, ...], outside: str, acl: str) -> Step:
        lines = ["configure terminal"]
        line = 1
        for rule in rules:
            source = f"object-group {MONITORING}" if rule.allowed_sources else "any"
            lines.append(
                f"access-list {acl} line {line} remark {rule.reason.label}: "
                f"monitoring GUI -> backup host, {rule.port_spec}"
            )
            lines.append(
                f"access-list {acl} line {line + 1} extended permit {rule.protocol} {source} "
                f"host {rule.required_hosts.start} eq {rule.port}"
            )
            line += 2
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
                f"rules name the backup host's real address {rules[0].required_hosts.start}, not "
                "the "
                "public one. "
                + (
                    "Only the monitoring computers may connect. "
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


def _network_object(network: IPv4Network) -> str:
    """``host A`` or ``A MASK`` for a ``network-object`` line (ASA takes netmasks)."""
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"{network.network_address} {network.netmask}"


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
