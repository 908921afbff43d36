"""The database itself refuses to change or remove audit events, on SQLite and on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from portal.audit.models import AuditEvent
from portal.audit.services import record_event


@pytest.fixture
def event(db):
    return record_event(action="test.recorded", after={"n": 1})


def test_update_through_the_orm_is_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.tampered")
    assert AuditEvent.objects.get(pk=event.pk).action == "test.recorded"


def test_delete_through_the_orm_is_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_raw_sql_update_and_delete_are_refused(event):
    for sql in (
        "UPDATE audit_auditevent SET after = NULL WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).after == {"n": 1}


def test_saving_a_loaded_event_again_is_refused(event):
    event.action = "test.tampered"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()


def test_inserting_stays_possible(event):
    record_event(action="test.second")
    assert AuditEvent.objects.count() == 2
