"""The nftables renderer: one file for `nft -f` (the real loader runs in test_loaders.py)."""

from __future__ import annotations

import re
import subprocess

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import RENDERERS
from tests.sites.vendors.example_sites import MONITORING, config_for, make_site

RENDERER = RENDERERS["nftables"]


def ruleset(**changes) -> str:
    return config_for("nftables", **changes)


def rule_lines(text: str, needle: str) -> list[str]:
    """The statements containing ``needle``, without their marker comment."""
    return [
        re.sub(r' comment "obm:[^"]*"$', "", line.strip())
        for line in text.splitlines()
        if needle in line and not line.strip().startswith("#")
    ]


def test_filter_table_shape():
    text = ruleset()
    assert "table inet filter {" in text
    assert "policy accept" not in text and "policy drop" not in text  # never sets a chain policy
    chain = text.split("chain backup_forward {")[1]
    first_lines = [
        line.strip()
        for line in chain.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ][:2]
    assert first_lines == [
        'comment "obm:test-site:backup-chain"',
        'ct state established,related accept comment "obm:test-site:established"',
    ]
    assert (
        'insert rule inet filter forward jump backup_forward comment "obm:test-site:jump"' in text
    )


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


# -- markers and plans (the real nft runs them in test_loaders.py and the packet lab) -----------


def test_every_rule_table_and_chain_carries_its_marker():
    text = ruleset(**MONITORING)
    statements = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith(("#", "}", "type "))
    ]
    for number, line in enumerate(statements):
        if line.startswith(("table ", "chain ")):
            assert statements[number + 1].startswith('comment "obm:test-site:'), line
        elif not line.startswith("comment "):
            assert re.search(r' comment "obm:test-site:[a-z0-9.-]+"$', line), line


def plan_script(old: dict, new: dict) -> str:
    old_site = make_site(vendor="nftables", **{**MONITORING, **old})
    new_site = make_site(vendor="nftables", **{**MONITORING, **new})
    plan = plan_change(old_site, GUIDE_PROFILE, new_site, GUIDE_PROFILE, renderers=[RENDERER])
    return RENDERER.plan_file(plan.documents[0].steps)


def test_plan_file_is_a_posix_script_saying_why():
    script = plan_script({}, {"monitoring_sources": ["198.51.100.9/32"]})
    first, second = script.splitlines()[:2]
    assert first == "#!/bin/sh"
    assert second.startswith("# A POSIX shell script, not an nft file: nftables deletes")
    assert "set -eu" in script
    # Each function defined once, before the steps call it.
    assert script.count("obm_replace() {") == 1 and script.count("obm_handles() {") == 1
    assert script.index("obm_replace() {") < script.index("\nobm_replace inet filter")
    checked = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr


def test_a_changed_rule_is_replaced_in_place_by_its_marker():
    script = plan_script({}, {"host_address": "192.168.1.20"})
    assert (
        "obm_replace inet filter backup_forward obm:test-site:out-tcp-4401 "
        '\'iifname "lan0" oifname "wan0" ip saddr 192.168.1.20 ip daddr 203.0.113.0/24 '
        "tcp dport 4401 accept'"
    ) in script
    assert "obm_delete " not in script and "obm_add " not in script


def test_each_step_defines_the_functions_it_calls():
    """A step pasted alone works: its text defines what it calls (the script only once)."""
    description = make_site(vendor="nftables", **MONITORING)
    plan = plan_removal(description, GUIDE_PROFILE, renderers=[RENDERER])
    for step in plan.documents[0].steps:
        for called in set(re.findall(r"^(obm_[a-z_]+) ", step.config, re.MULTILINE)):
            assert f"{called}() {{" in step.config, (step.title, called)


def test_removal_deletes_tables_and_chains_only_if_ours_and_empty():
    description = make_site(vendor="nftables", **MONITORING)
    plan = plan_removal(description, GUIDE_PROFILE, renderers=[RENDERER])
    script = RENDERER.plan_file(plan.documents[0].steps)
    order = [
        line.split()[0] + " " + line.split()[-1]
        for line in script.splitlines()
        if line.startswith(("obm_delete", "nft "))
    ]
    # The jump before the chain it jumps to; rules before their chains; chains before tables.
    assert order.index("obm_delete obm:test-site:jump") < order.index(
        "obm_delete_chain obm:test-site:backup-chain"
    )
    assert order[-2:] == [
        "obm_delete_table obm:test-site:nat-table",
        "obm_delete_table obm:test-site:filter-table",
    ]
    # Deleting a table or chain is only ever done by the functions that check it first.
    assert 'nft "delete table $1 $2"' in script and 'nft "delete chain $1 $2 $3"' in script
    assert not re.search(r"^nft .*delete (table|chain)", script, re.MULTILINE)
