"""WatchGuard Firebox appliances running Fireware, configured in Fireware Web UI.

Targets Fireware 12.x (12.5 and later; menu names as in Fireware Web UI; Policy Manager in
WatchGuard System Manager has the same fields). Everything is given as the fields of the Web UI
dialogs; verification uses Traffic Monitor and the Diagnostics TCP dump. Fireware CLI commands
are not given: they could not be verified against WatchGuard's documentation.

How it handles the traps:

- TCP and UDP in one object: a custom policy template (packet filter) may list several
  protocol and port entries, so the forwarded ports (TCP 4403, UDP 4403, TCP 4401) are one
  template and one inbound policy.
- Which address the inbound policy names: Fireware does port forwarding with a static NAT
  (SNAT) action placed in the policy's To list; the policy names that action (the public
  address and its mapping to the backup host), not the host's private address on its own.
- Hide NAT by default: Network › NAT › Dynamic NAT holds entries for the private ranges
  (192.168.0.0/16, 172.16.0.0/12, 10.0.0.0/8) to Any-External, applied by every policy whose
  Advanced tab keeps "Use Network NAT Settings", so transparency is a *check* step; it says
  whether the site's LAN is inside those default entries.
- Ranges: the policy's From list takes a Host Range. DHCP: a Network IP for the LAN.
- Dynamic public address: the SNAT member uses the external interface itself, not a fixed IP,
  so the forward follows the address the interface gets by DHCP or PPPoE.

Markers (change and removal plans): the custom policy templates, the policies (Settings tab,
"an optional description of the policy") and the SNAT action each have a Description, which
begins with ``obm:<site>:<key>``; their names stay as before (OBM-Backup-Out, …). Everything is
done in Fireware Web UI, where editing a template, policy or action overwrites it, so every item
has an in-place edit; removal deletes the one whose Description begins with the marker, policies
before the template and action they use. The dynamic NAT entry a LAN outside the private ranges
needs is not marked (its dialog has no description) and is not removed by a plan: the check step
says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps
from sites.vendors.gui_items import GuiItem, listed_verify, managed_item
from sites.vendors.managed import Exposure, ManagedItem, marker
from sites.vendors.restriction import connecting, only_monitoring_sources

POLICIES_LIST = "Firewall › Firewall Policies"
POLICIES_GUI = f"{POLICIES_LIST} › Add Policy"
TEMPLATES_LIST = f"{POLICIES_GUI} › Custom"
SNAT_LIST = "Firewall › SNAT"
SNAT_GUI = f"{SNAT_LIST} › Add"
DYNAMIC_NAT_GUI = "Network › NAT › Dynamic NAT"

OUT_TEMPLATE = "OBM-Backup"
IN_TEMPLATE = "OBM-Monitoring"
SNAT_NAME = "OBM-Monitoring-SNAT"
OUT_POLICY = "OBM-Backup-Out"
IN_POLICY = "OBM-Monitoring-In"
USED_BY_POLICY = "The policy that used it is deleted before it, in an earlier step."
# Fireware's default dynamic NAT entries (each to Any-External).
DEFAULT_DYNAMIC_NAT = tuple(
    IPv4Network(n) for n in ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8")
)


class WatchguardRenderer(Renderer):
    slug = "watchguard"
    name = "WatchGuard Firebox (Fireware)"
    versions = "Fireware 12.5 and later (Fireware Web UI; Policy Manager has the same fields)"
    renderer_version = 2  # 2: markers in every Description
    markers_since = 2
    plan_gui_path = "Fireware Web UI"
    plan_language = "text"
    supports_ranges = True  # Host Range in a policy's From list
    hides_lan_by_default = True  # default dynamic NAT for the private ranges
    default_interfaces = ("Trusted", "External")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        items = {item.key: item for item in _items(policy, site, profile, outside)}
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        steps = [
            self._templates_step(
                outbound,
                forwards,
                [items[k] for k in ("tpl-backup", "tpl-monitoring") if k in items],
            ),
            self._outbound_step(outbound, items["out-backup"], inside, outside),
            self._transparency_step(policy.of_kind(RuleKind.SOURCE_NAT), site, outside),
        ]
        if forwards:
            steps += [
                self._snat_step(forwards, items["snat-monitoring"], site, outside),
                self._inbound_step(inbound, items["in-monitoring"], outside),
            ]
        steps += verification_steps(
            policy,
            gui_path="System Status › Traffic Monitor; System Status › Diagnostics › Network",
            outbound_verify=(
                "While the probe runs on the backup host: Traffic Monitor, filtered on "
                + ", ".join(str(r.port) for r in outbound)
                + f', shows "Allow" entries of policy {OUT_POLICY} from the backup host to the '
                f"datacenter with the {outside} address as translated source. Diagnostics › "
                f"Network › TCP Dump on interface {outside} with filter "
                + " or ".join(f"'{r.protocol} port {r.port}'" for r in outbound)
                + " shows the packets leaving with that address."
            ),
            inbound_verify=(
                'While the portal checks: Traffic Monitor shows "Allow" entries of policy '
                f'{IN_POLICY}, translated to the backup host; a "Deny" entry names the '
                "rule that blocks them."
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
        return listed_verify(items, present=present, holds="Description")

    def _templates_step(
        self, outbound: tuple[Rule, ...], forwards: tuple[Rule, ...], templates: list[GuiItem]
    ) -> Step:
        return Step(
            title="Create the custom policy templates",
            gui_path=f"{TEMPLATES_LIST} › Add",
            config="\n".join(item.fields for item in templates),
            config_language="text",
            reason=(
                "A custom packet-filter template names the backup port"
                + (
                    ", and one template holds every forwarded port: a template may list TCP and "
                    "UDP entries together, so one policy covers them all."
                    if forwards
                    else "."
                )
                + " Each Description starts with its marker (obm:…), which finds the template "
                "again when it is changed or removed."
            ),
            verify="The templates are listed under Custom when you add a policy.",
            guide_rules=guide_rules_of(outbound + forwards),
        )

    def _outbound_step(
        self, rules: tuple[Rule, ...], item: GuiItem, inside: str, outside: str
    ) -> Step:
        return Step(
            title="Allow the backup connection out (policy from the backup host to the datacenter)",
            gui_path=item.add_path,
            config=item.fields + "\nSave.",
            config_language="text",
            reason=(
                str(rules[0].reason)
                + f" Fireware's Outgoing policy usually allows {inside} → {outside} already; this "
                "policy keeps the backup working where it has been removed or narrowed. Fireware "
                "orders policies by precision, so this specific policy is checked before broader ones."
            ),
            verify=f"Firewall › Firewall Policies lists {OUT_POLICY} enabled; Save was clicked.",
            guide_rules=guide_rules_of(rules),
        )

    def _transparency_step(
        self, rules: tuple[Rule, ...], site: SiteDescription, outside: str
    ) -> Step:
        covering = next((n for n in DEFAULT_DYNAMIC_NAT if site.lan_network.subnet_of(n)), None)
        if covering:
            found = f"Your LAN {site.lan_network} is inside the default entry {covering} - Any-External."
        else:
            found = (
                f"Your LAN {site.lan_network} is not inside the default entries: Add an entry "
                f"From: Network IP {site.lan_network}, To: Any-External. It applies to all the "
                "LAN's traffic and carries no marker, so change and removal plans leave it to you."
            )
        return Step(
            kind=StepKind.CHECK,
            title="Check that dynamic NAT covers the backup connection",
            gui_path=DYNAMIC_NAT_GUI,
            config="\n".join(
                [
                    "Dynamic NAT entries (the defaults):",
                    *[f"  {n} - Any-External" for n in DEFAULT_DYNAMIC_NAT],
                    found,
                ]
            ),
            config_language="text",
            reason=(
                f"Fireware translates traffic from these networks to the {outside} address for "
                f'every policy that keeps "Use Network NAT Settings" on its Advanced tab, as {OUT_POLICY} does. '
                + rules[0].reason.detail
            ),
            verify="Network › NAT › Dynamic NAT lists an entry covering the LAN, to Any-External.",
            guide_rules=guide_rules_of(rules),
        )

    def _snat_step(
        self, rules: tuple[Rule, ...], item: GuiItem, site: SiteDescription, outside: str
    ) -> Step:
        if site.public_address:
            note = (
                f"If {site.public_address} is a secondary address of {outside}, it must be "
                "listed on the interface's Secondary tab first."
            )
        else:
            note = (
                f"The public address is dynamic: the member names {outside} itself, so the "
                "forward follows the address the interface gets."
            )
        return Step(
            title="Create the static NAT action for the backup host",
            gui_path=SNAT_GUI,
            config=item.fields,
            config_language="text",
            reason=(
                "Fireware forwards ports with a static NAT (SNAT) action used in a policy's To "
                "list; the policy's template decides which protocols and ports are forwarded. "
                + note
            ),
            verify=f"Firewall › SNAT lists {SNAT_NAME} with the internal address {rules[0].required_hosts.start}.",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], item: GuiItem, outside: str) -> Step:
        sources = rules[0].allowed_sources
        return Step(
            title="Allow the monitoring connections in (policy with the static NAT action)",
            gui_path=item.add_path,
            config=item.fields + "\nSave.",
            config_language="text",
            reason=(
                f"The policy's To list names the static NAT action (the {outside} address mapped "
                f"to {rules[0].required_hosts.start}), not the private address alone: that is what "
                "makes "
                "Fireware forward the connection. "
                + (
                    only_monitoring_sources(rules[0], "the monitoring sources")
                    if sources
                    else "Any address may connect; restricting From to the monitoring computers is safer."
                )
            ),
            verify=f"Firewall › Firewall Policies lists {IN_POLICY} enabled with the SNAT action in its To list.",
            guide_rules=guide_rules_of(rules),
        )


def _items(
    policy: Policy, site: SiteDescription, profile: ProfileSpec, outside: str
) -> list[GuiItem]:
    """Everything the instructions create, in the order of the complete instructions."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

    def description(key: str, what: str) -> str:
        return f"Description: {marker(site, key)} {profile.name}: {what}"

    def entries(rules: tuple[Rule, ...]) -> list[str]:
        return [
            f"  Type: Single Port | Protocol: {r.required_protocol.upper()} | Server Port: {r.port}"
            for r in rules
        ]

    def item(
        key: str,
        what: str,
        exposure: Exposure,
        add_path: str,
        listed: str,
        lines: list[str],
        rules: tuple[Rule, ...],
        **more,
    ) -> GuiItem:
        return GuiItem(
            key=key,
            marker=marker(site, key),
            title=what,
            exposure=exposure,
            add_path=add_path,
            listed=listed,
            what=what,
            found_by=f"whose Description begins with {marker(site, key)}",
            fields="\n".join(lines),
            rules=rules,
            **more,
        )

    items = [
        item(
            "tpl-backup",
            f"the custom policy template {OUT_TEMPLATE}",
            Exposure.SUPPORT,
            f"{TEMPLATES_LIST} › Add",
            TEMPLATES_LIST,
            [
                f"Name: {OUT_TEMPLATE} | Type: Packet Filter | Protocols (Add; exactly these):",
                *entries(outbound),
                "  " + description("tpl-backup", "backup ports"),
            ],
            outbound,
            remove_note=USED_BY_POLICY,
        )
    ]
    if forwards:
        items.append(
            item(
                "tpl-monitoring",
                f"the custom policy template {IN_TEMPLATE}",
                Exposure.SUPPORT,
                f"{TEMPLATES_LIST} › Add",
                TEMPLATES_LIST,
                [
                    f"Name: {IN_TEMPLATE} | Type: Packet Filter | Protocols (Add, one entry each; "
                    "exactly these):",
                    *entries(forwards),
                    "  " + description("tpl-monitoring", "forwarded monitoring ports"),
                ],
                forwards,
                remove_note=USED_BY_POLICY,
            )
        )
    items.append(
        item(
            "out-backup",
            f"the policy {OUT_POLICY}",
            Exposure.OUTBOUND,
            f"{TEMPLATES_LIST} › {OUT_TEMPLATE} › Add Policy",
            POLICIES_LIST,
            [
                f"Name: {OUT_POLICY}    Connections are: Allowed",
                description("out-backup", "backup host to the datacenter"),
                f"From: only {_member(outbound[0].required_hosts)} (Add Other; remove Any-Trusted)",
                "To: only "
                + ", ".join(f"Network IP {n}" for n in outbound[0].datacenter)
                + " (Add Other; remove Any-External)",
                "Settings › Logging: Send a log message: on",
                "Advanced › NAT: Dynamic NAT: Use Network NAT Settings (the default)",
            ],
            outbound,
            remove_note="Only that policy: Fireware's own Outgoing policy, if it is there, stays.",
            uses=("tpl-backup",),
        )
    )
    if not forwards:
        return items
    if site.public_address:
        external = f"Interface: {outside} | External IP address: {site.public_address}"
    else:
        external = f"Interface: {outside} (its own address; no fixed IP)"
    items.append(
        item(
            "snat-monitoring",
            f"the SNAT action {SNAT_NAME}",
            Exposure.SUPPORT,
            SNAT_GUI,
            SNAT_LIST,
            [
                f"Name: {SNAT_NAME}    Type: Static NAT",
                description("snat-monitoring", "public address to the backup host"),
                "Add member:",
                f"  {external}",
                f"  Internal IP address: {forwards[0].required_hosts.start}",
                "  Set internal port to a different port: off",
            ],
            forwards,
            remove_note=USED_BY_POLICY,
        )
    )
    sources = inbound[0].allowed_sources
    source_line = (
        "From: only "
        + ", ".join(_network_member(n) for n in sources)
        + " (Add Other; remove Any-External)"
        if sources
        else "From: Any-External"
    )
    items.append(
        item(
            "in-monitoring",
            f"the policy {IN_POLICY}",
            Exposure.INBOUND,
            f"{TEMPLATES_LIST} › {IN_TEMPLATE} › Add Policy",
            POLICIES_LIST,
            [
                f"Name: {IN_POLICY}    Connections are: Allowed",
                description("in-monitoring", f"{connecting(inbound[0])} to the backup host"),
                source_line,
                f"To: only the SNAT action {SNAT_NAME} (Add SNAT; remove Any-Trusted)",
                "Settings › Logging: Send a log message: on",
            ],
            inbound,
            uses=("tpl-monitoring", "snat-monitoring"),
        )
    )
    return items


def _member(hosts: HostMatch) -> str:
    if hosts.kind == "address":
        return f"Host IP {hosts.start}"
    if hosts.kind == "range":
        return f"Host Range {hosts.start} - {hosts.end}"
    return f"Network IP {hosts.network}"


def _network_member(network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f"Host IP {network.network_address}"
    return f"Network IP {network}"
