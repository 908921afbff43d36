"""More indexes for the dashboard (sites.selectors.dashboard):

- rollouts by state and creation time, with their instruction set: the rollout filter and the
  "stalled" flag read them from the index alone;
- rollout steps by the time they were marked: "stalled" excludes the few rollouts with a step
  marked lately, without reading every step;
- organisations by name (and id), on the accounts app's table: the dashboard's default sort
  (organisation, then site name) walks the covered organisations in name order and each one's
  sites through ``site_org_name``, stopping after a page, instead of sorting every site. The
  accounts app does not sort by it itself, so the index is made here, where it is used; the
  model's state is unchanged (``SeparateDatabaseAndState`` with no state operations).
"""

from django.db import migrations, models

ORGANISATION_NAME = (
    "CREATE INDEX IF NOT EXISTS sites_dashboard_organisation_name "
    "ON accounts_organisation (name, id)"
)
DROP_ORGANISATION_NAME = "DROP INDEX IF EXISTS sites_dashboard_organisation_name"


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0013_site_name_search_trigram"),
        ("accounts", "0002_invitations_and_session_records"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="rollout",
            index=models.Index(
                fields=["state", "created_at", "instruction_set"], name="rollout_state_time"
            ),
        ),
        migrations.AddIndex(
            model_name="rolloutstep",
            index=models.Index(fields=["changed_at", "rollout"], name="rollout_step_changed"),
        ),
        migrations.RunSQL(ORGANISATION_NAME, DROP_ORGANISATION_NAME),
    ]
