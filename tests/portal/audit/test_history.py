"""One object's history: every event of it within the scope, each with its before/after diff."""

import pytest

from portal.accounts.models import Role
from portal.audit import context
from portal.audit.selectors import Change, diff
from sites.services.sites import update_site
from tests.portal.audit.helpers import aware, client_for, make_event


def history_url(organisation, object_type, object_id) -> str:
    return f"/o/{organisation.slug}/audit/object/{object_type}/{object_id}/"


# --- the diff ----------------------------------------------------------------------------------


def test_diff_names_added_removed_and_changed_keys():
    result = diff(
        {"name": "HQ", "vendor": "pfsense", "old": 1},
        {"name": "HQ", "vendor": "fortigate", "new": True},
    )
    assert result.changes == (
        Change("vendor", "changed", "pfsense", "fortigate"),
        Change("new", "added", after="true"),
        Change("old", "removed", before="1"),
    )
    assert result.unchanged == ("name",)


def test_diff_goes_into_nested_objects_and_same_length_lists():
    before = {
        "monitoring": {"enabled": False, "sources": ["198.51.100.7/32"]},
        "host_interfaces": [{"address": "192.168.1.10"}, {"address": "10.0.0.5"}],
    }
    after = {
        "monitoring": {"enabled": True, "sources": ["198.51.100.7/32", "203.0.113.0/24"]},
        "host_interfaces": [{"address": "192.168.1.10"}, {"address": "10.0.0.6"}],
    }
    changes = {c.key: c for c in diff(before, after).changes}
    assert changes["monitoring.enabled"] == Change("monitoring.enabled", "changed", "false", "true")
    # Lists of another length are shown whole, compactly.
    assert changes["monitoring.sources"].after == '["198.51.100.7/32", "203.0.113.0/24"]'
    assert changes["host_interfaces[1].address"] == Change(
        "host_interfaces[1].address", "changed", "10.0.0.5", "10.0.0.6"
    )
    assert "host_interfaces[0]" in diff(before, after).unchanged


def test_diff_of_a_creation_and_of_a_deletion():
    created = diff(None, {"name": "HQ", "ports": [4401, 4403]})
    assert [(c.key, c.kind, c.after) for c in created.changes] == [
        ("name", "added", "HQ"),
        ("ports", "added", "[4401, 4403]"),
    ]
    deleted = diff({"name": "HQ"}, None)
    assert [(c.key, c.kind, c.before) for c in deleted.changes] == [("name", "removed", "HQ")]
    assert not diff(None, None)
    assert not diff({"a": 1}, {"a": 1})


def test_diff_tells_types_and_empty_strings_apart():
    changes = diff({"a": 1, "b": "", "c": None}, {"a": True, "b": None, "c": "x"}).changes
    assert [(c.key, c.before, c.after) for c in changes] == [
        ("a", "1", "true"),
        ("b", '""', "null"),
        ("c", "null", "x"),
    ]


def test_diff_of_values_that_are_not_objects():
    assert diff([1, 2], [1, 2, 3]).changes == (Change("(value)", "changed", "[1, 2]", "[1, 2, 3]"),)


def test_long_values_are_shortened_for_display_but_kept_whole():
    change = diff({"rules": "x" * 500}, {"rules": "y" * 500}).changes[0]
    assert change.is_shortened
    assert len(change.after_short) == 140 and change.after_short.endswith("…")
    assert change.after == "y" * 500


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def changed_site(world):
    """The customer admin renamed the site and turned on monitoring, from the web."""
    site = world.sites[world.customer.slug]
    admin = world.people[Role.CUSTOMER_ADMIN]
    context.begin(
        source="web",
        request_id="req-rename-0001",
        ip_address="203.0.113.9",
        user_id=admin.pk,
        actor_label=admin.username,
    )
    try:
        update_site(site=site, data={**site.description, "name": "Customer One Main office"})
    finally:
        context.clear_context()
    site.refresh_from_db()
    return site


@pytest.mark.django_db
def test_the_history_shows_each_event_with_its_diff_and_who(world, changed_site):
    make_event(
        organisation=world.customer,
        action="site.created",
        object_type="sites.site",
        object_id=str(changed_site.pk),
        object_repr="Customer One HQ",
        after={"name": "Customer One HQ"},
        at=aware(2025, 1, 2, 9, 0),
    )
    client = client_for(world.people[Role.SUPPORT])
    response = client.get(history_url(world.provider, "sites.site", changed_site.pk))
    assert response.status_code == 200
    events = response.context["events"]
    assert [e.action for e in events] == ["site.updated", "site.created"]
    html = response.content.decode()
    assert "<h1>Customer One Main office</h1>" in html  # the newest name
    assert "req-rename-0001" in html and "203.0.113.9" in html and "customer_admin" in html
    assert '<tr class="changed">' in html
    assert "<code>name</code>" in html
    assert "Customer One HQ" in html and "Customer One Main office" in html
    assert '<tr class="added">' in html  # the creation: every key added
    assert "Read-only view" in html
    assert f'href="/o/{world.customer.slug}/sites/{changed_site.pk}/"' in html
    assert f"/o/{world.customer.slug}/audit/site/{changed_site.pk}/" in html  # its timeline


@pytest.mark.django_db
def test_the_history_is_scoped(world, changed_site):
    path = ("sites.site", changed_site.pk)
    reseller = client_for(world.people[Role.RESELLER_ADMIN])
    assert reseller.get(history_url(world.reseller, *path)).status_code == 200
    customer = client_for(world.people[Role.CUSTOMER_ADMIN])
    assert customer.get(history_url(world.customer, *path)).status_code == 200
    # The same object seen from an organisation whose trail does not hold it: 404.
    support = client_for(world.people[Role.SUPPORT])
    assert support.get(history_url(world.sibling_customer, *path)).status_code == 404
    assert support.get(history_url(world.other_reseller, *path)).status_code == 404
    # Another reseller's client's object through one's own organisation: 404.
    theirs = world.sites[world.other_customer.slug].current_instruction_set
    assert (
        reseller.get(history_url(world.reseller, "sites.instructionset", theirs.pk)).status_code
        == 404
    )
    assert (
        support.get(history_url(world.provider, "sites.instructionset", theirs.pk)).status_code
        == 200
    )
    viewer = client_for(world.people[Role.CUSTOMER_VIEWER])
    assert viewer.get(history_url(world.customer, *path)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", [("sites.site", "999999"), ("no.such-type", "1"), ("sites.site", "not a number")]
)
def test_an_object_without_visible_events_is_a_404(world, path):
    client = client_for(world.people[Role.SUPPORT])
    assert client.get(history_url(world.provider, *path)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 200])
def test_history_query_count_does_not_grow_with_events(world, django_assert_max_num_queries, count):
    site = world.sites[world.customer.slug]
    for n in range(count):
        make_event(
            organisation=world.customer,
            action="site.updated",
            object_type="sites.site",
            object_id=str(site.pk),
            before={"n": n},
            after={"n": n + 1},
        )
    client = client_for(world.people[Role.CUSTOMER_ADMIN])
    client.get(f"/o/{world.customer.slug}/audit/")
    with django_assert_max_num_queries(8):
        response = client.get(history_url(world.customer, "sites.site", site.pk))
    assert response.status_code == 200
    assert len(response.context["events"]) == min(count, 50)
