"""Editing a service profile, and re-deriving every site that uses it through the workers."""

from django.db import transaction

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.jobs.models import Job, JobKind
from portal.jobs.services import finish_job
from sites.description import DescriptionError, ProfileSpec
from sites.models import ServiceProfile, Site
from sites.services import queue

PROFILE_FIELDS = ["datacenter_networks", "datacenter_fqdns", "outbound_ports", "monitoring_ports"]


def update_service_profile(
    *, profile: ServiceProfile, data: dict, by=None, organisation=None
) -> Job | None:
    """Validate and save the profile; when it changed, queue the re-derivation of its sites.

    Returns the job that tracks the re-derivation (None when nothing changed).
    """
    try:
        validated = ProfileSpec.from_dict(data)
    except DescriptionError as error:
        raise ServiceError(errors=error.errors) from None
    if ServiceProfile.objects.filter(name__iexact=validated.name).exclude(pk=profile.pk).exists():
        raise ServiceError("name", "Another service profile has this name.")
    with transaction.atomic():
        locked = ServiceProfile.objects.select_for_update().get(pk=profile.pk)
        before = locked.as_data()
        after = validated.to_dict()
        if before == after:
            return None
        locked.name = after["name"]
        for field in PROFILE_FIELDS:
            setattr(locked, field, after[field])
        locked.revision += 1
        locked.save()
        affected = locked.sites.count()
        job = Job.objects.create(
            kind=JobKind.REDERIVE_PROFILE,
            organisation=organisation,
            created_by=by,
            progress_total=affected,
            params={"profile_id": locked.pk, "revision": locked.revision},
        )
        record_event(
            action="profile.updated",
            organisation=organisation,
            target=locked,
            before={**before, "revision": locked.revision - 1},
            after={**after, "revision": locked.revision, "affected_sites": affected, "job": job.pk},
        )
        queue.enqueue_after_commit(queue.REDERIVE_PROFILE, job.pk)
    return job


def record_rederive_progress(*, job_id: int) -> None:
    """Progress is counted from the truth: sites whose instructions match the profile revision.

    Counting (rather than adding up finished chunks) keeps the figure right when a chunk runs
    twice; the job finishes once every site of the profile is on the revision.
    """
    job = Job.objects.get(pk=job_id)
    profile_id, revision = job.params["profile_id"], job.params["revision"]
    sites = Site.objects.filter(profile_id=profile_id)
    done = sites.filter(current_instruction_set__profile_revision__gte=revision).count()
    Job.objects.filter(pk=job_id, progress_done__lt=done).update(progress_done=done)
    if done >= sites.count():  # sites added meanwhile were rendered on the new revision
        finish_job(job_id=job_id, result={"sites": done, "revision": revision})
