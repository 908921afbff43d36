"""The WatchGuard renderer: one template for TCP+UDP, the SNAT action in the inbound policy."""

from __future__ import annotations

from tests.sites.vendors.example_sites import (
    MONITORING,
    load_example,
    make_site,
    render,
    step_titled,
)


def test_inbound_policy_names_the_snat_action():
    rendered = render("watchguard", load_example("monitoring"))
    snat = step_titled(rendered, "Create the static NAT action").config
    assert "Type: Static NAT" in snat and "External IP address: 192.0.2.1" in snat
    assert "Internal IP address: 192.168.1.10" in snat
    policy = step_titled(rendered, "Allow the monitoring connections in").config
    assert "To: remove Any-Trusted, Add SNAT › OBM-Monitoring-SNAT" in policy
    assert "Add Other › Host IP 198.51.100.7" in policy


def test_a_public_lan_gets_its_own_dynamic_nat_entry():
    public_lan = render(
        "watchguard",
        make_site(
            lan_network="100.64.1.0/24", lan_gateway="100.64.1.1", host_address="100.64.1.10"
        ),
    )
    assert (
        "Add an entry From: Network IP 100.64.1.0/24, To: Any-External"
        in step_titled(public_lan, "Check that dynamic NAT covers").config
    )


def test_outbound_policy_sources():
    assert (
        "From: remove Any-Trusted, Add Other › Host IP 192.168.1.10"
        in step_titled(render("watchguard", make_site()), "Allow the backup connection out").config
    )
    ranged = render(
        "watchguard",
        make_site(
            host_addressing="range",
            host_address=None,
            host_range_start="192.168.1.10",
            host_range_end="192.168.1.20",
        ),
    )
    assert (
        "Host Range 192.168.1.10 - 192.168.1.20"
        in step_titled(ranged, "Allow the backup connection out").config
    )
    dhcp = render("watchguard", make_site(host_addressing="dhcp", host_address=None))
    assert (
        "Network IP 192.168.1.0/24" in step_titled(dhcp, "Allow the backup connection out").config
    )


def test_dynamic_public_address_uses_the_interface():
    rendered = render("watchguard", make_site(**{**MONITORING, "public_address": None}))
    snat = step_titled(rendered, "Create the static NAT action").config
    assert "Interface: External (its own address; no fixed IP)" in snat and "192.0.2.1" not in snat
