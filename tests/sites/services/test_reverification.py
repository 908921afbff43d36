"""The hourly re-verification sweep: stale and failing proofs are flagged and mailed once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from portal.audit.models import AuditEvent
from sites.models import ProbeRun, ProbeRunState, Site
from sites.services import probes
from sites.services.proof import refresh_proof_summary
from sites.services.reverification import flag_sites, recipients


def probe(site: Site, state: str, *, days_ago: float) -> ProbeRun:
    """A settled outbound run, finished ``days_ago``; the site's proof summary follows."""
    run = probes.start_probe_run(site=site, direction="outbound")
    ProbeRun.objects.filter(pk=run.pk).update(
        state=state, finished_at=timezone.now() - timedelta(days=days_ago)
    )
    refresh_proof_summary(site_ids=[site.pk])
    return run


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The hourly sweep; it mails once its transaction commits, so run those callbacks too."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return flag_sites()

    return run


@pytest.fixture
def site(world):
    site = world.sites[world.customer.slug]
    Site.objects.filter(pk=site.pk).update(reverify="weekly")
    site.refresh_from_db()
    return site


@pytest.mark.django_db
def test_a_stale_proof_is_flagged_and_mailed_to_the_customer_and_reseller_once(
    world, site, mailoutbox, sweep
):
    probe(site, ProbeRunState.PROVEN, days_ago=2)
    assert sweep() == {"stale": 0, "failing": 0, "recovered": 0}

    ProbeRun.objects.filter(site=site).update(finished_at=timezone.now() - timedelta(days=8))
    refresh_proof_summary(site_ids=[site.pk])
    assert sweep()["stale"] == 1
    [mail] = mailoutbox
    assert "out of date" in mail.subject and site.name in mail.subject
    assert set(mail.to) == set(recipients(site))
    assert world.people["customer_admin"].email in mail.to
    assert world.people["reseller_admin"].email in mail.to
    assert world.people["customer_viewer"].email not in mail.to
    assert f"{settings.PORTAL_URL}/o/{world.customer.slug}/sites/{site.pk}/" in mail.body
    assert "every week" in mail.body
    site.refresh_from_db()
    assert site.notified_flag == "stale"

    assert sweep()["stale"] == 0  # an hour later: told already
    assert len(mailoutbox) == 1
    flagged = AuditEvent.objects.filter(action="site.proof_flagged", object_id=str(site.pk))
    assert flagged.get().after == {"flag": "stale"}

    probe(site, ProbeRunState.PROVEN, days_ago=0)  # renewed: the flag clears, without a mail
    assert sweep()["recovered"] == 1
    site.refresh_from_db()
    assert site.notified_flag == "" and len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_failed_probe_and_a_new_public_address_are_flagged(site, mailoutbox, sweep):
    probe(site, ProbeRunState.PROVEN, days_ago=1)
    Site.objects.filter(pk=site.pk).update(public_address_changed_at=timezone.now())
    assert sweep()["stale"] == 1
    assert "public address changed" in mailoutbox[0].body

    probe(site, ProbeRunState.FAILED, days_ago=0)
    assert sweep()["failing"] == 1
    assert "failed" in mailoutbox[1].subject


@pytest.mark.django_db
def test_a_site_that_asked_never_to_be_reverified_is_left_alone(site, mailoutbox, sweep):
    Site.objects.filter(pk=site.pk).update(reverify="off")
    probe(site, ProbeRunState.PROVEN, days_ago=30)
    assert sweep() == {"stale": 0, "failing": 0, "recovered": 0}
    assert mailoutbox == []


def test_beat_flags_sites_every_hour():
    from portal.celery import app

    app.autodiscover_tasks(force=True)  # as a worker or beat does at start: every app's tasks
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["sites.tasks.flag_sites"] == 3600.0
    assert "sites.tasks.flag_sites" in app.tasks
