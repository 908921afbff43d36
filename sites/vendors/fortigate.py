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
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, and_list, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name, numbered_names, port_object_name

OUTBOUND_POLICY = "obm-backup-out"
INBOUND_POLICY = "obm-monitoring-in"
CLI = "CLI Console (or SSH)"


class FortigateRenderer(Renderer):
    slug = "fortigate"
    name = "Fortinet FortiGate"
    versions = "FortiOS 7.0, 7.2, 7.4 (policy-based NAT, central NAT disabled)"
    renderer_version = 1
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
        firewall_rules = outbound + snat + forwards + inbound

        steps = [
            Step(
                title="Create the address objects",
                gui_path="Policy & Objects › Addresses › Create New › Address",
                config=self._addresses(policy),
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
                                ["the monitoring computers"]
                                if inbound and inbound[0].allowed_sources
                                else []
                            ),
                        ]
                    )
                    + ". If an object of the same name exists, FortiOS edits it."
                ),
                verify='show firewall address | grep -f "obm-"',
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Create the services, one per protocol and port",
                gui_path="Policy & Objects › Services › Create New › Service",
                config=self._services(firewall_rules),
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
                config=self._outbound_policy(outbound, inside, outside),
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
                    config=self._vips(forwards, outside),
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
                            ", and only for the monitoring computers (`src-filter`)."
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
                    config=self._inbound_policy(inbound, inside, outside),
                    config_language="fortios",
                    reason=(
                        "A VIP only translates; the policy lets the connections through. On a "
                        "FortiGate the policy names the VIPs as destination, not the public or the "
                        "private address. "
                        + (
                            "Only the monitoring computers may connect."
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

    def _addresses(self, policy: Policy) -> str:
        entries: dict[str, list[str]] = {}
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            entries[hosts_object_name(rule.required_hosts)] = _host_lines(rule.required_hosts)
            for name, network in zip(
                numbered_names("obm-dc", rule.datacenter), rule.datacenter, strict=True
            ):
                entries[name] = [
                    'set comment "Backup datacenter"',
                    f"set subnet {_subnet(network)}",
                ]
        for rule in policy.of_kind(RuleKind.ALLOW_INBOUND):
            sources = rule.allowed_sources
            for name, network in zip(numbered_names("obm-mon", sources), sources, strict=True):
                entries[name] = ['set comment "Monitoring GUI"', f"set subnet {_subnet(network)}"]
        return _config_block("firewall address", entries)

    def _services(self, rules: tuple[Rule, ...]) -> str:
        entries: dict[str, list[str]] = {}
        for rule in rules:
            entries[port_object_name(rule)] = [f"set {rule.protocol}-portrange {rule.port}"]
        return _config_block("firewall service custom", entries)

    def _outbound_policy(self, rules: tuple[Rule, ...], inside: str, outside: str) -> str:
        first = rules[0]
        return _config_block(
            "firewall policy",
            {
                "0": [
                    f'set name "{OUTBOUND_POLICY}"',
                    f'set srcintf "{inside}"',
                    f'set dstintf "{outside}"',
                    "set action accept",
                    f'set srcaddr "{hosts_object_name(first.required_hosts)}"',
                    "set dstaddr " + _quoted(numbered_names("obm-dc", first.datacenter)),
                    'set schedule "always"',
                    "set service " + _quoted(port_object_name(r) for r in rules),
                    "set logtraffic all",
                    "set nat enable",
                ]
            },
            quote_names=False,
        )

    def _vips(self, rules: tuple[Rule, ...], outside: str) -> str:
        entries: dict[str, list[str]] = {}
        for rule in rules:
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
            entries[_vip(rule)] = lines
        return _config_block("firewall vip", entries)

    def _inbound_policy(self, rules: tuple[Rule, ...], inside: str, outside: str) -> str:
        sources = rules[0].allowed_sources
        return _config_block(
            "firewall policy",
            {
                "0": [
                    f'set name "{INBOUND_POLICY}"',
                    f'set srcintf "{outside}"',
                    f'set dstintf "{inside}"',
                    "set action accept",
                    "set srcaddr "
                    + (_quoted(numbered_names("obm-mon", sources)) if sources else '"all"'),
                    "set dstaddr " + _quoted(_vip(r) for r in rules),
                    'set schedule "always"',
                    "set service " + _quoted(port_object_name(r) for r in rules),
                    "set logtraffic all",
                ]
            },
            quote_names=False,
        )


def _config_block(path: str, entries: dict[str, list[str]], *, quote_names: bool = True) -> str:
    lines = [f"config {path}"]
    for name, settings in entries.items():
        lines.append(f'    edit "{name}"' if quote_names else f"    edit {name}")
        lines += [f"        {s}" for s in settings]
        lines.append("    next")
    lines.append("end")
    return "\n".join(lines) + "\n"


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
