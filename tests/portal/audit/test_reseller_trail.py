"""A reseller's trail is one index range: each event carries the reseller whose trail holds it
(``AuditEvent.reseller``), written by ``record_event`` and filled for the events already there by
migration ``audit.0006`` with the append-only guards back in place after it."""

import importlib
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection, transaction

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from portal.audit.models import AuditEvent
from portal.audit.selectors import NEWEST_FIRST, events_for
from portal.audit.services import record_event, reseller_of
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("portal.audit.migrations.0006_reseller_trail")


def test_each_event_carries_the_reseller_whose_trail_holds_it(world):
    direct = CustomerFactory(parent=world.provider, name="Direct", slug="direct")
    recorded = {
        name: record_event(action="test.recorded", organisation=organisation)
        for name, organisation in {
            "client": world.customer,
            "reseller": world.reseller,
            "other client": world.other_customer,
            "provider": world.provider,
            "direct customer": direct,
            "nobody": None,
        }.items()
    }
    assert {name: event.reseller_id for name, event in recorded.items()} == {
        "client": world.reseller.pk,
        "reseller": world.reseller.pk,
        "other client": world.other_reseller.pk,
        "provider": None,
        "direct customer": None,
        "nobody": None,
    }
    trail = events_for(Actor.for_user(world.people[Role.RESELLER_ADMIN]), world.reseller)
    assert set(trail.filter(action="test.recorded")) == {
        recorded["client"],
        recorded["reseller"],
    }


def _unfilled_events(world) -> dict[str, AuditEvent]:
    """Events as they were before ``audit.0006``: no reseller."""
    made = {
        name: AuditEvent.objects.create(
            action="test.old", actor_kind="system", source="system", organisation=organisation
        )
        for name, organisation in {
            "client": world.customer,
            "sibling": world.sibling_customer,
            "reseller": world.reseller,
            "other client": world.other_customer,
            "provider": world.provider,
            "nobody": None,
        }.items()
    }
    assert not AuditEvent.objects.filter(action="test.old", reseller__isnull=False).exists()
    return made


def test_the_migration_fills_the_events_already_there_and_keeps_them_append_only(world):
    made = _unfilled_events(world)
    with transaction.atomic():
        migration.fill_resellers(None, SimpleNamespace(connection=connection))
    filled = dict(AuditEvent.objects.values_list("pk", "reseller_id"))
    assert {name: filled[event.pk] for name, event in made.items()} == {
        "client": world.reseller.pk,
        "sibling": world.reseller.pk,
        "reseller": world.reseller.pk,
        "other client": world.other_reseller.pk,
        "provider": None,
        "nobody": None,
    }
    # The guards are back: the rows are as append-only as before.
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=made["client"].pk).update(action="tampered")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=made["client"].pk).delete()


def test_a_failed_fill_leaves_the_guards_in_place(world, monkeypatch):
    made = _unfilled_events(world)
    monkeypatch.setattr(migration, "FILL", "UPDATE audit_auditevent SET no_such_column = 1")
    with pytest.raises(DatabaseError), transaction.atomic():
        migration.fill_resellers(None, SimpleNamespace(connection=connection))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=made["client"].pk).update(action="tampered")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's")
@pytest.mark.parametrize(
    ("params", "index"),
    [({}, "audit_reseller_time"), ({"action": "probe.failed"}, "audit_reseller_action")],
)
def test_a_resellers_trail_reads_its_index_newest_first(world, params, index):
    # 3,000 events, one in ten of the reseller's clients (as among many resellers), a few kinds.
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=("probe.failed", "site.updated", "auth.login")[n % 3],
            actor_kind="system",
            source="system",
            organisation=organisation,
            reseller_id=reseller_of(organisation),
        )
        for n in range(3000)
        for organisation in [
            (world.customer, world.sibling_customer)[n % 2] if n % 10 == 0 else world.other_customer
        ]
    )
    actor = Actor.for_user(world.people[Role.RESELLER_ADMIN])
    events = events_for(actor, world.reseller).filter(**params).order_by(*NEWEST_FIRST)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            cursor.execute(f"SET {setting} = off")
        try:
            text = events[:50].explain()
        finally:
            cursor.execute("RESET ALL")
    assert f"Index Scan Backward using {index} " in text, text
    assert "Sort Key" not in text
