"""The Cisco IOS renderer: wildcard masks, static NAT per protocol, public address in the ACL."""

from __future__ import annotations

import dataclasses
import re
from ipaddress import IPv4Network

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.policy import WarningCode, derive_rules
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
    return render_for("cisco-ios", **changes)


def config(**changes) -> str:
    return config_for("cisco-ios", **changes)


def lines(text: str, start: str) -> list[str]:
    return lines_starting(text, start, strip=True)


def test_access_lists_use_wildcard_masks_not_netmasks():
    text = config(**RANGE)
    assert "203.0.113.0 0.0.0.255" in text
    assert not re.search(r"\b255\.255\.", text)


def test_static_host_outbound_entry_and_nat_overload():
    result = rendered(
        inside_interface="GigabitEthernet0/0/1", outside_interface="GigabitEthernet0/0/0"
    )
    text = config_file(result)
    assert " 1 permit tcp host 192.168.1.10 203.0.113.0 0.0.0.255 eq 4401" in text
    assert (
        "interface GigabitEthernet0/0/1\n ip nat inside\ninterface GigabitEthernet0/0/0\n ip nat outside"
        in text
    )
    assert "ip nat inside source list OBM-NAT interface GigabitEthernet0/0/0 overload" in text
    assert step_titled(result, "Translate the backup connections").kind is StepKind.CHANGE


def test_never_binds_an_access_list_to_an_interface():
    """IOS access lists are stateless: binding a new one would drop all other traffic."""
    text = config(**MONITORING)
    assert "ip access-group" not in text
    check = rendered(**MONITORING).steps[0]
    assert check.kind is StepKind.CHECK
    assert check.verify.splitlines() == [
        "show ip interface GigabitEthernet0/1 | include access list",
        "show ip interface GigabitEthernet0/0 | include access list",
    ]


def test_static_nat_is_one_line_per_protocol():
    text = config(**MONITORING)
    assert lines(text, "ip nat inside source static") == [
        "ip nat inside source static tcp 192.168.1.10 4403 192.0.2.1 4403 extendable",
        "ip nat inside source static udp 192.168.1.10 4403 192.0.2.1 4403 extendable",
        "ip nat inside source static tcp 192.168.1.10 4401 192.0.2.1 4401 extendable",
    ]


def test_outside_acl_names_the_public_address_not_the_private_one():
    text = config(**MONITORING)
    outside = text.split("ip access-list extended OUTSIDE-IN\n", 1)[1].split("end", 1)[0]
    assert [line for line in outside.splitlines() if "remark" not in line] == [
        " 1 permit tcp host 198.51.100.7 host 192.0.2.1 eq 4403",
        " 2 permit udp host 198.51.100.7 host 192.0.2.1 eq 4403",
        " 3 permit tcp host 198.51.100.7 host 192.0.2.1 eq 4401",
    ]
    assert "192.168.1.10" not in outside


def test_several_sources_get_one_entry_each_with_wildcards():
    text = config(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.16/28"]})
    assert " 1 permit tcp host 198.51.100.7 host 192.0.2.1 eq 4403" in text
    assert " 2 permit tcp 198.51.100.16 0.0.0.15 host 192.0.2.1 eq 4403" in text
    assert " 6 permit tcp 198.51.100.16 0.0.0.15 host 192.0.2.1 eq 4401" in text


def test_dynamic_public_address_uses_the_interface_and_any():
    result = rendered(**{**MONITORING, "public_address": None})
    text = config_file(result)
    assert lines(text, "ip nat inside source static") == [
        "ip nat inside source static tcp 192.168.1.10 4403 interface GigabitEthernet0/0 4403 extendable",
        "ip nat inside source static udp 192.168.1.10 4403 interface GigabitEthernet0/0 4403 extendable",
        "ip nat inside source static tcp 192.168.1.10 4401 interface GigabitEthernet0/0 4401 extendable",
    ]
    assert " 1 permit tcp host 198.51.100.7 any eq 4403" in text


def test_range_becomes_the_exact_cidr_cover_and_warns():
    result = rendered(**RANGE)
    text = config_file(result)
    assert lines(text, "1 permit") + lines(text, "2 permit") + lines(text, "3 permit") + lines(
        text, "4 permit"
    ) == [
        "1 permit tcp 192.168.1.10 0.0.0.1 203.0.113.0 0.0.0.255 eq 4401",
        "2 permit tcp 192.168.1.12 0.0.0.3 203.0.113.0 0.0.0.255 eq 4401",
        "3 permit tcp 192.168.1.16 0.0.0.3 203.0.113.0 0.0.0.255 eq 4401",
        "4 permit tcp host 192.168.1.20 203.0.113.0 0.0.0.255 eq 4401",
    ]
    assert WarningCode.RANGE_UNSUPPORTED in {w.code for w in result.warnings}


@pytest.mark.parametrize(
    "changes", [{}, MONITORING, RANGE, DHCP, {**MONITORING, "public_address": None}]
)
def test_blocks_enter_and_leave_configuration_mode(changes):
    result = rendered(**changes)
    for s in result.steps:
        if s.config and s.title != "Save the configuration":
            assert s.config.startswith("configure terminal\n") and s.config.endswith("\nend")
    assert config_file(result).rstrip().endswith("write memory")
    assert "None" not in config_file(result)


def test_replies_of_the_forwarded_ports_count_down_from_9_on_the_inside_list():
    text = config(**MONITORING)
    assert lines(text, "9 permit") + lines(text, "8 permit") + lines(text, "7 permit") == [
        "9 permit tcp host 192.168.1.10 eq 4403 host 198.51.100.7 established",
        "8 permit udp host 192.168.1.10 eq 4403 host 198.51.100.7",
        "7 permit tcp host 192.168.1.10 eq 4401 host 198.51.100.7 established",
    ]


def test_every_entry_has_a_remark_with_its_marker_above_it():
    text = config(**MONITORING)
    rows = text.splitlines()
    for number, row in enumerate(rows):
        if re.match(r" \d+ permit", row):
            assert rows[number - 1].startswith(" remark obm:test-site:"), row


def test_plans_rewrite_an_entry_in_place_by_its_number_and_remove_by_number():
    site = make_site(vendor="cisco-ios", **MONITORING)
    moved = make_site(vendor="cisco-ios", **{**MONITORING, "host_address": "192.168.1.20"})
    renderer = [get_renderer("cisco-ios")]
    text = "".join(
        step.config
        for step in plan_change(site, GUIDE_PROFILE, moved, GUIDE_PROFILE, renderers=renderer)
        .documents[0]
        .steps
    )
    assert (
        " no 1\n no remark obm:test-site:out-tcp-4401-to-203.0.113.0-24 backup -> datacenter, "
        "TCP 4401\n remark obm:test-site:out-tcp-4401-to-203.0.113.0-24"
    ) in text
    assert " 1 permit tcp host 192.168.1.20 203.0.113.0 0.0.0.255 eq 4401" in text
    # the forwards go before the new ones come
    assert text.index("no ip nat inside source static tcp 192.168.1.10 4403") < text.index(
        "ip nat inside source static tcp 192.168.1.20 4403"
    )
    removal = plan_removal(site, GUIDE_PROFILE, renderers=renderer).documents[0].steps
    text = "".join(step.config for step in removal)
    assert "ip access-list extended OUTSIDE-IN\n no 1\n no remark obm:test-site:in-tcp-4403" in text
    assert text.index("no ip nat inside source list OBM-NAT") < text.index(
        "ip access-list extended OBM-NAT\n no 10"
    )
    assert "ip nat inside\n" not in text  # the interfaces keep their NAT roles


def test_entries_that_do_not_fit_below_10_ask_for_the_list_renumbered_from_100():
    wider = dataclasses.replace(
        GUIDE_PROFILE,
        datacenter_networks=(*GUIDE_PROFILE.datacenter_networks, IPv4Network("198.51.100.0/24")),
    )
    site = make_site(vendor="cisco-ios", **{**MONITORING, **RANGE, "host_address": "192.168.1.10"})
    result = get_renderer("cisco-ios").render(derive_rules(site, wider), site, wider)
    text = config_file(result)
    assert "ip access-list resequence NAME 100 10" in result.steps[0].reason
    assert "INSIDE-IN (on GigabitEthernet0/1)" in result.steps[0].reason
    assert "OUTSIDE-IN" not in result.steps[0].reason.split("first renumber")[1]
    numbers = [int(line.split()[0]) for line in lines(text, "") if re.match(r"\d+ permit", line)]
    inside = numbers[:8] + numbers[-3:]  # 4 range networks x 2 datacenters, then 3 replies
    assert inside == [1, 2, 3, 4, 5, 6, 7, 8, 99, 98, 97]
    assert len(set(inside)) == len(inside)
