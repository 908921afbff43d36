"""Pieces the database-backed benchmarks share: a throwaway database, and CPU time from /proc."""

from __future__ import annotations

import os
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
