"""The OPNsense renderer: GUI field values, and the traps OPNsense has."""

from __future__ import annotations

import pytest

from sites.description import GUIDE_PROFILE
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from tests.sites.vendors.example_sites import MONITORING, RANGE, make_site, render_for


def steps(**changes):
    return render_for("opnsense", **changes).steps


def step(title_part: str, **changes):
    return next(s for s in steps(**changes) if title_part in s.title)


def test_static_host_order_and_kinds():
    kinds = [(s.kind, s.gui_path) for s in steps()]
    assert kinds == [
        (StepKind.CHANGE, "Firewall › Aliases › + (Add)"),
        (StepKind.CHANGE, "Firewall › Rules › LAN › + (Add)"),
        (StepKind.CHECK, "Firewall › NAT › Outbound"),
        (StepKind.VERIFY, "Firewall › Diagnostics › States"),
    ]


def test_datacenter_alias_and_lan_rule():
    aliases = step("Create the alias").config
    assert "Name: OBM_DC\nType: Network(s)\nContent: 203.0.113.0/24" in aliases
    rule = step("Allow TCP 4401").config.splitlines()
    for line in (
        "Action: Pass",
        "Interface: LAN",
        "Direction: in",
        "TCP/IP Version: IPv4",
        "Protocol: TCP",
        "Source: Single host or Network — 192.168.1.10/32",
        "Destination: OBM_DC",
        "Destination port range: from (other) 4401 to (other) 4401",
    ):
        assert line in rule


def test_range_is_a_host_alias():
    assert get_renderer("opnsense").supports_ranges
    aliases = step("Create the alias", **RANGE).config
    assert "Name: OBM_HOSTS\nType: Host(s)\nContent: 192.168.1.10-192.168.1.20" in aliases
    assert "Source: OBM_HOSTS" in step("Allow TCP 4401", **RANGE).config


def test_tcp_and_udp_4403_are_one_port_forward():
    forward = step("Forward the monitoring ports", **MONITORING)
    assert forward.gui_path.startswith("Firewall › NAT › Port Forward")
    assert "Destination NAT" in forward.gui_path  # the 25.7+ name
    blocks = forward.config.split("\n\n")
    assert len(blocks) == 2
    assert "Protocol: TCP/UDP" in blocks[0] and "from (other) 4403" in blocks[0]
    assert "Protocol: TCP\n" in blocks[1] and "from (other) 4401" in blocks[1]
    for block in blocks:
        assert "Redirect target IP: Single host or Network — 192.168.1.10" in block
        assert "Filter rule association: Add associated filter rule" in block
        assert "Source (Advanced): OBM_MONITOR" in block


def test_inbound_rules_name_the_private_address():
    check = step("pass rules for the forwarded", **MONITORING)
    assert check.kind is StepKind.CHECK and check.gui_path == "Firewall › Rules › WAN"
    assert "Destination 192.168.1.10 port 4403" in check.config
    assert "Destination 192.168.1.10 port 4401" in check.config
    assert "192.0.2.1" not in check.config


@pytest.mark.parametrize(
    "public, expected",
    [
        ("192.0.2.1", "Destination: WAN address (192.0.2.1;"),
        (None, "Destination: WAN address (follows the address the provider assigns)"),
    ],
)
def test_public_address_static_or_dynamic(public, expected):
    forward = step("Forward the monitoring ports", **{**MONITORING, "public_address": public})
    assert expected in forward.config
    assert ("Dynamic DNS" in forward.reason) == (public is None)


def test_items_name_opnsense_s_lists_and_keep_the_pfsense_keys():
    description = make_site(vendor="opnsense", **MONITORING)
    renderer = get_renderer("opnsense")
    marked = {
        item.key: item
        for item in renderer.managed_items(
            derive_rules(description, GUIDE_PROFILE), description, GUIDE_PROFILE
        )
    }
    assert list(marked) == [
        "alias-dc",
        "alias-monitoring",
        "out-tcp-4401",
        "snat-tcp-4401",
        "dnat-tcp-udp-4403",
        "dnat-tcp-4401",
    ]
    assert marked["alias-dc"].remove.startswith(
        "Firewall › Aliases: delete the alias OBM_DC whose Description begins with "
        "obm:test-site:alias-dc, then click Apply changes."
    )
    assert '("Alias in use")' in marked["alias-dc"].remove
    assert marked["dnat-tcp-4401"].gui_path == (
        "Firewall › NAT › Port Forward (25.7 and later: Destination NAT)"
    )
    assert "so OPNsense deletes its associated pass rule on WAN" in marked["dnat-tcp-4401"].remove
    assert "Description: obm:test-site:out-tcp-4401 " in step("Allow TCP 4401", **MONITORING).config
