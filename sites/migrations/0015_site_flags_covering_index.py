"""On PostgreSQL, ``site_org_name`` (organisation, name, id) also carries the columns the
dashboard's flags and row keys test (the proof summary, re-verification, public address change,
current instructions, vendor, updated): a flag filter over one organisation's sites in name
order is then read from the index alone, without visiting the table's wide rows (their
descriptions). SQLite has no such indexes (``INCLUDE``): there this migration does nothing.
The index keeps its name and key columns, so the model's state does not change."""

from django.db import migrations

COVERING = (
    "CREATE INDEX site_org_name ON sites_site (organisation_id, name, id) INCLUDE "
    "(last_proven_at, last_probe_state, last_probe_at, reverify, public_address_changed_at, "
    "current_instruction_set_id, vendor, updated_at)"
)
PLAIN = "CREATE INDEX site_org_name ON sites_site (organisation_id, name, id)"


def replace_with(statement):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("DROP INDEX IF EXISTS site_org_name")
        schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("sites", "0014_rollout_and_organisation_sort_indexes")]

    operations = [migrations.RunPython(replace_with(COVERING), replace_with(PLAIN))]
