"""Cisco Meraki MX security appliances, managed in the Meraki Dashboard.

Targets MX appliance firmware 16 and later in routed (NAT) mode, configured in the Dashboard
(Security & SD-WAN › Configure › Firewall) or with the Dashboard API v1
(``/networks/{networkId}/appliance/firewall/l3FirewallRules`` and ``…/portForwardingRules``).

How it handles the traps:

- Whole-list APIs replace: a PUT on either endpoint replaces the whole list. The API step is a
  read-merge-write script (curl and jq): it GETs the current list and keeps a copy, drops the
  read-only "Default rule" that the GET appends to the L3 list (the PUT body must not contain
  it), removes earlier copies of our own rules (matched by comment or name, so running it twice
  changes nothing), adds ours (L3 rules at the top, before any deny) and PUTs the merged list.
  It stops, changing nothing, if another port forward already uses one of our public ports.
- One protocol per port forward: TCP 4403, UDP 4403 and TCP 4401 are three forwarding rules.
- The inbound allow: an MX port forward opens the firewall itself, restricted by its "Allowed
  remote IPs"; the L3 rules only filter outbound traffic. So the inbound allow is that field of
  each forward, which names the backup host by its LAN (private) address.
- NAT is automatic in routed mode: transparency is a *check* that the appliance is not in
  passthrough / VPN concentrator mode.
- Ranges: L3 rules take CIDRs, not ranges, so a range becomes its exact CIDR cover
  (``HostMatch.networks()``), comma-separated. DHCP: the LAN network.
- Dynamic public address: forwards apply to whatever address the uplink has; the monitoring GUI
  can use the appliance's Dashboard dynamic DNS name. Forwards apply to the uplink named by the
  site's outside interface when it is ``internet1``, ``internet2`` or ``both``, else to both.

Markers (change and removal plans): each L3 rule's Comment (API ``comment``) and each port
forward's Description (API ``name``) begins with ``obm:<site>:<key>``, the key by role
(``out-tcp-4401``, ``dnat-udp-4403``); the API script recognises earlier copies of ours by that
first word, so a later version's script replaces them. A plan's item says what to add, edit or
delete in the Dashboard (where editing a rule overwrites it in place) and, for a deletion, the
API way too: the L3 and port-forwarding endpoints replace the whole list on PUT, so a deletion is
GET, drop the entry by its marker (and the read-only "Default rule"), PUT the rest. NAT is
automatic in routed mode: nothing is created for it, so nothing is removed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.restriction import CHECK_SOURCE_UNQUOTED, sources_label

FIREWALL_GUI = "Security & SD-WAN › Configure › Firewall"
API = "https://api.meraki.com/api/v1/networks/{networkId}/appliance/firewall"
UPLINKS = ("internet1", "internet2", "both")
COMMENT = "Online backup"


class MerakiRenderer(Renderer):
    slug = "meraki"
    name = "Cisco Meraki MX"
    versions = "MX firmware 16 and later (routed mode); Dashboard API v1"
    renderer_version = 2  # 2: markers in comments and port forward names
    markers_since = 2
    plan_gui_path = FIREWALL_GUI
    plan_language = "text"  # Dashboard steps, and the API's read-drop-write for deletions
    supports_ranges = False  # srcCidr takes CIDRs only
    hides_lan_by_default = True  # routed mode NATs everything to the uplink address
    default_interfaces = None  # the Dashboard names uplinks, not interfaces

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        uplink = site.outside_interface if site.outside_interface in UPLINKS else "both"
        l3 = [_l3_rule(r, site) for r in outbound]
        pf = [_forward(r, uplink, site) for r in forwards]

        steps = [
            self._outbound_step(outbound, l3),
            self._transparency_step(policy.of_kind(RuleKind.SOURCE_NAT)),
        ]
        if forwards:
            steps.append(self._forward_step(forwards + inbound, pf, site))
        steps.append(self._api_step(outbound + forwards + inbound, l3, pf, site))
        inbound_verify = ""
        if inbound:
            inbound_verify = (
                "While the portal checks: capture on the appliance, interface LAN, filter "
                f"'host {inbound[0].required_hosts.start}': the forwarded connections reach the "
                "backup "
                "host on " + ", ".join(str(r.port_spec) for r in inbound) + "."
            )
        steps += verification_steps(
            policy,
            gui_path="Network-wide › Monitor › Packet capture",
            outbound_verify=(
                "While the probe runs on the backup host: capture on the appliance, interface "
                "Internet 1 (or the uplink in use), filter "
                + " or ".join(f"'{r.protocol} port {r.port}'" for r in outbound)
                + ": the packets to the datacenter leave with the uplink's public address as "
                "source. Security & SD-WAN › Monitor › Event log shows no firewall block."
            ),
            inbound_verify=inbound_verify,
        )
        return steps

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        uplink = site.outside_interface if site.outside_interface in UPLINKS else "both"
        items = []
        place = f"{FIREWALL_GUI} › Layer 3 › Outbound rules"
        for rule in policy.of_kind(RuleKind.ALLOW_OUTBOUND):
            body = _l3_rule(rule, site)
            mark = marker(site, rule_key(rule))
            fields = "\n".join(_l3_fields(rule, body))
            items.append(
                ManagedItem(
                    key=rule_key(rule),
                    marker=mark,
                    title=f"the Layer 3 outbound rule for {rule.port_spec} to the datacenter",
                    exposure=Exposure.OUTBOUND,
                    create=(
                        f"{place}: Add a rule, drag it above any deny rule, then Save:\n{fields}"
                    ),
                    update=(
                        f"{place}: edit the rule whose Comment begins with {mark} so that its "
                        f"fields read:\n{fields}\nthen Save. (The API script of these "
                        "instructions does the same: it replaces our rule by its marker.)"
                    ),
                    remove=(
                        f"{place}: delete the rule whose Comment begins with {mark}, then Save. "
                        "Only that rule: the fixed last rule (allow any, the Default rule) is "
                        "Meraki's own and stays, so without a deny rule above it this traffic "
                        "is still allowed.\n" + _api_removal("l3FirewallRules", ".comment", mark)
                    ),
                    gui_path=place,
                    guide_rules=rule.reason.guide_rules,
                )
            )
        place = f"{FIREWALL_GUI} › Port forwarding"
        for rule in policy.of_kind(RuleKind.DESTINATION_NAT):
            body = _forward(rule, uplink, site)
            mark = marker(site, rule_key(rule))
            fields = "\n".join(_forward_fields(body))
            items.append(
                ManagedItem(
                    key=rule_key(rule),
                    marker=mark,
                    title=f"the port forward of {rule.port_spec} to the backup host",
                    exposure=Exposure.INBOUND,
                    create=f"{place}: Add a port forwarding rule, then Save:\n{fields}",
                    update=(
                        f"{place}: edit the rule whose Description begins with {mark} so that "
                        f"its fields read:\n{fields}\nthen Save. (The API script of these "
                        "instructions does the same: it replaces our forward by its marker.)"
                    ),
                    remove=(
                        f"{place}: delete the rule whose Description begins with {mark}, then "
                        "Save; the forward was also what let the connections in, so they stop "
                        "with it.\n" + _api_removal("portForwardingRules", ".name", mark)
                    ),
                    gui_path=place,
                    guide_rules=rule.reason.guide_rules,
                )
            )
        return tuple(items)

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        chosen = list(items)
        markers = "\n".join(item.marker for item in chosen)
        api = API.replace("{networkId}", "$NETWORK_ID")
        check = (
            "for e in l3FirewallRules portForwardingRules; do "
            f'curl -sS --fail -H "Authorization: Bearer $MERAKI_API_KEY" "{api}/$e"; done \\\n'
            '  | jq -r \'.rules[] | (.comment // .name // "") | split(" ")[0]\' | grep -F -x '
            + " ".join(f"-e '{item.marker}'" for item in chosen)
        )
        if present:
            return (
                "Layer 3 rules (Comment) and port forwards (Description): one begins with each "
                f"of these:\n{markers}\nWith the API:\n{check}  # prints each marker"
            )
        return (
            "Layer 3 rules (Comment) and port forwards (Description): none begins with any of "
            f"these any more:\n{markers}\nWith the API:\n{check}  # prints nothing"
        )

    def _outbound_step(self, rules: tuple[Rule, ...], l3: list[dict]) -> Step:
        lines = []
        for rule, body in zip(rules, l3, strict=True):
            lines += ["Add a rule (Outbound rules):", *_l3_fields(rule, body)]
        lines.append("Drag the rule(s) to the top of the list, above any deny rule, and Save.")
        return Step(
            title="Allow the backup connection out (Layer 3 outbound rule)",
            gui_path=f"{FIREWALL_GUI} › Layer 3 › Outbound rules",
            config="\n".join(lines),
            config_language="text",
            reason=(
                str(rules[0].reason)
                + " The MX allows outbound traffic by default (the last, fixed rule); this rule "
                "keeps the backup working where a deny rule has been added above it."
            ),
            verify="The rule is listed above every deny rule, and Save was clicked.",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(self, rules: tuple[Rule, ...]) -> Step:
        return Step(
            kind=StepKind.CHECK,
            title="Check that the appliance translates (routed mode)",
            gui_path="Security & SD-WAN › Configure › Addressing & VLANs",
            config="Mode: Routed",
            config_language="text",
            reason=(
                "In routed mode the MX translates every outbound connection to its uplink "
                "address; there is no setting to change. In passthrough or VPN concentrator mode "
                "it does not translate, and the router in front of it must. "
                + rules[0].reason.detail
            ),
            verify="Addressing & VLANs shows Mode: Routed.",
            guide_rules=guide_rules_of(rules),
        )

    def _forward_step(self, rules: tuple[Rule, ...], pf: list[dict], site: SiteDescription) -> Step:
        lines = []
        for body in pf:
            lines += ["Add a port forwarding rule:", *_forward_fields(body)]
        lines.append("Save.")
        public = (
            f"the uplink address {site.public_address}"
            if site.public_address
            else "the uplink's address, which changes (use the appliance's dynamic DNS name, "
            "shown under Security & SD-WAN › Monitor › Appliance status, in the monitoring GUI)"
        )
        sources = rules[0].allowed_sources
        return Step(
            title="Forward the monitoring ports to the backup host (one rule per protocol)",
            gui_path=f"{FIREWALL_GUI} › Port forwarding",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "A port forward takes one protocol, so TCP and UDP 4403 are separate rules. "
                f"Connections to {public} are forwarded to the backup host's LAN address. The "
                "forward also lets the connection in: "
                + (
                    f"its Allowed remote IPs restrict it to {sources_label(rules[0], 'the monitoring sources')}."
                    if sources
                    else "Allowed remote IPs is Any; the monitoring computers' addresses would be safer."
                )
                + (
                    f" If {site.public_address} is not the uplink's own address but an extra "
                    "address routed to the MX, use 1:Many NAT on the same page instead."
                    if site.public_address
                    else ""
                )
            ),
            verify="The port forwarding rules are listed, one per protocol, and Save was clicked.",
            guide_rules=guide_rules_of(rules),
        )

    def _api_step(
        self, rules: tuple[Rule, ...], l3: list[dict], pf: list[dict], site: SiteDescription
    ) -> Step:
        lines = [
            "#!/usr/bin/env bash",
            "# Read, merge, write: a PUT replaces the whole list, so never PUT only our rules.",
            "# Needs curl and jq. API key: Dashboard › Organization › API & webhooks.",
            "set -euo pipefail",
            ': "${MERAKI_API_KEY:?set MERAKI_API_KEY}" "${NETWORK_ID:?set NETWORK_ID (L_… or N_…)}"',
            f'API="{API.replace("{networkId}", "$NETWORK_ID")}"',
            'AUTH="Authorization: Bearer $MERAKI_API_KEY"',
            "",
            "# L3 outbound rules to add at the top (replacing earlier copies of ours, matched by",
            "# the marker that begins their comment):",
            f"OURS_L3='{_json(l3)}'",
            'curl -sS --fail -H "$AUTH" "$API/l3FirewallRules" > l3FirewallRules.before.json',
            "# Drop the read-only default rule the GET appends, and our earlier copies; ours first.",
            'jq --argjson ours "$OURS_L3" \'{rules: ($ours + [.rules[]',
            '    | select(.comment != "Default rule")',
            '    | select((.comment // "" | split(" ")[0]) as $m'
            ' | ($ours | map(.comment | split(" ")[0]) | index($m)) | not)])}\' \\',
            "  l3FirewallRules.before.json > l3FirewallRules.after.json",
            'curl -sS --fail -X PUT -H "$AUTH" -H "Content-Type: application/json" \\',
            '  --data @l3FirewallRules.after.json "$API/l3FirewallRules" > /dev/null',
        ]
        if pf:
            lines += [
                "",
                "# Port forwards, one per protocol (replacing earlier copies of ours, matched by",
                "# the marker that begins their name):",
                f"OURS_PF='{_json(pf)}'",
                'curl -sS --fail -H "$AUTH" "$API/portForwardingRules" > portForwardingRules.before.json',
                "# Stop if someone else's forward already uses one of our protocol/public ports.",
                'jq -e --argjson ours "$OURS_PF" \'[.rules[] | select(. as $r | $ours | any(',
                '    (.name | split(" ")[0]) != ($r.name // "" | split(" ")[0])'
                " and .protocol == $r.protocol and .publicPort == $r.publicPort))]",
                "  | length == 0' portForwardingRules.before.json > /dev/null \\",
                '  || { echo "A port forward for the same protocol and public port exists; resolve it first." >&2; exit 1; }',
                'jq --argjson ours "$OURS_PF" \'{rules: ([.rules[]',
                '    | select((.name // "" | split(" ")[0]) as $m'
                ' | ($ours | map(.name | split(" ")[0]) | index($m)) | not)] + $ours)}\' \\',
                "  portForwardingRules.before.json > portForwardingRules.after.json",
                'curl -sS --fail -X PUT -H "$AUTH" -H "Content-Type: application/json" \\',
                '  --data @portForwardingRules.after.json "$API/portForwardingRules" > /dev/null',
            ]
        lines += [
            "",
            "# The *.before.json files are your previous lists. To roll back, PUT them again",
            '# (for l3FirewallRules, without its "Default rule" entry).',
        ]
        endpoints = ["l3FirewallRules"] + (["portForwardingRules"] if pf else [])
        return Step(
            title="Or apply the same rules with the Dashboard API (read, merge, write)",
            gui_path="Dashboard API v1: GET, then PUT "
            + " and ".join(f"/networks/{{networkId}}/appliance/firewall/{e}" for e in endpoints),
            config="\n".join(lines),
            config_language="bash",
            reason=(
                "Instead of the Dashboard steps above (doing both is harmless: the script "
                "replaces our rules, found by the marker that begins their comment or name). The PUT endpoints replace the "
                "whole list, so the script reads the current rules, keeps them, and writes them "
                "back with ours merged in. Set MERAKI_API_KEY and NETWORK_ID first."
            ),
            verify="\n".join(
                'curl -sS -H "Authorization: Bearer $MERAKI_API_KEY" '
                f'"{API.replace("{networkId}", "$NETWORK_ID")}/{e}" '
                f'| jq \'.rules[] | select({_selector(e)} // "" | startswith("{marker(site, "")}"))\''
                for e in endpoints
            ),
            guide_rules=guide_rules_of(rules),
        )


def _cidrs(networks: tuple[IPv4Network, ...]) -> str:
    return ",".join(str(n) for n in networks)


def _hosts(hosts: HostMatch) -> str:
    return _cidrs(hosts.networks())


def _l3_rule(rule: Rule, site: SiteDescription) -> dict:
    return {
        "comment": (
            f"{marker(site, rule_key(rule))} {COMMENT} {rule.required_protocol.upper()} "
            f"{rule.port} to datacenter"
        ),
        "policy": "allow",
        "protocol": rule.protocol,
        "srcCidr": _hosts(rule.required_hosts),
        "srcPort": "Any",
        "destCidr": _cidrs(rule.datacenter),
        "destPort": str(rule.port),
        "syslogEnabled": False,
    }


def _forward(rule: Rule, uplink: str, site: SiteDescription) -> dict:
    return {
        "name": (
            f"{marker(site, rule_key(rule))} {COMMENT} monitoring "
            f"{rule.required_protocol.upper()} {rule.port}"
            # One allowed address is the portal's, not a monitoring computer: say so.
            + (f" with {CHECK_SOURCE_UNQUOTED}" if rule.check_source is not None else "")
        ),
        "lanIp": str(rule.required_hosts.start),
        "uplink": uplink,
        "publicPort": str(rule.port),
        "localPort": str(rule.port),
        "allowedIps": [str(n) for n in rule.allowed_sources] or ["any"],
        "protocol": rule.protocol,
    }


def _l3_fields(rule: Rule, body: dict) -> list[str]:
    """The Dashboard's fields of one Layer 3 rule."""
    return [
        "  Policy: Allow",
        f"  Protocol: {rule.required_protocol.upper()}",
        f"  Source: {body['srcCidr']}",
        "  Src port: Any",
        f"  Destination: {body['destCidr']}",
        f"  Dst port: {rule.port}",
        f"  Comment: {body['comment']}",
    ]


def _forward_fields(body: dict) -> list[str]:
    """The Dashboard's fields of one port forwarding rule."""
    return [
        f"  Description: {body['name']}",
        f"  Uplink: {_uplink_label(body['uplink'])}",
        f"  Protocol: {body['protocol'].upper()}",
        f"  Public port: {body['publicPort']}",
        f"  LAN IP: {body['lanIp']}",
        f"  Local port: {body['localPort']}",
        f"  Allowed remote IPs: {', '.join(body['allowedIps'])}",
    ]


def _api_removal(endpoint: str, field: str, mark: str) -> str:
    """The Dashboard API way to delete one of our entries: the endpoint replaces the whole list
    on PUT, so read it, drop the entry by its marker (and, for the L3 list, the read-only
    "Default rule" the GET appends), and write the rest back."""
    default = ' | select(.comment != "Default rule")' if endpoint == "l3FirewallRules" else ""
    return (
        "Or with the Dashboard API (a PUT replaces the whole list: read it, drop this entry, "
        "write the rest back; API and AUTH as in the API script of the instructions):\n"
        f'curl -sS --fail -H "$AUTH" "$API/{endpoint}" > {endpoint}.before.json\n'
        f'jq \'{{rules: [.rules[]{default} | select({field} // "" | split(" ")[0] != '
        f'"{mark}")]}}\' {endpoint}.before.json > {endpoint}.after.json\n'
        'curl -sS --fail -X PUT -H "$AUTH" -H "Content-Type: application/json" '
        f'--data @{endpoint}.after.json "$API/{endpoint}" > /dev/null'
    )


def _json(value: list[dict]) -> str:
    """Compact JSON for a single-quoted shell string (our values never contain quotes)."""
    text = json.dumps(value, indent=2)
    assert "'" not in text
    return text


def _selector(endpoint: str) -> str:
    return ".comment" if endpoint == "l3FirewallRules" else ".name"


def _uplink_label(uplink: str) -> str:
    return {"internet1": "Internet 1", "internet2": "Internet 2", "both": "Both"}[uplink]
