"""The FortiGate renderer: one VIP per protocol, VIPs as the inbound policy's destination,
``set nat enable`` as the transparency, ranges, DHCP, monitoring sources, dynamic WAN."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
    load_example,
    make_site,
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
    assert 'set srcaddr "obm-mon"' in text
    assert 'set member "obm-mon-198.51.100.7-32" "obm-mon-198.51.100.0-28"' in text
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


def test_objects_carry_their_markers_and_policies_name_groups():
    text = cli(**MONITORING)
    assert 'set comment "obm:test-site:dc-203.0.113.0-24 Backup datacenter"' in text
    assert 'set comments "obm:test-site:policy-out"' in text
    assert 'set comments "obm:test-site:policy-in"' in text
    assert 'set dstaddr "obm-dc"' in text and 'set srcaddr "obm-mon"' in text


def test_policies_are_removed_by_their_id_and_objects_by_name_after_them():
    site = make_site(vendor="fortigate", **MONITORING)
    plan = plan_removal(site, GUIDE_PROFILE, renderers=[get_renderer("fortigate")])
    text = "".join(step.config for step in plan.documents[0].steps)
    assert text.index("delete <ID of obm-monitoring-in>") < text.index('delete "obm-vip-tcp-4403"')
    assert text.index('delete "obm-vip-tcp-4403"') < text.index('delete "obm-tcp-4403"')
    assert text.index("delete <ID of obm-backup-out>") < text.index('delete "obm-dc"')
    assert text.index('delete "obm-dc"') < text.index('delete "obm-dc-203.0.113.0-24"')


def test_a_vip_losing_its_source_filter_unsets_it_in_place():
    old = make_site(vendor="fortigate", **MONITORING)
    new = make_site(vendor="fortigate", **{**MONITORING, "monitoring_sources": []})
    plan = plan_change(
        old, GUIDE_PROFILE, new, GUIDE_PROFILE, renderers=[get_renderer("fortigate")]
    )
    text = "".join(step.config for step in plan.documents[0].steps)
    assert text.count("unset src-filter") == 3
    # srcaddr changes from obm-mon to all: the policy is edited in place by its ID, before the
    # group it named goes.
    assert "edit 0" not in text
    assert text.index("edit <ID of obm-monitoring-in>") < text.index('set srcaddr "all"')
    assert text.index('set srcaddr "all"') < text.index('delete "obm-mon"')
