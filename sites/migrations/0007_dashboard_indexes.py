"""Indexes for the site dashboard (sites.selectors.dashboard) at 10,000 sites and more.

- probe runs by site and state (and finish time): every per-site proof test of the dashboard
  (proven? proven since the cutoff? failed? waiting?) is one lookup in this index, whatever the
  length of the site's probe history;
- rollout steps by rollout and state: a rollout's progress (steps done or skipped of all steps)
  is counted from the index alone.

The models declare the same indexes in their ``Meta.indexes``.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sites", "0006_profile_optional_lists"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="proberun",
            index=models.Index(
                fields=["site", "state", "finished_at"], name="probe_run_site_state"
            ),
        ),
        migrations.AddIndex(
            model_name="rolloutstep",
            index=models.Index(fields=["rollout", "state"], name="rollout_step_state"),
        ),
    ]
