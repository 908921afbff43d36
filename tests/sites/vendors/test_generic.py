"""The generic renderer explains every rule in words, with the exact values."""

from __future__ import annotations

from sites.description import GUIDE_PROFILE
from sites.policy import RuleKind, derive_rules
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
