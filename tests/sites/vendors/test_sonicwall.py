"""The SonicWall renderer: one protocol per service object, the public object in the inbound rule."""

from __future__ import annotations

from tests.sites.vendors.example_sites import (
    MONITORING,
    load_example,
    make_site,
    render,
    step_titled,
)


def test_service_objects_one_per_protocol():
    config = step_titled(
        render("sonicwall", make_site(**MONITORING)), "Create the service objects"
    ).config
    assert 'service-object "obm-tcp-4403" TCP 4403 4403' in config
    assert 'service-object "obm-udp-4403" UDP 4403 4403' in config
    assert 'service-object "obm-tcp-4401" TCP 4401 4401' in config
    group = step_titled(
        render("sonicwall", make_site(**MONITORING)), "Group the forwarded services"
    ).config
    assert "obm-tcp-4403, obm-udp-4403, obm-tcp-4401" in group


def test_inbound_access_rule_names_the_public_object():
    rendered = render("sonicwall", load_example("monitoring"))
    rule = step_titled(rendered, "Allow the monitoring connections in").config
    assert "Destination: obm-public" in rule and "From: WAN    To: LAN" in rule
    assert "Source: obm-monitoring" in rule
    nat = step_titled(rendered, "Forward the monitoring ports").config
    assert "Original Destination: obm-public    Translated Destination: obm-host" in nat
    objects = step_titled(rendered, "Create the address objects").config
    assert 'address-object ipv4 "obm-public" host 192.0.2.1 zone WAN' in objects
    assert 'address-object ipv4 "obm-monitoring" host 198.51.100.7 zone WAN' in objects


def test_static_host_outbound_rule():
    rendered = render("sonicwall", make_site())
    objects = step_titled(rendered, "Create the address objects").config
    assert 'address-object ipv4 "obm-host" host 192.168.1.10 zone LAN' in objects
    assert (
        'address-object ipv4 "obm-datacenter" network 203.0.113.0 255.255.255.0 zone WAN' in objects
    )
    rule = step_titled(rendered, "Allow the backup connection out").config
    assert (
        'access-rule ipv4 from LAN to WAN action allow source address name "obm-host" '
        'service name "obm-tcp-4401" destination address name "obm-datacenter"'
    ) in rule
    assert not [s for s in rendered.steps if "monitoring" in s.title.lower()]


def test_range_is_a_range_object_and_dhcp_the_lan():
    ranged = render(
        "sonicwall",
        make_site(
            host_addressing="range",
            host_address=None,
            host_range_start="192.168.1.10",
            host_range_end="192.168.1.20",
        ),
    )
    assert (
        'address-object ipv4 "obm-hosts" range 192.168.1.10 192.168.1.20 zone LAN'
        in ranged.steps[0].config
    )
    assert "range_unsupported" not in {w.code for w in ranged.warnings}
    dhcp = render("sonicwall", make_site(host_addressing="dhcp", host_address=None))
    assert (
        'address-object ipv4 "obm-lan" network 192.168.1.0 255.255.255.0 zone LAN'
        in dhcp.steps[0].config
    )


def test_dynamic_public_address_uses_the_interface_object():
    rendered = render("sonicwall", make_site(**{**MONITORING, "public_address": None}))
    assert "obm-public" not in rendered.steps[0].config
    assert (
        "Destination: X1 IP" in step_titled(rendered, "Allow the monitoring connections in").config
    )
    assert (
        "Original Destination: X1 IP"
        in step_titled(rendered, "Forward the monitoring ports").config
    )
    named = render(
        "sonicwall",
        make_site(
            **{**MONITORING, "public_address": None}, inside_interface="X2", outside_interface="X3"
        ),
    )
    assert "Destination: X3 IP" in step_titled(named, "Allow the monitoring connections in").config
    zones = render(
        "sonicwall",
        make_site(
            **{**MONITORING, "public_address": None},
            inside_interface="LAN",
            outside_interface="WAN",
        ),
    )
    assert (
        "Destination: WAN Primary IP"
        in step_titled(zones, "Allow the monitoring connections in").config
    )


def test_several_monitoring_sources_are_a_group():
    several = render(
        "sonicwall",
        make_site(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]}),
    )
    objects = several.steps[0].config
    assert 'address-group ipv4 "obm-monitoring"' in objects
    assert (
        'address-object ipv4 "obm-monitoring-2" network 198.51.100.0 255.255.255.240 zone WAN'
        in objects
    )
