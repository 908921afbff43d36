"""Two more of the dashboard's filters read the site's own row instead of other tables per site
(at 100,000 sites, "waiting on customer" joined every waiting run to its site before it took a
page, and "vendor + rollout + flag" looked up each of the vendor's sites' runs and rollout):

- ``Site.waiting_on_customer_until``: the expiry of the latest outbound verification run opened
  since the site's last proof and still waiting (null: none), kept by ``sites.services.proof``;
  the "waiting on customer" flag, and "needs attention" which excludes it, compare it with now.
  A partial index holds the sites that wait, in the default sort's order;
- ``Site.current_rollout_state``: the state of the site's current rollout ("" without
  instructions), kept with its step counts (``sites.0016``) by ``sites.services.rollouts``.

The sites already there get both from their runs and rollouts. On PostgreSQL the covering
``site_org_name`` (``sites.0015``) carries both columns too, and ``site_sort_vendor`` carries
the organisation and every column the flags and the rollout filter test, so a vendor's matching
sites are counted from that index alone. SQLite has no ``INCLUDE``: there those two indexes stay
as they are. Both keep their names and key columns, so the model's state does not change."""

from datetime import UTC, datetime

from django.db import migrations, models
from django.db.models import Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

NEVER_EARLY = datetime(1970, 1, 1, tzinfo=UTC)  # sites.models.site.NEVER_EARLY
FLAG_COLUMNS = (
    "last_proven_at, last_probe_state, last_probe_at, reverify, public_address_changed_at, "
    "current_instruction_set_id"
)
ORG_NAME_BEFORE = (
    "CREATE INDEX site_org_name ON sites_site (organisation_id, name, id) "
    f"INCLUDE ({FLAG_COLUMNS}, vendor, updated_at)"
)
ORG_NAME = (
    "CREATE INDEX site_org_name ON sites_site (organisation_id, name, id) INCLUDE "
    f"({FLAG_COLUMNS}, vendor, updated_at, waiting_on_customer_until, current_rollout_state)"
)
VENDOR_BEFORE = "CREATE INDEX site_sort_vendor ON sites_site (vendor, name, id)"
VENDOR = (
    "CREATE INDEX site_sort_vendor ON sites_site (vendor, name, id) INCLUDE (organisation_id, "
    f"{FLAG_COLUMNS}, waiting_on_customer_until, current_rollout_state)"
)


def copy_from_runs_and_rollouts(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    ProbeRun = apps.get_model("sites", "ProbeRun")
    Rollout = apps.get_model("sites", "Rollout")
    waiting = ProbeRun.objects.filter(direction="outbound", purpose="verify", state="waiting")
    since_proof = waiting.filter(
        site=OuterRef("pk"),
        created_at__gt=Coalesce(OuterRef("last_proven_at"), Value(NEVER_EARLY)),
    )
    latest = since_proof.order_by().values("site").annotate(until=Max("expires_at"))
    Site.objects.filter(pk__in=waiting.values("site_id")).update(
        waiting_on_customer_until=Subquery(latest.values("until"))
    )
    current = Rollout.objects.filter(instruction_set_id=OuterRef("current_instruction_set_id"))
    Site.objects.filter(current_instruction_set__isnull=False).update(
        current_rollout_state=Coalesce(Subquery(current.values("state")[:1]), Value(""))
    )


def replace_with(*statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            name = statement.split()[2]
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("sites", "0018_instruction_set_applied_check")]

    operations = [
        migrations.AddField(
            model_name="site",
            name="waiting_on_customer_until",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="site",
            name="current_rollout_state",
            field=models.CharField(blank=True, editable=False, max_length=20),
        ),
        migrations.AddIndex(
            model_name="site",
            index=models.Index(
                condition=Q(waiting_on_customer_until__isnull=False),
                fields=["organisation", "name", "id"],
                name="site_waiting_on_customer",
            ),
        ),
        migrations.RunPython(
            replace_with(ORG_NAME, VENDOR), replace_with(ORG_NAME_BEFORE, VENDOR_BEFORE)
        ),
        # Last: PostgreSQL builds no index in a transaction with the updates' pending checks.
        migrations.RunPython(copy_from_runs_and_rollouts, migrations.RunPython.noop),
    ]
