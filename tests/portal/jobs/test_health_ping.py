"""A real worker process picks up work from the configured broker (embedded or Redis)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.jobs import services
from portal.jobs.models import Job, JobState
from portal.jobs.tasks import health_ping
from tests.factories import JobFactory
from tests.fixtures.worker import wait_for


@pytest.mark.worker
def test_a_real_worker_answers_a_health_ping_queued_from_the_page(celery_worker_process, world):
    client = Client()
    client.force_login(world.people["operator"])
    response = client.post(f"/o/{world.provider.slug}/system/")
    assert response.status_code == 302
    job = Job.objects.latest("created_at")

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=90, process=celery_worker_process)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.attempts == 1
    assert job.result["broker"] == settings.CELERY_BROKER_URL.split(":", 1)[0]
    assert job.result["pid"] != celery_worker_process.pid  # answered by a pool process
    actions = list(
        AuditEvent.objects.filter(object_id=str(job.pk), object_type="jobs.job")
        .order_by("id")
        .values_list("action", "source")
    )
    assert actions == [
        ("job.queued", "web"),
        ("job.started", "worker"),
        ("job.succeeded", "worker"),
    ]

    # The page's polled partial stops polling (286) once the job is finished.
    partial = client.get(f"/o/{world.provider.slug}/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert partial.status_code == 286
    assert b'data-state="succeeded"' in partial.content
    assert "HX-Request" in partial["Vary"]


@pytest.mark.django_db
def test_a_task_delivered_twice_does_the_work_once(world):
    job = JobFactory(organisation=world.provider)
    health_ping.run(job.pk)
    health_ping.run(job.pk)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.attempts == 1
    assert AuditEvent.objects.filter(action="job.succeeded", object_id=str(job.pk)).count() == 1


@pytest.mark.django_db
def test_a_job_whose_worker_died_can_be_claimed_again_after_the_time_limit(world):
    job = JobFactory(organisation=world.provider, state=JobState.RUNNING, attempts=1)
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now())
    assert services.claim_job(job_id=job.pk) is None  # still within its time limit
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    Job.objects.filter(pk=job.pk).update(started_at=long_ago)
    claimed = services.claim_job(job_id=job.pk)
    assert claimed is not None and claimed.attempts == 2


@pytest.mark.django_db
def test_stalled_jobs_are_failed_by_the_sweeper(world):
    job = JobFactory(organisation=world.provider, state=JobState.RUNNING)
    Job.objects.filter(pk=job.pk).update(
        started_at=timezone.now() - timedelta(seconds=3 * settings.CELERY_TASK_TIME_LIMIT)
    )
    assert services.fail_stalled_jobs() == 1
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "stalled" in job.error


def test_the_celery_app_is_configured_for_at_least_once_delivery():
    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert "portal.jobs.tasks.health_ping" in app.tasks
