"""The plan engine: what a change adds, changes and removes, and in which order (with the
iptables renderer, whose items are one rule line each, and with made-up items for the order)."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Network

import pytest

from sites.description import GUIDE_PROFILE
from sites.plans import ADD, CHANGE, REMOVE, PlansUnavailable, diff_items, plan_change, plan_removal
from sites.plans.engine import plan_items
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.generic import GenericRenderer
from sites.vendors.managed import Exposure, ManagedItem
from tests.sites.vendors.example_sites import MONITORING, make_site

IPTABLES = get_renderer("iptables")
V1 = make_site(vendor="iptables", **MONITORING)
WIDER = dataclasses.replace(
    GUIDE_PROFILE,
    datacenter_networks=(*GUIDE_PROFILE.datacenter_networks, IPv4Network("198.51.100.0/24")),
)


def actions(plan) -> list[tuple[str, str]]:
    return [(s.action, s.title) for s in plan.documents[0].steps if s.action]


def item(key: str, exposure: Exposure, text: str = "", *, uses=(), update="") -> ManagedItem:
    return ManagedItem(
        key=key,
        marker=f"obm:t:{key}",
        title=key,
        exposure=exposure,
        create=f"create {key} {text}",
        remove=f"remove {key}",
        update=update and f"update {key} {update}",
        uses=uses,
    )


def test_nothing_changed_is_an_empty_plan_without_checks():
    plan = plan_change(V1, GUIDE_PROFILE, V1, GUIDE_PROFILE)
    assert plan.is_empty
    assert plan.documents[0].steps == ()
    assert plan.changes == ()


def test_a_datacenter_network_added_only_adds_its_rules_with_the_reason():
    plan = plan_change(V1, GUIDE_PROFILE, V1, WIDER)
    assert plan.changes == ("The provider added 198.51.100.0/24 to the datacenter networks.",)
    changes = [s for s in plan.documents[0].steps if s.action]
    assert [s.action for s in changes] == [ADD, ADD]  # the masquerade, then the accept
    config = "".join(s.config for s in changes)
    assert config.count("198.51.100.0/24") == 2 and "203.0.113.0/24" not in config
    assert "-D " not in config
    assert all("198.51.100.0/24 to the datacenter networks" in s.reason for s in changes)
    # The plan ends with the checks of the new version.
    assert [s.kind for s in plan.documents[0].steps[len(changes) :]] == [StepKind.VERIFY] * 2


def test_new_monitoring_source_closes_the_old_access_before_opening_the_new():
    v2 = make_site(vendor="iptables", **{**MONITORING, "monitoring_sources": ["198.51.100.9/32"]})
    plan = plan_change(V1, GUIDE_PROFILE, v2, GUIDE_PROFILE)
    steps = [s for s in plan.documents[0].steps if s.action]
    assert [s.action for s in steps] == [REMOVE, ADD]
    assert "198.51.100.7" in steps[0].config and "198.51.100.9" not in steps[0].config
    assert "198.51.100.9" in steps[1].config and "198.51.100.7" not in steps[1].config
    # The same ports stay forwarded: nothing is proven closed.
    assert not any(p.expect == "closed" for s in plan.documents[0].steps for p in s.probes)


def test_moved_host_adds_the_new_outbound_rule_before_removing_the_old():
    v2 = make_site(vendor="iptables", host_address="192.168.1.20")
    v1 = make_site(vendor="iptables")
    titles = [t for _, t in actions(plan_change(v1, GUIDE_PROFILE, v2, GUIDE_PROFILE))]
    assert titles.index("Add the new backup rules") < titles.index(
        "Remove the backup rules no longer needed"
    )
    assert titles[-1] == "Remove the objects and translations no longer used"


def test_monitoring_off_removes_the_access_and_proves_the_ports_closed():
    plan = plan_removal(V1, GUIDE_PROFILE, scope="monitoring")
    steps = plan.documents[0].steps
    assert [s.action for s in steps if s.action] == [REMOVE]
    assert "-D PREROUTING" in steps[0].config and "-D FORWARD" in steps[0].config
    assert "MASQUERADE" not in steps[0].config  # the backup keeps its rules
    closed = [p for s in steps for p in s.probes if p.expect == "closed"]
    assert {(p.protocol, p.port) for p in closed} == {("tcp", 4403), ("udp", 4403), ("tcp", 4401)}
    assert plan.changes == ("Remote monitoring is being removed.",)


def test_decommission_removes_every_item_it_created_and_nothing_else():
    plan = plan_removal(V1, GUIDE_PROFILE)
    items = IPTABLES.managed_items(derive_rules(V1, GUIDE_PROFILE), V1, GUIDE_PROFILE)
    removed = "".join(s.config for s in plan.documents[0].steps)
    for managed in items:
        assert removed.count(managed.remove) == 1, managed.key
    assert "-I " not in removed and "-A " not in removed
    assert plan.documents[0].steps[-1].probes[0].expect == "closed"


def test_unknown_scope_is_refused():
    with pytest.raises(ValueError, match="scope"):
        plan_removal(V1, GUIDE_PROFILE, scope="some")


class UnmarkedRenderer(GenericRenderer):
    """A renderer as they were before markers: no ``managed_items``."""

    slug = "unmarked"
    name = "Unmarked firewall"
    markers_since = None
    managed_items = GenericRenderer.__mro__[1].managed_items  # the base's: plans unavailable


def test_a_renderer_without_markers_cannot_plan():
    with pytest.raises(PlansUnavailable, match="Unmarked firewall"):
        plan_removal(V1, GUIDE_PROFILE, renderers=[UnmarkedRenderer()])


def test_a_changed_item_with_in_place_text_is_updated_not_recreated():
    old = [item("hosts", Exposure.SUPPORT, "10.0.0.1")]
    new = [item("hosts", Exposure.SUPPORT, "10.0.0.2", update="10.0.0.2")]
    assert [(c.action, c.old, c.new) for c in diff_items(old, new)] == [(CHANGE, old[0], new[0])]
    new_without = [item("hosts", Exposure.SUPPORT, "10.0.0.2")]
    assert [c.action for c in diff_items(old, new_without)] == [REMOVE, ADD]


def test_objects_are_created_before_and_removed_after_what_uses_them():
    group = item("group", Exposure.SUPPORT, uses=("member",))
    member = item("member", Exposure.SUPPORT)
    rule = item("rule", Exposure.OUTBOUND, uses=("group",))
    created = plan_items(IPTABLES, [], [group, member, rule], ())
    assert [s.title for s in created] == [
        "Create the objects and translations the new rules use",
        "Add the new backup rules",
    ]
    first = created[0].config
    assert first.index("create member") < first.index("create group")
    removed = plan_items(IPTABLES, [group, member, rule], [], ())
    assert removed[0].title == "Remove the backup rules"  # nothing of them remains
    last = removed[1].config
    assert last.index("remove group") < last.index("remove member")


def test_a_removal_step_says_whether_anything_of_its_kind_remains():
    """A removal step says "no longer needed" and "the new rules are in place" only when new rules are."""
    old_rule = item("old-rule", Exposure.OUTBOUND, "10.0.0.1")
    new_rule = item("new-rule", Exposure.OUTBOUND, "10.0.0.2")
    replaced = plan_items(IPTABLES, [old_rule], [new_rule], ())
    assert [s.title for s in replaced] == [
        "Add the new backup rules",
        "Remove the backup rules no longer needed",
    ]
    assert "The new rules are in place" in replaced[1].reason
    gone = plan_items(IPTABLES, [old_rule], [], ())
    assert [s.title for s in gone] == ["Remove the backup rules"]
    assert "new rules" not in gone[0].reason and "Backups from this site" in gone[0].reason
    added = plan_items(IPTABLES, [old_rule], [old_rule, new_rule], ())
    assert [s.title for s in added] == ["Add the new backup rules"]
    assert "old ones go" not in added[0].reason  # nothing goes
    assert "old ones go" in replaced[0].reason
    inbound = item("forward", Exposure.INBOUND, "4403")
    opened = plan_items(IPTABLES, [], [inbound], ())
    assert "old access is gone" not in opened[0].reason
    closed = plan_items(IPTABLES, [inbound], [], ())
    assert closed[0].title == "Remove the monitoring access"
    assert "new access" not in closed[0].reason


def test_a_renamed_site_recreates_items_rather_than_updating_them_in_place():
    """An in-place update finds the item by its new marker, which the old one does not carry."""
    old = item("hosts", Exposure.SUPPORT, "10.0.0.1")
    new = dataclasses.replace(
        item("hosts", Exposure.SUPPORT, "10.0.0.1", update="10.0.0.1"), marker="obm:new:hosts"
    )
    new = dataclasses.replace(new, create=new.create + " obm:new:hosts")
    assert [c.action for c in diff_items([old], [new])] == [REMOVE, ADD]
