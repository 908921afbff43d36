"""The dashboard's search (a site's name containing the text, any case) from an index on
PostgreSQL: a trigram GIN index (``pg_trgm``) on ``UPPER(name::text)``, the expression Django's
``icontains`` compares (``UPPER("sites_site"."name"::text) LIKE UPPER('%…%')``). The audit
trail's site filter searches names the same way.

PostgreSQL only: on SQLite this migration does nothing (a LIKE there scans the table, which at
its sizes is fast enough). Creating the extension needs a role that may (the database owner on
PostgreSQL 13 and later, pg_trgm being a trusted extension).
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS site_name_trgm ON sites_site USING gin (UPPER(name::text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS site_name_trgm"]


def run_on_postgresql(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0012_dashboard_sort_indexes"),
    ]

    operations = [
        migrations.RunPython(run_on_postgresql(CREATE), run_on_postgresql(DROP)),
    ]
