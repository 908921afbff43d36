"""Every renderer with markers, on every kind of change: golden change and removal plans, and the
properties every vendor's items must have.

Golden files live in ``golden/<vendor>/<change>.txt`` (``instructions_text`` of the plan's
documents). After an intended change, regenerate and review them:

    UPDATE_GOLDEN=1 python -m pytest tests/sites/plans/test_every_vendor.py
"""

from __future__ import annotations

import dataclasses
import os
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from sites.description import GUIDE_PROFILE, ProfileSpec, SiteDescription
from sites.plans import diff_items, plan_change, plan_removal
from sites.policy import derive_rules
from sites.vendors import RENDERERS
from sites.vendors.formats import instructions_text
from tests.sites.vendors.example_sites import (
    CHECK_SOURCE,
    MONITORING,
    PORTAL_PROFILE,
    load_example,
    make_site,
)

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
MARKED = sorted(slug for slug, r in RENDERERS.items() if r.markers_since is not None)
WIDER = dataclasses.replace(
    GUIDE_PROFILE,
    datacenter_networks=(*GUIDE_PROFILE.datacenter_networks, IPv4Network("198.51.100.0/24")),
)


# A renderer of the backup host (Windows), not of a firewall, plans on a multi-homed Windows host
# behind a firewall (docs/examples/multihomed-windows.json); for it the host moves to a new
# network card, which changes its routes.
_HOST = load_example("multihomed-windows").to_dict()
WINDOWS_HOST: dict = {
    "vendor": "iptables",
    **{k: _HOST[k] for k in ("host_os", "multi_homed", "host_interfaces", "firewall_interface")},
}
HOST_MOVED_TO_A_NEW_CARD: dict = {
    "host_interfaces": [
        {
            **_HOST["host_interfaces"][0],
            "name": "Ethernet 3",
            "index": 17,
            "address": "192.168.1.20",
        },
        *_HOST["host_interfaces"][1:],
    ],
    "firewall_interface": "Ethernet 3",
}


def site(slug: str, **changes) -> SiteDescription:
    if not RENDERERS[slug].describes_firewall:
        return make_site(**{**MONITORING, **WINDOWS_HOST, **changes})
    return make_site(vendor=slug, **{**MONITORING, **changes})


MOVED_CHECK = IPv4Address("198.51.100.201")
MOVED_CHECK_PROFILE = dataclasses.replace(PORTAL_PROFILE, probe_check_source=MOVED_CHECK)


# (old site changes, old profile, new site changes, new profile) per kind of change.
CHANGES: dict[str, tuple[dict, ProfileSpec, dict, ProfileSpec]] = {
    "monitoring-source-changed": (
        {},
        GUIDE_PROFILE,
        {"monitoring_sources": ["198.51.100.9/32"]},
        GUIDE_PROFILE,
    ),
    "host-moved": ({}, GUIDE_PROFILE, {"host_address": "192.168.1.20"}, GUIDE_PROFILE),
    "monitoring-turned-off": (
        {},
        GUIDE_PROFILE,
        {"monitoring_enabled": False, "monitoring_sources": []},
        GUIDE_PROFILE,
    ),
    "monitoring-turned-on": (
        {"monitoring_enabled": False, "monitoring_sources": []},
        GUIDE_PROFILE,
        {},
        GUIDE_PROFILE,
    ),
    "datacenter-network-added": ({}, GUIDE_PROFILE, {}, WIDER),
    # The portal now names where its inbound checks come from (PROBE_CHECK_SOURCE), or a version
    # made before it did is followed by one that does: the restricted monitoring lets it in.
    "check-source-added": ({}, GUIDE_PROFILE, {}, PORTAL_PROFILE),
    # The portal's inbound checks move to a new address (PROBE_CHECK_SOURCE changed): the old
    # address's items go and the new one's come, named as the portal's check.
    "check-source-changed": ({}, PORTAL_PROFILE, {}, MOVED_CHECK_PROFILE),
}
REMOVALS = ("all", "monitoring")
# Removals start from the profile as the portal serves it, so the portal's check source, one of
# the monitoring sources, is removed with them.
REMOVAL_PROFILE = PORTAL_PROFILE


def plan_text(plan) -> str:
    return "".join(instructions_text(document) for document in plan.documents)


def check_golden(slug: str, name: str, text: str) -> None:
    golden = GOLDEN_DIR / slug / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}; run with UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text()


@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("slug", MARKED)
def test_change_plan_matches_golden_file(slug, change):
    old, old_profile, new, new_profile = CHANGES[change]
    renderer = RENDERERS[slug]
    if change == "host-moved" and not renderer.describes_firewall:
        new = {**new, **HOST_MOVED_TO_A_NEW_CARD}
    plan = plan_change(
        site(slug, **old), old_profile, site(slug, **new), new_profile, renderers=[renderer]
    )
    assert not plan.is_empty
    check_golden(slug, change, plan_text(plan))


@pytest.mark.parametrize("scope", REMOVALS)
@pytest.mark.parametrize("slug", MARKED)
def test_removal_plan_matches_golden_file(slug, scope):
    plan = plan_removal(site(slug), REMOVAL_PROFILE, scope=scope, renderers=[RENDERERS[slug]])
    assert not plan.is_empty
    check_golden(slug, f"remove-{scope}", plan_text(plan))


@pytest.mark.parametrize("slug", MARKED)
def test_items_have_unique_keys_markers_and_known_uses(slug):
    renderer = RENDERERS[slug]
    for description in (site(slug), site(slug, monitoring_enabled=False, monitoring_sources=[])):
        items = renderer.managed_items(derive_rules(description, WIDER), description, WIDER)
        keys = [item.key for item in items]
        assert len(keys) == len(set(keys)), keys
        for item in items:
            assert item.marker == f"obm:test-site:{item.key}"
            assert item.create.strip() and item.remove.strip(), item.key
            assert set(item.uses) <= set(keys), (item.key, item.uses)


@pytest.mark.parametrize("slug", MARKED)
def test_the_complete_instructions_carry_every_marker(slug):
    renderer = RENDERERS[slug]
    description = site(slug)
    policy = derive_rules(description, WIDER)
    complete = renderer.render(policy, description, WIDER)
    text = "\n".join(step.config for step in complete.steps)
    for item in renderer.managed_items(policy, description, WIDER):
        assert item.marker in text, (slug, item.key)


@pytest.mark.parametrize("slug", MARKED)
def test_the_same_version_needs_no_plan(slug):
    description = site(slug)
    plan = plan_change(
        description, GUIDE_PROFILE, description, GUIDE_PROFILE, renderers=[RENDERERS[slug]]
    )
    assert plan.is_empty


@pytest.mark.parametrize("slug", MARKED)
def test_decommission_removes_each_item_once(slug):
    renderer = RENDERERS[slug]
    description = site(slug)
    items = renderer.managed_items(
        derive_rules(description, GUIDE_PROFILE), description, GUIDE_PROFILE
    )
    plan = plan_removal(description, GUIDE_PROFILE, renderers=[renderer])
    removed = "\n".join(step.config for step in plan.documents[0].steps)
    for item in items:
        assert item.remove.strip() in removed, item.key


@pytest.mark.parametrize("slug", MARKED)
def test_the_portal_check_source_is_managed_and_removed_with_monitoring(slug):
    """The portal's check source (#13) is in items like any monitoring source, so the plans
    that remove monitoring remove it too."""
    renderer = RENDERERS[slug]
    description = site(slug)
    items = renderer.managed_items(
        derive_rules(description, PORTAL_PROFILE), description, PORTAL_PROFILE
    )
    naming = [item for item in items if str(CHECK_SOURCE) in item.create]
    assert naming, slug
    plan = plan_removal(description, PORTAL_PROFILE, scope="monitoring", renderers=[renderer])
    removed = "\n".join(step.config for step in plan.documents[0].steps)
    for item in naming:
        assert item.remove.strip() in removed, item.key


def test_every_renderer_has_markers():
    """Change and removal plans exist for every target (issue #12: all 19)."""
    assert sorted(RENDERERS) == MARKED
    assert len(MARKED) == 19


@pytest.mark.parametrize("slug", MARKED)
def test_a_renamed_site_updates_in_place_only_what_is_found_without_its_marker(slug):
    """An update text that names the item by its marker cannot find a renamed site's old item
    (which carries the old name): such items are removed and created again; only those whose
    update finds them otherwise (``renames_in_place``) are updated."""
    renderer = RENDERERS[slug]
    old = site(slug)
    renamed = dataclasses.replace(old, name="Renamed site")
    changes = diff_items(
        renderer.managed_items(derive_rules(old, GUIDE_PROFILE), old, GUIDE_PROFILE),
        renderer.managed_items(derive_rules(renamed, GUIDE_PROFILE), renamed, GUIDE_PROFILE),
    )
    assert changes  # every marker changed
    for change in changes:
        if change.action == "change":
            assert change.new is not None and change.new.renames_in_place, change.item.key
