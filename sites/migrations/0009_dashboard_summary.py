"""Summaries the site dashboard reads as columns instead of computing them per site:

- on each rollout, its step counts (``steps_total``; ``steps_finished``: done or skipped), kept by
  ``sites.services.rollouts.refresh_rollout_state``;
- on each site, its proof summary (``last_proven_at``, ``last_probe_state``, ``last_probe_at``),
  kept by ``sites.services.proof`` whenever an outbound verification run settles.

``fill_dashboard_summary`` computes both for the rows that exist, in one UPDATE per table, with
the same definitions as those services (copied here: a migration keeps working when the services
change). Then two indexes on the summary: the "probe failed" flag, the "Last probe" sort.
"""

from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce


def fill_dashboard_summary(apps, schema_editor):
    Rollout = apps.get_model("sites", "Rollout")
    RolloutStep = apps.get_model("sites", "RolloutStep")
    ProbeRun = apps.get_model("sites", "ProbeRun")
    Site = apps.get_model("sites", "Site")

    steps = RolloutStep.objects.filter(rollout=OuterRef("pk")).order_by().values("rollout")
    finished = Count("pk", filter=Q(state__in=["done", "skipped"]))
    Rollout.objects.update(
        steps_total=Coalesce(Subquery(steps.annotate(n=Count("pk")).values("n")), Value(0)),
        steps_finished=Coalesce(Subquery(steps.annotate(n=finished).values("n")), Value(0)),
    )

    runs = ProbeRun.objects.filter(site=OuterRef("pk"), direction="outbound", purpose="verify")
    proven = runs.filter(state="proven", finished_at__isnull=False).order_by("-finished_at")
    settled = runs.exclude(state__in=["waiting", "running"]).order_by("-created_at", "-pk")
    Site.objects.update(
        last_proven_at=Subquery(proven.values("finished_at")[:1]),
        last_probe_state=Coalesce(Subquery(settled.values("state")[:1]), Value("")),
        last_probe_at=Subquery(settled.values("finished_at")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0008_probe_attempts_and_agent"),
    ]

    operations = [
        migrations.AddField(
            model_name="rollout",
            name="steps_finished",
            field=models.PositiveIntegerField(
                default=0, editable=False, help_text="Steps done or skipped"
            ),
        ),
        migrations.AddField(
            model_name="rollout",
            name="steps_total",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="site",
            name="last_probe_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="site",
            name="last_probe_state",
            field=models.CharField(blank=True, editable=False, max_length=12),
        ),
        migrations.AddField(
            model_name="site",
            name="last_proven_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_dashboard_summary, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="site",
            index=models.Index(fields=["last_probe_state"], name="site_last_probe_state"),
        ),
        migrations.AddIndex(
            model_name="site",
            index=models.Index(fields=["last_probe_at"], name="site_last_probe_at"),
        ),
    ]
