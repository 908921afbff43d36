"""Windows backup host: Windows Defender Firewall rules and persistent static routes.

Targets Windows 8 / Server 2012 and later for the PowerShell commands (NetSecurity and
NetTCPIP modules: ``New-NetFirewallRule``, ``New-NetRoute``, ``Find-NetRoute``,
``Test-NetConnection``); the ``netsh advfirewall`` and ``route -p`` alternatives given in
comments also work on the older systems the guide names (XP SP2 / Server 2003 and later).

This renderer covers the rules applied on the backup host (guide rules 5 and 6), not a site's
firewall, so it is not a vendor choice: ``renderers_for_site`` adds it beside the site's
firewall renderer when the backup host runs Windows.

- One firewall rule per protocol and port: ``New-NetFirewallRule -Protocol`` takes one.
- Routes go via the gateway of the interface facing the firewall that forwards the ports, with
  that interface's index. ``New-NetRoute`` writes the active and the persistent store by
  default, so the route survives a restart, as ``route -p`` does.
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of

FIREWALL_GUI = "Windows Defender Firewall with Advanced Security › {rules} › New Rule…"
_OS_NAMES = {"linux": "Linux", "macos": "macOS", "other": "another operating system"}
ADAPTER_GUI = (
    "Control Panel › Network and Internet › Network Connections › (adapter) › Properties › "
    "Internet Protocol Version 4 (TCP/IPv4) › Properties › Advanced"
)


class WindowsRenderer(Renderer):
    slug = "windows"
    name = "Windows backup host"
    versions = "Windows 8 / Server 2012 and later (PowerShell); netsh and route -p for older"
    renderer_version = 1
    supports_ranges = True  # -RemoteAddress accepts ranges; the host rules name no LAN source
    describes_firewall = False
    renders_host_rules = True

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        if site.host_os != "windows":
            return [
                Step(
                    kind=StepKind.CHECK,
                    title="Nothing to change on the backup host",
                    gui_path="",
                    config="",
                    config_language="text",
                    reason=(
                        "These instructions are for a Windows backup host; this site's host runs "
                        f"{_OS_NAMES.get(site.host_os, site.host_os)}. Make sure its own firewall, "
                        "if any, allows the same connections as the site's firewall."
                    ),
                    verify="",
                )
            ]
        steps = []
        outbound = policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND)
        if outbound:
            steps.append(self._outbound_step(outbound, profile))
        inbound = policy.of_kind(RuleKind.HOST_FIREWALL_INBOUND)
        if inbound:
            steps.append(self._inbound_step(inbound, profile))
        routes = policy.of_kind(RuleKind.STATIC_ROUTE)
        if routes:
            steps.append(self._route_step(routes))
        if site.multi_homed:
            steps.append(self._gateway_check(site))
        return steps

    def _outbound_step(self, rules: tuple[Rule, ...], profile: ProfileSpec) -> Step:
        lines, names = [], []
        for rule in rules:
            name = _rule_name(profile, "out", rule)
            names.append(name)
            remote = _addresses(rule.datacenter)
            lines += [
                f"New-NetFirewallRule -DisplayName {_ps(name)} -Direction Outbound -Action Allow "
                f"-Protocol {rule.required_protocol.upper()} -RemotePort {rule.port} "
                f"-RemoteAddress {remote} -Profile Any",
                "# Older Windows, without PowerShell:",
                f'# netsh advfirewall firewall add rule name="{name}" dir=out action=allow '
                f"protocol={rule.required_protocol.upper()} remoteport={rule.port} "
                f"remoteip={remote} "
                "profile=any",
            ]
        target = _test_target(profile)
        target_note = (
            "the datacenter" if profile.datacenter_fqdns else "an address of the datacenter network"
        )
        tests = [
            f"Test-NetConnection -ComputerName {target} -Port {r.port}  # {target_note}"
            for r in rules
            if r.protocol == "tcp"
        ]
        return Step(
            title="Allow the backup connection out in Windows Defender Firewall",
            gui_path=FIREWALL_GUI.format(rules="Outbound Rules"),
            config="\n".join(lines),
            config_language="powershell",
            reason=(
                "The backup software connects out to the datacenter; Windows allows that by "
                "default, and this rule keeps it allowed where a policy blocks outbound "
                "connections. Run in PowerShell as administrator."
            ),
            verify="\n".join(
                [
                    f"Get-NetFirewallRule -DisplayName {_ps(n)} | Get-NetFirewallPortFilter"
                    for n in names
                ]
                + tests
            ),
            guide_rules=(GuideRule.HOST_FIREWALL,),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], profile: ProfileSpec) -> Step:
        lines, names = [], []
        for rule in rules:
            name = _rule_name(profile, "in", rule)
            names.append(name)
            remote_ps = (
                f" -RemoteAddress {_addresses(rule.allowed_sources)}"
                if rule.allowed_sources
                else ""
            )
            remote_netsh = (
                f" remoteip={_addresses(rule.allowed_sources)}" if rule.allowed_sources else ""
            )
            lines += [
                f"New-NetFirewallRule -DisplayName {_ps(name)} -Direction Inbound -Action Allow "
                f"-Protocol {rule.required_protocol.upper()} -LocalPort {rule.port}{remote_ps} "
                "-Profile Any",
                f'# netsh advfirewall firewall add rule name="{name}" dir=in action=allow '
                f"protocol={rule.required_protocol.upper()} localport={rule.port}{remote_netsh} "
                "profile=any",
            ]
        sources = rules[0].allowed_sources
        return Step(
            title="Allow the monitoring GUI in through Windows Defender Firewall",
            gui_path=FIREWALL_GUI.format(rules="Inbound Rules"),
            config="\n".join(lines),
            config_language="powershell",
            reason=(
                "Windows blocks inbound connections by default; the monitoring GUI connects in "
                "on these ports (one rule per protocol), "
                + (f"only from {', '.join(map(str, sources))}." if sources else "from any address.")
                + " Run in PowerShell as administrator; the netsh lines are the same for older Windows."
            ),
            verify="\n".join(
                f"Get-NetFirewallRule -DisplayName {_ps(n)} | Get-NetFirewallAddressFilter"
                for n in names
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _route_step(self, rules: tuple[Rule, ...]) -> Step:
        first = rules[0]
        lines = [
            f"New-NetRoute -DestinationPrefix {r.route_destination} "
            f"-InterfaceIndex {r.interface_index} -NextHop {r.next_hop}"
            for r in rules
        ]
        lines.append(
            "# Or with the classic command (cmd.exe or PowerShell); -p makes it persistent:"
        )
        lines += [
            f"# route -p ADD {r.required_route_destination.network_address} MASK {r.required_route_destination.netmask} "
            f"{r.next_hop} IF {r.interface_index}"
            for r in rules
        ]
        return Step(
            title=f"Add persistent routes via interface {first.interface_name} (towards this firewall)",
            gui_path="Command line (PowerShell as administrator)",
            config="\n".join(lines),
            config_language="powershell",
            reason=(
                f"The host has a default gateway on more than one interface. These routes send "
                f"traffic for the datacenter and the monitoring networks through interface "
                f"{first.interface_name} (index {first.interface_index}) and this firewall "
                f"({first.next_hop}), so replies leave by the interface the connection came in "
                "on. New-NetRoute keeps the route after a restart."
            ),
            verify="\n".join(
                [
                    f"Find-NetRoute -RemoteIPAddress {_probe_address(r.required_route_destination)}"
                    for r in rules
                ]
                + ["route print -4"]
            ),
            guide_rules=(GuideRule.MULTI_HOMED_ROUTE,),
        )

    def _gateway_check(self, site: SiteDescription) -> Step:
        facing = site.facing_interface
        where = f" on {facing.name} ({facing.gateway})" if facing else ""
        return Step(
            kind=StepKind.CHECK,
            title="Keep one default gateway",
            gui_path=ADAPTER_GUI,
            config="",
            config_language="text",
            reason=(
                f"Keep a single default gateway{where} and remove the default gateway of the "
                "other interfaces, so no other traffic takes the wrong way out; the routes of "
                "the previous step cover the backup and monitoring networks."
            ),
            verify="Get-NetRoute -DestinationPrefix 0.0.0.0/0 | Format-Table ifIndex,InterfaceAlias,NextHop,RouteMetric",
            guide_rules=(GuideRule.MULTI_HOMED_ROUTE,),
        )


def _rule_name(profile: ProfileSpec, direction: str, rule: Rule) -> str:
    # Double quotes would end the netsh name; the PowerShell side is quoted by _ps.
    product = profile.name.replace('"', "'")
    return f"{product}: {direction} {rule.required_protocol.upper()} {rule.port}"


def _ps(text: str) -> str:
    """A single-quoted PowerShell string (no variable expansion)."""
    return "'" + text.replace("'", "''") + "'"


def _addresses(networks: tuple[IPv4Network, ...]) -> str:
    """A comma-separated address list, read the same by PowerShell (an array) and netsh."""
    return ",".join(str(n) for n in networks)


def _probe_address(network: IPv4Network) -> str:
    """An address inside ``network`` for route look-ups and connection tests."""
    if network.num_addresses <= 2:
        return str(network.network_address)
    return str(network.network_address + 1)


def _test_target(profile: ProfileSpec) -> str:
    if profile.datacenter_fqdns:
        return profile.datacenter_fqdns[0]
    return _probe_address(profile.datacenter_networks[0])
