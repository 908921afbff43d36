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

**Markers**: each firewall rule's ``-Name`` (its unique id, which the Windows Firewall GUI does
not show) is its marker, ``obm:<site>:<key>``, and its ``-DisplayName`` ends with the marker in
parentheses, so both PowerShell and the GUI find it; netsh, which cannot set the id, names the
rule by that display name. A rule is removed with ``Remove-NetFirewallRule -Name`` (netsh:
``delete rule name=…``) and changed in place with ``Set-NetFirewallRule -Name``, which
overwrites the properties it is given: the id must stay unique, so a changed rule cannot be
added beside the old one. Windows routes carry no name or comment: the marker stands in a comment
above each route, and a route is removed by everything that identifies it (destination,
interface, next hop) with ``Remove-NetRoute … -Confirm:$false`` (it asks otherwise), which
deletes it from the active and the persistent store, as ``route DELETE`` does (Microsoft's
TechNet: "To remove a persistent route from the routing table and from the registry, use the
Route delete command"). A changed route (another interface or gateway) is added before the old
one is removed: both may exist at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import GuideRule, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.restriction import connecting, route_words, sources_label

FIREWALL_GUI = "Windows Defender Firewall with Advanced Security › {rules} › New Rule…"
_OS_NAMES = {"linux": "Linux", "macos": "macOS", "other": "another operating system"}
ADAPTER_GUI = (
    "Control Panel › Network and Internet › Network Connections › (adapter) › Properties › "
    "Internet Protocol Version 4 (TCP/IPv4) › Properties › Advanced"
)


@dataclass(frozen=True)
class _Entry:
    """One firewall rule or route the instructions create on the host, with the PowerShell that
    creates, changes and removes it; ``alternative``: the same for older Windows (netsh, route),
    shown as comments."""

    key: str
    marker: str
    title: str
    exposure: Exposure
    create: str
    alternative: str
    remove: str
    update: str = ""
    guide_rules: tuple[GuideRule, ...] = ()


class WindowsRenderer(Renderer):
    slug = "windows"
    name = "Windows backup host"
    versions = "Windows 8 / Server 2012 and later (PowerShell); netsh and route -p for older"
    renderer_version = 2  # 2: markers as the rules' -Name and in their display names
    markers_since = 2
    plan_language = "powershell"
    plan_gui_path = "PowerShell as administrator"
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
        entries = {e.key: e for e in _entries(policy, site, profile)}
        steps = []
        outbound = policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND)
        if outbound:
            steps.append(self._outbound_step(outbound, profile, entries))
        inbound = policy.of_kind(RuleKind.HOST_FIREWALL_INBOUND)
        if inbound:
            steps.append(self._inbound_step(inbound, entries))
        routes = policy.of_kind(RuleKind.STATIC_ROUTE)
        if routes:
            steps.append(self._route_step(routes, entries))
        if site.multi_homed:
            steps.append(self._gateway_check(site))
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        if site.host_os != "windows":
            return ()
        return tuple(
            ManagedItem(
                key=entry.key,
                marker=entry.marker,
                title=entry.title,
                exposure=entry.exposure,
                create=f"{entry.create}\n{entry.alternative}",
                remove=entry.remove,
                update=entry.update,
                guide_rules=entry.guide_rules,
            )
            for entry in _entries(policy, site, profile)
        )

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        """``Get-NetFirewallRule -Name`` for the rules, ``Get-NetRoute`` with what identifies
        each route: each lists its rule or route, or (after a removal) nothing."""
        rules, routes = [], []
        for item in items:
            if item.key.startswith("route-"):
                command = next(
                    line for line in item.remove.splitlines() if "Remove-NetRoute" in line
                )
                routes.append(
                    command.replace("Remove-NetRoute", "Get-NetRoute").replace(
                        " -Confirm:$false", " -ErrorAction SilentlyContinue" if not present else ""
                    )
                )
            else:
                rules.append(_ps(item.marker))
        lines = [
            "# each of these lists its rule or route:"
            if present
            else "# none of these lists anything:"
        ]
        if rules:
            absent = "" if present else " -ErrorAction SilentlyContinue"
            lines.append(
                f"Get-NetFirewallRule -Name {','.join(rules)}{absent} | "
                "Format-Table Name,DisplayName,Enabled,Direction,Action"
            )
        return "\n".join(lines + routes)

    def _outbound_step(
        self, rules: tuple[Rule, ...], profile: ProfileSpec, entries: dict[str, _Entry]
    ) -> Step:
        chosen = [entries[rule_key(rule)] for rule in rules]
        lines = []
        for entry in chosen:
            lines += [entry.create, "# Older Windows, without PowerShell:", entry.alternative]
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
                "connections. Run in PowerShell as administrator. The rule's name (-Name) is "
                "its marker, so it can be changed or removed later."
            ),
            verify="\n".join(
                [
                    f"Get-NetFirewallRule -Name {_ps(e.marker)} | Get-NetFirewallPortFilter"
                    for e in chosen
                ]
                + tests
            ),
            guide_rules=(GuideRule.HOST_FIREWALL,),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], entries: dict[str, _Entry]) -> Step:
        chosen = [entries[rule_key(rule)] for rule in rules]
        lines = []
        for entry in chosen:
            lines += [entry.create, entry.alternative]
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
                f"Get-NetFirewallRule -Name {_ps(e.marker)} | Get-NetFirewallAddressFilter"
                for e in chosen
            ),
            guide_rules=guide_rules_of(rules),
        )

    def _route_step(self, rules: tuple[Rule, ...], entries: dict[str, _Entry]) -> Step:
        first = rules[0]
        chosen = [entries[rule_key(rule)] for rule in rules]
        lines = [entry.create for entry in chosen]
        lines.append(
            "# Or with the classic command (cmd.exe or PowerShell); -p makes it persistent:"
        )
        lines += [entry.alternative for entry in chosen]
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
                "on. New-NetRoute keeps the route after a restart. Routes have no name: the "
                "comment above each gives its marker."
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


def _entries(policy: Policy, site: SiteDescription, profile: ProfileSpec) -> list[_Entry]:
    """Every rule and route, in the order of the complete instructions."""
    entries = []
    for rule in policy.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND, RuleKind.HOST_FIREWALL_INBOUND):
        outbound = rule.kind is RuleKind.HOST_FIREWALL_OUTBOUND
        key = rule_key(rule)
        mark = marker(site, key)
        display = f"{_rule_name(profile, 'out' if outbound else 'in', rule)} ({mark})"
        protocol = rule.required_protocol.upper()
        if outbound:
            remote = _addresses(rule.datacenter)
            match = f"-Direction Outbound -Action Allow -Protocol {protocol} -RemotePort {rule.port} -RemoteAddress {remote}"
            netsh = (
                f"dir=out action=allow protocol={protocol} remoteport={rule.port} remoteip={remote}"
            )
            changed = match
            title = f"Host firewall: allow {rule.port_spec} out to the datacenter"
        else:
            sources = _addresses(rule.allowed_sources)
            match = f"-Direction Inbound -Action Allow -Protocol {protocol} -LocalPort {rule.port}"
            netsh = f"dir=in action=allow protocol={protocol} localport={rule.port}"
            # Set-NetFirewallRule overwrites what it is given: "Any" undoes an earlier list.
            changed = f"{match} -RemoteAddress {sources or 'Any'}"
            if sources:
                match += f" -RemoteAddress {sources}"
                netsh += f" remoteip={sources}"
            # One of the addresses may be the portal's, not a monitoring computer: the rule's
            # description says so. An update always sets it, to undo an earlier one.
            described = f"{profile.name}: {sources_label(rule, 'the monitoring GUI')}" + (
                f" {rule.check_source.network_address}" if rule.check_source else ""
            )
            changed += f" -Description {_ps(described)}"
            if rule.check_source is not None:
                match += f" -Description {_ps(described)}"
                netsh += f' description="{described}"'
            title = f"Host firewall: allow {rule.port_spec} in from the {connecting(rule)}"
        entries.append(
            _Entry(
                key=key,
                marker=mark,
                title=title,
                exposure=Exposure.OUTBOUND if outbound else Exposure.INBOUND,
                create=(
                    f"New-NetFirewallRule -Name {_ps(mark)} -DisplayName {_ps(display)} "
                    f"{match} -Profile Any"
                ),
                alternative=f'# netsh advfirewall firewall add rule name="{display}" {netsh} profile=any',
                remove=(
                    f"Remove-NetFirewallRule -Name {_ps(mark)}\n"
                    f'# netsh advfirewall firewall delete rule name="{display}"'
                ),
                update=(
                    f"Set-NetFirewallRule -Name {_ps(mark)} -NewDisplayName {_ps(display)} "
                    f"{changed} -Profile Any"
                ),
                guide_rules=rule.reason.guide_rules,
            )
        )
    for rule in policy.of_kind(RuleKind.STATIC_ROUTE):
        key = rule_key(rule)
        mark = marker(site, key)
        destination = rule.required_route_destination
        where = f"-InterfaceIndex {rule.interface_index} -NextHop {rule.next_hop}"
        classic = f"{destination.network_address} MASK {destination.netmask} {rule.next_hop}"
        entries.append(
            _Entry(
                key=key,
                marker=mark,
                title=f"Route to {route_words(rule, policy)} via {rule.next_hop} "
                f"({rule.interface_name})",
                exposure=Exposure.SUPPORT,
                create=f"# {mark}\nNew-NetRoute -DestinationPrefix {destination} {where}",
                alternative=f"# route -p ADD {classic} IF {rule.interface_index}",
                remove=(
                    f"# {mark}\n"
                    f"Remove-NetRoute -DestinationPrefix {destination} {where} -Confirm:$false\n"
                    f"# or: route DELETE {classic} IF {rule.interface_index}"
                ),
                guide_rules=rule.reason.guide_rules,
            )
        )
    return entries


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
