"""The stored proof summary (sites.services.proof) follows probe outcomes and open requests to the
customer, and the migrations that filled it agree with what the services keep."""

import importlib
import time
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from sites.models import ProbeRun, ProbeRunState, Rollout, Site, StepState
from sites.selectors import proof_flag
from sites.selectors.proof import proof_flag_q
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from tests.factories import ProbeRunFactory, SiteFactory

pytestmark = pytest.mark.django_db


def flag(site) -> str:
    return proof_flag(Site.objects.get(pk=site.pk))


def proven(site, *, days_ago=0, state=ProbeRunState.PROVEN):
    finished = timezone.now() - timedelta(days=days_ago)
    return ProbeRunFactory(site=site, state=state, finished_at=finished, created_at=finished)


def summary(site) -> tuple:
    site = Site.objects.get(pk=site.pk)
    return site.last_proven_at, site.last_probe_state, site.last_probe_at


def described_site(**kwargs) -> Site:
    site = SiteFactory(**kwargs)
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def observe(run, *, outcome="ok"):
    """What the responder reports for every port the run expects, settled by the probe service."""
    probes.record_observations(
        [
            probes.Seen(
                run_id=run.pk,
                direction=run.direction,
                port=e["port"],
                protocol=e["protocol"],
                observed_ip="192.0.2.1",
                observed_port=50000,
                outcome=outcome,
                received_at=time.time(),
            )
            for e in run.expected
        ]
    )
    run.refresh_from_db()
    return run


def expire(run):
    ProbeRun.objects.filter(pk=run.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    probes.expire_probe_runs()
    run.refresh_from_db()
    return run


def test_the_stored_summary_follows_probe_outcomes():
    site = described_site()
    assert summary(site) == (None, "", None) and flag(site) == "unproven"

    first = probes.start_probe_run(site=site, direction="outbound")
    assert summary(site) == (None, "", None)  # an open run is no outcome
    first = observe(first)
    assert first.state == ProbeRunState.PROVEN
    assert summary(site) == (first.finished_at, "proven", first.finished_at) and flag(site) == ""

    second = expire(probes.start_probe_run(site=site, direction="outbound"))
    assert second.state == ProbeRunState.EXPIRED
    # The latest outcome is the expiry; the proof is still the first run's.
    assert summary(site) == (first.finished_at, "expired", second.finished_at) and flag(site) == ""

    # Runs of other kinds are not the site's proof: a restriction check proven by its silence.
    restriction = expire(
        probes.start_probe_run(site=site, direction="outbound", purpose="restriction")
    )
    assert restriction.state == ProbeRunState.PROVEN
    assert summary(site) == (first.finished_at, "expired", second.finished_at)


def test_a_run_settling_after_a_newer_one_is_not_the_latest_outcome():
    site = described_site()
    older = probes.start_probe_run(site=site, direction="outbound")
    newer = observe(probes.start_probe_run(site=site, direction="outbound"))
    older = expire(older)
    assert older.finished_at > newer.finished_at
    assert summary(site) == (newer.finished_at, "proven", newer.finished_at) and flag(site) == ""


def test_a_failed_probe_after_a_proof_flags_failing_until_the_next_proof():
    site = SiteFactory()
    proven(site, days_ago=2)
    failed = proven(site, days_ago=1, state=ProbeRunState.FAILED)
    assert summary(site)[1:] == ("failed", failed.finished_at) and flag(site) == "failing"
    proven(site)
    assert flag(site) == ""


def _old_proof(site_id: int) -> tuple:
    """The proof summary as the dashboard computed it before it was stored (per request, from the
    runs): the definition the stored columns keep."""
    outbound = ProbeRun.objects.filter(site=OuterRef("pk"), direction="outbound", purpose="verify")
    proven_runs = outbound.filter(state=ProbeRunState.PROVEN).order_by("-finished_at")
    latest = outbound.exclude(state__in=[ProbeRunState.WAITING, ProbeRunState.RUNNING]).order_by(
        "-created_at"
    )
    return (
        Site.objects.filter(pk=site_id)
        .values_list(
            Subquery(proven_runs.values("finished_at")[:1]),
            Coalesce(Subquery(latest.values("state")[:1]), Value("")),
            Subquery(latest.values("finished_at")[:1]),
        )
        .get()
    )


def test_the_migration_fills_the_summaries_as_the_services_keep_them():
    migration = importlib.import_module("sites.migrations.0009_dashboard_summary")
    sites = {
        "never probed": described_site(name="Never probed"),
        "proven": described_site(name="Proven"),
        "proven then failed": described_site(name="Proven then failed"),
        "proven long ago": described_site(name="Proven long ago"),
        "waiting": described_site(name="Waiting"),
        "expired": described_site(name="Expired"),
        "no instructions": SiteFactory(name="No instructions"),
    }
    proven(sites["proven"], days_ago=1)
    proven(sites["proven then failed"], days_ago=3)
    proven(sites["proven then failed"], days_ago=1, state=ProbeRunState.FAILED)
    proven(sites["proven long ago"], days_ago=40)
    proven(sites["waiting"], days_ago=10)
    probes.start_probe_run(site=sites["waiting"], direction="outbound")
    proven(sites["expired"], days_ago=2, state=ProbeRunState.EXPIRED)
    proven(sites["no instructions"], days_ago=1)
    steps = sites["proven"].current_instruction_set.rollout.steps.order_by("position")
    mark_step(step=steps[0], state=StepState.DONE)
    mark_step(step=steps[1], state=StepState.SKIPPED)
    mark_step(step=steps[2], state=StepState.FAILED)

    site_columns = ("pk", "last_proven_at", "last_probe_state", "last_probe_at")
    rollout_columns = ("pk", "steps_total", "steps_finished")
    kept_sites = set(Site.objects.values_list(*site_columns))
    kept_rollouts = set(Rollout.objects.values_list(*rollout_columns))
    assert {(pk, *_old_proof(pk)) for pk, *_ in kept_sites} == kept_sites
    assert (sites["proven"].current_instruction_set.rollout.pk, steps.count(), 2) in kept_rollouts

    # Rows as the migration finds them: the new columns at their defaults.
    Site.objects.update(last_proven_at=None, last_probe_state="", last_probe_at=None)
    Rollout.objects.update(steps_total=0, steps_finished=0)
    migration.fill_dashboard_summary(django_apps, None)
    assert set(Site.objects.values_list(*site_columns)) == kept_sites
    assert set(Rollout.objects.values_list(*rollout_columns)) == kept_rollouts
    flags = {site.name: proof_flag(site) for site in Site.objects.all()}
    assert flags == {
        "Never probed": "unproven",
        "Proven": "",
        "Proven then failed": "failing",
        "Proven long ago": "stale",
        "Waiting": "stale",
        "Expired": "unproven",
        "No instructions": "",
    }


def waiting_until(site):
    return Site.objects.values_list("waiting_on_customer_until", flat=True).get(pk=site.pk)


def waits(site, *, now=None) -> bool:
    """The dashboard's "waiting on customer" flag for ``site``, from its row."""
    condition = proof_flag_q("waiting", now=now or timezone.now())
    return Site.objects.filter(condition, pk=site.pk).exists()


def test_the_site_waits_on_its_customer_while_a_run_opened_since_its_last_proof_is_open():
    site = described_site()
    assert waiting_until(site) is None and not waits(site)

    first = probes.start_probe_run(site=site, direction="outbound")
    assert waiting_until(site) == first.expires_at and waits(site)
    # Past the run's expiry, before the sweep closes it: no longer waiting.
    assert not waits(site, now=first.expires_at + timedelta(seconds=1))
    # Other kinds of runs are not a request to the customer's probe client.
    probes.start_probe_run(site=site, direction="outbound", purpose="restriction")
    assert waiting_until(site) == first.expires_at

    # A second request waits longer; its proof ends both (the first is superseded).
    second = probes.start_probe_run(site=site, direction="outbound", lifetime=timedelta(days=3))
    assert waiting_until(site) == second.expires_at
    assert observe(second).state == ProbeRunState.PROVEN
    first.refresh_from_db()
    assert first.state == ProbeRunState.EXPIRED
    assert waiting_until(site) is None and not waits(site)

    # A request that expires unanswered: the sweep closes it.
    expire(probes.start_probe_run(site=site, direction="outbound"))
    assert waiting_until(site) is None

    # A run opened before the latest proof is no longer waited for, even while open.
    open_before = probes.start_probe_run(site=site, direction="outbound")
    ProbeRun.objects.filter(pk=open_before.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    proven(site)  # a proof that came another way (the agent, say), after that request
    assert ProbeRun.objects.get(pk=open_before.pk).state == ProbeRunState.WAITING
    assert waiting_until(site) is None and not waits(site)


def test_the_migration_fills_whether_each_site_waits_as_the_services_keep_it():
    migration = importlib.import_module("sites.migrations.0019_site_waiting_and_rollout_state")
    waiting, answered, never = (described_site(name=name) for name in ("W", "A", "N"))
    proven(waiting, days_ago=3)
    request = probes.start_probe_run(site=waiting, direction="outbound")
    observe(probes.start_probe_run(site=answered, direction="outbound"))
    kept = dict(Site.objects.values_list("pk", "waiting_on_customer_until"))
    assert kept == {waiting.pk: request.expires_at, answered.pk: None, never.pk: None}

    Site.objects.update(waiting_on_customer_until=None)  # as the migration finds the rows
    migration.copy_from_runs_and_rollouts(django_apps, None)
    assert dict(Site.objects.values_list("pk", "waiting_on_customer_until")) == kept
