"""The Juniper SRX renderer: applications per protocol, inbound policy on the private address,
interface source NAT, destination NAT pool, ranges, DHCP, sources, dynamic address."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.vendors import get_renderer
from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
    lines_starting,
    make_site,
    render,
)

DNAT = "set security nat destination rule-set obm-dnat"
INBOUND = "set security policies from-zone untrust to-zone trust policy obm-monitoring-in"


def cli(**changes) -> str:
    return config_for("juniper-srx", **changes)


def test_configure_then_commit_check_then_commit():
    text = cli(**MONITORING).splitlines()
    assert text[0] == "configure"
    assert text[-2:] == ["commit check", "commit"]


def test_every_config_line_is_a_set_or_insert_command():
    body = cli(**MONITORING).splitlines()[1:-2]
    assert all(line.startswith("set ") or not line for line in body)


def test_applications_per_protocol_and_a_monitoring_set():
    text = cli(**MONITORING)
    assert "set applications application obm-tcp-4403 protocol tcp destination-port 4403" in text
    assert "set applications application obm-udp-4403 protocol udp destination-port 4403" in text
    assert lines_starting(text, "set applications application-set obm-monitoring") == [
        f"set applications application-set obm-monitoring application obm-{p}"
        for p in ("tcp-4403", "udp-4403", "tcp-4401")
    ] + ['set applications application-set obm-monitoring description "obm:test-site:monitoring"']


def test_inbound_policy_names_the_private_address():
    text = cli(**MONITORING)
    policy = lines_starting(text, INBOUND)
    assert f"{INBOUND} match destination-address obm-host" in policy
    assert f"{INBOUND} match application obm-monitoring" in policy
    assert f"{INBOUND} match source-address obm-mon-198.51.100.7-32" in policy
    assert "set security address-book global address obm-host 192.168.1.10/32" in text
    assert not any("192.0.2.1" in line for line in policy)


def test_destination_nat_pool_and_one_rule_per_protocol():
    text = cli(**MONITORING)
    assert "set security nat destination pool obm-host address 192.168.1.10/32" in text
    for rule, protocol, port in (
        ("obm-tcp-4403", "tcp", 4403),
        ("obm-udp-4403", "udp", 4403),
        ("obm-tcp-4401", "tcp", 4401),
    ):
        assert lines_starting(text, f"{DNAT} rule {rule} ") == [
            f"{DNAT} rule {rule} match source-address 198.51.100.7/32",
            f"{DNAT} rule {rule} match destination-address 192.0.2.1/32",
            f"{DNAT} rule {rule} match destination-port {port}",
            f"{DNAT} rule {rule} match protocol {protocol}",
            f"{DNAT} rule {rule} then destination-nat pool obm-host",
            f'{DNAT} rule {rule} description "obm:test-site:dnat-{protocol}-{port}"',
        ]


def test_source_nat_is_interface_nat_change():
    rendered = render("juniper-srx", make_site(vendor="juniper-srx"))
    step = [s for s in rendered.steps if "source NAT" in s.title][0]
    assert step.kind == "change"
    assert "rule obm-backup then source-nat interface" in step.config
    assert "rule obm-backup match source-address 192.168.1.10/32" in step.config
    assert "rule obm-backup match destination-address 203.0.113.0/24" in step.config


def test_range_uses_range_address_and_cidr_cover_for_nat():
    text = cli(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert "address obm-hosts range-address 192.168.1.10 to 192.168.1.20" in text
    nat_sources = [
        line.split()[-1]
        for line in lines_starting(text, "set security nat source")
        if "match source-address" in line
    ]
    assert nat_sources == [
        "192.168.1.10/31",
        "192.168.1.12/30",
        "192.168.1.16/30",
        "192.168.1.20/32",
    ]


def test_monitoring_from_anywhere_and_dynamic_public_address():
    text = cli(**{**MONITORING, "monitoring_sources": [], "public_address": None})
    assert f"{INBOUND} match source-address any" in text
    assert not any("match source-address" in line for line in lines_starting(text, DNAT))
    assert (
        len(
            [
                line
                for line in lines_starting(text, DNAT)
                if line.endswith("destination-address 0.0.0.0/0")
            ]
        )
        == 3
    )


def test_range_with_monitoring_keeps_a_single_host_target():
    text = cli(
        **MONITORING,
        host_addressing="range",
        host_address="192.168.1.12",
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert "set security address-book global address obm-host 192.168.1.12/32" in text
    assert "set security nat destination pool obm-host address 192.168.1.12/32" in text


def test_plans_change_in_place_in_one_commit_and_delete_policies_before_objects():
    site = make_site(vendor="juniper-srx", **MONITORING)
    renderer = [get_renderer("juniper-srx")]
    moved = make_site(vendor="juniper-srx", **{**MONITORING, "host_address": "192.168.1.20"})
    change = plan_change(site, GUIDE_PROFILE, moved, GUIDE_PROFILE, renderers=renderer)
    text = "".join(step.config for step in change.documents[0].steps)
    assert (
        "delete security nat destination pool obm-host\n"
        "set security nat destination pool obm-host address 192.168.1.20/32\n"
    ) in text
    removal = plan_removal(site, GUIDE_PROFILE, renderers=renderer).documents[0].steps
    text = "".join(step.config for step in removal)
    policy = "delete security policies from-zone untrust to-zone trust policy obm-monitoring-in"
    assert text.index(policy) < text.index("delete applications application-set obm-monitoring")
    rule_set = "delete security nat destination rule-set obm-dnat"
    assert text.index(f"{rule_set} rule obm-tcp-4403") < text.index(f"{rule_set}\n")
    assert "delete security nat source rule-set trust-to-untrust rule obm-backup\n" in text
    assert "delete security nat source rule-set trust-to-untrust\n" not in text
    assert all(step.config.endswith("commit check\ncommit\n") for step in removal if step.config)
