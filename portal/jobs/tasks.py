"""Celery tasks of the jobs app. Tasks take ids, claim their job, and are safe to run twice."""

import os
import platform
import socket

from celery import shared_task
from django.conf import settings

from portal.jobs import services


@shared_task(name="portal.jobs.tasks.health_ping")
def health_ping(job_id: int) -> None:
    job = services.claim_job(job_id=job_id)
    if job is None:
        return
    services.finish_job(
        job_id=job_id,
        result={
            "worker": socket.gethostname(),
            "pid": os.getpid(),
            "python": platform.python_version(),
            "broker": settings.CELERY_BROKER_URL.split(":", 1)[0],
        },
    )


@shared_task(name="portal.jobs.tasks.fail_stalled_jobs")
def fail_stalled_jobs() -> int:
    return services.fail_stalled_jobs()


@shared_task(name="portal.jobs.tasks.requeue_lost_jobs")
def requeue_lost_jobs() -> int:
    return services.requeue_lost_jobs(older_than_seconds=settings.JOB_REQUEUE_AFTER)


@shared_task(name="portal.jobs.tasks.requeue_stuck_jobs")
def requeue_stuck_jobs() -> int:
    return services.requeue_stuck_jobs(older_than_seconds=settings.CELERY_TASK_TIME_LIMIT)
