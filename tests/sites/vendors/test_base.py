"""The renderer framework: registry, numbering, capability warnings, config_file."""

from __future__ import annotations

import dataclasses
import sys
from ipaddress import IPv4Address

import pytest

from sites.description import GUIDE_PROFILE
from sites.policy import RuleKind, WarningCode, derive_rules
from sites.vendors import RENDERERS, get_renderer, renderers_for_site, vendor_choices
from sites.vendors.base import Renderer, Step, StepKind
from sites.vendors.formats import config_file, instructions_text
from tests.sites.vendors.example_sites import PORTAL_PROFILE, RANGE, make_site, render_for


class NoRangesRenderer(Renderer):
    slug = "no-ranges"
    name = "Test firewall without ranges"
    versions = "test"
    renderer_version = 1
    supports_ranges = False
    default_interfaces = ("inside", "outside")

    def build_steps(self, policy, site, profile):
        return [
            Step(
                title=f"Allow from {r.hosts.networks()}",
                gui_path="",
                config="x",
                config_language="text",
                reason="r",
                verify="v",
            )
            for r in policy.of_kind(RuleKind.ALLOW_OUTBOUND)
        ] + [
            Step(
                title="check",
                gui_path="",
                config="",
                config_language="text",
                reason="r",
                verify="v",
                kind=StepKind.CHECK,
            )
        ]


FIREWALLS = {
    "checkpoint",
    "cisco-asa",
    "cisco-ios",
    "edgeos",
    "fortigate",
    "generic",
    "iptables",
    "juniper-srx",
    "meraki",
    "mikrotik",
    "nftables",
    "opnsense",
    "paloalto",
    "pf",
    "pfsense",
    "sonicwall",
    "sophos",
    "watchguard",
}


def test_registry():
    assert set(RENDERERS) == FIREWALLS | {"windows"}
    assert get_renderer("iptables").slug == "iptables"
    with pytest.raises(KeyError, match="known"):
        get_renderer("acme")


def test_vendor_choices_are_firewalls_only():
    slugs = [slug for slug, _ in vendor_choices()]
    assert "windows" not in slugs
    assert set(slugs) == FIREWALLS


def test_renderers_for_site_adds_the_windows_host():
    site = make_site(vendor="iptables", host_os="windows")
    assert [r.slug for r in renderers_for_site(site)] == ["iptables", "windows"]
    # generic explains host rules itself
    assert [r.slug for r in renderers_for_site(make_site(host_os="windows"))] == ["generic"]
    assert [r.slug for r in renderers_for_site(make_site(vendor="nftables", host_os="linux"))] == [
        "nftables"
    ]


def test_every_renderer_declares_its_targets():
    for renderer in RENDERERS.values():
        assert renderer.name and renderer.versions and renderer.renderer_version >= 1
        doc = sys.modules[type(renderer).__module__].__doc__
        assert doc and "Targets" in doc


def test_range_on_a_vendor_without_ranges_warns():
    site = make_site(**RANGE)
    rendered = NoRangesRenderer().render(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)
    assert WarningCode.RANGE_UNSUPPORTED in {w.code for w in rendered.warnings}
    assert "192.168.1.10/31" in rendered.steps[0].title  # the exact CIDR cover
    for slug in ("iptables", "nftables", "generic"):
        warnings = (
            get_renderer(slug)
            .render(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)
            .warnings
        )
        assert WarningCode.RANGE_UNSUPPORTED not in {w.code for w in warnings}


def test_blank_interface_names_warn_where_the_output_names_them():
    site = make_site()
    rendered = NoRangesRenderer().render(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)
    assert WarningCode.INTERFACE_NAMES_ASSUMED in {w.code for w in rendered.warnings}
    named = make_site(inside_interface="eth1", outside_interface="eth0")
    rendered = NoRangesRenderer().render(derive_rules(named, GUIDE_PROFILE), named, GUIDE_PROFILE)
    assert not rendered.warnings


def test_steps_are_numbered_and_policy_warnings_carried():
    site = make_site(host_addressing="dhcp", host_address=None)
    rendered = NoRangesRenderer().render(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)
    assert [s.number for s in rendered.steps] == [1, 2]
    assert rendered.warnings[0].code is WarningCode.DHCP_WITHOUT_RESERVATION


def test_config_file_joins_configs_and_skips_empty_ones():
    site = make_site()
    rendered = NoRangesRenderer().render(derive_rules(site, GUIDE_PROFILE), site, GUIDE_PROFILE)
    assert config_file(rendered) == "x\n"
    assert "Step 2 [check] check" in instructions_text(rendered)


def test_rendering_is_deterministic():
    site = make_site(
        monitoring_enabled=True,
        monitoring_sources=["198.51.100.7"],
        public_address="192.0.2.1",
        host_os="windows",
    )
    policy = derive_rules(site, GUIDE_PROFILE)
    for renderer in RENDERERS.values():
        assert renderer.render(policy, site, GUIDE_PROFILE) == renderer.render(
            policy, site, GUIDE_PROFILE
        )


def test_the_outbound_step_claims_the_responder_is_allowed_only_where_it_is():
    """A lab's loopback responder is named, without the claim that the rules allow it."""
    lab = dataclasses.replace(PORTAL_PROFILE, probe_responder=IPv4Address("127.0.0.1"))
    (outbound, *_) = [s for s in render_for("iptables", lab).steps if s.kind is StepKind.VERIFY]
    assert "to the portal's probe responder 127.0.0.1 on TCP 4401" in outbound.reason
    assert "inside the datacenter" not in outbound.reason
