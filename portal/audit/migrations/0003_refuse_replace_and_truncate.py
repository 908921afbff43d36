"""The database also refuses what rewrites audit rows without an UPDATE or DELETE: SQLite's
REPLACE over an existing id and PostgreSQL's TRUNCATE."""

from django.db import migrations

from portal.audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


def drop(apps, schema_editor):
    triggers.drop_overwrite_guards(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(install, drop)]
