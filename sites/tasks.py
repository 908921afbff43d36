"""Celery tasks of the sites domain. They take ids, and running one twice changes nothing more."""

import logging

from celery import shared_task
from django.conf import settings

from portal.jobs import services as jobs
from sites.models import Site
from sites.selectors.profiles import site_ids_of_profile
from sites.services import analysis, bulk, dashboard_counts, expiry, inbound, notices, probes, queue
from sites.services.instructions import (
    regenerate_site,
    regenerate_sites,
    sites_needing_regeneration,
)
from sites.services.profiles import record_rederive_progress, rederive_reason
from sites.services.reverification import flag_sites as flag_stale_sites

# Sites per chunk task when a profile change re-derives many sites: small enough to spread over
# the workers and to show progress, large enough that task overhead stays small (a chunk is
# about a second of work; the embedded broker hands out the next task only once a second).
CHUNK_SIZE = 500


@shared_task(name=queue.REGENERATE_SITE)
def regenerate_site_instructions(site_id: int) -> None:
    try:
        regenerate_site(site_id=site_id)
    except Site.DoesNotExist:
        return  # deleted since it was queued


@shared_task(name=queue.REDERIVE_PROFILE)
def rederive_profile(job_id: int) -> None:
    """Fan out the sites of a changed profile to chunk tasks; they report progress to the job."""
    job = jobs.claim_job(job_id=job_id)
    if job is None:
        return
    site_ids = site_ids_of_profile(job.params["profile_id"])
    if not site_ids:
        record_rederive_progress(job_id=job_id)
        return
    for start in range(0, len(site_ids), CHUNK_SIZE):
        regenerate_sites_chunk.delay(job_id, site_ids[start : start + CHUNK_SIZE])


@shared_task(name="sites.tasks.regenerate_sites_chunk")
def regenerate_sites_chunk(job_id: int, site_ids: list[int]) -> None:
    # In batches; sites deleted since are left out. The operator's reason goes with each version.
    reason = rederive_reason(job_id)
    regenerate_sites(site_ids=site_ids, reason=reason)
    record_rederive_progress(job_id=job_id)


logger = logging.getLogger(__name__)
# Sites sent again per run of the sweeper below (beat runs it every minute).
SWEEP_BATCH = 500


@shared_task(name="sites.tasks.requeue_lost_regenerations")
def requeue_lost_regenerations() -> int:
    """Send ``regenerate_site_instructions`` again for sites whose instructions still lag their
    description ``JOB_REQUEUE_AFTER`` seconds after it changed: the message sent after the site
    was created or edited was lost (it has no job row to be re-sent from). Harmless when it was
    not: ``regenerate_site`` changes nothing for a site already up to date."""
    site_ids = sites_needing_regeneration(
        older_than_seconds=settings.JOB_REQUEUE_AFTER, limit=SWEEP_BATCH
    )
    for site_id in site_ids:
        regenerate_site_instructions.delay(site_id)
    if site_ids:
        logger.warning("sent the regeneration of %d sites again (lost messages?)", len(site_ids))
    return len(site_ids)


@shared_task(name=queue.RUN_INBOUND_CHECK)
def run_inbound_check(run_id: int) -> None:
    inbound.run_inbound_check(run_id=run_id)


@shared_task(name="sites.tasks.expire_probe_runs")
def expire_probe_runs() -> int:
    return probes.expire_probe_runs()


@shared_task(name="sites.tasks.requeue_stuck_inbound_runs")
def requeue_stuck_inbound_runs() -> int:
    return probes.requeue_stuck_inbound_runs(older_than_seconds=settings.CELERY_TASK_TIME_LIMIT)


# --- Bulk actions from the site dashboard (sites.services.bulk) ---------------------------------


@shared_task(name=queue.RUN_SITE_BULK_JOB)
def run_site_bulk_job(job_id: int) -> None:
    """Claim a bulk job and send one task per chunk not yet done (all of them, the first time)."""
    job = jobs.claim_job(job_id=job_id)
    if job is None:
        return
    pending = bulk.pending_chunks(job)
    if not pending:  # claimed again after every chunk was done
        bulk.settle_job(job_id=job_id)
        return
    for chunk in pending:
        run_site_bulk_chunk.delay(job_id, chunk)


@shared_task(name="sites.tasks.run_site_bulk_chunk")
def run_site_bulk_chunk(job_id: int, chunk: int) -> None:
    bulk.run_chunk(job_id=job_id, chunk=chunk)


@shared_task(name="sites.tasks.flag_sites")
def flag_sites() -> dict[str, int]:
    """Hourly: flag sites whose proof went stale or failed, and mail their people once."""
    return flag_stale_sites()


# --- Configuration checks ("Is it already allowed?", sites.services.analysis) ------------------


@shared_task(name=analysis.ANALYSE_CONFIGURATION)
def analyse_configuration(analysis_id: int) -> None:
    analysis.run_analysis(analysis_id=analysis_id)


@shared_task(name="sites.tasks.sweep_config_analyses")
def sweep_config_analyses() -> int:
    """Every minute: send lost checks again, fail those whose worker stopped answering."""
    return analysis.sweep_analyses()


# --- Monitoring access expiry and profile-change notices (sites.services.expiry, .notices) ------


@shared_task(name="sites.tasks.expire_monitoring_access")
def expire_monitoring_access() -> dict[str, int]:
    """Hourly: remind 30 and 7 days before monitoring access ends; open its removal on the day
    (``sites.services.expiry``)."""
    return expiry.remind_and_expire()


@shared_task(name=queue.MAIL_NOTICES)
def mail_notices(notice_ids: list[int]) -> int:
    """Mail the admins of the organisations a profile change concerns (``sites.services.notices``);
    a notice mailed already is not mailed again."""
    return notices.mail_notices(notice_ids=notice_ids)


@shared_task(name=queue.COUNT_DASHBOARD)
def count_dashboard(row_id: int) -> bool:
    """Count a dashboard's headline flags for one person (``sites.services.dashboard_counts``);
    a row counted since it was asked for is not counted again."""
    return dashboard_counts.count(row_id)
