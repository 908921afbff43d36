"""The nftables renderer: one file for `nft -f` (the real loader runs in test_loaders.py)."""

from __future__ import annotations

from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
)


def ruleset(**changes) -> str:
    return config_for("nftables", **changes)


def rule_lines(text: str, needle: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if needle in line and not line.strip().startswith("#")
    ]


def test_filter_table_shape():
    text = ruleset()
    assert "table inet filter {" in text
    assert "policy accept" not in text and "policy drop" not in text  # never sets a chain policy
    chain = text.split("chain backup_forward {")[1]
    first_rule = [
        line.strip()
        for line in chain.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ][0]
    assert first_rule == "ct state established,related accept"
    assert "insert rule inet filter forward jump backup_forward" in text


def test_static_host_outbound_and_masquerade():
    text = ruleset()
    assert rule_lines(text, "tcp dport 4401 accept") == [
        'iifname "lan0" oifname "wan0" ip saddr 192.168.1.10 ip daddr 203.0.113.0/24 tcp dport 4401 accept'
    ]
    assert rule_lines(text, "masquerade") == [
        'oifname "wan0" ip saddr 192.168.1.10 ip daddr 203.0.113.0/24 tcp dport 4401 masquerade'
    ]


def test_range_source():
    text = ruleset(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert text.count("ip saddr 192.168.1.10-192.168.1.20") == 2


def test_monitoring_dnat_per_protocol_and_accept_on_private_address():
    text = ruleset(**MONITORING)
    assert rule_lines(text, "dnat ip to") == [
        f'iifname "wan0" ip saddr 198.51.100.7 ip daddr 192.0.2.1 {p} dport {port} '
        f"dnat ip to 192.168.1.10:{port}"
        for p, port in (("tcp", 4403), ("udp", 4403), ("tcp", 4401))
    ]
    inbound = rule_lines(text, 'iifname "wan0" oifname "lan0"')
    assert len(inbound) == 3
    assert all("ip daddr 192.168.1.10 " in line for line in inbound)


def test_monitoring_sources_as_a_set_or_any():
    text = ruleset(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert "ip saddr { 198.51.100.7, 198.51.100.0/28 }" in text
    text = ruleset(**{**MONITORING, "monitoring_sources": []})
    assert all("ip saddr" not in line for line in rule_lines(text, "dnat ip to"))


def test_dynamic_public_address_matches_local_destination():
    text = ruleset(**{**MONITORING, "public_address": None})
    assert all("fib daddr type local" in line for line in rule_lines(text, "dnat ip to"))
