"""A worker killed mid-task, or Redis restarting, loses no job and duplicates no result.

The broker is not the truth, the database is: what a lost message leaves behind (a job still
queued, a job or an inbound check still running) is found by the sweepers and sent again, and the
tasks' conditional claims make a second delivery harmless. The first tests check the sweepers' rules
in process; the last two restart a real Redis and SIGKILL a real worker's pool process.
"""

import os
import re
import selectors
import signal
import socket
import subprocess
import threading
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.conf import settings
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from portal.jobs import services
from portal.jobs.models import Job, JobState
from sites.models import AttemptOutcome, ProbeRun, ProbeRunState, StepState
from sites.models.probe import OPEN_STATES
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.sites import update_site
from tests.factories import JobFactory, site_description
from tests.fixtures.worker import wait_for


def events(target, action=None):
    label, pk = target._meta.label_lower, str(target.pk)
    found = AuditEvent.objects.filter(object_type=label, object_id=pk)
    return found.filter(action=action) if action else found


class SentTasks:
    """Stands in for the Celery app in portal.jobs.services: records what would be sent."""

    def __init__(self):
        self.sent = []

    def send_task(self, name, args):
        self.sent.append((name, args))


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = SentTasks()
    monkeypatch.setattr(services, "current_app", sent)
    return sent.sent


def make_old(job, *, created=None, started=None):
    now = timezone.now()
    changes = {}
    if created is not None:
        changes["created_at"] = now - timedelta(seconds=created)
    if started is not None:
        changes["started_at"] = now - timedelta(seconds=started)
    Job.objects.filter(pk=job.pk).update(**changes)


# --- The sweepers' rules ----------------------------------------------------------------------


@pytest.mark.django_db
def test_jobs_queued_too_long_are_sent_again_and_the_resend_is_recorded(
    world, sent_tasks, django_capture_on_commit_callbacks
):
    Job.objects.all().delete()
    old = JobFactory(organisation=world.provider)
    make_old(old, created=300)
    fresh = JobFactory(organisation=world.provider)
    running = JobFactory(organisation=world.provider, state=JobState.RUNNING)
    make_old(running, created=300, started=300)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_lost_jobs(older_than_seconds=120) == 1
    assert sent_tasks == [("portal.jobs.tasks.health_ping", [old.pk])]
    old.refresh_from_db()
    assert old.state == JobState.QUEUED and old.params["requeues"] == 1
    requeued = events(old, "job.requeued").get()
    assert requeued.after == {"state": "queued", "requeues": 1} and requeued.source == "system"
    assert not events(fresh, "job.requeued").exists()

    # Sent again only once per period: a long queue is not flooded with copies.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_lost_jobs(older_than_seconds=120) == 0
        assert services.requeue_lost_jobs(older_than_seconds=0) == 2  # old and fresh
    old.refresh_from_db()
    assert old.params["requeues"] == 2

    # The copies are harmless: the task claims its job once.
    from portal.jobs.tasks import health_ping

    health_ping.run(old.pk)
    health_ping.run(old.pk)
    old.refresh_from_db()
    assert old.state == JobState.SUCCEEDED and old.attempts == 1
    assert events(old, "job.succeeded").count() == 1


@pytest.mark.django_db
def test_jobs_left_running_past_the_time_limit_go_back_to_the_queue(
    world, sent_tasks, django_capture_on_commit_callbacks
):
    limit = settings.CELERY_TASK_TIME_LIMIT
    stuck = JobFactory(organisation=world.provider, state=JobState.RUNNING, attempts=1)
    make_old(stuck, started=limit + 5)
    busy = JobFactory(organisation=world.provider, state=JobState.RUNNING, attempts=1)
    make_old(busy, started=limit - 60)
    hopeless = JobFactory(
        organisation=world.provider, state=JobState.RUNNING, attempts=services.MAX_ATTEMPTS
    )
    make_old(hopeless, started=limit + 5)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stuck_jobs() == 1
    assert sent_tasks == [("portal.jobs.tasks.health_ping", [stuck.pk])]
    stuck.refresh_from_db()
    assert stuck.state == JobState.QUEUED and stuck.params["requeues"] == 1
    assert events(stuck, "job.requeued").get().before == {"state": "running", "attempt": 1}
    claimed = services.claim_job(job_id=stuck.pk)
    assert claimed is not None and claimed.attempts == 2

    busy.refresh_from_db()
    assert busy.state == JobState.RUNNING  # still within its time limit: maybe still working
    hopeless.refresh_from_db()
    assert hopeless.state == JobState.FAILED and "gave up after 3 attempts" in hopeless.error


@pytest.fixture
def monitored_site(world):
    site = world.sites[world.customer.slug]
    site = update_site(
        site=site,
        data=site_description(
            name=site.name,
            public_address="127.0.0.1",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


@pytest.mark.django_db
def test_inbound_checks_left_running_past_the_time_limit_are_sent_again(
    monitored_site, django_capture_on_commit_callbacks
):
    limit = settings.CELERY_TASK_TIME_LIMIT
    now = timezone.now()

    def running_run(*, attempts=1, started=limit + 5, expires=600):
        run = probes.start_probe_run(site=monitored_site, direction="inbound")
        ProbeRun.objects.filter(pk=run.pk).update(
            state=ProbeRunState.RUNNING,
            attempts=attempts,
            started_at=now - timedelta(seconds=started),
            expires_at=now + timedelta(seconds=expires),
        )
        return run

    stuck, busy = running_run(), running_run(started=limit - 60)
    expired = running_run(expires=-1)
    hopeless = running_run(attempts=probes.INBOUND_CHECK_MAX_ATTEMPTS)

    with django_capture_on_commit_callbacks() as sends:
        assert probes.requeue_stuck_inbound_runs() == 1
    assert len(sends) == 1  # run_inbound_check.delay(stuck)
    states = dict(
        ProbeRun.objects.filter(pk__in=[stuck.pk, busy.pk, expired.pk, hopeless.pk]).values_list(
            "pk", "state"
        )
    )
    assert states == {
        stuck.pk: ProbeRunState.WAITING,
        busy.pk: ProbeRunState.RUNNING,
        expired.pk: ProbeRunState.WAITING,
        hopeless.pk: ProbeRunState.FAILED,
    }
    assert events(stuck, "probe.requeued").get().after == {"state": "waiting", "resent": True}
    assert events(expired, "probe.requeued").get().after == {"state": "waiting", "resent": False}
    # The expired one is closed by the expiry sweep, as any waiting run past its token's life.
    probes.expire_probe_runs()
    expired.refresh_from_db()
    assert expired.state == ProbeRunState.EXPIRED
    assert probes.claim_inbound_run(run_id=stuck.pk).attempts == 2


@pytest.mark.django_db
def test_a_check_whose_message_was_lost_is_sent_again_once(
    monitored_site, django_capture_on_commit_callbacks
):
    """Asked for, never claimed: the message never reached a worker. Not asked for yet: wait."""
    asked = probes.start_probe_run(site=monitored_site, direction="inbound")
    with django_capture_on_commit_callbacks(execute=False):
        probes.launch_inbound_check(run=asked)
    not_asked = probes.start_probe_run(site=monitored_site, direction="inbound")
    with pytest.raises(ServiceError):  # a second click queues nothing more
        probes.launch_inbound_check(run=asked)

    sent = []
    with patch(
        "sites.services.queue.enqueue", side_effect=lambda _task, run_id: sent.append(run_id)
    ):
        assert probes.requeue_stuck_inbound_runs() == 0  # within JOB_REQUEUE_AFTER: in flight
        past = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER + 1)
        ProbeRun.objects.filter(pk=asked.pk).update(check_requested_at=past)
        assert probes.requeue_stuck_inbound_runs() == 1
        assert probes.requeue_stuck_inbound_runs() == 0  # the resend restarted its clock
    assert sent == [asked.pk]
    assert ProbeRun.objects.get(pk=not_asked.pk).check_requested_at is None
    claimed = probes.claim_inbound_run(run_id=asked.pk)
    assert claimed.attempts == 1 and claimed.attempt_rows.get().outcome == AttemptOutcome.RUNNING
    assert probes.claim_inbound_run(run_id=asked.pk) is None  # the original message, late


def test_beat_runs_the_sweepers_every_minute():
    from portal.celery import app

    app.autodiscover_tasks(force=True)  # as a worker or beat does at start: every app's tasks
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in (
        "portal.jobs.tasks.requeue_lost_jobs",
        "portal.jobs.tasks.requeue_stuck_jobs",
        "sites.tasks.requeue_stuck_inbound_runs",
    ):
        assert schedule[task] == 60.0
        assert task in app.tasks
    assert 0 < settings.JOB_REQUEUE_AFTER < settings.CELERY_TASK_TIME_LIMIT


# --- Real processes: Redis restarting, a worker killed mid-task --------------------------------


@pytest.mark.worker
def test_a_redis_restart_loses_no_job(transactional_db, world, private_redis_broker, request):
    """Jobs queued while no worker runs; Redis restarts (their messages are gone); the sweep
    sends them again and a real worker does each exactly once."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    operator = world.people["operator"]
    jobs = [
        services.enqueue_health_ping(organisation=world.provider, by=operator) for _ in range(5)
    ]
    redis = private_redis_broker.client()
    assert redis.llen(queue) == len(jobs)  # the messages are in Redis...

    private_redis_broker.restart()
    assert redis.llen(queue) == 0  # ...and gone with the restart, as with the machine's Redis

    worker = request.getfixturevalue("celery_worker_process")
    wait_for(lambda: " ready." in worker.log_path.read_text(), timeout=30, process=worker)
    assert not Job.objects.exclude(state=JobState.QUEUED).exists()  # nothing left to deliver

    assert services.requeue_lost_jobs(older_than_seconds=0) == Job.objects.count()
    unfinished = Job.objects.exclude(state=JobState.SUCCEEDED)
    wait_for(lambda: not unfinished.exists(), timeout=30, process=worker)
    for job in Job.objects.all():
        assert job.attempts == 1 and job.params["requeues"] == 1
        assert job.result["broker"] == "redis"
        assert events(job, "job.started").count() == 1
        assert events(job, "job.succeeded").count() == 1
        assert events(job, "job.requeued").count() == 1


class HeldListener:
    """The backup host's side of an inbound check, on loopback: TCP and UDP sockets that keep the
    first check waiting (connections accepted, never answered) until ``release()``, then answer
    every check as the probe client's listen mode does (``OK <token>``)."""

    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.ports = {}
        for name, kind in (
            ("tcp/4401", socket.SOCK_STREAM),
            ("tcp/4403", socket.SOCK_STREAM),
            ("udp/4403", socket.SOCK_DGRAM),
        ):
            sock = socket.socket(socket.AF_INET, kind)
            sock.bind(("127.0.0.1", 0))
            if kind == socket.SOCK_STREAM:
                sock.listen(16)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, ("listen", name))
            self.ports[name] = sock.getsockname()[1]
        self.held = set()  # names of the ports that got a probe while held
        self.answered = set()
        self.released = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def release(self):
        self.released.set()

    def stop(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()

    def serve(self):
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.05):
                sock, (role, name) = key.fileobj, key.data
                try:
                    if role == "listen" and name.startswith("tcp/"):
                        connection, _ = sock.accept()
                        connection.setblocking(False)
                        self.selector.register(connection, selectors.EVENT_READ, ("conn", name))
                    elif role == "listen":
                        line, peer = sock.recvfrom(512)
                        self.answer(
                            name, line, lambda data, sock=sock, peer=peer: sock.sendto(data, peer)
                        )
                    else:
                        line = sock.recv(512)
                        if not line:  # the prober closed it (or was killed)
                            self.selector.unregister(sock)
                            sock.close()
                        else:
                            self.answer(name, line, sock.sendall)
                except (BlockingIOError, ConnectionError):
                    continue

    def answer(self, name, line, send):
        if not self.released.is_set():
            self.held.add(name)
            return
        token = line.split()[-1]
        send(b"OK " + token + b"\n")
        self.answered.add(name)


@pytest.fixture
def held_listener():
    listener = HeldListener()
    try:
        yield listener
    finally:
        listener.stop()


@pytest.fixture
def worker_extra_env(request):
    """The killed-worker test's worker probes its lab listener on loopback."""
    if "held_listener" not in request.fixturenames:
        return {}
    listener = request.getfixturevalue("held_listener")
    return {
        "PROBE_ALLOW_PRIVATE": "true",
        "PROBE_INBOUND_PORT_MAP": ",".join(f"{k}={v}" for k, v in listener.ports.items()),
    }


def pool_processes(worker) -> list[int]:
    found = subprocess.run(
        ["ps", "--ppid", str(worker.pid), "-o", "pid="], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


@pytest.mark.worker
def test_a_worker_killed_mid_check_loses_no_check_and_duplicates_no_result(
    held_listener, celery_worker_process, monitored_site
):
    """SIGKILL of the pool process while it waits for the listener's answers. The worker gives its
    message back to the broker (reject_on_worker_lost), which delivers it again, on Redis and on
    the embedded SQLite broker alike; that delivery finds the run running and leaves it alone, the
    sweep sends the check again, and its result is recorded exactly once."""
    worker = celery_worker_process
    run = probes.start_probe_run(site=monitored_site, direction="inbound")
    probes.launch_inbound_check(run=run)

    # The check is under way: the run is claimed and every port got its probe, unanswered.
    wait_for(lambda: held_listener.held == set(held_listener.ports), timeout=30, process=worker)
    run.refresh_from_db()
    assert run.state == ProbeRunState.RUNNING and run.attempts == 1
    [message] = re.findall(r"run_inbound_check\[([\w-]+)\] received", worker.log_path.read_text())
    [pool_process] = pool_processes(worker)
    os.kill(pool_process, signal.SIGKILL)
    held_listener.release()

    assert probes.requeue_stuck_inbound_runs(older_than_seconds=0) == 1
    wait_for(lambda: not ProbeRun.objects.get(pk=run.pk).is_open, timeout=30, process=worker)
    # The killed attempt's own message came back too (reject_on_worker_lost), and did nothing.
    redelivered = f"run_inbound_check[{message}] succeeded"
    wait_for(lambda: redelivered in worker.log_path.read_text(), timeout=30, process=worker)

    run.refresh_from_db()
    assert run.state == ProbeRunState.PROVEN, run.outcome
    assert run.attempts == 2
    assert list(run.attempt_rows.values_list("number", "outcome")) == [
        (1, AttemptOutcome.LOST),
        (2, AttemptOutcome.FINISHED),
    ]
    assert held_listener.answered == set(held_listener.ports)
    closed = [f"probe.{state}" for state in ProbeRunState.values if state not in OPEN_STATES]
    terminal = events(run).filter(action__in=closed)
    assert list(terminal.values_list("action", flat=True)) == ["probe.proven"]
    assert events(run, "probe.requeued").count() == 1
    # The killed attempt recorded nothing; the second recorded one proof per port.
    assert run.observations.count() == 3
    assert run.observations.filter(outcome="ok").count() == 3
    step = monitored_site.current_instruction_set.rollout.steps.get(
        title="Prove the monitoring ports are reachable from outside"
    )
    assert step.state == StepState.DONE
    assert events(step, "rollout.step_changed").count() == 1
    assert worker.poll() is None and pool_processes(worker)  # a new pool process took over
