"""The dashboard's headline counts are made by a worker, never by a page load (#15 point 1: a
count that reads every covered site must not be a request's cost), and the headline says only
what is true: counts with the time they were counted, "counting" while a count asked for is
under way, and that nobody answered when no worker did."""

from datetime import timedelta

import pytest
from celery import Celery
from django.utils import timezone

from portal.accounts.models import Membership
from portal.accounts.permissions import Actor
from sites.models import DashboardCounts, ProbeRunState
from sites.selectors.dashboard import flag_counts
from sites.services import dashboard_counts
from sites.services.queue import COUNT_DASHBOARD
from sites.views.dashboard import HEADLINE_WAIT
from tests.fixtures.worker import wait_for
from tests.sites.selectors.test_dashboard import client_for, dashboard, described, probe

HX = {"HX-Request": "true"}


@pytest.fixture
def counted_by_workers(settings):
    settings.DASHBOARD_COUNTS_SECONDS = 60


@pytest.fixture
def failing_site(quiet_world):
    site = described(quiet_world.customer, "Failing office")
    probe(site, ProbeRunState.FAILED, days_ago=1)
    return site


def loaded_once(world, capture):
    """The reseller admin's client after a first dashboard load (its on-commit callbacks
    captured, not run: no task sent), and the counts row that load made."""
    client = client_for(world, "reseller_admin")
    with capture():
        dashboard(client, world.reseller)
    return client, DashboardCounts.objects.get(user=world.people["reseller_admin"])


def headline_poll(client, world):
    return client.get(f"/o/{world.reseller.slug}/sites/?headline=1", headers=HX)


def _sent(callbacks, monkeypatch) -> list[tuple]:
    """The tasks the captured on-commit callbacks send (run them, with the broker replaced by a
    list: which task, for which row)."""
    sent = []
    monkeypatch.setattr(
        dashboard_counts.queue, "enqueue", lambda name, *args: sent.append((name, *args))
    )
    for callback in callbacks:
        callback()
    return sent


@pytest.mark.django_db
def test_a_page_load_asks_a_worker_once_and_counts_nothing_itself(
    quiet_world, failing_site, counted_by_workers, monkeypatch, django_capture_on_commit_callbacks
):
    counted = []
    monkeypatch.setattr(
        dashboard_counts, "flag_counts", lambda *a, **k: counted.append(1) or flag_counts(*a, **k)
    )
    client = client_for(quiet_world, "reseller_admin")
    with django_capture_on_commit_callbacks() as callbacks:
        page = dashboard(client, quiet_world.reseller).content.decode()
    assert not counted
    assert "Counting the flags…" in page and "Needs attention" not in page.split("<form")[0]
    assert f'hx-get="/o/{quiet_world.reseller.slug}/sites/?headline=1"' in page
    row = DashboardCounts.objects.get(
        organisation=quiet_world.reseller, user=quiet_world.people["reseller_admin"]
    )
    assert _sent(callbacks, monkeypatch) == [(COUNT_DASHBOARD, row.pk)]

    # Another load (and the headline's poll) while the count is under way asks nothing more.
    with django_capture_on_commit_callbacks() as callbacks:
        dashboard(client, quiet_world.reseller)
        poll = headline_poll(client, quiet_world)
    assert not callbacks and not counted
    assert poll.status_code == 200 and "Counting the flags…" in poll.content.decode()


@pytest.mark.django_db
def test_the_workers_counts_are_shown_with_when_they_were_counted(
    quiet_world, failing_site, counted_by_workers, django_capture_on_commit_callbacks
):
    client, row = loaded_once(quiet_world, django_capture_on_commit_callbacks)

    assert dashboard_counts.count(row.pk) is True  # what the task runs
    assert dashboard_counts.count(row.pk) is False  # sent twice: counted once
    row.refresh_from_db()
    actor = Actor.for_user(quiet_world.people["reseller_admin"])
    assert row.counts == flag_counts(actor, quiet_world.reseller, now=row.counted_at)
    assert row.counts["failing"] == 1

    clock = timezone.localtime(row.counted_at).strftime("%H:%M")
    poll = headline_poll(client, quiet_world)
    body = poll.content.decode()
    assert poll.status_code == 286  # the poll stops: nothing more to follow
    assert "<strong>1</strong> Proof failing" in body and f"counted at {clock}" in body
    assert "hx-get" not in body and "Counting" not in body
    page = dashboard(client, quiet_world.reseller).content.decode()
    assert "<strong>1</strong> Proof failing" in page and f"counted at {clock}" in page


@pytest.mark.django_db
def test_old_counts_stay_shown_as_old_while_the_workers_count_again(
    quiet_world, failing_site, counted_by_workers, monkeypatch, django_capture_on_commit_callbacks
):
    client, row = loaded_once(quiet_world, django_capture_on_commit_callbacks)
    dashboard_counts.count(row.pk)
    yesterday = timezone.now() - timedelta(days=1)
    DashboardCounts.objects.filter(pk=row.pk).update(
        counted_at=yesterday, requested_at=yesterday - timedelta(seconds=1)
    )
    probe(described(quiet_world.customer, "Second failing"), ProbeRunState.FAILED, days_ago=1)

    with django_capture_on_commit_callbacks() as callbacks:
        page = dashboard(client, quiet_world.reseller).content.decode()
    local = timezone.localtime(yesterday)
    # Yesterday's counts say so: the day, not only a time that reads as today's.
    assert f"counted at {local.day} {local.strftime('%b %H:%M')}" in page
    assert "<strong>1</strong> Proof failing" in page and "Counting again…" in page
    assert _sent(callbacks, monkeypatch) == [(COUNT_DASHBOARD, row.pk)]

    dashboard_counts.count(row.pk)
    poll = headline_poll(client, quiet_world)
    assert poll.status_code == 286 and "<strong>2</strong> Proof failing" in poll.content.decode()


@pytest.mark.django_db
def test_a_count_nobody_answered_says_so_and_is_asked_again_later(
    quiet_world, counted_by_workers, monkeypatch, django_capture_on_commit_callbacks
):
    client, _ = loaded_once(quiet_world, django_capture_on_commit_callbacks)
    asked = timezone.now() - HEADLINE_WAIT - timedelta(seconds=5)
    DashboardCounts.objects.update(requested_at=asked)

    poll = headline_poll(client, quiet_world)
    body = poll.content.decode()
    assert poll.status_code == 286  # not followed for ever
    clock = timezone.localtime(asked).strftime("%H:%M")
    assert f"A new count asked for at {clock} waits for a background worker." in body
    assert "Counting" not in body

    # A minute after the ask, the next page load asks again (a task lost with a broker restart).
    DashboardCounts.objects.update(requested_at=timezone.now() - timedelta(seconds=61))
    with django_capture_on_commit_callbacks() as callbacks:
        page = dashboard(client, quiet_world.reseller).content.decode()
    assert "Counting the flags…" in page
    assert [name for name, *_ in _sent(callbacks, monkeypatch)] == [COUNT_DASHBOARD]


@pytest.mark.django_db
def test_counts_are_each_persons_own_and_not_shown_after_their_grants_changed(
    quiet_world, failing_site, counted_by_workers, django_capture_on_commit_callbacks
):
    world = quiet_world
    admin, customer_admin = client_for(world, "reseller_admin"), client_for(world, "customer_admin")
    with django_capture_on_commit_callbacks():
        dashboard(admin, world.reseller)
        dashboard(customer_admin, world.customer)
    for row in DashboardCounts.objects.all():
        dashboard_counts.count(row.pk)
    assert DashboardCounts.objects.count() == 2  # one per person and page
    assert "Proof failing" in dashboard(admin, world.reseller).content.decode()

    # The reseller admin's grants change: counts made under the old ones are not shown.
    Membership.objects.create(
        user=world.people["reseller_admin"],
        organisation=world.other_customer,
        role="customer_viewer",
    )
    with django_capture_on_commit_callbacks():
        page = dashboard(admin, world.reseller).content.decode()
    assert "Counting the flags…" in page and "Proof failing" not in page.split("<form")[0]


@pytest.mark.worker
def test_a_real_worker_counts_and_the_polled_headline_shows_it(
    celery_worker_process, world, settings
):
    settings.DASHBOARD_COUNTS_SECONDS = 60
    probe(described(world.customer, "Failing office"), ProbeRunState.FAILED, days_ago=1)
    client = client_for(world, "reseller_admin")
    assert "Counting the flags…" in dashboard(client, world.reseller).content.decode()

    def polled():
        poll = headline_poll(client, world)
        return poll if poll.status_code == 286 else None

    poll = wait_for(polled, timeout=60, interval=0.2, process=celery_worker_process)
    assert "Proof failing" in poll.content.decode() and "counted at" in poll.content.decode()
    row = DashboardCounts.objects.get(user=world.people["reseller_admin"])
    assert row.counted_at >= row.requested_at and row.counts["failing"] >= 1


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_broker_fails_no_page_load(quiet_world, counted_by_workers, monkeypatch):
    # A real Celery client sending to a port where no broker listens (kombu raises
    # OperationalError: connection refused, which the page load must not see).
    dead = Celery(broker="redis://127.0.0.1:9/0", set_as_current=False)
    dead.conf.task_publish_retry = False
    dead.conf.broker_connection_timeout = 1
    monkeypatch.setattr(
        dashboard_counts.queue,
        "enqueue",
        lambda name, *args: dead.send_task(name, args=list(args)),
    )
    client = client_for(quiet_world, "reseller_admin")
    response = dashboard(client, quiet_world.reseller)
    assert response.status_code == 200
    assert "Counting the flags…" in response.content.decode()
    row = DashboardCounts.objects.get(user=quiet_world.people["reseller_admin"])
    assert row.requested_at is not None and row.counted_at is None  # asked: asked again later
