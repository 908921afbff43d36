"""The pfSense renderer: GUI field values, and the traps pfSense has."""

from __future__ import annotations

import pytest

from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from tests.sites.vendors.example_sites import MONITORING, RANGE, render_for


def steps(**changes):
    return render_for("pfsense", **changes).steps


def step(title_part: str, **changes):
    return next(s for s in steps(**changes) if title_part in s.title)


def test_static_host_order_and_kinds():
    kinds = [(s.kind, s.gui_path) for s in steps()]
    assert kinds == [
        (StepKind.CHANGE, "Firewall › Aliases › IP › Add"),
        (StepKind.CHANGE, "Firewall › Rules › LAN › Add (arrow up: add to the top)"),
        (StepKind.CHECK, "Firewall › NAT › Outbound"),
        (StepKind.VERIFY, "Diagnostics › States"),
    ]


def test_datacenter_alias_and_lan_rule():
    aliases = step("Create the alias").config
    assert "Name: OBM_DC" in aliases and "Type: Network(s)" in aliases
    assert "Entry: 203.0.113.0 / 24" in aliases
    rule = step("Allow TCP 4401").config.splitlines()
    for line in (
        "Action: Pass",
        "Interface: LAN",
        "Protocol: TCP",
        "Source: Single host or alias — 192.168.1.10",
        "Destination: Single host or alias — OBM_DC",
        "Destination Port Range: From (other) 4401 — To (other) 4401",
    ):
        assert line in rule


def test_range_is_a_host_alias():
    assert get_renderer("pfsense").supports_ranges
    aliases = step("Create the alias", **RANGE)
    assert "Name: OBM_HOSTS" in aliases.config and "Type: Host(s)" in aliases.config
    assert "Entry: 192.168.1.10-192.168.1.20" in aliases.config
    assert aliases.title == "Create the aliases for the datacenter and the backup hosts"
    assert "Source: Single host or alias — OBM_HOSTS" in step("Allow TCP 4401", **RANGE).config
    assert "Source: Network — OBM_HOSTS" in step("outbound NAT", **RANGE).config


def test_no_monitoring_steps_without_monitoring():
    assert not any("Port Forward" in s.gui_path or "WAN" in s.gui_path for s in steps())


def test_tcp_and_udp_4403_are_one_port_forward():
    forward = step("Forward the monitoring ports", **MONITORING)
    assert forward.gui_path.startswith("Firewall › NAT › Port Forward")
    blocks = forward.config.split("\n\n")
    assert len(blocks) == 2
    assert "Protocol: TCP/UDP" in blocks[0] and "From (other) 4403" in blocks[0]
    assert "Protocol: TCP\n" in blocks[1] + "\n" and "From (other) 4401" in blocks[1]
    for block in blocks:
        assert "Redirect target IP: Address or Alias — 192.168.1.10" in block
        assert "Filter rule association: Add associated filter rule" in block
        assert "Source (Display Advanced): Single host or alias — OBM_MONITOR" in block
        assert "Interface: WAN" in block


def test_inbound_rules_name_the_private_address():
    check = step("pass rules for the forwarded", **MONITORING)
    assert check.kind is StepKind.CHECK and check.gui_path == "Firewall › Rules › WAN"
    assert "Destination 192.168.1.10 port 4403" in check.config
    assert "Destination 192.168.1.10 port 4401" in check.config
    assert "192.0.2.1" not in check.config


def test_monitoring_alias_holds_the_sources():
    aliases = step(
        "Create the alias",
        **{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]},
    )
    assert aliases.title == "Create the aliases for the datacenter and the monitoring computers"
    assert "Name: OBM_MONITOR" in aliases.config
    assert (
        "Entry: 198.51.100.7 / 32" in aliases.config
        and "Entry: 198.51.100.0 / 28" in aliases.config
    )


def test_the_alias_names_no_monitor_without_sources():
    assert "OBM_MONITOR" not in step("Create the alias", monitoring_enabled=True).config


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


def test_interface_names_from_the_site():
    all_steps = steps(**MONITORING, inside_interface="OFFICE", outside_interface="FIBER")
    assert "Firewall › Rules › OFFICE › Add (arrow up: add to the top)" in [
        s.gui_path for s in all_steps
    ]
    assert (
        "Interface: FIBER"
        in step(
            "Forward the monitoring ports",
            **MONITORING,
            inside_interface="OFFICE",
            outside_interface="FIBER",
        ).config
    )
