"""The person filter matches actor labels by prefix (``istartswith``: ``UPPER(actor_label::text)
LIKE 'TEXT%'``): on PostgreSQL a btree on that expression with ``text_pattern_ops`` makes it an
index range with a true estimate of its rows, whatever the collation. It replaces the trigram
index of 0004, whose trigrams, for a long username, are common to most labels (the planner then
read ten million events in time order instead). SQLite: nothing to do (its LIKE ignores case)."""

from django.db import migrations

TABLE = "audit_auditevent"
FORWARD = [
    "DROP INDEX IF EXISTS audit_actor_label_trgm",
    f"CREATE INDEX IF NOT EXISTS audit_actor_label_prefix ON {TABLE} "
    "(UPPER(actor_label::text) text_pattern_ops, occurred_at)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS audit_actor_label_prefix",
    f"CREATE INDEX IF NOT EXISTS audit_actor_label_trgm ON {TABLE} "
    "USING gin (UPPER(actor_label::text) gin_trgm_ops)",
]


def run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_indexes_for_ten_million_events")]

    operations = [migrations.RunPython(run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD))]
