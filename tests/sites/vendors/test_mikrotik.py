"""The MikroTik renderer: place-before, masquerade as a check, dst-nat per protocol."""

from __future__ import annotations

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change
from sites.policy import WarningCode
from sites.vendors import RENDERERS
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
)


def rendered(**changes):
    return render_for("mikrotik", **changes)


def config(**changes) -> str:
    return config_for("mikrotik", **changes)


TOP = "place-before=[:pick [/ip firewall filter find where chain=forward dynamic=no] 0]"


def test_datacenter_address_list_and_forward_accept_at_the_top():
    text = config()
    assert (
        'add list=obm-dc address=203.0.113.0/24 comment="obm:test-site:dc-203.0.113.0-24"' in text
    )
    accepts = lines_starting(text, "add chain=forward")
    assert accepts == [
        "add chain=forward action=accept connection-state=new protocol=tcp "
        "src-address=192.168.1.10 dst-address-list=obm-dc dst-port=4401 "
        f'comment="obm:test-site:out-tcp-4401" {TOP}'
    ]


def test_no_rule_is_placed_by_number():
    """Issue #13 point 15: place-before=0 fails where the dynamic FastTrack counter rule holds the
    top of the forward chain; rules go before the first static rule, found when pasted."""
    text = config(**MONITORING)
    assert "place-before=0" not in text and "print where chain=forward" not in text
    placed = [line for line in text.splitlines() if "place-before" in line]
    assert len(placed) == 5  # the established fallback, the outbound and three inbound accepts
    assert all(line.endswith(TOP) for line in placed)


def test_replies_rely_on_an_established_accept_that_is_checked_first():
    result = rendered()
    check = result.steps[0]
    assert check.kind is StepKind.CHECK and "established" in check.title
    assert check.verify == (
        '/ip firewall filter print where chain=forward and connection-state~"established"'
    )
    fallback = lines_starting(check.config, "# /ip firewall filter add ")
    assert fallback == [
        "# /ip firewall filter add chain=forward action=accept connection-state=established,related,untracked "
        f'comment="obm:test-site:established" {TOP}'
    ]
    # The accepts take new connections only, so FastTrack keeps carrying the rest.
    for line in lines_starting(config(**MONITORING), "add chain=forward"):
        assert "connection-state=new" in line


def test_our_placement_is_read_by_the_analyzer():
    """The analyzer puts a rule placed by ``[find …]`` where RouterOS would."""
    from sites.analyzer.mikrotik import parse_mikrotik

    export = (
        "/ip firewall filter\n"
        'add chain=forward action=drop comment="drop all"\n'
        'add chain=forward action=accept protocol=udp dst-port=53 comment="dns" '
        'place-before=[find where comment="drop all"]\n'
        f'add chain=forward action=accept protocol=tcp dst-port=4401 comment="ours" {TOP}\n'
    )
    rules = parse_mikrotik(export).table("ip", "filter").chains["forward"].rules
    assert [r.comment for r in rules] == ["ours", "dns", "drop all"]
    assert rules[0].match.unknown == ""  # nothing of the find is read as the rule's own


def test_masquerade_is_a_check_with_a_commented_fallback():
    result = rendered()
    check = next(s for s in result.steps if "masquerade" in s.title)
    assert check.kind is StepKind.CHECK
    assert check.verify == "/ip firewall nat print where chain=srcnat"
    assert all(line.startswith("#") for line in check.config.splitlines())
    assert "action=masquerade out-interface-list=WAN" in check.config
    assert "chain=srcnat" not in "\n".join(
        line for line in config_file(result).splitlines() if not line.startswith("#")
    )


def test_dst_nat_is_one_rule_per_protocol():
    text = config(**MONITORING)
    assert lines_starting(text, "add chain=dstnat") == [
        f"add chain=dstnat action=dst-nat in-interface-list=WAN dst-address=192.0.2.1 "
        f"protocol={p} dst-port={port} src-address-list=obm-monitoring to-addresses=192.168.1.10 "
        f'to-ports={port} comment="obm:test-site:dnat-{p}-{port}"'
        for p, port in (("tcp", 4403), ("udp", 4403), ("tcp", 4401))
    ]
    assert (
        'add list=obm-monitoring address=198.51.100.7 comment="obm:test-site:mon-198.51.100.7-32"'
        in text
    )


def test_inbound_accept_names_the_private_address_after_dstnat():
    text = config(**MONITORING)
    inbound = [line for line in lines_starting(text, "add chain=forward") if "dstnat" in line]
    assert len(inbound) == 3
    for line in inbound:
        assert "connection-nat-state=dstnat" in line and "dst-address=192.168.1.10" in line
        assert "192.0.2.1" not in line and line.endswith(TOP)
    assert {line.split("protocol=")[1].split()[0] for line in inbound} == {"tcp", "udp"}


def test_dynamic_public_address_matches_local_addresses():
    result = rendered(**{**MONITORING, "public_address": None})
    for line in lines_starting(config_file(result), "add chain=dstnat"):
        assert "dst-address-type=local" in line and "dst-address=" not in line
    assert WarningCode.DYNAMIC_PUBLIC_ADDRESS in {w.code for w in result.warnings}


def test_network_sources_stay_networks():
    text = config(**{**MONITORING, "monitoring_sources": ["198.51.100.16/28"]})
    assert "add list=obm-monitoring address=198.51.100.16/28" in text


def test_range_is_native():
    result = rendered(**RANGE)
    assert "src-address=192.168.1.10-192.168.1.20 dst-address-list=obm-dc" in config_file(result)
    assert WarningCode.RANGE_UNSUPPORTED not in {w.code for w in result.warnings}


def test_named_interfaces_are_interfaces_default_names_are_lists():
    text = config(**MONITORING, inside_interface="bridge", outside_interface="ether1")
    assert "in-interface=ether1 " in text and "interface-list" not in text.replace(
        "# /ip firewall nat add", ""
    )
    assert "in-interface-list=WAN" in config(**MONITORING)


@pytest.mark.parametrize(
    "changes", [{}, MONITORING, RANGE, DHCP, {**MONITORING, "public_address": None}]
)
def test_commands_are_in_their_menus_and_complete(changes):
    text = config(**changes)
    assert "None" not in text
    for line in filter(None, text.splitlines()):
        assert line.startswith(("/ip firewall ", "add ", "#")), line


def test_a_renamed_site_moves_every_marker_without_adding_an_address_twice():
    """RouterOS refuses the same address twice in a list: a datacenter entry whose marker changes
    gets its new comment in place; rules are added anew and the old ones removed by comment."""
    old = make_site(vendor="mikrotik", **MONITORING)
    new = make_site(vendor="mikrotik", name="Branch office", **MONITORING)
    plan = plan_change(old, GUIDE_PROFILE, new, GUIDE_PROFILE, renderers=[RENDERERS["mikrotik"]])
    text = "\n".join(s.config for s in plan.documents[0].steps)
    assert "add list=obm-dc" not in text
    assert (
        'set [find where list=obm-dc address=203.0.113.0/24] comment="obm:branch-office:dc-203.0.113.0-24"'
        in text
    )
    assert (
        'remove [find where comment="obm:test-site:out-tcp-4401" src-address=192.168.1.10]' in text
    )
    assert text.index('comment="obm:branch-office:out-tcp-4401"') < text.index(
        'remove [find where comment="obm:test-site:out-tcp-4401"'
    )
