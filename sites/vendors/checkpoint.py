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

Markers and plans: every object and rule carries its marker ``obm:<site>:<key>`` in
``comments``; the complete instructions and the plans' items come from one list (``_items``).
Networks are objects named by the network (``obm-dc-198.51.100.0-24``); the monitoring
computers are always in the group ``obm-monitors``. ``set`` overwrites the fields it names (a
list as a whole) and keeps a rule's place, so objects and rules change in place; removal is
``delete access-rule layer … name …``, ``delete nat-rule package … name …`` (management API
1.7+), then ``delete host|network|address-range|group|service-tcp|service-udp name …`` after
the rules that use them. Each plan step is its own session, published and installed, so the
gateway passes through the plan's safe order.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network

from sites.description import ProfileSpec, SiteDescription
from sites.policy import HostMatch, Policy, Rule, RuleKind
from sites.vendors.base import Renderer, Step, guide_rules_of, verification_steps
from sites.vendors.managed import Exposure, ManagedItem, marker, rule_key
from sites.vendors.names import (
    hosts_object_name,
    network_names,
    port_object_name,
    source_object_names,
)
from sites.vendors.restriction import (
    CHECK_SOURCE_LABEL,
    connecting,
    is_check_source,
    only_monitoring_sources,
    sources_label,
)

SESSION = "-s id.txt"
OUTBOUND_RULE = "obm-backup-out"
INBOUND_RULE = "obm-monitoring-in"
MONITORS_GROUP = "obm-monitors"
TARGET = "obm-host"  # what the forwards translate to and the inbound rule names
PUBLIC = "obm-public"
OBJECTS_GUI = "SmartConsole › Objects › Object Explorer (Ctrl+E) › New"
ACCESS_GUI = "SmartConsole › Security Policies › Access Control › Policy"
NAT_GUI = "SmartConsole › Security Policies › Access Control › NAT"


class CheckPointRenderer(Renderer):
    slug = "checkpoint"
    name = "Check Point (SmartConsole / mgmt_cli)"
    versions = "Check Point R81, R81.10, R81.20, R82 with a Security Management Server"
    # 2: markers in comments, networks named by network, the monitoring computers always in a
    # group.
    renderer_version = 2
    markers_since = 2
    plan_gui_path = "Expert mode on the Security Management Server (mgmt_cli)"
    plan_language = "bash"
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
        items = _items(policy, site)

        steps = [
            Step(
                title="Open a management API session and create the objects",
                gui_path=f"{OBJECTS_GUI} › Network / Host / Services › TCP, UDP",
                config="\n".join([*_SESSION_START, *_config(items, "objects")]) + "\n",
                config_language="bash",
                reason=(
                    "Run the commands in Expert mode on the Security Management Server, all in "
                    "one session (`-s id.txt`), so they are published together. Set GW to the "
                    "name of your gateway object as SmartConsole shows it, and PACKAGE and LAYER "
                    "to your policy package and its access layer if they are not the defaults. "
                    "TCP and UDP services are separate object types, one protocol each. Each "
                    "object's and rule's comments hold its marker (obm:…), which later change "
                    "and removal instructions look for."
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
                config="\n".join(_config(items, "hide")) + "\n",
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
                config="\n".join(_config(items, "out")) + "\n",
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
                    config="\n".join(_config(items, "forwards")) + "\n",
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
                    config="\n".join(_config(items, "in")) + "\n",
                    config_language="bash",
                    reason=(
                        "The gateway translates the destination on the client side, so the rule "
                        f"names the backup host's real address {inbound[0].required_hosts.start} "
                        "(obm-host), "
                        "not the public address. "
                        + (
                            only_monitoring_sources(inbound[0])
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
                config="\n".join(_SESSION_END) + "\n",
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

    def managed_items(
        self, policy: Policy, site: SiteDescription, profile: ProfileSpec
    ) -> tuple[ManagedItem, ...]:
        return tuple(item for _, item in _items(policy, site))

    def plan_section(self, section: str, body: str) -> str:
        # One session per step, published and installed, so the gateway passes through each
        # safe state of the plan in turn.
        return "\n".join([*_SESSION_START, body.rstrip("\n"), *_SESSION_END]) + "\n"

    def plan_verify(self, items: Iterable[ManagedItem], *, present: bool) -> str:
        lines = []
        for item in items:
            if item.key in _RULES:
                lines.append(
                    f'mgmt_cli show access-rulebase name "$LAYER" filter "{_RULES[item.key]}" '
                    f"{SESSION}"
                )
            elif item.key.startswith("dnat-"):
                name = item.key.replace("dnat-", "obm-fwd-", 1)
                lines.append(
                    f'mgmt_cli show nat-rulebase package "$PACKAGE" filter "{name}" {SESSION}'
                )
            else:
                lines.append(f'mgmt_cli show objects filter "obm-{item.key}" {SESSION}')
        expected = "each finds its object or rule" if present else "each finds nothing"
        return "\n".join(lines) + f"\n# {expected}; the comments hold the markers"


_RULES = {"rule-out": OUTBOUND_RULE, "rule-in": INBOUND_RULE}
_SESSION_START = [
    "# Expert mode on the Security Management Server.",
    'GW="YOUR-GATEWAY"  # the gateway object\'s name in SmartConsole',
    'PACKAGE="Standard"',
    'LAYER="Network"',
    "mgmt_cli login -r true > id.txt",
]
_SESSION_END = [
    f"mgmt_cli publish {SESSION}",
    'mgmt_cli install-policy policy-package "$PACKAGE" access true '
    f'threat-prevention false targets.1 "$GW" {SESSION}',
    f"mgmt_cli logout {SESSION}",
]


def _mgmt(*parts: str) -> str:
    return "mgmt_cli " + " ".join(p for p in parts if p) + f" {SESSION}"


def _list(field: str, names: list[str], *, indexed: bool = False) -> str:
    """``field "a"`` for one value, ``field.1 "a" field.2 "b"`` for several; nothing for none."""
    if len(names) == 1 and not indexed:
        return f'{field} "{names[0]}"'
    return " ".join(f'{field}.{n} "{name}"' for n, name in enumerate(names, start=1))


_HIDE = 'nat-settings.auto-rule true nat-settings.method "hide" nat-settings.hide-behind "gateway"'


def _hosts_type(hosts: HostMatch) -> str:
    return {"address": "host", "range": "address-range", "network": "network"}[hosts.kind]


def _proto(rule: Rule) -> int:
    return {"tcp": 6, "udp": 17}[rule.required_protocol]


def _items(policy: Policy, site: SiteDescription) -> list[tuple[str, ManagedItem]]:
    """Every object and rule the instructions create, in the order of the complete
    instructions, each with the step that creates it ("objects", "hide", "out", "forwards",
    "in")."""
    outbound = policy.of_kind(RuleKind.ALLOW_OUTBOUND)
    forwards = policy.of_kind(RuleKind.DESTINATION_NAT)
    inbound = policy.of_kind(RuleKind.ALLOW_INBOUND)
    items: list[tuple[str, ManagedItem]] = []

    def add(step, key, title, exposure, create, update, remove, rules, uses=(), gui_path=""):
        comments = f'comments "{marker(site, key)}"'
        items.append(
            (
                step,
                ManagedItem(
                    key=key,
                    marker=marker(site, key),
                    title=title,
                    exposure=exposure,
                    create=_mgmt(create, comments) + "\n",
                    remove=_mgmt(remove) + "\n",
                    # `set` overwrites the fields it names (a list as a whole) and leaves the
                    # rest, a rule's place included.
                    update=_mgmt(update, comments) + "\n",
                    uses=tuple(uses),
                    gui_path=gui_path,
                    guide_rules=guide_rules_of(rules),
                ),
            )
        )

    def obj(step, kind, name, fields, title, rules, uses=()):
        add(
            step,
            _key(name),
            title,
            Exposure.SUPPORT,
            f'add {kind} name "{name}" {fields}',
            f'set {kind} name "{name}" {fields}',
            f'delete {kind} name "{name}"',
            rules,
            uses,
            OBJECTS_GUI.removesuffix(" › New"),
        )

    hosts = outbound[0].required_hosts
    host_name = hosts_object_name(hosts)
    dc_names = network_names("obm-dc", outbound[0].datacenter)
    for name, network in zip(dc_names, outbound[0].datacenter, strict=True):
        kind, fields = _network_fields(network)
        obj("objects", kind, name, fields, f"Datacenter network {name}", outbound)
    services = {port_object_name(r): r for r in outbound + forwards + inbound}
    for name, rule in services.items():
        obj(
            "objects",
            f"service-{rule.protocol}",
            name,
            f"port {rule.port}",
            f"Service {name} ({rule.port_spec})",
            [rule],
        )
    target_key = _key(host_name)
    sources = inbound[0].allowed_sources if inbound else ()
    mon_names = source_object_names("obm-mon", inbound[0]) if inbound else []
    public = inbound[0].public_address if inbound else None
    if inbound:
        if hosts.kind != "address":
            target = inbound[0].required_hosts.start
            obj("objects", "host", TARGET, f'ip-address "{target}"', f"Host {TARGET}", inbound)
            target_key = _key(TARGET)
        for name, network in zip(mon_names, sources, strict=True):
            kind, fields = _network_fields(network)
            what = (
                CHECK_SOURCE_LABEL
                if is_check_source(network, inbound[0])
                else "Monitoring computers"
            )
            obj("objects", kind, name, fields, f"{what} {name}", inbound)
        if sources:
            # The rules name the group (a NAT rule takes one original source), so a source that
            # comes or goes changes its members only.
            obj(
                "objects",
                "group",
                MONITORS_GROUP,
                _list("members", mon_names, indexed=True),
                f"Group {MONITORS_GROUP} ({sources_label(inbound[0])})",
                inbound,
                [_key(n) for n in mon_names],
            )
        if public is not None:
            obj(
                "objects",
                "host",
                PUBLIC,
                # The gateway may have the same address: accept the warning.
                f'ip-address "{public}" ignore-warnings true',
                f"Host {PUBLIC} (the public address)",
                inbound,
            )
    kind = _hosts_type(hosts)
    obj(
        "hide",
        kind,
        host_name,
        f"{_hosts_fields(hosts)} {_HIDE}",
        f"{kind} {host_name} with automatic Hide NAT behind the gateway",
        outbound + policy.of_kind(RuleKind.SOURCE_NAT),
    )

    def add_rule(step, key, title, exposure, base, fields, rules, uses, gui_path):
        layer, name = base
        add(
            step,
            key,
            title,
            exposure,
            f"add {layer} position top {name} {fields}",
            f"set {layer} {name} {fields}",
            f"delete {layer} {name}",
            rules,
            uses,
            gui_path,
        )

    service_keys = [_key(port_object_name(r)) for r in outbound]
    add_rule(
        "out",
        "rule-out",
        f"Access rule {OUTBOUND_RULE} (backup host -> datacenter)",
        Exposure.OUTBOUND,
        ('access-rule layer "$LAYER"', f'name "{OUTBOUND_RULE}"'),
        " ".join(
            [
                _list("source", [host_name]),
                _list("destination", dc_names),
                _list("service", [port_object_name(r) for r in outbound]),
                'action "Accept" track.type "Log"',
            ]
        ),
        outbound,
        [_key(host_name), *(_key(n) for n in dc_names), *service_keys],
        ACCESS_GUI,
    )
    monitors = [MONITORS_GROUP] if sources else ["Any"]
    monitor_keys = [_key(MONITORS_GROUP)] if sources else []
    for r in forwards:
        add_rule(
            "forwards",
            rule_key(r),
            f"NAT rule obm-fwd-{r.protocol}-{r.port} ({r.port_spec} to {TARGET})",
            Exposure.INBOUND,
            ('nat-rule package "$PACKAGE"', f'name "obm-fwd-{r.protocol}-{r.port}"'),
            " ".join(
                [
                    "method static",
                    _list("original-source", monitors),
                    "original-destination " + (f'"{PUBLIC}"' if public else '"$GW"'),
                    f'original-service "{port_object_name(r)}"',
                    f'translated-destination "{TARGET}"',
                ]
            ),
            [r],
            [*monitor_keys, *([_key(PUBLIC)] if public else []), target_key],
            NAT_GUI,
        )
    if inbound:
        add_rule(
            "in",
            "rule-in",
            f"Access rule {INBOUND_RULE} (" + connecting(inbound[0]) + f" -> {TARGET})",
            Exposure.INBOUND,
            ('access-rule layer "$LAYER"', f'name "{INBOUND_RULE}"'),
            " ".join(
                [
                    _list("source", monitors),
                    _list("destination", [TARGET]),
                    _list("service", [port_object_name(r) for r in inbound]),
                    'action "Accept" track.type "Log"',
                ]
            ),
            inbound,
            [*monitor_keys, target_key, *(_key(port_object_name(r)) for r in inbound)],
            ACCESS_GUI,
        )
    return items


def _key(name: str) -> str:
    """An object's or rule's item key: its name without ``obm-``."""
    return name.removeprefix("obm-")


def _config(items: list[tuple[str, ManagedItem]], step: str) -> list[str]:
    return [item.create.rstrip("\n") for name, item in items if name == step]


def _network_fields(network: IPv4Network) -> tuple[str, str]:
    """The object type and fields for one network: a host for a /32."""
    if network.prefixlen == 32:
        return "host", f'ip-address "{network.network_address}"'
    return "network", f'subnet "{network.network_address}" mask-length {network.prefixlen}'


def _hosts_fields(hosts: HostMatch) -> str:
    if hosts.kind == "range":
        return f'ip-address-first "{hosts.start}" ip-address-last "{hosts.end}"'
    if hosts.kind == "network":
        assert hosts.network is not None  # HostMatch.whole sets it for kind "network"
        return _network_fields(hosts.network)[1]
    return f'ip-address "{hosts.start}"'
