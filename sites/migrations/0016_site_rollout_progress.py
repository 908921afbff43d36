"""Each site keeps its current rollout's step counts (``Site.rollout_steps_total``,
``rollout_steps_finished``, kept by ``sites.services.rollouts``), and the dashboard's "Rollout"
sort has its two indexes on the percent they give (``sites.models.site.rollout_progress``), as
every other sort has: a page of that sort, however deep, is one index range instead of a sort of
every covered site joined to its rollout.

The sites already there copy their current rollout's counts (0 and 0 without instructions)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, NullIf


def copy_current_rollout_counts(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    Rollout = apps.get_model("sites", "Rollout")
    current = Rollout.objects.filter(instruction_set_id=OuterRef("current_instruction_set_id"))
    Site.objects.filter(current_instruction_set__isnull=False).update(
        rollout_steps_total=Coalesce(Subquery(current.values("steps_total")[:1]), Value(0)),
        rollout_steps_finished=Coalesce(Subquery(current.values("steps_finished")[:1]), Value(0)),
    )


def progress():
    return models.F("rollout_steps_finished") * 100 / NullIf(models.F("rollout_steps_total"), 0)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_invitations_and_session_records"),
        ("sites", "0015_site_flags_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="rollout_steps_total",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="site",
            name="rollout_steps_finished",
            field=models.PositiveIntegerField(
                default=0, editable=False, help_text="Steps done or skipped"
            ),
        ),
        migrations.RunPython(copy_current_rollout_counts, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="site",
            index=models.Index(
                models.OrderBy(Coalesce(progress(), Value(1000))),
                models.OrderBy(models.F("name")),
                models.OrderBy(models.F("id")),
                name="site_sort_rollout",
            ),
        ),
        migrations.AddIndex(
            model_name="site",
            index=models.Index(
                models.OrderBy(Coalesce(progress(), Value(-1)), descending=True),
                models.OrderBy(models.F("name")),
                models.OrderBy(models.F("id")),
                name="site_sort_rollout_desc",
            ),
        ),
    ]
