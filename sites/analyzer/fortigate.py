"""FortiGate (FortiOS 6.4/7.x) ``show full-configuration`` or a backup file, mapped onto the
netfilter model so the one evaluator answers for it.

FortiOS translates a virtual IP's destination before the policy lookup (prerouting), then the
policies run top-down in the order of the configuration (not by ID) with an implicit deny at the
end; a policy matches VIP traffic only when the VIP is its destination. ``set nat enable``
translates the source to the egress interface's address: the postrouting chain mirrors the accept
policies in order (with NAT: masquerade; without: no translation). The firewall is stateful.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, summarize_address_range

from sites.analyzer.limits import config_lines
from sites.analyzer.model import (
    ADDRESS,
    DSTNAT_PRIORITY,
    GROUP,
    SERVICE,
    SRCNAT_PRIORITY,
    Action,
    ActionKind,
    Addresses,
    Chain,
    Interfaces,
    Match,
    NamedObject,
    Ports,
    Rule,
    Ruleset,
    Table,
    Unrecognised,
    address_value,
)

_SECTIONS = (
    "system zone",
    "firewall address",
    "firewall addrgrp",
    "firewall service custom",
    "firewall service group",
    "firewall vip",
    "firewall vipgrp",
    "firewall policy",
)
_ALL = frozenset({"prerouting", "forward", "postrouting"})
_IMPLICIT_DENY = "(FortiGate: the implicit deny, policy 0, after the last policy)"
_STATEFUL = "(FortiGate: the return traffic of an allowed session is always allowed)"


class _Unknown(ValueError):
    """A part of an entry not understood: the message says which."""


@dataclass
class _Edit:
    section: str
    name: str
    line: int
    text: str
    settings: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, tuple[int, str]] = field(default_factory=dict)


@dataclass
class _Service:
    protocols: frozenset[str] | None  # None: every protocol ("ALL")
    ports: dict[str, list[tuple[int, int]]]  # per protocol; empty list: every port


@dataclass
class _Parser:
    lines: list[str]
    ruleset: Ruleset = field(default_factory=lambda: Ruleset("fortigate"))
    edits: dict[str, list[_Edit]] = field(default_factory=dict)
    central_nat: list[tuple[int, str]] = field(default_factory=list)
    keys: int = 0
    by_name: dict[str, dict[str, _Edit]] = field(default_factory=dict)

    def unrecognised(self, number: int, text: str, reason: str, hooks: frozenset[str]) -> None:
        self.ruleset.unrecognised.append(Unrecognised(number, text, reason, hooks))

    def read(self) -> None:
        stack: list[str] = []
        current: _Edit | None = None
        depth_of_edit = 0
        for number, raw in enumerate(self.lines, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            try:
                words = shlex.split(text)
            except ValueError:
                self.unrecognised(number, text, "unbalanced quotes", frozenset())
                continue
            head = words[0]
            if words == ["set", "central-nat", "enable"]:
                self.central_nat.append((number, text))
            if head == "config":
                stack.append(" ".join(words[1:]))
            elif head == "end" and stack:
                stack.pop()
                if len(stack) < depth_of_edit:
                    current = None
            elif head == "edit" and len(words) == 2 and stack and stack[-1] in _SECTIONS:
                if len(stack) == 1:
                    current = _Edit(stack[-1], words[1], number, text)
                    depth_of_edit = len(stack)
                    self.edits.setdefault(stack[-1], []).append(current)
            elif head == "next" and len(stack) == depth_of_edit:
                current = None
            elif head == "set" and len(words) > 1 and current and len(stack) == depth_of_edit:
                current.settings[words[1]] = words[2:]
                current.lines[words[1]] = (number, text)

    # -- objects ---------------------------------------------------------------------------

    def named(self, section: str) -> dict[str, _Edit]:
        """The section's entries by name (read once the whole file is read; kept, so resolving
        every object of a big configuration stays linear)."""
        if section not in self.by_name:
            self.by_name[section] = {e.name: e for e in self.edits.get(section, [])}
        return self.by_name[section]

    def addresses(self, names: list[str], seen: frozenset[str] = frozenset()) -> list[IPv4Network]:
        found: list[IPv4Network] = []
        addresses, groups = self.named("firewall address"), self.named("firewall addrgrp")
        for name in names:
            if name == "all":
                found.append(IPv4Network("0.0.0.0/0"))
            elif name == "none":
                continue
            elif name in addresses:
                found.extend(_address(addresses[name]))
            elif name in groups and name not in seen:
                members = groups[name].settings.get("member", [])
                found.extend(self.addresses(members, seen | {name}))
            else:
                raise _Unknown(f"the address {name} is not defined in the configuration")
        return found

    def known_addresses(self, policy: _Edit, names: list[str]) -> tuple[Addresses | None, str]:
        """The addresses, or ``None`` and why when one of them is not understood (the rest of
        the policy still counts)."""
        try:
            return Addresses(tuple(self.addresses(names))), ""
        except (_Unknown, ValueError, LookupError) as error:
            self.unrecognised(policy.line, policy.text, str(error), frozenset({"forward"}))
            return None, str(error)

    def service(self, names: list[str], seen: frozenset[str] = frozenset()) -> list[_Service]:
        custom, groups = self.named("firewall service custom"), self.named("firewall service group")
        found: list[_Service] = []
        for name in names:
            if name == "ALL" and name not in custom:
                found.append(_Service(None, {}))
            elif name in custom:
                found.append(_custom_service(custom[name]))
            elif name in groups and name not in seen:
                found.extend(self.service(groups[name].settings.get("member", []), seen | {name}))
            else:
                raise _Unknown(f"the service {name} is not defined in the configuration")
        return found

    def interfaces(self, names: list[str]) -> Interfaces | None:
        if not names or "any" in names:
            return None
        zones = self.named("system zone")
        expanded = [
            m
            for n in names
            for m in (zones[n].settings.get("interface", [n]) if n in zones else [n])
        ]
        return Interfaces(tuple(expanded + names))

    def objects(self) -> list[NamedObject]:
        """The address objects, address groups and custom services whose value is understood
        (``firewall address``, ``firewall addrgrp``, ``firewall service custom``)."""
        found: list[NamedObject] = []
        for section, kind in (("firewall address", ADDRESS), ("firewall addrgrp", GROUP)):
            for edit in self.edits.get(section, []):
                try:
                    networks = self.addresses([edit.name])
                except (_Unknown, ValueError, LookupError):
                    continue
                found.append(
                    NamedObject(kind, edit.name, edit.line, edit.text, address_value(networks))
                )
        for edit in self.edits.get("firewall service custom", []):
            try:
                service = _custom_service(edit)
            except (_Unknown, ValueError, LookupError):
                continue
            triples = frozenset(
                (protocol, low, high)
                for protocol, ranges in service.ports.items()
                for low, high in ranges
            )
            if service.protocols is not None:
                found.append(
                    NamedObject(SERVICE, edit.name, edit.line, edit.text, services=triples)
                )
        return found

    # -- building --------------------------------------------------------------------------

    def rule(self, number: int, text: str, match: Match, action: Action) -> Rule:
        self.keys += 1
        return Rule(self.keys, number, text, match, action)

    def build(self) -> Ruleset:
        table = Table("ip", "fortigate")
        prerouting = Chain("prerouting", hook="prerouting", type="nat", priority=DSTNAT_PRIORITY)
        forward = Chain("forward", hook="forward", policy="drop")
        postrouting = Chain("postrouting", hook="postrouting", type="nat", priority=SRCNAT_PRIORITY)
        for chain in (prerouting, forward, postrouting):
            table.chains[chain.name] = chain
        vips = self.named("firewall vip")
        for vip in vips.values():
            try:
                prerouting.rules.append(self.vip_rule(vip))
            except (_Unknown, ValueError, LookupError) as error:
                prerouting.rules.append(self.unknown_rule(vip.line, vip.text, error))
        for number, text in self.central_nat:
            central = _Unknown("central NAT (central SNAT and DNAT tables) is not analysed")
            postrouting.rules.append(self.unknown_rule(number, text, central))
        stateful = Match(ct_state=frozenset({"established", "related"}))
        forward.rules.append(self.rule(0, _STATEFUL, stateful, Action(ActionKind.ACCEPT)))
        for policy in self.edits.get("firewall policy", []):
            if policy.settings.get("status") == ["disable"]:
                continue
            try:
                for match in self.policy_matches(policy, vips):
                    self.add_policy(policy, match, forward, postrouting)
            except (_Unknown, ValueError, LookupError) as error:
                forward.rules.append(self.unknown_rule(policy.line, policy.text, error))
        forward.rules.append(self.rule(0, _IMPLICIT_DENY, Match(), Action(ActionKind.DROP)))
        self.ruleset.tables.append(table)
        return self.ruleset

    def unknown_rule(self, number: int, text: str, error: Exception) -> Rule:
        reason = str(error) or "not understood"
        self.unrecognised(number, text, reason, _ALL)
        return self.rule(
            number, text, Match(unknown=reason), Action(ActionKind.UNKNOWN, detail=reason)
        )

    def vip_rule(self, vip: _Edit) -> Rule:
        settings = vip.settings
        if settings.get("type", ["static-nat"]) != ["static-nat"]:
            raise _Unknown(f"VIP type {settings['type'][0]} is not analysed")
        external = IPv4Address(settings["extip"][0].split("-")[0])
        mapped = IPv4Address(settings["mappedip"][0].split("-")[0])
        match = Match(
            in_interface=self.interfaces(settings.get("extintf", ["any"])),
            destination=Addresses((IPv4Network(external),)),
        )
        port = None
        if settings.get("portforward") == ["enable"]:
            protocol = settings.get("protocol", ["tcp"])[0]
            if protocol not in ("tcp", "udp"):
                raise _Unknown(f"a VIP port forward for {protocol} is not analysed")
            low, high = _range(settings["extport"][0])
            mapped_low, _ = _range(settings.get("mappedport", settings["extport"])[0])
            if high != low:
                raise _Unknown("a VIP port range is not analysed")
            port = mapped_low
            match = Match(
                **{
                    **match.__dict__,
                    "protocols": frozenset({protocol}),
                    "destination_ports": Ports(((low, high),)),
                }
            )
        number, text = vip.line, vip.text
        return self.rule(number, text, match, Action(ActionKind.DNAT, address=mapped, port=port))

    def policy_matches(self, policy: _Edit, vips: dict[str, _Edit]) -> list[Match]:
        settings = policy.settings
        if settings.get("schedule", ["always"]) != ["always"]:
            raise _Unknown(f"the schedule {settings['schedule'][0]} is not analysed")
        if settings.get("ippool") == ["enable"]:
            raise _Unknown("NAT to an IP pool is not analysed")
        for negation in ("srcaddr-negate", "dstaddr-negate", "service-negate"):
            if settings.get(negation) == ["enable"]:
                raise _Unknown(f"{negation} is not analysed")
        destinations = settings.get("dstaddr", [])
        vip_names = [d for d in destinations if d in vips]
        plain = [d for d in destinations if d not in vips]
        source, unknown_source = self.known_addresses(policy, settings.get("srcaddr", []))
        base = Match(
            in_interface=self.interfaces(settings.get("srcintf", [])),
            out_interface=self.interfaces(settings.get("dstintf", [])),
            source=source,
            unknown=unknown_source,
        )
        targets: list[Match] = []
        if plain:
            destination, unknown = self.known_addresses(policy, plain)
            targets.append(
                Match(
                    **{
                        **base.__dict__,
                        "destination": destination,
                        "ct_status": frozenset({"dnat"}),
                        "ct_status_negated": True,
                        "unknown": "; ".join(filter(None, (base.unknown, unknown))),
                    }
                )
            )
        if vip_names:
            mapped = [IPv4Network(vips[v].settings["mappedip"][0].split("-")[0]) for v in vip_names]
            targets.append(
                Match(
                    **{
                        **base.__dict__,
                        "destination": Addresses(tuple(mapped)),
                        "ct_status": frozenset({"dnat"}),
                    }
                )
            )
        matches = []
        for target in targets:
            for service in self.service(settings.get("service", [])):
                if service.protocols is None:
                    matches.append(target)
                    continue
                for protocol in sorted(service.protocols):
                    ranges = service.ports.get(protocol, [])
                    ports = Ports(tuple(ranges)) if ranges else None
                    matches.append(
                        Match(
                            **{
                                **target.__dict__,
                                "protocols": frozenset({protocol}),
                                "destination_ports": ports,
                            }
                        )
                    )
        return matches

    def add_policy(self, policy: _Edit, match: Match, forward: Chain, postrouting: Chain) -> None:
        action = policy.settings.get("action", ["deny"])[0]
        text, number = policy.text, policy.line
        if action == "accept":
            forward.rules.append(self.rule(number, text, match, Action(ActionKind.ACCEPT)))
            nat = policy.settings.get("nat") == ["enable"]
            nat_number, nat_text = policy.lines.get("nat", (number, text))
            kind = ActionKind.MASQUERADE if nat else ActionKind.ACCEPT
            outbound = Match(**{**match.__dict__, "in_interface": None})
            postrouting.rules.append(self.rule(nat_number, nat_text, outbound, Action(kind)))
        elif action == "deny":
            forward.rules.append(self.rule(number, text, match, Action(ActionKind.DROP)))
        else:
            raise _Unknown(f"the action {action} is not analysed")


def _address(edit: _Edit) -> list[IPv4Network]:
    settings = edit.settings
    kind = settings.get("type", ["ipmask"])[0]
    if kind == "ipmask":
        subnet = settings.get("subnet", ["0.0.0.0", "0.0.0.0"])
        return [IPv4Network(f"{subnet[0]}/{subnet[1]}", strict=False)]
    if kind == "iprange":
        start, end = IPv4Address(settings["start-ip"][0]), IPv4Address(settings["end-ip"][0])
        return list(summarize_address_range(start, end))
    raise _Unknown(f"the address {edit.name} of type {kind} is not analysed")


def _custom_service(edit: _Edit) -> _Service:
    settings = edit.settings
    protocol = settings.get("protocol", ["TCP/UDP/SCTP"])[0]
    if protocol == "IP" and settings.get("protocol-number", ["0"]) == ["0"]:
        return _Service(None, {})
    if protocol != "TCP/UDP/SCTP":
        raise _Unknown(f"the service {edit.name} ({protocol}) is not analysed")
    ports: dict[str, list[tuple[int, int]]] = {}
    for name in ("tcp", "udp"):
        for item in settings.get(f"{name}-portrange", []):
            destination, _, source = item.partition(":")
            if source and _range(source) != (1, 65535):
                raise _Unknown(f"the service {edit.name} has source ports")
            ports.setdefault(name, []).append(_range(destination))
    if not ports:
        raise _Unknown(f"the service {edit.name} has no TCP or UDP ports")
    return _Service(frozenset(ports), ports)


def _range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def parse_fortigate(data: str | bytes) -> Ruleset:
    """The ruleset of a FortiGate ``show full-configuration`` or backup; raises ``ConfigError``
    for input the limits refuse."""
    parser = _Parser(config_lines(data))
    parser.read()
    ruleset = parser.build()
    ruleset.objects = parser.objects()
    return ruleset
