"""MikroTik RouterOS 7 (RouterBOARD, CCR, hAP, CHR), configured from the terminal.

Targets RouterOS 7.1 and later; the commands are pasted into a terminal (WinBox › New
Terminal, WebFig › Terminal, SSH). WinBox / WebFig menu paths are given for each step. RouterOS
saves every change immediately, so there is no save step.

How it handles the traps:

- **Rule order**: a filter rule appended after a final drop never matches, so every accept is
  added with ``place-before=0``. Numbers refer to the last ``print`` of the session, so the block
  first prints the forward chain: rule 0 is then its first rule, and the new rules go above it.
- **Transparency is a check**: the default configuration masquerades everything leaving the
  ``WAN`` interface list (``defconf: masquerade``). The step checks it and gives, commented
  out, a masquerade for the backup traffic only, for a router without one.
- **One protocol per dst-nat rule**: ``protocol=`` takes one, so TCP 4403 and UDP 4403 are two
  rules (as is TCP 4401).
- **Inbound rules name the private address**: the forward chain sees packets after dst-nat, so
  the accept names the host's private address, with ``connection-nat-state=dstnat`` so it only
  lets in connections that came through the port forwards.
- **Monitoring sources** become the address list ``obm-monitoring``, matched by both the dst-nat
  and the forward rules; the datacenter networks the address list ``obm-dc``.
- **Dynamic public address**: the dst-nat matches ``dst-address-type=local`` on the WAN side
  instead of a fixed ``dst-address``.
- **Ranges** are native (``src-address=A-B``); the DHCP LAN is its network.

Interfaces: the defaults ``WAN`` and ``LAN`` are the default configuration's interface lists
(``in-interface-list=WAN``); any other name the site gives is taken as an interface
(``in-interface=ether1``).
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

LANGUAGE = "routeros"
TERMINAL = "WinBox › New Terminal (or WebFig › Terminal, SSH)"
FILTER_GUI = "WinBox: IP › Firewall › Filter Rules"
NAT_GUI = "WinBox: IP › Firewall › NAT"
DATACENTER = "obm-dc"
MONITORING = "obm-monitoring"
INTERFACE_LISTS = ("WAN", "LAN")  # the default configuration's interface lists
PRINT_FORWARD = [
    "# Numbers the forward rules, so that place-before=0 below means above the first of them:",
    "print where chain=forward",
]


class MikrotikRenderer(Renderer):
    slug = "mikrotik"
    name = "MikroTik RouterOS"
    versions = "RouterOS 7.1 and later"
    renderer_version = 1
    supports_ranges = True  # src-address=192.168.1.10-192.168.1.20
    hides_lan_by_default = True  # defconf: masquerade out-interface-list=WAN
    default_interfaces = ("LAN", "WAN")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        _, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        steps = [self._outbound_step(outbound, profile)]
        if snat:
            steps.append(self._transparency_step(snat, outside))
        if forwards:
            steps.append(self._forward_step(forwards, outside))
        if inbound:
            steps.append(self._inbound_step(inbound))
        steps += verification_steps(
            policy,
            gui_path=TERMINAL + "; WinBox: IP › Firewall › Connections",
            outbound_verify="\n".join(
                ["# while the probe runs on the backup host:"]
                + [
                    f'/ip firewall connection print where dst-address~":{r.port}" '
                    f"and protocol={r.protocol}"
                    for r in outbound
                ]
                + ['/ip firewall filter print stats where comment~"^obm:"']
            ),
            inbound_verify="\n".join(
                [
                    "# while the portal checks, the counters of the obm rules rise:",
                    '/ip firewall nat print stats where comment~"^obm:"',
                    '/ip firewall filter print stats where comment~"^obm:"',
                ]
            ),
        )
        return steps

    def _outbound_step(self, rules: tuple[Rule, ...], profile: ProfileSpec) -> Step:
        lines = ["/ip firewall address-list"]
        lines += [
            f'add list={DATACENTER} address={_address(n)} comment="obm: {_quote(profile.name)} datacenter"'
            for n in profile.datacenter_networks
        ]
        lines += ["/ip firewall filter", *PRINT_FORWARD]
        for rule in rules:
            lines.append(
                f"add chain=forward action=accept protocol={rule.protocol} "
                f"src-address={_hosts(rule.required_hosts)} dst-address-list={DATACENTER} "
                f'dst-port={rule.port} comment="obm: backup out {rule.port_spec}" place-before=0'
            )
        return Step(
            title="Allow the backup traffic out to the datacenter (forward filter)",
            gui_path=f"{TERMINAL}; {FILTER_GUI} and IP › Firewall › Address Lists",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "Lets the backup software connect to the datacenter (address list "
                f"{DATACENTER}). The rule goes above the first forward rule, so a final drop "
                "rule cannot catch it first (if the forward chain has no rules yet, leave out "
                "`place-before=0`). Paste once: pasting again adds the rules again. "
                "Safe Mode (Ctrl+X) undoes the changes if the session drops. "
                + rules[0].reason.detail
            ),
            verify=(
                f"/ip firewall address-list print where list={DATACENTER}\n"
                "/ip firewall filter print where chain=forward"
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        fallback = [
            f"# /ip firewall nat add chain=srcnat action=masquerade {_interface('out', outside)} "
            f"protocol={rule.protocol} src-address={_hosts(rule.required_hosts)} "
            f"dst-address-list={DATACENTER} dst-port={rule.port} "
            f'comment="obm: backup transparency {rule.port_spec}"'
            for rule in rules
        ]
        return Step(
            kind=StepKind.CHECK,
            title="Check that the LAN is masqueraded (transparency)",
            gui_path=f"{TERMINAL}; {NAT_GUI}",
            config="\n".join(
                [
                    f"# Only if the print shows no masquerade or src-nat rule for {outside}, "
                    "remove the leading # and paste:",
                    *fallback,
                ]
            ),
            config_language=LANGUAGE,
            reason=(
                "The default configuration masquerades everything that leaves through the WAN "
                "interface list (comment `defconf: masquerade`), which gives the guide's "
                "transparency. Check that such a rule is there and enabled; if not, add the "
                "masquerade shown, which covers the backup connections only."
            ),
            verify="/ip firewall nat print where chain=srcnat",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        sources = rules[0].allowed_sources
        lines = []
        if sources:
            lines.append("/ip firewall address-list")
            lines += [
                f'add list={MONITORING} address={_address(n)} comment="obm: monitoring GUI"'
                for n in sources
            ]
        lines.append("/ip firewall nat")
        public = rules[0].public_address
        to_router = f"dst-address={public}" if public else "dst-address-type=local"
        for rule in rules:
            source = f" src-address-list={MONITORING}" if rule.allowed_sources else ""
            lines.append(
                f"add chain=dstnat action=dst-nat {_interface('in', outside)} {to_router} "
                f"protocol={rule.protocol} dst-port={rule.port}{source} "
                f"to-addresses={rule.required_hosts.start} to-ports={rule.port} "
                f'comment="obm: monitoring {rule.port_spec}"'
            )
        where = (
            f"addressed to the public address {public}"
            if public
            else "addressed to the router itself (`dst-address-type=local`), whatever address "
            "the provider gives it"
        )
        return Step(
            title="Forward the monitoring ports to the backup host (dst-nat, one rule per protocol)",
            gui_path=f"{TERMINAL}; {NAT_GUI} (Action: dst-nat)",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                f"The monitoring GUI connects to the router; connections {where} on these ports "
                "are passed on to the backup host. A rule takes one protocol, so TCP 4403 and "
                "UDP 4403 are two rules. "
                + (
                    f"Only the addresses in {MONITORING} are forwarded."
                    if sources
                    else "Any address is forwarded; listing the monitoring computers would restrict it."
                )
            ),
            verify='/ip firewall nat print where comment~"^obm: monitoring"',
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...]) -> Step:
        lines = ["/ip firewall filter", *PRINT_FORWARD]
        for rule in rules:
            source = f" src-address-list={MONITORING}" if rule.allowed_sources else ""
            lines.append(
                f"add chain=forward action=accept connection-nat-state=dstnat "
                f"protocol={rule.protocol} dst-address={rule.required_hosts.start} "
                f"dst-port={rule.port}"
                f'{source} comment="obm: monitoring in {rule.port_spec}" place-before=0'
            )
        return Step(
            title="Allow the forwarded monitoring ports in (forward filter, private address)",
            gui_path=f"{TERMINAL}; {FILTER_GUI}",
            config="\n".join(lines),
            config_language=LANGUAGE,
            reason=(
                "The forward chain sees the connections after dst-nat, so the rules name the "
                f"backup host's private address {rules[0].required_hosts.start}; "
                "`connection-nat-state=dstnat` limits them to connections that came through the "
                "port forwards. The default configuration already lets dst-nat connections in; "
                "these rules keep them allowed above any drop rule you added."
            ),
            verify='/ip firewall filter print where comment~"^obm: monitoring"',
            guide_rules=guide_rules_of(rules),
        )


def _hosts(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f"{hosts.start}-{hosts.end}"
    return str(hosts) if hosts.kind == "address" else str(hosts.network)


def _address(network: IPv4Network) -> str:
    return str(network.network_address) if network.prefixlen == 32 else str(network)


def _interface(direction: str, name: str) -> str:
    """``in-interface-list=WAN`` for the default lists, ``in-interface=ether1`` otherwise."""
    if name in INTERFACE_LISTS:
        return f"{direction}-interface-list={name}"
    return f"{direction}-interface={name}"


def _quote(text: str) -> str:
    """Text inside a RouterOS double-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
