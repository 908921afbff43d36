"""Database triggers that make audit rows append-only, on PostgreSQL and on SQLite.

Two groups. The row guards refuse UPDATE and DELETE (and so upserts and MERGE, which fire them).
The overwrite guards refuse what rewrites rows without firing those: SQLite's REPLACE deletes the
old row without its DELETE triggers (they fire only with recursive_triggers on), so a BEFORE
INSERT refuses an id that is already taken; PostgreSQL's TRUNCATE fires no row trigger, so a
statement trigger refuses it.

The migrations install them. The test suite drops them just before Django flushes a transactional
test database (a DELETE on SQLite, a TRUNCATE on PostgreSQL) and reinstalls them before the next
test.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured

TABLE = "audit_auditevent"
MESSAGE = "audit events are append-only"

_ROW_GUARDS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
            f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
        ],
    ),
    "postgresql": (
        [
            f"""CREATE OR REPLACE FUNCTION {TABLE}_refuse_change() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql""",
            f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
            f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION {TABLE}_refuse_change()""",
        ],
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}",
            f"DROP FUNCTION IF EXISTS {TABLE}_refuse_change()",
        ],
    ),
}
# Installed after the row guards (the PostgreSQL one reuses their function), dropped before them.
_OVERWRITE_GUARDS = {
    "sqlite": (
        [
            f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_replace BEFORE INSERT ON {TABLE}
                WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id)
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_replace"],
    ),
    "postgresql": (
        [
            f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
            f"""CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
                FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_refuse_change()""",
        ],
        [f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}"],
    ),
}


def _statements(guards: dict, vendor: str, install: bool) -> list[str]:
    if vendor not in guards:
        raise ImproperlyConfigured(f"no append-only audit triggers for the {vendor} database")
    install_sql, drop_sql = guards[vendor]
    return install_sql if install else drop_sql


def _execute(connection, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _installed_on_postgresql(connection) -> bool:
    """Whether both PostgreSQL triggers are there: CREATE TRIGGER locks the table, skip it then."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname IN (%s, %s)",
            [TABLE, f"{TABLE}_append_only", f"{TABLE}_no_truncate"],
        )
        return cursor.fetchone()[0] == 2


def install(connection) -> None:
    """Install every guard that is missing; safe to run again."""
    if connection.vendor == "postgresql" and _installed_on_postgresql(connection):
        return
    _execute(
        connection,
        _statements(_ROW_GUARDS, connection.vendor, install=True)
        + _statements(_OVERWRITE_GUARDS, connection.vendor, install=True),
    )


def drop(connection) -> None:
    _execute(
        connection,
        _statements(_OVERWRITE_GUARDS, connection.vendor, install=False)
        + _statements(_ROW_GUARDS, connection.vendor, install=False),
    )


def drop_overwrite_guards(connection) -> None:
    """Undo the migration that added the overwrite guards, leaving the row guards in place."""
    _execute(connection, _statements(_OVERWRITE_GUARDS, connection.vendor, install=False))


@contextmanager
def row_guards_lifted(connection) -> Iterator[None]:
    """Inside a migration's transaction only: the row guards off while it fills a new column of
    the rows already there (``audit.0006``), back on before the transaction ends, so nothing
    else can change a row meanwhile (PostgreSQL's ALTER TABLE locks the table; SQLite has one
    writer). A failure rolls the whole migration back, guards included."""
    if not connection.in_atomic_block:
        raise RuntimeError("the audit row guards are lifted only inside a transaction")
    if connection.vendor == "postgresql":
        _execute(connection, [f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_append_only"])
        yield
        _execute(connection, [f"ALTER TABLE {TABLE} ENABLE TRIGGER {TABLE}_append_only"])
        return
    _execute(connection, _statements(_ROW_GUARDS, connection.vendor, install=False))
    yield
    _execute(connection, _statements(_ROW_GUARDS, connection.vendor, install=True))
