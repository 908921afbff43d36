"""The generic renderer explains every rule in words, with the exact values."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.plans import plan_change, plan_removal
from sites.policy import RuleKind, derive_rules
from sites.vendors import RENDERERS
from tests.sites.vendors.example_sites import load_example, make_site, render


def test_every_rule_kind_is_explained():
    site = load_example("multihomed-windows")
    rendered = render("generic", site)
    text = "\n".join(s.config for s in rendered.steps)
    kinds = {r.kind for r in derive_rules(site, GUIDE_PROFILE).rules}
    assert kinds == set(RuleKind)
    for needle in (
        "Destination port: 4401",
        "TCP 4403: from 198.51.100.7/32",
        "UDP 4403",
        "198.51.100.7/32 via 192.168.1.1 on interface Ethernet (index 12)",
        "allow outgoing TCP 4401",
        "allow incoming UDP 4403",
    ):
        assert needle in text


def test_dhcp_and_range_sources_in_words():
    dhcp = render("generic", make_site(host_addressing="dhcp", host_address=None))
    assert "192.168.1.0/24 (the whole LAN" in dhcp.steps[0].config
    ranged = render(
        "generic",
        make_site(
            host_addressing="range",
            host_address=None,
            host_range_start="192.168.1.10",
            host_range_end="192.168.1.20",
        ),
    )
    assert "192.168.1.10 to 192.168.1.20" in ranged.steps[0].config
    assert "192.168.1.10/31" in ranged.steps[0].config


def test_inbound_step_says_which_address_to_name():
    step = [
        s
        for s in render("generic", load_example("monitoring")).steps
        if s.title == "Allow the forwarded monitoring ports in"
    ][0]
    assert (
        "private address 192.168.1.10" in step.config and "public address 192.0.2.1" in step.config
    )


def test_every_rule_is_named_by_its_marker_and_plans_say_what_to_edit_or_delete():
    site = load_example("multihomed-windows")
    renderer = RENDERERS["generic"]
    text = "\n".join(s.config for s in render("generic", site).steps)
    assert "Name (or comment): obm:server-room-multi-homed:out-tcp-4401" in text
    assert "(name or comment: obm:server-room-multi-homed:dnat-udp-4403)" in text
    assert "(name or comment: obm:server-room-multi-homed:host-in-tcp-4403)" in text
    assert (
        "note it as obm:server-room-multi-homed:route-203.0.113.0-24 (a route has no name)" in text
    )
    removal = plan_removal(site, GUIDE_PROFILE, renderers=[renderer])
    removed = "\n".join(s.config for s in removal.documents[0].steps)
    assert "Delete the port forward named obm:server-room-multi-homed:dnat-tcp-4403." in removed
    assert "Delete the route noted obm:server-room-multi-homed:route-198.51.100.7-32:" in removed
    assert "If you added it: delete the source NAT rule named" in removed
    moved = make_site(**{**site.to_dict(), "host_address": "192.168.1.20"})
    plan = plan_change(site, GUIDE_PROFILE, moved, GUIDE_PROFILE, renderers=[renderer])
    edited = "\n".join(s.config for s in plan.documents[0].steps if s.action == "change")
    assert (
        "Edit the rule whose name or comment ends in :out-tcp-4401 so that it reads "
        "(name or comment: obm:server-room-multi-homed:out-tcp-4401):"
    ) in edited
    assert "Source: 192.168.1.20 (the backup host)" in edited
    assert not [s for s in plan.documents[0].steps if s.action == "remove"]  # edited in place
