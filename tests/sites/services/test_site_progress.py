"""Each site keeps its current rollout's step counts and state (``Site.rollout_steps_total``,
``rollout_steps_finished``, ``current_rollout_state``: what the dashboard shows, sorts and
filters by). After every kind of change of step states or of the current version, the stored
counts equal those counted from the steps, and the state the rollout's: a first version, marked steps, a new complete version
carrying progress over, a change plan, a plan with nothing to do, removal plans, a batch of
sites regenerated at once, and the sites already there when the migration ran. (A probe's
proof marks steps through the same ``mark_step``: tests/sites/selectors/test_dashboard.py.)"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection

from sites.models import RolloutState, ServiceProfile, Site, StepState
from sites.services.instructions import regenerate_site, regenerate_sites
from sites.services.lifecycle import decommission_site, remove_monitoring
from sites.services.rollouts import FINISHED_STATES, StepReplaced, mark_step
from tests.factories import SiteFactory, site_description

pytestmark = pytest.mark.django_db

MONITORED = {"monitoring_enabled": True, "monitoring_sources": ["198.51.100.7"]}


def counted(site: Site) -> tuple[int, int, str]:
    """(steps, steps done or skipped, state) of the site's current rollout, counted from its
    steps; (0, 0, "") without instructions."""
    site.refresh_from_db()
    if site.current_instruction_set_id is None:
        return 0, 0, ""
    rollout = site.current_instruction_set.rollout
    states = list(rollout.steps.values_list("state", flat=True))
    return len(states), sum(state in FINISHED_STATES for state in states), rollout.state


def stored(site: Site) -> tuple[int, int, str]:
    return tuple(
        Site.objects.filter(pk=site.pk)
        .values_list("rollout_steps_total", "rollout_steps_finished", "current_rollout_state")
        .get()
    )


def assert_follows(*sites: Site) -> None:
    for site in sites:
        assert stored(site) == counted(site), site.name


def iptables_site(world, name="Lab office", **description) -> Site:
    """A site on iptables (a renderer with markers: change and removal plans) without
    instructions yet."""
    return SiteFactory(
        organisation=world.customer,
        name=name,
        vendor="iptables",
        description=site_description(name=name, vendor="iptables", host_os="linux", **description),
    )


def steps_of(site: Site):
    site.refresh_from_db()
    return list(site.current_instruction_set.rollout.steps.order_by("position"))


def finish(site: Site) -> None:
    for step in steps_of(site):
        mark_step(step=step, state=StepState.DONE)
        assert_follows(site)


def edit(site: Site, **changes) -> None:
    Site.objects.filter(pk=site.pk).update(description={**site.description, **changes})
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()


def test_the_stored_progress_follows_every_change_of_steps_and_versions(world):
    site = iptables_site(world, host_address="192.168.1.10", **MONITORED)
    assert stored(site) == (0, 0, "")  # no instructions yet
    regenerate_site(site_id=site.pk)  # the first version
    assert_follows(site)
    assert stored(site)[0] > 3 and stored(site)[1:] == (0, RolloutState.NOT_STARTED)

    first, second, third = steps_of(site)[:3]
    for step, state in [
        (first, StepState.DONE),
        (second, StepState.SKIPPED),
        (third, StepState.FAILED),  # the counts stay, the state changes
        (third, StepState.PENDING),
        (second, StepState.DONE),
        (first, StepState.PENDING),
    ]:
        mark_step(step=step, state=state, note="by hand")
        assert_follows(site)
    mark_step(step=second, state=StepState.DONE, note="only the note changed")
    assert_follows(site)
    assert stored(site)[1:] == (1, RolloutState.IN_PROGRESS)

    # A new complete version (never finished): unchanged steps keep their state.
    edit(site, host_address="192.168.1.20")
    assert_follows(site)
    # A step of the replaced version is refused: nothing moves.
    with pytest.raises(StepReplaced):
        mark_step(step=first, state=StepState.DONE)
    assert_follows(site)

    # Finished, then changed: the change plan's steps.
    finish(site)
    assert stored(site)[0] == stored(site)[1] > 0 and stored(site)[2] == RolloutState.DONE
    edit(site, host_address="192.168.1.30")
    assert site.current_instruction_set.kind == "change"
    assert_follows(site)
    assert stored(site)[1] < stored(site)[0]
    finish(site)

    # A plan with nothing to do on the firewall: no steps.
    ServiceProfile.objects.filter(pk=site.profile_id).update(name="Renamed backup")
    regenerate_site(site_id=site.pk)
    assert_follows(site)
    assert stored(site) == (0, 0, RolloutState.DONE)

    # Removal plans: the monitoring access, then everything.
    remove_monitoring(site=site, by=world.people["customer_admin"])
    assert_follows(site)
    assert stored(site)[0] > 0
    finish(site)
    decommission_site(site=site, by=world.people["customer_admin"])
    assert_follows(site)
    finish(site)
    site.refresh_from_db()
    assert site.lifecycle == "decommissioned"


def test_a_batch_of_sites_regenerated_at_once_each_follows_its_own_rollout(world):
    fresh = iptables_site(world, name="Fresh")
    started = iptables_site(world, name="Started")
    unchanged = iptables_site(world, name="Unchanged")
    regenerate_sites(site_ids=[started.pk, unchanged.pk])
    mark_step(step=steps_of(started)[0], state=StepState.DONE)
    mark_step(step=steps_of(unchanged)[1], state=StepState.SKIPPED)
    Site.objects.filter(pk=started.pk).update(
        description={**started.description, **MONITORED, "host_address": "192.168.1.40"}
    )
    regenerate_sites(site_ids=[fresh.pk, started.pk, unchanged.pk])
    assert_follows(fresh, started, unchanged)
    assert stored(unchanged)[1] == 1 and stored(fresh)[1] == 0


def test_the_migration_copies_the_counts_of_the_sites_already_there(world):
    done, untouched = iptables_site(world, name="Done"), iptables_site(world, name="Untouched")
    bare = iptables_site(world, name="Bare")
    regenerate_sites(site_ids=[done.pk, untouched.pk])
    finish(done)
    # As before the migrations: no copy on any site.
    Site.objects.update(rollout_steps_total=0, rollout_steps_finished=0, current_rollout_state="")
    counts = importlib.import_module("sites.migrations.0016_site_rollout_progress")
    counts.copy_current_rollout_counts(django_apps, connection.schema_editor())
    state = importlib.import_module("sites.migrations.0019_site_waiting_and_rollout_state")
    state.copy_from_runs_and_rollouts(django_apps, connection.schema_editor())
    assert_follows(done, untouched, bare)
    assert stored(done)[0] == stored(done)[1] > 0 and stored(bare) == (0, 0, "")
    assert stored(done)[2] == RolloutState.DONE and stored(untouched)[2] == "not_started"
