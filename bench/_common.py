"""Pieces the database-backed benchmarks share: a throwaway database, and CPU time from /proc."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fresh_sqlite(path: Path) -> None:
    """No SQLite database (nor its journal files) at ``path``."""
    path.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare_database(url: str | None, sqlite_path: Path) -> str:
    """A fresh, empty database for this run; returns its DATABASE_URL: the SQLite file
    ``sqlite_path`` by default, or the PostgreSQL database ``url`` names, dropped and created
    again (so its name must contain "bench")."""
    if url is None:
        fresh_sqlite(sqlite_path)
        return f"sqlite:///{sqlite_path}"
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, name = url.rpartition("/")
        if "bench" not in name or not name.replace("_", "").isalnum():
            raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        return url
    raise SystemExit("--database-url: a postgres:// URL (SQLite is the default)")


def process_tree_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process and its children so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids, total = [pid], 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return None
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # a process that exited meanwhile
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def process_tree_rss(pid: int) -> int | None:
    """Resident memory, in KiB, of a process and its children (Linux /proc): the workers'
    memory as a job runs."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        return None
    total = 0
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue  # a process that exited meanwhile
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
    return total


def bulk_load(model, rows, *, batch: int = 5000, table: str = "", extra: tuple = ()) -> int:
    """Insert ``rows`` (dicts by field attname; ids given) into ``model``'s table, fast: COPY on
    PostgreSQL, ``executemany`` in batches on SQLite. Fields a row leaves out take their default
    (``auto_now``/``auto_now_add`` fields: now); JSON fields take Python values or JSON text. No
    signals, no ``save()``: a benchmark's seed, not a way to write in the portal. Returns the
    number of rows.

    ``table``: another table of the same columns (a staging table), with the ``extra`` columns
    after them, taken from the rows' keys of those names."""
    import json
    from datetime import datetime

    from django.db import connection, models
    from django.utils import timezone

    now = timezone.now()
    fields = model._meta.concrete_fields
    defaults = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(now)
        elif field.has_default() or not field.null:
            defaults.append(field.get_default())
        else:
            defaults.append(None)
    is_json = [isinstance(field, models.JSONField) for field in fields]
    sqlite = connection.vendor == "sqlite"

    def values(row: dict) -> list:
        out = []
        for field, default, json_field in zip(fields, defaults, is_json, strict=True):
            value = row.get(field.attname, default)
            if json_field and value is not None and not isinstance(value, str):
                value = json.dumps(value)
            elif sqlite and isinstance(value, datetime):
                value = connection.ops.adapt_datetimefield_value(value)
            out.append(value)
        return out + [row[name] for name in extra]

    table = connection.ops.quote_name(table or model._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(name) for name in [field.column for field in fields] + [*extra]
    )
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with (
                cursor.connection.cursor() as raw,
                raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(values(row))
                    count += 1
            return count
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * (len(fields) + len(extra)))})"
        chunk = []
        for row in rows:
            chunk.append(values(row))
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                count, chunk = count + len(chunk), []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


@contextmanager
def secondary_indexes_dropped(*models) -> Iterator[None]:
    """On PostgreSQL, the tables of ``models`` without their secondary indexes (not the primary
    keys, nor those of constraints) for the length of a bulk load, then the same indexes built
    again from their definitions: building an index once over the loaded rows is several times
    faster than maintaining it row by row. Nothing on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) AND NOT "
            "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "format('%%I.%%I', i.schemaname, i.indexname)::regclass)",
            [[model._meta.db_table for model in models]],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        yield
        # The foreign keys' checks, deferred to the commit, first: no index can be built on a
        # table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for _, definition in indexes:
            cursor.execute(definition)


def next_ids(model) -> int:
    """The first id after the largest in ``model``'s table (ids for ``bulk_load``)."""
    from django.db.models import Max

    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def reset_sequences(*models) -> None:
    """After ``bulk_load`` gave ids: PostgreSQL's identity sequences continue after them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {connection.ops.quote_name(table)}), false)",
                [table],
            )


def setup_django(sqlite_path: Path, *, keep: bool) -> str:
    """Django set up on ``DATABASE_URL``, or on the SQLite file ``sqlite_path`` (made afresh
    unless ``keep``), migrated; returns where the database is, for the report."""
    if "DATABASE_URL" not in os.environ:
        if not keep:
            fresh_sqlite(sqlite_path)
        os.environ["DATABASE_URL"] = f"sqlite:///{sqlite_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("HTTPS", "false")  # the test client speaks plain HTTP
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return os.environ["DATABASE_URL"].split("@")[-1]


def client_settings():
    """The settings a benchmark's test ``Client`` needs: static files from the finders (no
    collectstatic manifest), its host, and no second factor to enrol (it signs in with
    ``force_login``; what a verified session costs a request is a session read made anyway)."""
    from django.test.utils import override_settings

    return override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        ALLOWED_HOSTS=["testserver", "localhost"],
        MFA_REQUIRED_ROLES=[],
    )


def percentile(values, fraction):
    """The nearest-rank percentile ``fraction`` (0.95: p95) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]
