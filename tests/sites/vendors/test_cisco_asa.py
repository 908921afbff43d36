"""The Cisco ASA renderer: object NAT, real addresses in the outside ACL, the inside ACL trap."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.policy import WarningCode
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    DHCP,
    MONITORING,
    RANGE,
    config_for,
    lines_starting,
    make_site,
    render_for,
    step_titled,
)


def rendered(**changes):
    return render_for("cisco-asa", **changes)


def config(**changes) -> str:
    return config_for("cisco-asa", **changes)


def lines(text: str, start: str) -> list[str]:
    return lines_starting(text, start, strip=True)


def test_static_pat_is_one_object_per_protocol_and_port():
    text = config(**MONITORING)
    assert lines(text, "nat (inside,outside) static") == [
        "nat (inside,outside) static interface service tcp 4403 4403",
        "nat (inside,outside) static interface service udp 4403 4403",
        "nat (inside,outside) static interface service tcp 4401 4401",
    ]
    objects = lines(text, "object network obm-host-")
    assert objects == [
        "object network obm-host-tcp-4403",
        "object network obm-host-udp-4403",
        "object network obm-host-tcp-4401",
    ]
    for name in objects:  # each object holds the host, its marker and exactly one NAT rule
        block = text.split(name + "\n", 1)[1].splitlines()
        assert block[0].strip() == "host 192.168.1.10"
        assert block[1].strip().startswith("description obm:test-site:dnat-")
        assert block[2].strip().startswith("nat (inside,outside) static")


def test_outside_acl_names_the_real_address_not_the_public_one():
    text = config(**MONITORING)
    permits = [line for line in lines(text, "access-list outside_access_in") if "permit" in line]
    # the forwards' objects hold the real address
    assert permits == [
        "access-list outside_access_in line 2 extended permit tcp object-group obm-monitoring object obm-host-tcp-4403 eq 4403",
        "access-list outside_access_in line 4 extended permit udp object-group obm-monitoring object obm-host-udp-4403 eq 4403",
        "access-list outside_access_in line 6 extended permit tcp object-group obm-monitoring object obm-host-tcp-4401 eq 4401",
    ]
    assert not any("192.0.2.1" in line for line in lines(text, "access-list"))
    assert "access-group outside_access_in in interface outside" in text
    assert "object network obm-monitoring-198.51.100.7-32\n host 198.51.100.7" in text
    assert "network-object object obm-monitoring-198.51.100.7-32" in text


def test_inside_acl_inserts_at_the_top_and_keeps_other_outbound_traffic():
    result = rendered()
    text = config_file(result)
    assert lines(text, "access-list inside_access_in line") == [
        "access-list inside_access_in line 1 remark obm:test-site:out-tcp-4401 obm-host -> obm-dc, TCP 4401",
        "access-list inside_access_in line 2 extended permit tcp object obm-host object-group obm-dc eq 4401",
    ]
    keep = step_titled(result, "Keep the rest of the outbound traffic")
    assert keep.kind is StepKind.CHANGE
    assert "Skip this step" in keep.reason
    # Only the backup host reaches the datacenter's backup port, even through the catch-all.
    assert keep.config.splitlines()[1:6] == [
        "access-list inside_access_in remark obm:test-site:deny-others-tcp-4401 other hosts -> datacenter, TCP 4401",
        "access-list inside_access_in extended deny tcp any object-group obm-dc eq 4401",
        "access-list inside_access_in remark Keep what the security levels allowed before",
        "access-list inside_access_in extended permit ip any any",
        "access-group inside_access_in in interface inside",
    ]
    # The catch-all is appended after the inserted permit, and only bound afterwards.
    assert (
        text.index("line 2 extended permit tcp")
        < text.index("permit ip any any")
        < text.index("access-group inside_access_in")
    )
    check = result.steps[0]
    assert check.kind is StepKind.CHECK and check.verify == "show running-config access-group"


def test_transparency_is_a_change_with_interface_pat_in_the_host_object():
    result = rendered()
    nat = step_titled(result, "Translate the backup connections")
    assert nat.kind is StepKind.CHANGE
    assert nat.config.splitlines()[1:3] == [
        "object network obm-host",
        " nat (inside,outside) dynamic interface",
    ]


def test_one_verify_step_without_monitoring():
    assert [s.kind for s in rendered().steps].count(StepKind.VERIFY) == 1


def test_range_is_a_native_range_object():
    result = rendered(**RANGE)
    text = config_file(result)
    assert "object network obm-hosts\n range 192.168.1.10 192.168.1.20" in text
    assert "permit tcp object obm-hosts object-group obm-dc eq 4401" in text
    assert WarningCode.RANGE_UNSUPPORTED not in {w.code for w in result.warnings}


def test_dhcp_uses_the_lan_subnet():
    result = rendered(**DHCP)
    text = config_file(result)
    assert "object network obm-lan\n subnet 192.168.1.0 255.255.255.0" in text
    assert "object obm-lan object-group obm-dc eq 4401" in text
    assert WarningCode.DHCP_WITHOUT_RESERVATION in {w.code for w in result.warnings}
    # packet-tracer needs one address: a LAN address that is not the firewall's
    assert (
        "packet-tracer input inside tcp 192.168.1.2 50000 203.0.113.1 4401"
        in result.steps[-1].verify
    )


def test_several_monitoring_sources_use_netmasks():
    text = config(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.16/28"]})
    assert "object network obm-monitoring-198.51.100.7-32\n host 198.51.100.7" in text
    assert (
        "object network obm-monitoring-198.51.100.16-28\n subnet 198.51.100.16 255.255.255.240"
        in text
    )


def test_dynamic_public_address_uses_the_interface_address():
    result = rendered(**{**MONITORING, "public_address": None})
    text = config_file(result)
    assert len(lines(text, "nat (inside,outside) static interface service")) == 3
    inbound_verify = result.steps[-1].verify
    assert "show ip address outside" in inbound_verify
    assert (
        "packet-tracer input outside udp 198.51.100.7 50000 OUTSIDE-ADDRESS 4403" in inbound_verify
    )
    assert WarningCode.DYNAMIC_PUBLIC_ADDRESS in {w.code for w in result.warnings}


def test_site_interface_names_are_used():
    result = rendered(**MONITORING, inside_interface="lan", outside_interface="wan")
    text = config_file(result)
    assert "nat (lan,wan) dynamic interface" in text
    assert "nat (lan,wan) static interface service tcp 4403 4403" in text
    assert "access-group lan_access_in in interface lan" in text
    assert "access-group wan_access_in in interface wan" in text
    assert WarningCode.INTERFACE_NAMES_ASSUMED not in {w.code for w in result.warnings}


def test_configuration_mode_is_entered_and_left_and_saved():
    result = rendered(**MONITORING)
    for s in result.steps:
        if s.config and s.title != "Save the configuration":
            assert s.config.startswith("configure terminal\n") and s.config.endswith("\nend")
    assert config_file(result).rstrip().endswith("write memory")


@pytest.mark.parametrize(
    "changes", [{}, MONITORING, RANGE, DHCP, {**MONITORING, "public_address": None}]
)
def test_no_placeholder_leaks_into_configuration(changes):
    text = config(**changes)
    assert "None" not in text and "{" not in text


def test_plans_remove_acl_entries_and_nat_before_the_objects_they_use():
    site = make_site(vendor="cisco-asa", **MONITORING)
    plan = plan_removal(site, GUIDE_PROFILE, renderers=[get_renderer("cisco-asa")])
    text = "".join(step.config for step in plan.documents[0].steps)
    acl = "no access-list outside_access_in extended permit tcp object-group obm-monitoring object obm-host-tcp-4403 eq 4403"
    assert text.index(acl) < text.index(
        " no nat (inside,outside) static interface service tcp 4403"
    )
    assert text.index(" no nat (inside,outside) static") < text.index(
        "no object network obm-host-tcp-4403"
    )
    assert text.index(acl) < text.index("no object-group network obm-monitoring")
    assert text.index(
        "no access-list inside_access_in extended deny tcp any object-group obm-dc"
    ) < (text.index(" no network-object object obm-dc-203.0.113.0-24"))
    assert text.index(" no network-object object obm-dc-203.0.113.0-24") < text.index(
        "no object-group network obm-dc\n"
    )
    assert text.index(" no nat (inside,outside) dynamic interface") < text.index(
        "no object network obm-host\n"
    )
    assert "permit ip any any" not in text  # the LAN's other traffic depends on it


def test_a_new_datacenter_network_joins_the_group_and_the_rules_stay():
    site = make_site(vendor="cisco-asa", **MONITORING)
    wider = dataclasses.replace(
        GUIDE_PROFILE,
        datacenter_networks=(*GUIDE_PROFILE.datacenter_networks, IPv4Network("198.51.100.0/24")),
    )
    plan = plan_change(site, GUIDE_PROFILE, site, wider, renderers=[get_renderer("cisco-asa")])
    text = "".join(step.config for step in plan.documents[0].steps)
    assert "access-list" not in text
    assert " network-object object obm-dc-198.51.100.0-24" in text
