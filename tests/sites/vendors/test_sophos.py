"""The Sophos renderer: one TCP/UDP service, the private host in the inbound firewall rule."""

from __future__ import annotations

from tests.sites.vendors.example_sites import (
    MONITORING,
    load_example,
    make_site,
    render,
    step_titled,
)


def test_dnat_uses_public_address_and_inbound_rule_the_private_host():
    rendered = render("sophos", load_example("monitoring"))
    dnat = step_titled(rendered, "Forward the monitoring ports").config
    assert (
        "Original destination: OBM public address    Translated destination (DNAT): OBM backup host"
        in dnat
    )
    assert "Original source: OBM monitoring sources" in dnat
    rule = step_titled(rendered, "Allow the monitoring connections in").config
    assert "Destination zones: LAN" in rule and "Destination networks: OBM backup host" in rule
    assert "OBM public address" not in rule
    hosts = step_titled(rendered, "Create the IP hosts").config
    assert "Name: OBM public address | IP version: IPv4 | Type: IP | IP address: 192.0.2.1" in hosts


def test_outbound_rule():
    rule = step_titled(render("sophos", make_site()), "Allow the backup connection out").config
    for line in (
        "Source zones: LAN",
        "Source networks and devices: OBM backup host",
        "Destination zones: WAN",
        "Destination networks: OBM datacenter",
        "Services: OBM TCP 4401",
    ):
        assert line in rule


def test_range_and_dhcp_hosts():
    ranged = render(
        "sophos",
        make_site(
            host_addressing="range",
            host_address=None,
            host_range_start="192.168.1.10",
            host_range_end="192.168.1.20",
        ),
    )
    assert "Type: IP range | 192.168.1.10 – 192.168.1.20" in ranged.steps[0].config
    assert "range_unsupported" not in {w.code for w in ranged.warnings}
    dhcp = render("sophos", make_site(host_addressing="dhcp", host_address=None))
    assert (
        "Name: OBM LAN | IP version: IPv4 | Type: Network | IP address: 192.168.1.0"
        in dhcp.steps[0].config
    )


def test_dynamic_public_address_uses_the_wan_port_object():
    rendered = render(
        "sophos",
        make_site(
            **{**MONITORING, "public_address": None},
            outside_interface="Port3",
            inside_interface="Port1",
        ),
    )
    assert (
        "Original destination: #Port3"
        in step_titled(rendered, "Forward the monitoring ports").config
    )
    assert "OBM public address" not in rendered.steps[0].config


def test_monitoring_from_any_and_no_monitoring():
    anyone = render("sophos", make_site(**{**MONITORING, "monitoring_sources": []}))
    assert (
        "Source networks and devices: Any"
        in step_titled(anyone, "Allow the monitoring connections in").config
    )
    plain = render("sophos", make_site())
    assert not [s for s in plain.steps if "monitoring" in s.title.lower()]
