"""Every SQL form that can change or remove an audit row is refused by the database itself.

UPDATE and DELETE are covered in test_append_only.py; here the forms that rewrite a row without
saying UPDATE or DELETE: SQLite's REPLACE, upserts, PostgreSQL's MERGE and TRUNCATE.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from portal.audit.models import AuditEvent
from portal.audit.services import record_event

COLUMNS = (
    "id, occurred_at, actor_kind, actor_label, organisation_name, action,"
    " object_type, object_id, object_repr, source, request_id"
)
VALUES = "%s, CURRENT_TIMESTAMP, 'system', '', '', 'test.forged', '', '', '', 'command', ''"
UPSERT = " ON CONFLICT (id) DO UPDATE SET action = excluded.action"


@pytest.fixture
def event(db):
    return record_event(action="test.recorded", after={"n": 1})


def _refused(sql: str, params: list) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _untouched(event: AuditEvent) -> None:
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.after) == ("test.recorded", {"n": 1})
    assert AuditEvent.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="REPLACE is SQLite's")
@pytest.mark.parametrize(
    "verb", ["INSERT OR REPLACE INTO", "REPLACE INTO"], ids=["insert-or-replace", "replace-into"]
)
def test_replace_over_an_existing_id_is_refused(event, verb):
    _refused(f"{verb} audit_auditevent ({COLUMNS}) VALUES ({VALUES})", [event.pk])
    _untouched(event)


def test_upsert_over_an_existing_id_is_refused(event):
    _refused(
        f"INSERT INTO audit_auditevent ({COLUMNS}) VALUES ({VALUES}){UPSERT}",
        [event.pk],
    )
    _untouched(event)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="MERGE is PostgreSQL's")
@pytest.mark.parametrize(
    "action",
    ["UPDATE SET action = 'test.forged'", "DELETE"],
    ids=["merge-update", "merge-delete"],
)
def test_merge_matching_an_existing_id_is_refused(event, action):
    _refused(
        "MERGE INTO audit_auditevent AS a USING (SELECT %s::bigint AS id) AS s ON a.id = s.id "
        f"WHEN MATCHED THEN {action}",
        [event.pk],
    )
    _untouched(event)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
@pytest.mark.parametrize("sql", ["TRUNCATE audit_auditevent", "TRUNCATE audit_auditevent CASCADE"])
def test_truncate_is_refused(event, sql):
    _refused(sql, [])
    _untouched(event)


def test_a_new_id_still_goes_in_through_every_insert_form(event):
    """The guards look at the id: appending stays possible whatever the INSERT spelling."""
    forms = [("INSERT INTO", ""), ("INSERT INTO", UPSERT)]
    if connection.vendor == "sqlite":
        forms += [("INSERT OR REPLACE INTO", ""), ("REPLACE INTO", "")]
    for offset, (verb, tail) in enumerate(forms, start=1):
        with connection.cursor() as cursor:
            cursor.execute(
                f"{verb} audit_auditevent ({COLUMNS}) VALUES ({VALUES}){tail}", [event.pk + offset]
            )
    assert AuditEvent.objects.count() == 1 + len(forms)
