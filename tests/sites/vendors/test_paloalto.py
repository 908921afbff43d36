"""The PAN-OS renderer: one service per protocol, inbound rule on the public (pre-NAT) address
with the post-NAT zone, source NAT as a change, ranges, DHCP, sources, dynamic address."""

from __future__ import annotations

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
        "set service obm-tcp-4401 protocol tcp port 4401",
        "set service obm-tcp-4403 protocol tcp port 4403",
        "set service obm-udp-4403 protocol udp port 4403",
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
    assert "set address obm-public ip-netmask 192.0.2.1/32" in cli(**MONITORING)


def test_source_nat_is_a_change_on_the_outside_interface():
    rendered = render("paloalto", make_site(vendor="paloalto"))
    step = [s for s in rendered.steps if "source NAT" in s.title][0]
    assert step.kind == "change"
    assert (
        "set rulebase nat rules obm-snat-tcp-4401 from trust to untrust source obm-host "
        "destination obm-dc-1 service obm-tcp-4401 source-translation dynamic-ip-and-port "
        "interface-address interface ethernet1/1"
    ) in step.config


def test_outbound_rule_and_moves_to_top():
    text = cli(outside_interface="ethernet1/3", inside_interface="ethernet1/4")
    assert (
        "set rulebase security rules obm-backup-out from trust to untrust source obm-host "
        "destination obm-dc-1 application any service obm-tcp-4401 action allow"
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
    assert "set address obm-hosts ip-range 192.168.1.10-192.168.1.20" in text
    assert "source obm-hosts" in text


def test_several_monitoring_sources_are_listed():
    text = cli(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert "set address obm-mon-2 ip-netmask 198.51.100.0/28" in text
    assert (
        len(
            [
                line
                for line in lines_starting(text, "set rulebase")
                if "source [ obm-mon-1 obm-mon-2 ]" in line
            ]
        )
        == 4
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
