"""Indexes for searching ten million audit events (see ``AuditEvent.Meta.indexes``): one per
filter, each ending in (occurred_at, id) so that newest-first pages read one index backwards;
the single-column indexes on ``occurred_at`` and ``action`` they supersede are dropped.

On PostgreSQL also a BRIN index on ``occurred_at`` (rows arrive in time order: a few pages of
index for any number of rows) for time-range scans that are not newest-first, and trigram GIN
indexes (``pg_trgm``) on the texts the person filter searches with ``icontains``. Nothing here
touches the append-only triggers: the table is never rebuilt (the two fields' ``db_index`` goes
by dropping their indexes, not by altering the fields, which on SQLite would copy the table and
lose its triggers).
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "audit_auditevent"
POSTGRESQL_ONLY = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS audit_time_brin ON {TABLE} USING brin (occurred_at)",
    f"CREATE INDEX IF NOT EXISTS audit_actor_label_trgm ON {TABLE} "
    "USING gin (UPPER(actor_label::text) gin_trgm_ops)",
]
POSTGRESQL_ONLY_UNDO = [
    "DROP INDEX IF EXISTS audit_time_brin",
    "DROP INDEX IF EXISTS audit_actor_label_trgm",
]


def _single_column_indexes(schema_editor):
    """The names Django gave the ``db_index`` indexes of occurred_at and action."""
    return [
        schema_editor._create_index_name(TABLE, [column], suffix="")
        for column in ("occurred_at", "action")
    ]


def drop_single_column_indexes(apps, schema_editor):
    for name in _single_column_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_ONLY:
            schema_editor.execute(statement)


def recreate_single_column_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRESQL_ONLY_UNDO:
            schema_editor.execute(statement)
    for name, column in zip(
        _single_column_indexes(schema_editor), ("occurred_at", "action"), strict=True
    ):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON {TABLE} ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_invitations_and_session_records"),
        ("audit", "0003_refuse_replace_and_truncate"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="auditevent", name="audit_org_time"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_object"),
        migrations.RemoveIndex(model_name="auditevent", name="audit_actor_time"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="action",
                    field=models.CharField(max_length=60),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="occurred_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_single_column_indexes, recreate_single_column_indexes)
            ],
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["occurred_at", "id"], name="audit_time"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["organisation", "occurred_at", "id"], name="audit_org_time"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["object_type", "object_id", "occurred_at", "id"], name="audit_object"
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["actor_user", "occurred_at", "id"], name="audit_actor_time"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "occurred_at", "id"], name="audit_action_time"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["source", "occurred_at", "id"], name="audit_source_time"),
        ),
    ]
