"""The SonicWall renderer: one protocol per service object, the public object in the inbound rule,
markers as object names and rule comments, removal by CLI or by the rule's comment."""

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


def items(profile=GUIDE_PROFILE, **changes):
    description = make_site(vendor="sonicwall", **changes)
    renderer = get_renderer("sonicwall")
    return {
        item.key: item
        for item in renderer.managed_items(derive_rules(description, profile), description, profile)
    }


def test_service_objects_one_per_protocol():
    config = step_titled(
        render("sonicwall", make_site(**MONITORING)), "Create the service objects"
    ).config
    assert f'service-object "{M}svc-tcp-4403" TCP 4403 4403' in config
    assert f'service-object "{M}svc-udp-4403" UDP 4403 4403' in config
    assert f'service-object "{M}svc-tcp-4401" TCP 4401 4401' in config
    group = step_titled(
        render("sonicwall", make_site(**MONITORING)), "Group the forwarded services"
    ).config
    assert f"{M}svc-tcp-4403, {M}svc-udp-4403, {M}svc-tcp-4401" in group


def test_inbound_access_rule_names_the_public_object():
    rendered = render("sonicwall", load_example("monitoring"))
    site = "obm:head-office-monitored:"
    rule = step_titled(rendered, "Allow the monitoring connections in").config
    assert f"Destination: {site}public" in rule and "From: WAN    To: LAN" in rule
    assert f"Source: {site}mon-198.51.100.7-32" in rule
    nat = step_titled(rendered, "Forward the monitoring ports").config
    assert f"Original Destination: {site}public    Translated Destination: {site}host" in nat
    objects = step_titled(rendered, "Create the address objects").config
    assert f'address-object ipv4 "{site}public" host 192.0.2.1 zone WAN' in objects
    assert f'address-object ipv4 "{site}mon-198.51.100.7-32" host 198.51.100.7 zone WAN' in objects


def test_static_host_outbound_rule():
    rendered = render("sonicwall", make_site())
    objects = step_titled(rendered, "Create the address objects").config
    assert f'address-object ipv4 "{M}host" host 192.168.1.10 zone LAN' in objects
    assert (
        f'address-object ipv4 "{M}dc-203.0.113.0-24" network 203.0.113.0 255.255.255.0 zone WAN'
        in objects
    )
    rule = step_titled(rendered, "Allow the backup connection out").config.splitlines()
    assert rule[1:4] == [
        f'access-rule ipv4 from LAN to WAN action allow source address name "{M}host" '
        f'service name "{M}svc-tcp-4401" destination address name "{M}dc-203.0.113.0-24"',
        f'comment "{M}out-tcp-4401-to-203.0.113.0-24 SecuriData Online Backup"',
        "exit",
    ]
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
        f'address-object ipv4 "{M}hosts" range 192.168.1.10 192.168.1.20 zone LAN'
        in ranged.steps[0].config
    )
    assert "range_unsupported" not in {w.code for w in ranged.warnings}
    dhcp = render("sonicwall", make_site(host_addressing="dhcp", host_address=None))
    assert (
        f'address-object ipv4 "{M}lan" network 192.168.1.0 255.255.255.0 zone LAN'
        in dhcp.steps[0].config
    )


def test_dynamic_public_address_uses_the_interface_object():
    rendered = render("sonicwall", make_site(**{**MONITORING, "public_address": None}))
    assert f"{M}public" not in rendered.steps[0].config
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


def test_several_monitoring_sources_are_one_object_and_rule_pair_each():
    marked = items(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]})
    assert [key for key in marked if "monitoring" in key or key.startswith("mon-")] == [
        "mon-198.51.100.7-32",
        "mon-198.51.100.0-28",
        "svc-monitoring",
        "dnat-monitoring-from-198.51.100.7-32",
        "in-monitoring-from-198.51.100.7-32",
        "dnat-monitoring-from-198.51.100.0-28",
        "in-monitoring-from-198.51.100.0-28",
    ]
    assert marked["mon-198.51.100.0-28"].create == (
        f'address-object ipv4 "{M}mon-198.51.100.0-28" network 198.51.100.0 255.255.255.240 '
        "zone WAN"
    )


def test_a_new_datacenter_network_adds_its_own_object_and_rule_and_renames_nothing():
    before, after = items(), items(WIDER)
    assert set(after) - set(before) == {
        "dc-198.51.100.0-24",
        "out-tcp-4401-to-198.51.100.0-24",
        "snat-tcp-4401-to-198.51.100.0-24",
    }
    assert all(after[key] == before[key] for key in before)
    rule = after["out-tcp-4401-to-198.51.100.0-24"]
    assert rule.uses == ("host", "svc-tcp-4401", "dc-198.51.100.0-24")


def test_removal_is_cli_for_cli_items_and_the_comment_for_gui_items():
    marked = items(**MONITORING)
    out = marked["out-tcp-4401-to-203.0.113.0-24"]
    assert out.exposure is Exposure.OUTBOUND and out.section == "cli" and not out.update
    assert out.remove == (
        f'no access-rule ipv4 from LAN to WAN action allow source address name "{M}host" '
        f'service name "{M}svc-tcp-4401" destination address name "{M}dc-203.0.113.0-24"'
    )
    assert marked["host"].remove == f'no address-object ipv4 "{M}host"'
    assert marked["host"].update == marked["host"].create
    assert marked["svc-udp-4403"].remove == f'no service-object "{M}svc-udp-4403"'
    nat = marked["dnat-monitoring-from-198.51.100.7-32"]
    assert nat.exposure is Exposure.INBOUND and nat.section == ""
    assert nat.remove == (
        "Policy › Rules and Policies › NAT Rules: delete the NAT rule whose Comment is "
        f"{M}dnat-monitoring-from-198.51.100.7-32."
    )
    assert nat.update.startswith("Policy › Rules and Policies › NAT Rules: edit the NAT rule")
    assert set(nat.uses) == {"mon-198.51.100.7-32", "public", "host", "svc-monitoring"}
    assert marked["snat-tcp-4401-to-203.0.113.0-24"].remove.startswith("If you added it: ")
    renderer = get_renderer("sonicwall")
    assert renderer.plan_section("cli", "no x\n") == "configure\nno x\ncommit\nend\n"
