"""The WatchGuard renderer: one template for TCP+UDP, the SNAT action in the inbound policy, and
markers in every Description."""

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


def test_inbound_policy_names_the_snat_action():
    rendered = render("watchguard", load_example("monitoring"))
    snat = step_titled(rendered, "Create the static NAT action").config
    assert "Type: Static NAT" in snat and "External IP address: 192.0.2.1" in snat
    assert "Internal IP address: 192.168.1.10" in snat
    policy = step_titled(rendered, "Allow the monitoring connections in").config
    assert "To: only the SNAT action OBM-Monitoring-SNAT (Add SNAT; remove Any-Trusted)" in policy
    assert "From: only Host IP 198.51.100.7 (Add Other; remove Any-External)" in policy


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
        "From: only Host IP 192.168.1.10 (Add Other; remove Any-Trusted)"
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


def items(profile=GUIDE_PROFILE, **changes):
    description = make_site(vendor="watchguard", **changes)
    renderer = get_renderer("watchguard")
    policy = derive_rules(description, profile)
    return {item.key: item for item in renderer.managed_items(policy, description, profile)}


def test_items_carry_the_marker_in_their_description():
    marked = items(**MONITORING)
    assert list(marked) == [
        "tpl-backup",
        "tpl-monitoring",
        "out-backup",
        "snat-monitoring",
        "in-monitoring",
    ]
    for item in marked.values():
        assert f"Description: {item.marker} SecuriData Online Backup: " in item.create
    assert marked["out-backup"].exposure is Exposure.OUTBOUND
    assert marked["in-monitoring"].exposure is Exposure.INBOUND
    assert marked["in-monitoring"].uses == ("tpl-monitoring", "snat-monitoring")
    assert marked["in-monitoring"].remove == (
        "Firewall › Firewall Policies: delete the policy OBM-Monitoring-In whose Description "
        "begins with obm:test-site:in-monitoring."
    )
    assert "Fireware's own Outgoing policy, if it is there, stays" in marked["out-backup"].remove


def test_a_new_datacenter_network_edits_the_outbound_policy_in_place():
    before, after = items(), items(WIDER)
    assert [key for key in after if after[key] != before[key]] == ["out-backup"]
    assert (
        "To: only Network IP 203.0.113.0/24, Network IP 198.51.100.0/24 (Add Other; remove "
        "Any-External)" in after["out-backup"].update
    )
