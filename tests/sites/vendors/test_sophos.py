"""The Sophos renderer: one TCP/UDP service, the private host in the inbound firewall rule, and
markers as object and rule names."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.managed import Exposure
from tests.sites.plans.test_every_vendor import WIDER
from tests.sites.vendors.example_sites import (
    MONITORING,
    load_example,
    make_site,
    render,
    step_titled,
)

M = "obm:test-site:"
H = "obm:head-office-monitored:"


def test_dnat_uses_public_address_and_inbound_rule_the_private_host():
    rendered = render("sophos", load_example("monitoring"))
    dnat = step_titled(rendered, "Forward the monitoring ports").config
    assert f"Original destination: {H}public    Translated destination (DNAT): {H}host" in dnat
    assert f"Original source: {H}mon    Translated source (SNAT): Original" in dnat
    rule = step_titled(rendered, "Allow the monitoring connections in").config
    assert "Destination zones: LAN" in rule and f"Destination networks: {H}host" in rule
    assert f"{H}public" not in rule
    hosts = step_titled(rendered, "Create the IP hosts").config
    assert f"Name: {H}public | IP version: IPv4 | Type: IP | IP address: 192.0.2.1" in hosts


def test_outbound_rule():
    rule = step_titled(render("sophos", make_site()), "Allow the backup connection out").config
    for line in (
        "Source zones: LAN",
        f"Rule name: {M}out-tcp-4401",
        f"Source networks and devices: {M}host",
        "Destination zones: WAN",
        f"Destination networks: {M}dc",
        f"Services: {M}svc-tcp-4401",
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
        f"Name: {M}lan | IP version: IPv4 | Type: Network | IP address: 192.168.1.0"
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
    assert f"{M}public" not in rendered.steps[0].config


def test_monitoring_from_any_and_no_monitoring():
    anyone = render("sophos", make_site(**{**MONITORING, "monitoring_sources": []}))
    assert (
        "Source networks and devices: Any"
        in step_titled(anyone, "Allow the monitoring connections in").config
    )
    plain = render("sophos", make_site())
    assert not [s for s in plain.steps if "monitoring" in s.title.lower()]


def items(profile=GUIDE_PROFILE, **changes):
    description = make_site(vendor="sophos", **changes)
    renderer = get_renderer("sophos")
    policy = derive_rules(description, profile)
    return {item.key: item for item in renderer.managed_items(policy, description, profile)}


def test_items_are_named_by_their_marker_and_ordered_by_use():
    marked = items(**MONITORING)
    assert list(marked) == [
        "host",
        "dc-203.0.113.0-24",
        "dc",
        "public",
        "mon-198.51.100.7-32",
        "mon",
        "svc-tcp-4401",
        "svc-monitoring",
        "out-tcp-4401",
        "dnat-monitoring",
        "in-monitoring",
    ]
    assert marked["out-tcp-4401"].exposure is Exposure.OUTBOUND
    assert {marked[k].exposure for k in ("dnat-monitoring", "in-monitoring")} == {Exposure.INBOUND}
    assert marked["dnat-monitoring"].uses == ("mon", "public", "host", "svc-monitoring")
    assert marked["dc"].uses == ("dc-203.0.113.0-24",)
    assert marked["in-monitoring"].remove == (
        f"Rules and policies › Firewall rules: delete the firewall rule named {M}in-monitoring."
    )
    assert "linked NAT rule" in marked["out-tcp-4401"].remove


def test_a_new_datacenter_network_is_one_ip_host_and_a_group_edit():
    before, after = items(), items(WIDER)
    assert set(after) - set(before) == {"dc-198.51.100.0-24"}
    assert [k for k in before if after[k] != before[k]] == ["dc"]
    assert after["dc"].update.startswith(
        f"Hosts and services › IP host group: edit the IP host group named {M}dc"
    )
    assert (
        f"members (exactly these): {M}dc-203.0.113.0-24, {M}dc-198.51.100.0-24"
        in after["dc"].update
    )
