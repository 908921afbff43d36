"""The policy engine applies each guide rule and raises each warning (DESIGN.md rules 1–6)."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv4Network

from sites.description import GUIDE_PROFILE, PortSpec, ProfileSpec, SiteDescription
from sites.policy import (
    GuideRule,
    HostMatch,
    Policy,
    RuleKind,
    WarningCode,
    derive_rules,
    inbound_ports,
)

LAN = IPv4Network("192.168.1.0/24")
HOST = IPv4Address("192.168.1.10")
DATACENTER = (IPv4Network("203.0.113.0/24"),)
MONITOR = IPv4Network("198.51.100.7/32")
PUBLIC = IPv4Address("192.0.2.1")

BASE = {
    "name": "Test site",
    "vendor": "generic",
    "lan_network": "192.168.1.0/24",
    "lan_gateway": "192.168.1.1",
    "host_addressing": "static",
    "host_address": "192.168.1.10",
}
MONITORING = {
    "monitoring_enabled": True,
    "monitoring_sources": ["198.51.100.7/32"],
    "public_address": "192.0.2.1",
}
MULTI_HOMED = {
    "host_os": "windows",
    "multi_homed": True,
    "firewall_interface": "Ethernet",
    "host_interfaces": [
        {
            "name": "Ethernet",
            "index": 12,
            "address": "192.168.1.10",
            "network": "192.168.1.0/24",
            "gateway": "192.168.1.1",
        },
        {
            "name": "Ethernet 2",
            "index": 15,
            "address": "192.168.2.10",
            "network": "192.168.2.0/24",
            "gateway": "192.168.2.1",
        },
    ],
}


def site(**changes) -> SiteDescription:
    data = {**BASE, **changes}
    return SiteDescription.from_dict({k: v for k, v in data.items() if v is not None})


def policy(profile: ProfileSpec = GUIDE_PROFILE, **changes) -> Policy:
    return derive_rules(site(**changes), profile)


def codes(p: Policy) -> set[WarningCode]:
    return {w.code for w in p.warnings}


def ports(rules) -> list[tuple[str, int]]:
    return [(r.protocol, r.port) for r in rules]


# Rule 1: outbound TCP 4401, no inbound


def test_rule_1_outbound_4401_from_host_to_datacenter():
    (rule,) = policy().of_kind(RuleKind.ALLOW_OUTBOUND)
    assert (rule.protocol, rule.port) == ("tcp", 4401)
    assert rule.hosts == HostMatch.address(HOST)
    assert rule.datacenter == DATACENTER
    assert rule.reason.rule is GuideRule.BACKUP_OUTBOUND
    assert GuideRule.SOURCE_RESTRICTION in rule.reason.guide_rules


def test_without_monitoring_nothing_is_opened_inbound():
    p = policy()
    assert not p.of_kind(
        RuleKind.DESTINATION_NAT, RuleKind.ALLOW_INBOUND, RuleKind.HOST_FIREWALL_INBOUND
    )
    assert [r.kind for r in p.rules] == [RuleKind.ALLOW_OUTBOUND, RuleKind.SOURCE_NAT]


# Rule 2: transparency


def test_rule_2_source_nat_for_the_backup_traffic():
    (rule,) = policy().of_kind(RuleKind.SOURCE_NAT)
    assert rule.reason.rule is GuideRule.TRANSPARENCY
    assert (rule.protocol, rule.port, rule.hosts, rule.datacenter) == (
        "tcp",
        4401,
        HostMatch.address(HOST),
        DATACENTER,
    )


# Rule 3: restriction


def test_rule_3_static_source_is_the_host():
    (rule,) = policy().of_kind(RuleKind.ALLOW_OUTBOUND)
    assert rule.hosts.kind == "address"
    assert str(rule.hosts) == "192.168.1.10"


def test_rule_3_range_source_is_the_range():
    p = policy(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    (rule,) = p.of_kind(RuleKind.ALLOW_OUTBOUND)
    assert rule.hosts == HostMatch.range(HOST, IPv4Address("192.168.1.20"))
    assert str(rule.hosts) == "192.168.1.10-192.168.1.20"
    # The CIDR cover is exact: no address outside the range, none missing.
    cover = rule.hosts.networks()
    assert sum(n.num_addresses for n in cover) == 11
    assert [str(n) for n in cover] == [
        "192.168.1.10/31",
        "192.168.1.12/30",
        "192.168.1.16/30",
        "192.168.1.20/32",
    ]


def test_rule_3_dhcp_source_is_the_lan_and_suggests_a_reservation():
    p = policy(host_addressing="dhcp", host_address=None)
    for rule in p.of_kind(RuleKind.ALLOW_OUTBOUND, RuleKind.SOURCE_NAT):
        assert rule.hosts == HostMatch.whole(LAN)
        assert rule.hosts.networks() == (LAN,)
    (warning,) = p.warnings
    assert warning.code is WarningCode.DHCP_WITHOUT_RESERVATION
    assert "reservation" in warning.message
    assert warning.field == "host_addressing"


def test_dhcp_with_a_known_address_but_no_reservation_still_allows_the_lan():
    p = policy(host_addressing="dhcp")
    (rule,) = p.of_kind(RuleKind.ALLOW_OUTBOUND)
    assert rule.hosts == HostMatch.whole(LAN)
    assert WarningCode.DHCP_WITHOUT_RESERVATION in codes(p)


def test_dhcp_with_a_planned_reservation_names_the_reserved_address():
    p = policy(host_addressing="dhcp", dhcp_reservation_planned=True)
    (rule,) = p.of_kind(RuleKind.ALLOW_OUTBOUND)
    assert rule.hosts == HostMatch.address(HOST)
    assert not p.warnings


# Rule 4: remote monitoring


def test_rule_4_tcp_and_udp_4403_are_separate_rules_plus_4401():
    p = policy(**MONITORING)
    expected = [("tcp", 4403), ("udp", 4403), ("tcp", 4401)]
    assert ports(p.of_kind(RuleKind.DESTINATION_NAT)) == expected
    assert ports(p.of_kind(RuleKind.ALLOW_INBOUND)) == expected
    for rule in p.of_kind(RuleKind.DESTINATION_NAT, RuleKind.ALLOW_INBOUND):
        assert rule.reason.rule is GuideRule.REMOTE_MONITORING
        assert rule.hosts == HostMatch.address(HOST)  # forwarded to the private address
        assert rule.public_address == PUBLIC
        assert rule.allowed_sources == (MONITOR,)


def test_rule_4_inbound_4401_says_why():
    p = policy(**MONITORING)
    rule = [r for r in p.of_kind(RuleKind.DESTINATION_NAT) if r.port == 4401][0]
    assert "in addition" in rule.reason.detail


def test_inbound_ports_follow_the_profile():
    assert inbound_ports(GUIDE_PROFILE) == (
        PortSpec("tcp", 4403),
        PortSpec("udp", 4403),
        PortSpec("tcp", 4401),
    )


def test_monitoring_with_dhcp_forwards_to_the_reserved_address():
    p = policy(host_addressing="dhcp", dhcp_reservation_planned=True, **MONITORING)
    assert {r.hosts for r in p.of_kind(RuleKind.DESTINATION_NAT)} == {HostMatch.address(HOST)}


def test_monitoring_from_any_source_warns():
    p = policy(**{**MONITORING, "monitoring_sources": []})
    assert all(r.allowed_sources == () for r in p.of_kind(RuleKind.ALLOW_INBOUND))
    assert WarningCode.MONITORING_FROM_ANY in codes(p)


def test_dynamic_public_address_with_monitoring_warns():
    p = policy(**{**MONITORING, "public_address": None})
    assert all(r.public_address is None for r in p.of_kind(RuleKind.DESTINATION_NAT))
    assert WarningCode.DYNAMIC_PUBLIC_ADDRESS in codes(p)


def test_dynamic_public_address_without_monitoring_is_fine():
    assert not policy(public_address=None).warnings


# Rule 5: multi-homed host


def test_rule_5_routes_via_the_interface_facing_the_firewall():
    p = policy(**MONITORING, **MULTI_HOMED)
    routes = p.of_kind(RuleKind.STATIC_ROUTE)
    assert [r.route_destination for r in routes] == [MONITOR, DATACENTER[0]]
    for route in routes:
        assert route.next_hop == IPv4Address("192.168.1.1")
        assert (route.interface_index, route.interface_name) == (12, "Ethernet")
        assert route.reason.rule is GuideRule.MULTI_HOMED_ROUTE
    warning = [w for w in p.warnings if w.code is WarningCode.MULTI_HOMED_ONE_GATEWAY]
    assert warning and "one default gateway" in warning[0].message


def test_multi_homed_without_monitoring_routes_the_datacenter_only():
    routes = policy(**MULTI_HOMED).of_kind(RuleKind.STATIC_ROUTE)
    assert [r.route_destination for r in routes] == [DATACENTER[0]]


def test_multi_homed_with_monitoring_from_anywhere_explains_the_gateway():
    p = policy(**{**MONITORING, "monitoring_sources": []}, **MULTI_HOMED)
    (warning,) = [w for w in p.warnings if w.code is WarningCode.MULTI_HOMED_ONE_GATEWAY]
    assert "default gateway must be this firewall" in warning.message


def test_single_homed_host_gets_no_routes():
    assert not policy(**MONITORING, host_os="windows").of_kind(RuleKind.STATIC_ROUTE)


# Rule 6: Windows host firewall


def test_rule_6_windows_host_firewall_outbound():
    (rule,) = policy(host_os="windows").of_kind(RuleKind.HOST_FIREWALL_OUTBOUND)
    assert (rule.protocol, rule.port, rule.datacenter) == ("tcp", 4401, DATACENTER)
    assert rule.reason.rule is GuideRule.HOST_FIREWALL
    assert rule.kind.on_host


def test_rule_6_windows_host_firewall_inbound_with_monitoring():
    rules = policy(host_os="windows", **MONITORING).of_kind(RuleKind.HOST_FIREWALL_INBOUND)
    assert ports(rules) == [("tcp", 4403), ("udp", 4403), ("tcp", 4401)]
    assert all(r.allowed_sources == (MONITOR,) for r in rules)


def test_no_host_firewall_rules_for_other_systems():
    p = policy(host_os="linux", **MONITORING)
    assert not p.of_kind(RuleKind.HOST_FIREWALL_OUTBOUND, RuleKind.HOST_FIREWALL_INBOUND)


# Warnings and general properties


def test_lan_overlapping_the_datacenter_warns():
    p = policy(lan_network="203.0.113.0/25", lan_gateway="203.0.113.1", host_address="203.0.113.10")
    assert WarningCode.LAN_OVERLAPS_DATACENTER in codes(p)


def test_plain_static_site_has_no_warnings():
    assert policy().warnings == ()


def test_profile_is_data_not_code():
    other = ProfileSpec(
        name="Other backup",
        datacenter_networks=(IPv4Network("198.18.0.0/15"),),
        datacenter_fqdns=(),
        outbound_ports=(PortSpec("tcp", 443), PortSpec("tcp", 8443)),
        monitoring_ports=(PortSpec("udp", 9000),),
    )
    p = policy(other, **MONITORING)
    assert ports(p.of_kind(RuleKind.ALLOW_OUTBOUND)) == [("tcp", 443), ("tcp", 8443)]
    assert ports(p.of_kind(RuleKind.ALLOW_INBOUND)) == [("udp", 9000), ("tcp", 443), ("tcp", 8443)]
    assert p.of_kind(RuleKind.ALLOW_OUTBOUND)[0].datacenter == (IPv4Network("198.18.0.0/15"),)


def test_every_rule_has_a_reason():
    p = policy(**MONITORING, **MULTI_HOMED)
    for rule in p.rules:
        assert rule.reason.detail
        assert str(rule.reason).startswith("Guide rule")


def test_every_guide_rule_is_explained():
    assert [int(r) for r in GuideRule] == [1, 2, 3, 4, 5, 6]
    assert all(r.title and r.explanation for r in GuideRule)


def test_derivation_is_deterministic():
    s = site(**MONITORING, **MULTI_HOMED)
    assert derive_rules(s, GUIDE_PROFILE) == derive_rules(s, GUIDE_PROFILE)
    assert hash(derive_rules(s, GUIDE_PROFILE)) == hash(derive_rules(s, GUIDE_PROFILE))


# The portal's probes (#13, point 7): the check source is one more source where monitoring is
# restricted, and the policy carries both probe addresses for the verification steps.

CHECKER = IPv4Address("198.51.100.200")
SERVED = dataclasses.replace(
    GUIDE_PROFILE, probe_responder=IPv4Address("203.0.113.10"), probe_check_source=CHECKER
)


def test_restricted_monitoring_lets_the_portal_check_source_in_with_its_reason():
    p = policy(SERVED, **MONITORING)
    inbound = p.of_kind(RuleKind.DESTINATION_NAT, RuleKind.ALLOW_INBOUND)
    assert inbound
    for rule in inbound:
        assert rule.allowed_sources == (MONITOR, IPv4Network("198.51.100.200/32"))
        assert "198.51.100.200/32 is the portal's address" in rule.reason.detail
    assert WarningCode.PORTAL_CHECKS_ALLOWED in codes(p)
    assert p.probe_responder == IPv4Address("203.0.113.10")
    assert p.probe_check_source == CHECKER


def test_the_check_source_is_routed_and_let_through_the_host_firewall():
    p = policy(SERVED, **MONITORING, **MULTI_HOMED)
    routes = [r.route_destination for r in p.of_kind(RuleKind.STATIC_ROUTE)]
    assert IPv4Network("198.51.100.200/32") in routes
    route = next(
        r
        for r in p.of_kind(RuleKind.STATIC_ROUTE)
        if r.route_destination == IPv4Network("198.51.100.200/32")
    )
    assert "the portal's inbound checks" in route.reason.detail
    for rule in p.of_kind(RuleKind.HOST_FIREWALL_INBOUND):
        assert IPv4Network("198.51.100.200/32") in rule.allowed_sources


def test_no_check_source_where_any_address_may_connect_or_a_source_holds_it():
    anywhere = policy(SERVED, **{**MONITORING, "monitoring_sources": []})
    assert all(not r.allowed_sources for r in anywhere.of_kind(RuleKind.ALLOW_INBOUND))
    assert WarningCode.PORTAL_CHECKS_ALLOWED not in codes(anywhere)
    covered = policy(SERVED, **{**MONITORING, "monitoring_sources": ["198.51.100.0/24"]})
    for rule in covered.of_kind(RuleKind.ALLOW_INBOUND):
        assert rule.allowed_sources == (IPv4Network("198.51.100.0/24"),)
    assert WarningCode.PORTAL_CHECKS_ALLOWED not in codes(covered)


def test_without_a_known_check_source_the_rules_are_the_sites_own():
    p = policy(**MONITORING)
    assert all(r.allowed_sources == (MONITOR,) for r in p.of_kind(RuleKind.ALLOW_INBOUND))
    assert p.probe_responder is None and p.probe_check_source is None


def test_a_responder_outside_the_datacenter_warns_and_a_loopback_one_does_not():
    outside = dataclasses.replace(SERVED, probe_responder=IPv4Address("192.0.2.50"))
    assert WarningCode.RESPONDER_OUTSIDE_DATACENTER in codes(policy(outside))
    lab = dataclasses.replace(SERVED, probe_responder=IPv4Address("127.0.0.1"))
    assert WarningCode.RESPONDER_OUTSIDE_DATACENTER not in codes(policy(lab))
    assert WarningCode.RESPONDER_OUTSIDE_DATACENTER not in codes(policy(SERVED))


def test_the_probe_addresses_round_trip_through_the_profile_data():
    assert ProfileSpec.from_dict(SERVED.to_dict()) == SERVED
    assert "probe_responder" not in GUIDE_PROFILE.to_dict()  # unknown: as before, same hash
