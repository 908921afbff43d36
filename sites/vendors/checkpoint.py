"""Check Point Security Gateway managed by a Security Management Server (SmartConsole, mgmt_cli).

Targets Check Point R81, R81.10, R81.20 and R82 with a Security Management Server (management
API 1.7 and later); the commands run in Expert mode on the Management Server (``mgmt_cli … -s
id.txt`` in one session), and each step also gives the SmartConsole path. Locally managed
Quantum Spark (SMB) appliances are configured in their own web UI and are not covered. The
shell variables set in the first step name the gateway object, the policy package and its
access layer (``Standard`` / ``Network`` are the R81 defaults). Objects are named ``obm-…``.

How the traps are handled:

- **One protocol per service**: ``service-tcp`` and ``service-udp`` are separate object types,
  so TCP 4403 and UDP 4403 are two services; the port-forward is one manual NAT rule per
  service, because a NAT rule takes one original service.
- **Which address the inbound rule names.** Check Point translates the destination on the
  client side (Global Properties › NAT, "Translate destination on client side", on by
  default), and its rules name the real address of a translated server: the inbound access
  rule names the backup host object (the *private* address), as it does for automatic static
  NAT. The manual NAT rule names the public address as its original destination.
- **Transparency**: a gateway managed from SmartConsole translates nothing unless an object's
  NAT settings or a NAT rule says so, so it is a change: the backup host object (or range, or
  LAN network for a DHCP host) gets automatic Hide NAT behind the gateway. Where the LAN object
  already hides behind the gateway this is redundant and harmless.
- **Static NAT for inbound**: manual static NAT rules, port by port, from the public address to
  the host. Automatic static NAT of the host object is not used: it would map *every* port of
  the public address, which is normally the gateway's own address, and it would replace the
  host's hide NAT.
- **Ranges** are native (``address-range`` objects, which also carry NAT settings).
- **Monitoring sources** restrict the NAT rules (original source) and the inbound rule; several
  sources become a group, because a NAT rule takes one original source.
- **Dynamic public address** (a DAIP gateway): the NAT rules' original destination is the
  gateway object itself instead of a host object holding a fixed address.
- Rules are added at the top of the layer / NAT rule base: they are narrow, so nothing else
  changes, and no broader drop rule can shadow them. Nothing is enforced before ``publish``
  and ``install-policy``.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps
from sites.vendors.names import hosts_object_name, network_names, port_object_name

SESSION = "-s id.txt"
OUTBOUND_RULE = "obm-backup-out"
INBOUND_RULE = "obm-monitoring-in"
MONITORS_GROUP = "obm-monitors"
OBJECTS_GUI = "SmartConsole › Objects › Object Explorer (Ctrl+E) › New"
ACCESS_GUI = "SmartConsole › Security Policies › Access Control › Policy"
NAT_GUI = "SmartConsole › Security Policies › Access Control › NAT"


class CheckPointRenderer(Renderer):
    slug = "checkpoint"
    name = "Check Point (SmartConsole / mgmt_cli)"
    versions = "Check Point R81, R81.10, R81.20, R82 with a Security Management Server"
    renderer_version = 1
    supports_ranges = True  # address-range objects
    hides_lan_by_default = False  # only objects with NAT settings or NAT rules are translated
    default_interfaces = None  # rules and NAT name objects and the gateway, not interfaces

    def build_steps(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> list[Step]:
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        snat = policy.of_kind(RuleKind.SOURCE_NAT)
        forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        all_rules = outbound + snat + forwards + inbound
        hosts = outbound[0].required_hosts

        steps = [
            Step(
                title="Open a management API session and create the objects",
                gui_path=f"{OBJECTS_GUI} › Network / Host / Services › TCP, UDP",
                config=self._session_and_objects(policy, all_rules),
                config_language="bash",
                reason=(
                    "Run the commands in Expert mode on the Security Management Server, all in "
                    "one session (`-s id.txt`), so they are published together. Set GW to the "
                    "name of your gateway object as SmartConsole shows it, and PACKAGE and LAYER "
                    "to your policy package and its access layer if they are not the defaults. "
                    "TCP and UDP services are separate object types, one protocol each."
                    + (
                        " obm-public is the gateway's public address; SmartConsole may warn that "
                        "the gateway has the same address, which `ignore-warnings true` accepts."
                        if inbound and inbound[0].public_address
                        else ""
                    )
                ),
                verify=f'mgmt_cli show objects filter "obm-" {SESSION}',
                guide_rules=guide_rules_of(outbound + inbound),
            ),
            Step(
                title="Hide the backup "
                + (
                    "host"
                    if hosts.kind == "address"
                    else "hosts"
                    if hosts.kind == "range"
                    else "LAN"
                )
                + " behind the gateway (automatic Hide NAT: transparency)",
                gui_path=(
                    f"{OBJECTS_GUI} › "
                    + {"address": "Host", "range": "Address Range", "network": "Network"}[
                        hosts.kind
                    ]
                    + " › NAT › Add automatic address translation rules, Translation method: "
                    "Hide, Hide behind the gateway"
                ),
                config=_mgmt(_hosts_object(hosts)) + "\n",
                config_language="bash",
                reason=(
                    "Check Point translates nothing unless an object's NAT settings or a NAT "
                    "rule say so. Automatic Hide NAT behind the gateway gives the connections of "
                    f"{hosts_object_name(hosts)} the address of the gateway interface they leave "
                    "by (the guide's transparency; it covers all their outgoing connections, "
                    "which the guide allows). If the LAN's network object already hides behind "
                    "the gateway, this changes nothing."
                ),
                verify=(
                    f'mgmt_cli show {_hosts_type(hosts)} name "{hosts_object_name(hosts)}" '
                    f"{SESSION}"
                ),
                guide_rules=guide_rules_of(snat),
            ),
            Step(
                title="Allow the backup connection out (access rule)",
                gui_path=f"{ACCESS_GUI} › Add Rule › Above (top of the layer)",
                config=_mgmt(
                    'add access-rule layer "$LAYER" position top',
                    f'name "{OUTBOUND_RULE}"',
                    _list("source", [hosts_object_name(hosts)]),
                    _list("destination", network_names("obm-dc", outbound[0].datacenter)),
                    _list("service", [port_object_name(r) for r in outbound]),
                    'action "Accept" track.type "Log"',
                )
                + "\n",
                config_language="bash",
                reason=(
                    f"{outbound[0].reason.detail} The rule goes to the top of the layer: it is "
                    "narrow, so nothing else changes, and no broader drop rule can shadow it."
                ),
                verify=f'mgmt_cli show access-rule layer "$LAYER" name "{OUTBOUND_RULE}" {SESSION}',
                guide_rules=guide_rules_of(outbound),
            ),
        ]
        if forwards:
            public = forwards[0].public_address
            steps.append(
                Step(
                    title="Forward the monitoring ports (manual static NAT rules, one per service)",
                    gui_path=(
                        f"{NAT_GUI} › Add Rule › Above (Original Destination: the public address, "
                        "Translated Destination: obm-host, method Static)"
                    ),
                    config="\n".join(
                        _mgmt(
                            'add nat-rule package "$PACKAGE" position top',
                            f'name "obm-fwd-{r.protocol}-{r.port}" method static',
                            _list(
                                "original-source",
                                [_monitors(r.allowed_sources)] if r.allowed_sources else [],
                            ),
                            "original-destination "
                            + ('"obm-public"' if r.public_address else '"$GW"'),
                            f'original-service "{port_object_name(r)}" translated-destination "obm-host"',
                        )
                        for r in forwards
                    )
                    + "\n",
                    config_language="bash",
                    reason=(
                        "A NAT rule takes one original service, so every protocol and port has its "
                        "own rule; the port stays the same (translated service: Original). "
                        + (
                            f"The original destination is the public address {public}. If it is not "
                            "an address of the gateway itself, the gateway must also answer ARP for "
                            "it: add a proxy ARP entry in Gaia and enable Global Properties › NAT › "
                            '"Merge manual proxy ARP configuration".'
                            if public
                            else "The public address is dynamic, so the original destination is the "
                            "gateway object itself, whatever address it has."
                        )
                        + " A host's automatic static NAT is not used: it would map every port of "
                        "that address to the backup host."
                    ),
                    verify=f'mgmt_cli show nat-rulebase package "$PACKAGE" filter "obm-" {SESSION}',
                    guide_rules=guide_rules_of(forwards),
                )
            )
        if inbound:
            steps.append(
                Step(
                    title="Allow the monitoring GUI in (access rule naming the backup host)",
                    gui_path=f"{ACCESS_GUI} › Add Rule › Above (Destination: obm-host)",
                    config=_mgmt(
                        'add access-rule layer "$LAYER" position top',
                        f'name "{INBOUND_RULE}"',
                        _list(
                            "source",
                            [_monitors(inbound[0].allowed_sources)]
                            if inbound[0].allowed_sources
                            else [],
                        ),
                        _list("destination", ["obm-host"]),
                        _list("service", [port_object_name(r) for r in inbound]),
                        'action "Accept" track.type "Log"',
                    )
                    + "\n",
                    config_language="bash",
                    reason=(
                        "The gateway translates the destination on the client side, so the rule "
                        f"names the backup host's real address {inbound[0].required_hosts.start} "
                        "(obm-host), "
                        "not the public address. "
                        + (
                            "Only the monitoring computers may connect."
                            if inbound[0].allowed_sources
                            else "Any address may connect (source Any); give the monitoring computers' "
                            "addresses to narrow it."
                        )
                    ),
                    verify=f'mgmt_cli show access-rule layer "$LAYER" name "{INBOUND_RULE}" {SESSION}',
                    guide_rules=guide_rules_of(inbound),
                )
            )
        steps.append(
            Step(
                title="Publish the session and install the policy",
                gui_path="SmartConsole › Publish, then Install Policy (Access Control) on the gateway",
                config="\n".join(
                    [
                        f"mgmt_cli publish {SESSION}",
                        'mgmt_cli install-policy policy-package "$PACKAGE" access true '
                        f'threat-prevention false targets.1 "$GW" {SESSION}',
                        f"mgmt_cli logout {SESSION}",
                    ]
                )
                + "\n",
                config_language="bash",
                reason=(
                    "Nothing reaches the gateway before the changes are published and the access "
                    "policy (which carries the NAT rules) is installed."
                ),
                verify="# on the gateway, in Expert mode: the policy name and a current install time\nfw stat",
                guide_rules=guide_rules_of(all_rules),
            )
        )

        steps += verification_steps(
            policy,
            gui_path="SmartConsole › Logs & Monitor › Logs (search: obm)",
            outbound_verify="\n".join(
                ["# on the gateway, in Expert mode, while the probe runs on the backup host:"]
                + ["fw monitor " + " ".join(f'-F "0,0,0,{r.port},{_proto(r)}"' for r in outbound)]
                + [
                    "# nothing dropped (Ctrl+C to stop):",
                    "fw ctl zdebug + drop | grep -E '"
                    + "|".join(f":{r.port} " for r in outbound)
                    + "'",
                    f"# Logs: rule {OUTBOUND_RULE}, with the gateway's address as Xlate Source",
                ]
            ),
            inbound_verify="\n".join(
                ["# on the gateway, in Expert mode, while the portal checks:"]
                + ["fw monitor " + " ".join(f'-F "0,0,0,{r.port},{_proto(r)}"' for r in inbound)]
                + [f"# Logs: rule {INBOUND_RULE}, with obm-host as Xlate Destination"]
            )
            if inbound
            else "",
        )
        return steps

    def _session_and_objects(self, policy: Policy, rules: Iterable[Rule]) -> str:
        lines = [
            "# Expert mode on the Security Management Server.",
            'GW="YOUR-GATEWAY"  # the gateway object\'s name in SmartConsole',
            'PACKAGE="Standard"',
            'LAYER="Network"',
            "mgmt_cli login -r true > id.txt",
        ]
        outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        datacenter = outbound[0].datacenter
        for name, network in zip(network_names("obm-dc", datacenter), datacenter, strict=True):
            lines.append(_mgmt(_network_object(name, network), 'comments "Backup datacenter"'))
        seen = set()
        for rule in rules:
            if port_object_name(rule) not in seen:
                seen.add(port_object_name(rule))
                lines.append(
                    _mgmt(
                        f'add service-{rule.protocol} name "{port_object_name(rule)}" port {rule.port}'
                    )
                )
        inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
        if inbound:
            target = inbound[0].required_hosts
            if outbound[0].required_hosts.kind != "address":
                lines.append(_mgmt(f'add host name "obm-host" ip-address "{target.start}"'))
            sources = inbound[0].allowed_sources
            names = network_names("obm-mon", sources)
            for name, network in zip(names, sources, strict=True):
                lines.append(_mgmt(_network_object(name, network), 'comments "Monitoring GUI"'))
            if len(sources) > 1:
                lines.append(
                    _mgmt(
                        f'add group name "{MONITORS_GROUP}"', _list("members", names, indexed=True)
                    )
                )
            if inbound[0].public_address is not None:
                lines.append(
                    _mgmt(
                        f'add host name "obm-public" ip-address "{inbound[0].public_address}"',
                        "ignore-warnings true",
                    )
                )
        return "\n".join(lines) + "\n"


def _mgmt(*parts: str) -> str:
    return "mgmt_cli " + " ".join(p for p in parts if p) + f" {SESSION}"


def _list(field: str, names: list[str], *, indexed: bool = False) -> str:
    """``field "a"`` for one value, ``field.1 "a" field.2 "b"`` for several; nothing for none."""
    if len(names) == 1 and not indexed:
        return f'{field} "{names[0]}"'
    return " ".join(f'{field}.{n} "{name}"' for n, name in enumerate(names, start=1))


def _network_object(name: str, network: IPv4Network) -> str:
    if network.prefixlen == 32:
        return f'add host name "{name}" ip-address "{network.network_address}"'
    return f'add network name "{name}" subnet "{network.network_address}" mask-length {network.prefixlen}'


_HIDE = 'nat-settings.auto-rule true nat-settings.method "hide" nat-settings.hide-behind "gateway"'


def _hosts_object(hosts: HostMatch) -> str:
    name = hosts_object_name(hosts)
    if hosts.kind == "range":
        return (
            f'add address-range name "{name}" ip-address-first "{hosts.start}" '
            f'ip-address-last "{hosts.end}" {_HIDE}'
        )
    if hosts.kind == "network":
        assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
        return f"{_network_object(name, hosts.network)} {_HIDE}"
    return f'add host name "{name}" ip-address "{hosts.start}" {_HIDE}'


def _hosts_type(hosts: HostMatch) -> str:
    return {"address": "host", "range": "address-range", "network": "network"}[hosts.kind]


def _monitors(sources: tuple[IPv4Network, ...]) -> str:
    return MONITORS_GROUP if len(sources) > 1 else "obm-mon-1"


def _proto(rule: Rule) -> int:
    return {"tcp": 6, "udp": 17}[rule.required_protocol]
