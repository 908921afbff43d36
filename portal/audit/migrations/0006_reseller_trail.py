"""A reseller's trail as one index range: each event carries the reseller whose trail holds it
(``AuditEvent.reseller``, written by ``record_event``), indexed with the time, and with the
action and the time (a reseller's trail filtered by action).

Before, the trail was "the reseller's events or any of its clients'": no single index orders
that, so at ten million events its newest page, the action options and the capped count read
hundreds of thousands of rows in time order to keep one in twenty (docs/benchmarks.md).

The events already there get their reseller here, from their organisation, with the row guards
lifted for that one statement inside this migration's transaction (``triggers.
row_guards_lifted``): nothing else can write the table meanwhile, and the guards are back
before it commits. On SQLite the column is added with ALTER TABLE (nullable, no constraint),
so the table and its other triggers are not rebuilt.
"""

from django.db import migrations, models

from portal.audit import triggers

FILL = """
UPDATE audit_auditevent SET reseller_id = (
    SELECT CASE WHEN o.kind = 'reseller' THEN o.id ELSE p.id END
    FROM accounts_organisation o
    LEFT JOIN accounts_organisation p ON p.id = o.parent_id AND p.kind = 'reseller'
    WHERE o.id = audit_auditevent.organisation_id
)
WHERE organisation_id IS NOT NULL
"""


def fill_resellers(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM audit_auditevent WHERE organisation_id IS NOT NULL LIMIT 1")
        if cursor.fetchone() is None:
            return  # a new database: nothing to fill, the guards stay untouched
    with triggers.row_guards_lifted(connection), connection.cursor() as cursor:
        cursor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_invitations_and_session_records"),
        ("audit", "0005_actor_label_prefix_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="reseller",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=models.deletion.DO_NOTHING,
                related_name="+",
                to="accounts.organisation",
            ),
        ),
        migrations.RunPython(fill_resellers, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["reseller", "occurred_at", "id"], name="audit_reseller_time"
            ),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                fields=["reseller", "action", "occurred_at", "id"], name="audit_reseller_action"
            ),
        ),
    ]
