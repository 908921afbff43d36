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
"""

from __future__ import annotations

from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, StepKind, guide_rules_of, verification_steps

POLICIES_GUI = "Firewall › Firewall Policies › Add Policy"
SNAT_GUI = "Firewall › SNAT › Add"
DYNAMIC_NAT_GUI = "Network › NAT › Dynamic NAT"

OUT_TEMPLATE = "OBM-Backup"
IN_TEMPLATE = "OBM-Monitoring"
SNAT_NAME = "OBM-Monitoring-SNAT"
# Fireware's default dynamic NAT entries (each to Any-External).
DEFAULT_DYNAMIC_NAT = tuple(
    IPv4Network(n) for n in ("192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8")
)


class WatchguardRenderer(Renderer):
    slug = "watchguard"
    name = "WatchGuard Firebox (Fireware)"
    versions = "Fireware 12.5 and later (Fireware Web UI; Policy Manager has the same fields)"
    renderer_version = 1
    supports_ranges = True  # Host Range in a policy's From list
    hides_lan_by_default = True  # default dynamic NAT for the private ranges
    default_interfaces = ("Trusted", "External")

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        inside, outside = self.interfaces(site)
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)

        steps = [
            self._templates_step(outbound, forwards),
            self._outbound_step(outbound, inside, outside),
            self._transparency_step(policy.of_kind(RuleKind.SOURCE_NAT), site, outside),
        ]
        if forwards:
            steps += [
                self._snat_step(forwards, site, outside),
                self._inbound_step(inbound, outside),
            ]
        steps += verification_steps(
            policy,
            gui_path="System Status › Traffic Monitor; System Status › Diagnostics › Network",
            outbound_verify=(
                "While the probe runs on the backup host: Traffic Monitor, filtered on "
                + ", ".join(str(r.port) for r in outbound)
                + ', shows "Allow" entries of policy OBM-Backup-Out from the backup host to the '
                f"datacenter with the {outside} address as translated source. Diagnostics › "
                f"Network › TCP Dump on interface {outside} with filter "
                + " or ".join(f"'{r.protocol} port {r.port}'" for r in outbound)
                + " shows the packets leaving with that address."
            ),
            inbound_verify=(
                'While the portal checks: Traffic Monitor shows "Allow" entries of policy '
                'OBM-Monitoring-In, translated to the backup host; a "Deny" entry names the '
                "rule that blocks them."
            ),
        )
        return steps

    def _templates_step(self, outbound: tuple[Rule, ...], forwards: tuple[Rule, ...]) -> Step:
        lines = [
            f"Name: {OUT_TEMPLATE} | Type: Packet Filter | Protocols (Add):",
            *[
                f"  Type: Single Port | Protocol: {r.required_protocol.upper()} | Server Port: {r.port}"
                for r in outbound
            ],
        ]
        if forwards:
            lines += [
                f"Name: {IN_TEMPLATE} | Type: Packet Filter | Protocols (Add, one entry each):",
                *[
                    f"  Type: Single Port | Protocol: {r.required_protocol.upper()} | Server Port: {r.port}"
                    for r in forwards
                ],
            ]
        return Step(
            title="Create the custom policy templates",
            gui_path=f"{POLICIES_GUI} › Custom › Add",
            config="\n".join(lines),
            config_language="text",
            reason=(
                "A custom packet-filter template names the backup port"
                + (
                    ", and one template holds every forwarded port: a template may list TCP and "
                    "UDP entries together, so one policy covers them all."
                    if forwards
                    else "."
                )
            ),
            verify="The templates are listed under Custom when you add a policy.",
            guide_rules=guide_rules_of(outbound + forwards),
        )

    def _outbound_step(self, rules: tuple[Rule, ...], inside: str, outside: str) -> Step:
        return Step(
            title="Allow the backup connection out (policy from the backup host to the datacenter)",
            gui_path=f"{POLICIES_GUI} › Custom › {OUT_TEMPLATE} › Add Policy",
            config="\n".join(
                [
                    "Name: OBM-Backup-Out    Connections are: Allowed",
                    "From: remove Any-Trusted, Add Other › " + _member(rules[0].required_hosts),
                    "To: remove Any-External, "
                    + "; ".join(f"Add Other › Network IP {n}" for n in rules[0].datacenter),
                    "Settings › Logging: Send a log message: on",
                    "Advanced › NAT: Dynamic NAT: Use Network NAT Settings (the default)",
                    "Save.",
                ]
            ),
            config_language="text",
            reason=(
                str(rules[0].reason)
                + f" Fireware's Outgoing policy usually allows {inside} → {outside} already; this "
                "policy keeps the backup working where it has been removed or narrowed. Fireware "
                "orders policies by precision, so this specific policy is checked before broader ones."
            ),
            verify="Firewall › Firewall Policies lists OBM-Backup-Out enabled; Save was clicked.",
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
                f"From: Network IP {site.lan_network}, To: Any-External."
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
                'every policy that keeps "Use Network NAT Settings" on its Advanced tab, as OBM-Backup-Out does. '
                + rules[0].reason.detail
            ),
            verify="Network › NAT › Dynamic NAT lists an entry covering the LAN, to Any-External.",
            guide_rules=guide_rules_of(rules),
        )

    def _snat_step(self, rules: tuple[Rule, ...], site: SiteDescription, outside: str) -> Step:
        if site.public_address:
            external = f"Interface: {outside} | External IP address: {site.public_address}"
            note = (
                f"If {site.public_address} is a secondary address of {outside}, it must be "
                "listed on the interface's Secondary tab first."
            )
        else:
            external = f"Interface: {outside} (its own address; no fixed IP)"
            note = (
                f"The public address is dynamic: the member names {outside} itself, so the "
                "forward follows the address the interface gets."
            )
        return Step(
            title="Create the static NAT action for the backup host",
            gui_path=SNAT_GUI,
            config="\n".join(
                [
                    f"Name: {SNAT_NAME}    Type: Static NAT",
                    "Add member:",
                    f"  {external}",
                    f"  Internal IP address: {rules[0].required_hosts.start}",
                    "  Set internal port to a different port: off",
                ]
            ),
            config_language="text",
            reason=(
                "Fireware forwards ports with a static NAT (SNAT) action used in a policy's To "
                "list; the policy's template decides which protocols and ports are forwarded. "
                + note
            ),
            verify=f"Firewall › SNAT lists {SNAT_NAME} with the internal address {rules[0].required_hosts.start}.",
            guide_rules=guide_rules_of(rules),
        )

    def _inbound_step(self, rules: tuple[Rule, ...], outside: str) -> Step:
        sources = rules[0].allowed_sources
        source_line = (
            "From: remove Any-External, "
            + "; ".join(f"Add Other › {_network_member(n)}" for n in sources)
            if sources
            else "From: Any-External"
        )
        return Step(
            title="Allow the monitoring connections in (policy with the static NAT action)",
            gui_path=f"{POLICIES_GUI} › Custom › {IN_TEMPLATE} › Add Policy",
            config="\n".join(
                [
                    "Name: OBM-Monitoring-In    Connections are: Allowed",
                    source_line,
                    f"To: remove Any-Trusted, Add SNAT › {SNAT_NAME}",
                    "Settings › Logging: Send a log message: on",
                    "Save.",
                ]
            ),
            config_language="text",
            reason=(
                f"The policy's To list names the static NAT action (the {outside} address mapped "
                f"to {rules[0].required_hosts.start}), not the private address alone: that is what "
                "makes "
                "Fireware forward the connection. "
                + (
                    "Only the monitoring sources may connect."
                    if sources
                    else "Any address may connect; restricting From to the monitoring computers is safer."
                )
            ),
            verify="Firewall › Firewall Policies lists OBM-Monitoring-In enabled with the SNAT action in its To list.",
            guide_rules=guide_rules_of(rules),
        )


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
