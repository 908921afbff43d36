"""The FortiGate renderer: one VIP per protocol, VIPs as the inbound policy's destination,
``set nat enable`` as the transparency, ranges, DHCP, monitoring sources, dynamic WAN."""

from __future__ import annotations

from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
    load_example,
    render,
)


def cli(**changes) -> str:
    return config_for("fortigate", **changes)


def blocks(text: str, path: str) -> list[str]:
    """The ``config <path> … end`` blocks of a CLI text."""
    parts = text.split(f"config {path}\n")[1:]
    return [p.split("\nend\n")[0] for p in parts]


def test_one_vip_per_protocol_for_4403():
    vips = blocks(cli(**MONITORING), "firewall vip")[0]
    assert 'edit "obm-vip-tcp-4403"' in vips and 'edit "obm-vip-udp-4403"' in vips
    assert 'edit "obm-vip-tcp-4401"' in vips
    entries = vips.split("next")
    for entry in entries[:3]:
        assert entry.count("set protocol ") == 1
    assert "set protocol udp" in entries[1]


def test_inbound_policy_names_the_vips_not_an_address():
    policies = blocks(cli(**MONITORING), "firewall policy")
    inbound = [p for p in policies if "obm-monitoring-in" in p][0]
    assert 'set dstaddr "obm-vip-tcp-4403" "obm-vip-udp-4403" "obm-vip-tcp-4401"' in inbound
    assert 'set srcintf "wan1"' in inbound and 'set dstintf "internal"' in inbound
    assert "192.0.2.1" not in inbound and "192.168.1.10" not in inbound
    assert "set nat enable" not in inbound


def test_static_host_is_one_address():
    text = cli(inside_interface="lan", outside_interface="wan")
    assert "set subnet 192.168.1.10 255.255.255.255" in text
    assert 'set srcaddr "obm-host"' in text
    assert 'set srcintf "lan"' in text and 'set dstintf "wan"' in text
    assert "config firewall vip" not in text  # no monitoring, no VIP


def test_range_is_an_iprange_address():
    text = cli(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert "set type iprange\n" in text.replace("        ", "")
    assert "set start-ip 192.168.1.10" in text and "set end-ip 192.168.1.20" in text
    assert 'set srcaddr "obm-hosts"' in text


def test_monitoring_sources_restrict_vips_and_policy():
    text = cli(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert text.count('set src-filter "198.51.100.7/32" "198.51.100.0/28"') == 3
    assert 'set srcaddr "obm-mon-1" "obm-mon-2"' in text
    assert "set subnet 198.51.100.0 255.255.255.240" in text


def test_dynamic_public_address_uses_extip_zero():
    text = cli(**{**MONITORING, "public_address": None})
    vips = blocks(text, "firewall vip")[0]
    assert vips.count("set extip 0.0.0.0") == 3
    assert vips.count('set extintf "wan1"') == 3


def test_fixed_public_address_is_the_extip():
    assert cli(**MONITORING).count("set extip 192.0.2.1") == 3


def test_every_block_is_closed():
    text = config_file(render("fortigate", load_example("monitoring")))
    assert text.count("config ") == text.count("\nend\n")
    for block in blocks(text, "firewall vip") + blocks(text, "firewall address"):
        assert block.count("edit ") == block.count("next")
