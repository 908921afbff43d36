"""Celery tasks of the sites domain. They take ids, and running one twice changes nothing more."""
from celery import shared_task

from portal.jobs import services as jobs
from sites.models import Site
from sites.services.instructions import regenerate_site
from sites.services.profiles import record_rederive_progress

# Sites per chunk task when a profile change re-derives many sites: small enough to spread over
# the workers and to show progress, large enough that task overhead stays small.
CHUNK_SIZE = 200


@shared_task(name="sites.tasks.regenerate_site_instructions")
def regenerate_site_instructions(site_id: int) -> None:
    try:
        regenerate_site(site_id=site_id)
    except Site.DoesNotExist:
        return  # deleted since it was queued


@shared_task(name="sites.tasks.rederive_profile")
def rederive_profile(job_id: int) -> None:
    """Fan out the sites of a changed profile to chunk tasks; they report progress to the job."""
    job = jobs.claim_job(job_id=job_id)
    if job is None:
        return
    site_ids = list(
        Site.objects.filter(profile_id=job.params["profile_id"]).order_by("pk").values_list("pk", flat=True)
    )
    if not site_ids:
        record_rederive_progress(job_id=job_id)
        return
    for start in range(0, len(site_ids), CHUNK_SIZE):
        regenerate_sites_chunk.delay(job_id, site_ids[start : start + CHUNK_SIZE])


@shared_task(name="sites.tasks.regenerate_sites_chunk")
def regenerate_sites_chunk(job_id: int, site_ids: list[int]) -> None:
    for site_id in site_ids:
        try:
            regenerate_site(site_id=site_id)
        except Site.DoesNotExist:
            continue
    record_rederive_progress(job_id=job_id)
