"""Every write to jobs: enqueue, claim, finish, fail. Each change of state is one audit event."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.audit.services import record_event
from portal.jobs.models import Job, JobKind, JobState


def enqueue_health_ping(*, organisation, actor) -> Job:
    """Queue a ping that a worker answers by writing its name into the job: proves the fleet works."""
    from portal.jobs.tasks import health_ping

    with transaction.atomic():
        job = Job.objects.create(
            kind=JobKind.HEALTH_PING, organisation=organisation, created_by=actor, progress_total=1
        )
        record_event(
            action="job.queued", organisation=organisation, target=job, after={"kind": job.kind}
        )
        transaction.on_commit(lambda: health_ping.delay(job.pk))
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
            .filter(Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, started_at__lt=stale_before))
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
        Job.objects.filter(state=JobState.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True)
    )
    return sum(fail_job(job_id=pk, error="stalled: no worker finished it in time") for pk in stalled)
