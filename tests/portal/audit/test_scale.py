"""The audit trail at any size: counts stop at a cap and say so (page, API), and on PostgreSQL
each search reads an index that ends in the events' time, newest first (``EXPLAIN``)."""

import pytest
from django.db import connection

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from portal.audit import selectors
from portal.audit.filtersets import AuditEventFilterSet
from portal.audit.models import AuditEvent
from portal.audit.selectors import NEWEST_FIRST, CappedPaginator, events_for
from portal.audit.services import reseller_of
from tests.factories import UserFactory
from tests.portal.audit.helpers import client_for

pytestmark = pytest.mark.django_db


def events(world, count, **fields):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organisation=world.customer,
            organisation_name=world.customer.name,
            reseller_id=reseller_of(world.customer),
            action=fields.get("action", "site.updated"),
            actor_kind="person",
            actor_label=fields.get("actor_label", "someone"),
            source=fields.get("source", "web"),
            object_type="sites.site",
            object_id=str(n % 3),
        )
        for n in range(count)
    )


def test_a_count_past_the_cap_says_more_than_and_the_pages_stop_there(world, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 60)
    events(world, 130)
    support = client_for(world.people[Role.SUPPORT])
    page = support.get(f"/o/{world.provider.slug}/audit/")
    paginator = page.context["page_obj"].paginator
    assert paginator.capped and paginator.count == 61 and paginator.num_pages == 1
    assert "More than 60" in page.content.decode()
    assert "narrow the dates" in page.content.decode()
    # Under the cap the count is exact.
    narrow = support.get(f"/o/{world.provider.slug}/audit/", {"action": "auth.login"})
    assert not narrow.context["page_obj"].paginator.capped

    api = support.get(f"/api/o/{world.provider.slug}/audit/")
    assert api.status_code == 200
    assert api.json()["count"] == 61 and api.json()["count_is_capped"] is True
    exact = support.get(f"/api/o/{world.provider.slug}/audit/", {"action": "auth.login"})
    assert exact.json()["count_is_capped"] is False


def test_the_action_options_come_from_the_newest_events(world, monkeypatch):
    monkeypatch.setattr(selectors, "ACTIONS_WINDOW", 5)
    events(world, 3, action="site.created")
    events(world, 5, action="probe.proven")
    support = client_for(world.people[Role.SUPPORT])
    html = support.get(f"/o/{world.provider.slug}/audit/").content.decode()
    assert 'value="probe.proven"' in html and 'value="site.created"' not in html
    # An older action is still a valid search, and finds its events.
    older = support.get(f"/o/{world.provider.slug}/audit/", {"action": "site.created"})
    assert older.status_code == 200
    assert {event.action for event in older.context["events"]} == {"site.created"}


# --- the plans, on PostgreSQL --------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the plans are PostgreSQL's"
)


def plan(world, params: dict, *, role=Role.SUPPORT, avoid=("enable_sort",)) -> str:
    organisation = world.provider if role == Role.SUPPORT else world.reseller
    actor = Actor.for_user(world.people[role])
    filterset = AuditEventFilterSet(
        params,
        queryset=events_for(actor, organisation).order_by(*NEWEST_FIRST),
        actor=actor,
        organisation=organisation,
    )
    assert filterset.is_valid(), filterset.errors
    avoided = ["enable_seqscan", *avoid]
    with connection.cursor() as cursor:
        for setting in avoided:
            cursor.execute(f"SET {setting} = off")
        try:
            return filterset.qs[:50].explain()
        finally:
            for setting in avoided:
                cursor.execute(f"RESET {setting}")


@postgresql_only
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({}, "audit_time"),
        ({"organisation": "__customer__"}, "audit_org_time"),
        ({"action": "site.updated"}, "audit_action_time"),
        ({"source": "api"}, "audit_source_time"),
        ({"date_from": "2026-01-01", "date_to": "2026-02-01"}, "audit_time"),
    ],
)
def test_each_filter_reads_newest_first_from_its_index(world, params, index):
    events(world, 20)
    params = {k: world.customer.slug if v == "__customer__" else v for k, v in params.items()}
    text = plan(world, params)
    assert f"Index Scan Backward using {index} " in text, text
    assert "Sort Key" not in text


@postgresql_only
def test_an_objects_history_reads_its_index(world):
    events(world, 20)
    actor = Actor.for_user(world.people[Role.SUPPORT])
    history = selectors.object_events(
        actor, world.provider, object_type="sites.site", object_id="1"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            text = history[:50].explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "Index Scan Backward using audit_object " in text, text


@postgresql_only
def test_the_person_and_site_filters_read_indexes(world):
    UserFactory(username="alice.acme")
    events(world, 20, actor_label="alice.acme")
    person = plan(world, {"person": "alice"}, avoid=["enable_indexscan"])  # matched, then sorted
    assert "audit_actor_label_prefix" in person and "Index Cond: (actor_user_id = " in person, (
        person
    )
    site = plan(world, {"site": "HQ"}, avoid=["enable_indexscan"])  # matched, then sorted
    assert "audit_object" in site, site


@postgresql_only
def test_time_ranges_have_a_brin_index(world):
    events(world, 20)
    text = plan(
        world,
        {"date_from": "2026-01-01", "date_to": "2026-02-01"},
        avoid=["enable_indexscan", "enable_indexonlyscan"],  # matched, then sorted
    )
    assert "audit_time_brin" in text or "audit_time" in text, text
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_time_brin'")
        assert "USING brin (occurred_at)" in cursor.fetchone()[0]
