"""The database refuses UPDATE and DELETE of audit rows, on PostgreSQL and SQLite."""

from django.db import migrations

from portal.audit import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


def drop(apps, schema_editor):
    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(install, drop)]
