"""A lost ``regenerate_site_instructions`` message (sent after a site is created or edited; it has
no job row) is sent again by the beat sweeper, so the site does not stay on old instructions."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from portal.celery import app
from sites import tasks
from sites.models import Site
from sites.services.instructions import regenerate_site
from sites.services.sites import create_site, update_site
from tests.factories import CustomerFactory, SiteFactory, site_description

pytestmark = pytest.mark.django_db


class Queue:
    """Stands in for the broker: records what the sweeper sends; ``work()`` is the worker."""

    def __init__(self, task):
        self.task, self.sent = task, []

    def delay(self, site_id):
        self.sent.append(site_id)

    def work(self):
        for site_id in self.sent:
            self.task(site_id)  # the real task, in this process


@pytest.fixture
def queue(monkeypatch):
    queue = Queue(tasks.regenerate_site_instructions)
    monkeypatch.setattr(tasks, "regenerate_site_instructions", queue)
    return queue


def age(site, seconds=None):
    """Make the site's last change older than the sweeper's grace period (or ``seconds``)."""
    seconds = settings.JOB_REQUEUE_AFTER + 1 if seconds is None else seconds
    Site.objects.filter(pk=site.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def edited_with_its_message_lost(**changes):
    """A site with instructions, then edited: the edit's regeneration is queued on commit, and
    the test database never commits, so that message is never sent (lost)."""
    site = SiteFactory()
    regenerate_site(site_id=site.pk)
    update_site(site=site, data=site_description(name=site.name, **changes))
    return Site.objects.get(pk=site.pk)


def test_an_edited_site_whose_message_was_lost_is_regenerated(queue):
    site = edited_with_its_message_lost(host_address="192.168.1.11")
    assert site.current_instruction_set.description["host_address"] == "192.168.1.10"

    assert tasks.requeue_lost_regenerations() == 0  # still within the grace period
    age(site)
    assert tasks.requeue_lost_regenerations() == 1
    assert queue.sent == [site.pk]
    queue.work()

    site.refresh_from_db()
    current = site.current_instruction_set
    assert current.version == 2 and current.description["host_address"] == "192.168.1.11"
    assert tasks.requeue_lost_regenerations() == 0  # up to date: nothing more to send


def test_a_new_site_whose_first_message_was_lost_gets_its_instructions(queue):
    site = create_site(organisation=CustomerFactory(), data=site_description(name="Branch"))
    assert site.current_instruction_set is None
    age(site)
    assert tasks.requeue_lost_regenerations() == 1
    queue.work()
    site.refresh_from_db()
    assert site.current_instruction_set.version == 1
    assert site.current_instruction_set.rollout.steps.exists()


def test_sites_up_to_date_undescribed_or_just_changed_are_left_alone(queue):
    up_to_date = SiteFactory()
    regenerate_site(site_id=up_to_date.pk)
    reverify_only = SiteFactory()  # its description stored as given, not as the service writes it
    regenerate_site(site_id=reverify_only.pk)
    # Saved again in the service's form (defaults written out): the same description to render.
    update_site(site=reverify_only, data=reverify_only.description, reverify="daily")
    undescribed = SiteFactory(description={})
    no_profile = SiteFactory(profile=None)
    for site in (up_to_date, reverify_only, undescribed, no_profile):
        age(site)
    just_changed = edited_with_its_message_lost(host_address="192.168.1.12")
    age(just_changed, seconds=settings.JOB_REQUEUE_AFTER - 30)  # its task may still run

    assert tasks.requeue_lost_regenerations() == 0
    assert queue.sent == []


def test_one_run_sends_at_most_a_batch_oldest_change_first(queue, monkeypatch):
    monkeypatch.setattr(tasks, "SWEEP_BATCH", 2)
    sites = [edited_with_its_message_lost(host_address=f"192.168.1.{20 + n}") for n in range(3)]
    for n, site in enumerate(sites):
        age(site, seconds=settings.JOB_REQUEUE_AFTER + 100 - n)  # the first changed longest ago
    assert tasks.requeue_lost_regenerations() == 2
    assert queue.sent == [sites[0].pk, sites[1].pk]
    queue.work()
    assert tasks.requeue_lost_regenerations() == 1
    assert queue.sent[-1] == sites[2].pk


def test_a_site_sent_twice_is_regenerated_once(queue):
    site = edited_with_its_message_lost(host_address="192.168.1.13")
    age(site)
    tasks.requeue_lost_regenerations()
    tasks.requeue_lost_regenerations()  # the first copy not yet worked: sent again
    assert queue.sent == [site.pk, site.pk]
    queue.work()
    assert site.instruction_sets.count() == 2  # version 1, and one version 2


def test_beat_runs_the_sweeper_every_minute():
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "sites.tasks.requeue_lost_regenerations"
    ]
    assert entries and entries[0]["schedule"] <= 60
    assert "sites.tasks.requeue_lost_regenerations" in app.tasks
