"""Every write to jobs: enqueue, claim, finish, fail, requeue.

Each change of state is one audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.audit.services import record_event
from portal.jobs.models import Job, JobKind, JobState

# The task that works on each kind of job, by name: sending a job needs no import of the module
# that holds its task (tasks import the services, never the other way).
TASK_FOR_KIND = {
    JobKind.HEALTH_PING: "portal.jobs.tasks.health_ping",
    JobKind.REDERIVE_PROFILE: "sites.tasks.rederive_profile",
    JobKind.BULK_REGENERATE: "sites.tasks.run_site_bulk_job",
    JobKind.BULK_REVERIFY: "sites.tasks.run_site_bulk_job",
}


def send_on_commit(job: Job) -> None:
    """Send ``job`` to the task of its kind once the current transaction commits (at once outside
    one), so that no worker looks for a job that is not there yet."""
    task_name, job_id = TASK_FOR_KIND[job.kind], job.pk
    transaction.on_commit(lambda: current_app.send_task(task_name, args=[job_id]))


def enqueue_health_ping(*, organisation, by) -> Job:
    """Queue a ping that a worker answers by writing its name into the job: proves the fleet works."""
    with transaction.atomic():
        job = Job.objects.create(
            kind=JobKind.HEALTH_PING, organisation=organisation, created_by=by, progress_total=1
        )
        record_event(
            action="job.queued", organisation=organisation, target=job, after={"kind": job.kind}
        )
        send_on_commit(job)
    return job


def claim_job(*, job_id: int) -> Job | None:
    """Move a queued job to running; None when another delivery of the same task already has it.

    A job left running past the task time limit (its worker died) may be claimed again.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    with transaction.atomic():
        claimed = (
            Job.objects.filter(pk=job_id)
            .filter(
                Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, started_at__lt=stale_before)
            )
            .update(state=JobState.RUNNING, started_at=now, attempts=F("attempts") + 1)
        )
        if not claimed:
            return None
        job = Job.objects.select_related("organisation").get(pk=job_id)
        record_event(
            action="job.started",
            organisation=job.organisation,
            target=job,
            after={"state": job.state, "attempt": job.attempts},
        )
    return job


def finish_job(*, job_id: int, result: dict) -> bool:
    """Record success once: a second delivery finds the job no longer running and changes nothing."""
    return _close(job_id=job_id, state=JobState.SUCCEEDED, result=result, error="")


def fail_job(*, job_id: int, error: str) -> bool:
    return _close(job_id=job_id, state=JobState.FAILED, result=None, error=error)


def _close(*, job_id: int, state: str, result: dict | None, error: str) -> bool:
    with transaction.atomic():
        closed = Job.objects.filter(pk=job_id, state=JobState.RUNNING).update(
            state=state,
            result=result,
            error=error,
            finished_at=timezone.now(),
            progress_done=F("progress_total"),
        )
        if not closed:
            return False
        job = Job.objects.select_related("organisation").get(pk=job_id)
        record_event(
            action=f"job.{state}",
            organisation=job.organisation,
            target=job,
            before={"state": JobState.RUNNING},
            after={"state": state, "result": result, "error": error or None},
        )
    return True


def fail_stalled_jobs() -> int:
    """Fail jobs stuck past twice the task time limit, so no page shows 'running' for ever."""
    cutoff = timezone.now() - timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)
    stalled = list(
        Job.objects.filter(state=JobState.RUNNING, started_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    return sum(
        fail_job(job_id=pk, error="stalled: no worker finished it in time") for pk in stalled
    )


# A job whose worker stopped under it this many times fails instead of going back to the queue:
# a job that kills its worker every time must not do so for ever.
MAX_ATTEMPTS = 3


def requeue_lost_jobs(*, older_than_seconds: float | None = None) -> int:
    """Send again the jobs still queued ``older_than_seconds`` (default ``JOB_REQUEUE_AFTER``) after
    they were queued or last re-sent; return how many were sent.

    The database is the truth, not the broker: Redis keeps nothing on disk here, so a restart loses
    every message it held. A job still queued that long may have lost its message, and sending it
    again is harmless: the task claims its job with a conditional update, so of two deliveries one
    does the work and the other nothing. Each re-send is one ``job.requeued`` audit event and is
    counted in ``params["requeues"]``; a job waits ``older_than_seconds`` between two re-sends, so a
    long queue is not flooded with copies.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.JOB_REQUEUE_AFTER
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    waiting = list(
        Job.objects.filter(state=JobState.QUEUED, created_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    return sum(_requeue(job_id=pk, state=JobState.QUEUED, cutoff=cutoff) for pk in waiting)


def requeue_stuck_jobs(*, older_than_seconds: float | None = None) -> int:
    """Put back in the queue, and send again, the jobs still running ``older_than_seconds``
    (default: the task time limit) after they were claimed; return how many were sent.

    Past the time limit no worker can still be working on the job (Celery kills a task at its hard
    limit), so its worker died or was killed: a redelivered message finds the job running and leaves
    it alone, and without this sweep the job would stay running until ``fail_stalled_jobs``. A job
    that has had ``MAX_ATTEMPTS`` attempts fails instead. Each re-send is one ``job.requeued`` audit
    event and is counted in ``params["requeues"]``.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.CELERY_TASK_TIME_LIMIT
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stuck = list(
        Job.objects.filter(state=JobState.RUNNING, started_at__lte=cutoff).values_list(
            "pk", flat=True
        )
    )
    return sum(_requeue(job_id=pk, state=JobState.RUNNING, cutoff=cutoff) for pk in stuck)


def _requeue(*, job_id: int, state: str, cutoff) -> bool:
    """Send one queued (or stuck running) job again, if it still is so once locked."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, state=state).first()
        if job is None:
            return False  # a worker claimed or finished it meanwhile
        if state == JobState.RUNNING:
            if job.started_at is None or job.started_at > cutoff:
                return False  # claimed again meanwhile
            if job.attempts >= MAX_ATTEMPTS:
                fail_job(
                    job_id=job_id,
                    error=f"gave up after {job.attempts} attempts: its worker stopped each time",
                )
                return False
        else:
            last_sent = job.params.get("requeued_at")
            if last_sent and datetime.fromisoformat(last_sent) > cutoff:
                return False  # sent again recently; give that copy its time
        now = timezone.now()
        requeues = job.params.get("requeues", 0) + 1
        job.params = {**job.params, "requeues": requeues, "requeued_at": now.isoformat()}
        job.state = JobState.QUEUED
        job.save(update_fields=["params", "state"])
        record_event(
            action="job.requeued",
            organisation=job.organisation,
            target=job,
            before={"state": state, "attempt": job.attempts},
            after={"state": JobState.QUEUED, "requeues": requeues},
        )
        send_on_commit(job)
    return True
