"""The PAN-OS renderer: one service per protocol, inbound rule on the public (pre-NAT) address
with the post-NAT zone, source NAT as a change, ranges, DHCP, sources, dynamic address."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import get_renderer
from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
    lines_starting,
    load_example,
    make_site,
    render,
)


def cli(**changes) -> str:
    return config_for("paloalto", **changes)


def test_script_enters_configure_mode_and_commits():
    text = cli(**MONITORING)
    assert text.splitlines()[0] == "configure"
    assert text.rstrip().splitlines()[-1] == "commit"


def test_one_service_per_protocol():
    assert lines_starting(cli(**MONITORING), "set service ") == [
        "set service obm-tcp-4401 description obm:test-site:tcp-4401 protocol tcp port 4401",
        "set service obm-tcp-4403 description obm:test-site:tcp-4403 protocol tcp port 4403",
        "set service obm-udp-4403 description obm:test-site:udp-4403 protocol udp port 4403",
    ]


def test_one_destination_nat_rule_per_protocol():
    dnat = lines_starting(cli(**MONITORING), "set rulebase nat rules obm-dnat-")
    assert [line.split()[4] for line in dnat] == [
        "obm-dnat-tcp-4403",
        "obm-dnat-udp-4403",
        "obm-dnat-tcp-4401",
    ]
    for line in dnat:
        assert "from untrust to untrust" in line
        assert "destination obm-public" in line
        assert line.endswith("destination-translation translated-address 192.168.1.10")


def test_inbound_security_rule_names_the_public_address_and_the_post_nat_zone():
    rule = lines_starting(cli(**MONITORING), "set rulebase security rules obm-monitoring-in")[0]
    assert "from untrust to trust" in rule
    assert "destination obm-public" in rule and "192.168.1.10" not in rule
    assert "service [ obm-tcp-4403 obm-udp-4403 obm-tcp-4401 ]" in rule
    assert "set address obm-public description obm:test-site:public ip-netmask 192.0.2.1/32" in cli(
        **MONITORING
    )


def test_source_nat_is_a_change_on_the_outside_interface():
    rendered = render("paloalto", make_site(vendor="paloalto"))
    step = [s for s in rendered.steps if "source NAT" in s.title][0]
    assert step.kind == "change"
    assert (
        "set rulebase nat rules obm-snat-tcp-4401 description obm:test-site:snat-tcp-4401 "
        "from trust to untrust source obm-host "
        "destination obm-dc service obm-tcp-4401 source-translation dynamic-ip-and-port "
        "interface-address interface ethernet1/1"
    ) in step.config


def test_outbound_rule_and_moves_to_top():
    text = cli(outside_interface="ethernet1/3", inside_interface="ethernet1/4")
    assert (
        "set rulebase security rules obm-backup-out description obm:test-site:security-out "
        "from trust to untrust source obm-host "
        "destination obm-dc application any service obm-tcp-4401 action allow"
    ) in text
    assert "move rulebase security rules obm-backup-out top" in text
    assert "interface ethernet1/3" in text
    assert "obm-dnat" not in text and "obm-monitoring-in" not in text


def test_range_is_an_ip_range_object():
    text = cli(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert (
        "set address obm-hosts description obm:test-site:hosts ip-range 192.168.1.10-192.168.1.20"
        in text
    )
    assert "source obm-hosts" in text


def test_several_monitoring_sources_are_listed():
    text = cli(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert (
        "set address obm-mon-198.51.100.0-28 description obm:test-site:mon-198.51.100.0-28 "
        "ip-netmask 198.51.100.0/28"
    ) in text
    assert lines_starting(text, "set address-group obm-mon static") == [
        "set address-group obm-mon static obm-mon-198.51.100.7-32",
        "set address-group obm-mon static obm-mon-198.51.100.0-28",
    ]
    rules = [line for line in lines_starting(text, "set rulebase") if "source obm-mon " in line]
    assert len(rules) == 4


def test_plans_empty_member_lists_before_setting_them_and_delete_in_use_order():
    site = make_site(vendor="paloalto", **MONITORING)
    without = make_site(vendor="paloalto", **{**MONITORING, "monitoring_sources": []})
    renderer = [get_renderer("paloalto")]
    change = plan_change(site, GUIDE_PROFILE, without, GUIDE_PROFILE, renderers=renderer)
    text = "".join(step.config for step in change.documents[0].steps)
    # source obm-mon becomes any: the list is emptied first, `set` alone would add to it
    assert text.index("delete rulebase security rules obm-monitoring-in source\n") < text.index(
        "set rulebase security rules obm-monitoring-in description"
    )
    assert text.index("delete address-group obm-mon static obm-mon-198.51.100.7-32") < (
        text.index("delete address obm-mon-198.51.100.7-32")
    )
    assert text.index("delete address obm-mon-198.51.100.7-32") < text.index(
        "delete address-group obm-mon\n"
    )
    removal = plan_removal(site, GUIDE_PROFILE, renderers=renderer)
    text = "".join(step.config for step in removal.documents[0].steps)
    assert text.index("delete rulebase nat rules obm-dnat-tcp-4403") < text.index(
        "delete service obm-tcp-4403"
    )
    assert text.index("delete rulebase security rules obm-backup-out") < text.index(
        "delete address obm-host"
    )
    assert (
        text.count("configure\n")
        == text.count("commit\n")
        == len([s for s in removal.documents[0].steps if s.config])
    )


def test_dynamic_public_address_matches_any_destination():
    text = cli(**{**MONITORING, "public_address": None, "monitoring_sources": []})
    assert "obm-public" not in text
    for line in lines_starting(text, "set rulebase nat rules obm-dnat-"):
        assert "source any destination any" in line
    assert (
        "source any destination any"
        in lines_starting(text, "set rulebase security rules obm-monitoring-in")[0]
    )


def test_verification_uses_policy_match_tests():
    rendered = render("paloalto", load_example("monitoring"))
    inbound = rendered.steps[-1]
    assert (
        "test security-policy-match from untrust to trust source 198.51.100.7 "
        "destination 192.0.2.1 destination-port 4403 protocol 17"
    ) in inbound.verify
