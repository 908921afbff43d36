"""Cisco IOS / IOS-XE router doing NAT for the LAN (ISR, ISR 4000, Catalyst 8000 edge).

Targets Cisco IOS 15.x and IOS-XE 16.x / 17.x, configured from the CLI (``configure terminal``);
named extended access lists with sequence numbers (IOS 12.3 and later) and NAT overload on an
interface. The module is named ``cisco_ios`` because a module name cannot hold the slug's hyphen.

How it handles the traps:

- **Wildcard masks, not netmasks**: every access list entry writes ``host A``, or the network
  and its wildcard (``203.0.113.0 0.0.0.255``).
- **Ranges**: an IOS access list entry takes no address range, so a range becomes the exact
  CIDR blocks that cover it (``HostMatch.networks()``), one entry each; the base class warns.
- **Transparency** is a change: a router translates nothing until it is configured. An access
  list of the backup traffic only (``OBM-NAT``) feeds ``ip nat inside source list … interface
  … overload``, with ``ip nat inside`` / ``ip nat outside`` on the interfaces. An existing
  overload rule for the whole LAN on the same interface gives the same translation.
- **One protocol per static NAT**: ``ip nat inside source static tcp …`` and ``… udp …`` are
  separate lines, one per forwarded port, with ``extendable`` because the same host address
  appears in several of them.
- **Inbound rules name the public address**: an access list applied inbound on the outside
  interface is checked *before* NAT translates the destination, so its entries name the public
  address (``any`` when the address is dynamic; the static NAT still only forwards the given
  ports to the host).
- **IOS access lists are stateless**: applying a new list to an interface would drop the
  replies and all other traffic. The steps never bind a list; they add entries (sequence numbers
  1, 2, …, before the first entry of a list numbered 10, 20, … by default) to the lists already
  bound, which the first step finds. Where no list is bound, the router already forwards the
  traffic, and the steps say so.
- **Dynamic public address**: the static NAT uses ``interface <outside>`` instead of an address.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

LANGUAGE = "cisco-ios"
CLI = "CLI: privileged EXEC mode (the lines enter and leave configuration mode)"
NAT_ACL = "OBM-NAT"
INSIDE_ACL = "INSIDE-IN"
OUTSIDE_ACL = "OUTSIDE-IN"


class CiscoIosRenderer(Renderer):
    slug = "cisco-ios"
    name = "Cisco IOS / IOS-XE router"
    versions = "Cisco IOS 15.x and IOS-XE 16.x / 17.x (ISR, ISR 4000, Catalyst 8000 edge)"
    renderer_version = 1
    supports_ranges = False  # an access list entry takes a host or a network with wildcard
    hides_lan_by_default = False
    default_interfaces = ("GigabitEthernet0/1", "GigabitEthernet0/0")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        steps = [
            self._find_acls_step(inside, outside, bool(inbound)),
            self._outbound_step(outbound, inside),
        ]
        if snat:
            steps.append(self._transparency_step(snat, inside, outside))
        if forwards:
            steps.append(self._forward_step(forwards, outside))
        if inbound:
            steps.append(self._inbound_step(inbound, outside))
        steps.append(
            Step(
                title="Save the configuration",
                gui_path=CLI,
                config="write memory",
                config_language=LANGUAGE,
                reason="The router runs the new lines at once but loses them at the next restart "
                "until the running configuration is saved.",
                verify=f"show startup-config | include {NAT_ACL}",
            )
        )

        inbound_verify = ""
        if inbound:
            inbound_verify = "\n".join(
                [
                    "! while the portal checks:",
                    f"show ip nat translations | include {inbound[0].required_hosts.start}",
                    f"show access-lists {OUTSIDE_ACL}",
                ]
            )
        steps += verification_steps(
            policy,
            gui_path=CLI,
            outbound_verify="\n".join(
                [
                    "! while the probe runs on the backup host:",
                    *(
                        f"show ip nat translations {r.protocol} | include :{r.port}"
                        for r in outbound
                    ),
                    f"show access-lists {NAT_ACL}",
                    "show ip nat statistics",
                ]
            ),
            inbound_verify=inbound_verify,
        )
        return steps

    def _find_acls_step(self, inside: str, outside: str, monitoring: bool) -> Step:
        interfaces = [inside] + ([outside] if monitoring else [])
        return Step(
            kind=StepKind.CHECK,
            title="Find the access lists applied to the interfaces",
            gui_path=CLI,
            config="",
            config_language=LANGUAGE,
            reason=(
                f"The next steps add entries to the inbound access list of {inside} "
                f"(called {INSIDE_ACL} here)"
                + (f" and of {outside} (called {OUTSIDE_ACL})" if monitoring else "")
                + ". Where the command shows `Inbound access list is NAME`, use NAME (a name "
                "or a number) in their place. Where it shows `Inbound access list is not set`, "
                "that interface filters nothing: skip the matching step and do not apply a "
                "new list there, because an IOS access list is not stateful and its implicit "
                "deny would drop all other traffic, replies included. If the router uses the "
                "zone-based firewall (`show zone-pair security` lists zone pairs), allow the "
                "traffic in its zone-pair policies instead."
            ),
            verify="\n".join(
                f"show ip interface {name} | include access list" for name in interfaces
            ),
            guide_rules=(GuideRule.BACKUP_OUTBOUND,),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], inside: str) -> Step:
        entries = [
            f"permit {rule.protocol} {_wildcard(source)} {_wildcard(destination)} eq {rule.port}"
            for rule in rules
            for source in rule.required_hosts.networks()
            for destination in rule.datacenter
        ]
        lines = ["configure terminal", f"ip access-list extended {INSIDE_ACL}"]
        lines += [f" {n} {entry}" for n, entry in enumerate(entries, start=1)]
        lines.append("end")
        return Step(
            title=f"Allow the backup traffic out on {inside} (only if it has an inbound access list)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter. The sequence numbers put "
                f"the entries at the top of the list on {inside}, above any deny. Skip this "
                f"step if {inside} has no inbound access list: the router then forwards this "
                "traffic already. " + rules[0].reason.detail
            ),
            verify=f"show access-lists {INSIDE_ACL}",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(self, rules: tuple[Rule, ...], inside: str, outside: str) -> Step:
        lines = [
            "configure terminal",
            f"ip access-list extended {NAT_ACL}",
            f" remark {rules[0].reason.label}: backup connections leave with the outside address",
        ]
        lines += [
            f" permit {rule.protocol} {_wildcard(source)} {_wildcard(destination)} eq {rule.port}"
            for rule in rules
            for source in rule.required_hosts.networks()
            for destination in rule.datacenter
        ]
        lines += [
            f"interface {inside}",
            " ip nat inside",
            f"interface {outside}",
            " ip nat outside",
            f"ip nat inside source list {NAT_ACL} interface {outside} overload",
            "end",
        ]
        return Step(
            title="Translate the backup connections to the outside address (NAT overload)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"The guide's transparency: the backup connections leave with the address of "
                f"{outside} (port address translation), and only they, so nothing else changes. "
                f"`ip nat inside` and `ip nat outside` mark the interfaces; if they are already "
                "set, repeating them changes nothing. If the router already translates the whole "
                "LAN on the same interface, this rule gives the same translation."
            ),
            verify="show ip nat statistics\nshow running-config | include ip nat",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        public = rules[0].public_address
        lines = ["configure terminal"]
        for rule in rules:
            if public is not None:
                lines.append(
                    f"ip nat inside source static {rule.protocol} {rule.required_hosts.start} "
                    f"{rule.port} "
                    f"{public} {rule.port} extendable"
                )
            else:
                lines.append(
                    f"ip nat inside source static {rule.protocol} {rule.required_hosts.start} "
                    f"{rule.port} "
                    f"interface {outside} {rule.port} extendable"
                )
        lines.append("end")
        where = (
            f"on the public address {public}"
            if public is not None
            else f"on whatever address {outside} has at the moment (`interface`), so they keep "
            "working when the provider changes it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (static NAT, one line per protocol)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "The monitoring GUI connects to the router, which passes each port on to the "
                f"backup host, {where}. A static NAT names one protocol, so TCP 4403 and UDP "
                "4403 are two lines; `extendable` lets the same host address appear in several."
            ),
            verify=f"show ip nat translations | include {rules[0].required_hosts.start}",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        public = rules[0].public_address
        destination = f"host {public}" if public is not None else "any"
        entries = []
        for rule in rules:
            for source in rule.allowed_sources or (None,):
                entries.append(
                    f"permit {rule.protocol} {_wildcard(source)} {destination} eq {rule.port}"
                )
        lines = ["configure terminal", f"ip access-list extended {OUTSIDE_ACL}"]
        lines += [f" {n} {entry}" for n, entry in enumerate(entries, start=1)]
        lines.append("end")
        sources = rules[0].allowed_sources
        if public is not None:
            names = (
                f"so its entries name the public address {public}, not the backup host's "
                f"private {rules[0].required_hosts.start}"
            )
        else:
            names = (
                "so its entries would name the public address; as that address is dynamic, "
                "they name `any`, and the static NAT still forwards only these ports"
            )
        return Step(
            title=f"Allow the monitoring GUI in on {outside} (inbound access list, public address)",
            gui_path=CLI,
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"An access list applied inbound on {outside} is checked before NAT translates "
                f"the destination, {names}. "
                + (
                    "Only the monitoring computers may connect. "
                    if sources
                    else "Any address may connect. "
                )
                + f"If {outside} has no inbound access list, skip this step: the forwards work "
                "without it but stay open to any address, and restricting them takes an outside "
                "list that also lets in the replies to the LAN's traffic (or the zone-based "
                "firewall), which is more than these lines."
            ),
            verify=f"show access-lists {OUTSIDE_ACL}",
            guide_rules=guide_rules_of(rules),
        )


def _wildcard(network: IPv4Network | None) -> str:
    """An access list address: ``any``, ``host A`` or ``NETWORK WILDCARD`` (not a netmask)."""
    if network is None or network.prefixlen == 0:
        return "any"
    if network.prefixlen == 32:
        return f"host {network.network_address}"
    return f"{network.network_address} {network.hostmask}"
