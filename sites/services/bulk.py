"""Bulk actions over many sites (a reseller's dashboard): regenerate and re-verify, as jobs.

A bulk job holds the ids of its sites (``params["site_ids"]``, in chunks of ``CHUNK_SIZE``). A
fan-out task sends one task per chunk; each chunk task does its sites, then records the chunk as
done under a row lock on the job. Progress is the number of sites in chunks recorded as done, so a
chunk delivered twice (a worker killed mid-way, a re-sent message) does its work again harmlessly
(both actions are idempotent) and is counted once. The job finishes when every chunk is done.

- **regenerate**: ``regenerate_site`` for each site: a new instruction-set version where the
  description, profile or renderers changed, nothing otherwise.
- **re-verify**, shown as "Ask customers to prove again": the portal cannot prove a site's
  outbound path by itself: the proof is the probe client run on the customer's backup host. So it
  opens an outbound probe run lasting ``PROOF_REQUEST_DAYS`` for each selected site whose proof is
  stale, failing or missing, and mails the customer's admins a link to the site's probe panel
  (``sites.services.reverification.mail_proof_request``); the dashboard flags the site "waiting
  on customer" until the probe arrives or the request expires. Sites with a fresh proof, or
  already waiting, are left alone; sites without instructions, or over the probe rate limits, are
  counted as refused. The job is done when the requests are sent: its page counts the proofs
  that came since (``proof_requests``), never "succeeded".
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from portal.accounts import permissions
from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.jobs.models import Job, JobKind, JobState
from portal.jobs.services import finish_job
from sites.models import ProbeDirection, ProbePurpose, ProbeRunState, Site
from sites.selectors import proof_flag
from sites.services import queue
from sites.services.instructions import regenerate_site
from sites.services.probes import start_probe_run
from sites.services.reverification import mail_proof_request

logger = logging.getLogger(__name__)

CHUNK_SIZE = 50
BULK_KINDS = (JobKind.BULK_REGENERATE, JobKind.BULK_REVERIFY)


def start_bulk_job(
    *, kind: str, actor: Actor, organisation: Organisation, site_ids: list[int], back: str = ""
) -> Job:
    """Queue a bulk action over ``site_ids`` (already scoped by the caller's selector).

    Refuses (``ServiceError``) an empty selection, an unknown action, and any site whose
    organisation the actor may not edit. ``back`` is the dashboard query the job page links back to.
    """
    if kind not in BULK_KINDS:
        raise ServiceError("action", "Choose regenerate or re-verify.")
    site_ids = sorted(set(site_ids))
    if not site_ids:
        raise ServiceError(
            "site", "Select at least one site, or choose all sites matching the filter."
        )
    owners = Organisation.objects.filter(sites__pk__in=site_ids).distinct()
    refused = [o.name for o in owners if not permissions.can_edit_sites(actor, o)]
    if refused:
        raise ServiceError("site", f"You may not change the sites of {', '.join(sorted(refused))}.")
    if Site.objects.filter(pk__in=site_ids).count() != len(site_ids):
        raise ServiceError("site", "Some of the selected sites no longer exist; reload the page.")
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            organisation=organisation,
            created_by=actor.user,
            progress_total=len(site_ids),
            params={
                "site_ids": site_ids,
                "chunk_size": CHUNK_SIZE,
                "done_chunks": [],
                "outcomes": {},
                "back": back,
            },
        )
        record_event(
            action="sites.bulk_queued",
            organisation=organisation,
            target=job,
            after={"kind": kind, "action": JobKind(kind).label, "sites": len(site_ids)},
        )
        queue.enqueue_after_commit(queue.RUN_SITE_BULK_JOB, job.pk)
    return job


def chunk_count(job: Job) -> int:
    size = job.params["chunk_size"]
    return (len(job.params["site_ids"]) + size - 1) // size


def chunk_site_ids(job: Job, chunk: int) -> list[int]:
    size = job.params["chunk_size"]
    return job.params["site_ids"][chunk * size : (chunk + 1) * size]


def pending_chunks(job: Job) -> list[int]:
    done = set(job.params.get("done_chunks", []))
    return [n for n in range(chunk_count(job)) if n not in done]


def run_chunk(*, job_id: int, chunk: int) -> None:
    """Do one chunk's sites, then record it (see the module docstring: safe to run twice)."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished or chunk in job.params.get("done_chunks", []):
        return
    user = (
        get_user_model().objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    )
    site_ids = chunk_site_ids(job, chunk)
    work = _regenerate if job.kind == JobKind.BULK_REGENERATE else _reverify
    record_chunk(job_id=job_id, chunk=chunk, outcome=work(site_ids, user))


def _regenerate(site_ids: list[int], user) -> dict:
    outcome = Counter()
    for site_id in site_ids:
        try:
            instruction_set, is_new = regenerate_site(site_id=site_id, by=user)
        except Site.DoesNotExist:
            outcome["gone"] += 1
            continue
        except Exception:  # one site's failure must not stop the others
            logger.exception("bulk regenerate: site %s failed", site_id)
            outcome["failed"] += 1
            continue
        outcome["new" if is_new else "unchanged" if instruction_set else "no_description"] += 1
    return dict(outcome)


def _reverify(site_ids: list[int], user) -> dict:
    outcome = Counter()
    sites = Site.objects.filter(pk__in=site_ids).select_related("organisation", "profile")
    open_runs = set(
        Site.objects.filter(
            pk__in=site_ids,
            probe_runs__direction=ProbeDirection.OUTBOUND,
            probe_runs__state=ProbeRunState.WAITING,
            probe_runs__purpose=ProbePurpose.VERIFY,
            probe_runs__expires_at__gt=timezone.now(),
        ).values_list("pk", flat=True)
    )
    for site in sites:
        if site.pk in open_runs:
            outcome["already_waiting"] += 1
        elif proof_flag(site) == "":
            outcome["fresh"] += 1
        else:
            try:
                run = start_probe_run(
                    site=site,
                    direction=ProbeDirection.OUTBOUND,
                    by=user,
                    lifetime=timedelta(days=settings.PROOF_REQUEST_DAYS),
                )
            except ServiceError as error:
                outcome["refused"] += 1
                logger.info("bulk re-verify: site %s refused: %s", site.pk, error)
                continue
            outcome["opened"] += 1
            mail_proof_request(site=site, run=run, by=user)
    outcome["gone"] += len(site_ids) - sum(outcome.values())
    return {k: v for k, v in outcome.items() if v}


def record_chunk(*, job_id: int, chunk: int, outcome: dict) -> Job:
    """Record a chunk as done, once; progress = sites in done chunks; finish when all are done."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        done = set(job.params.get("done_chunks", []))
        if chunk not in done:
            done.add(chunk)
            outcomes = {**job.params.get("outcomes", {})}
            outcomes.setdefault(str(chunk), outcome)
            job.params = {**job.params, "done_chunks": sorted(done), "outcomes": outcomes}
            job.progress_done = sum(len(chunk_site_ids(job, n)) for n in done)
            job.save(update_fields=["params", "progress_done"])
    return settle_job(job_id=job_id)


def settle_job(*, job_id: int) -> Job:
    """Finish the job if every chunk is recorded as done (and it is running)."""
    job = Job.objects.get(pk=job_id)
    if job.state == JobState.RUNNING and not pending_chunks(job):
        finish_job(job_id=job_id, result=summary(job))
        job.refresh_from_db()
    return job


def proof_requests(job: Job) -> dict[str, int]:
    """A re-verify job's requests as they stand now: how many were sent, and how many of their
    sites have been proven since the job started (by the requested run or any later one: the
    customer may start a new probe from the panel). Read at render time, so it counts proofs as
    they arrive."""
    sent = Site.objects.filter(
        probe_runs__created_at__gte=job.created_at,
        probe_runs__direction=ProbeDirection.OUTBOUND,
        probe_runs__purpose=ProbePurpose.VERIFY,
        pk__in=job.params["site_ids"],
    ).distinct()
    opened = summary(job).get("opened", 0)
    return {
        "sent": opened,
        "proven": min(opened, sent.filter(last_proven_at__gte=job.created_at).count()),
    }


def summary(job: Job) -> dict:
    """The chunks' outcomes added up: {"sites": n, "new": …, "opened": …, …}."""
    total = Counter()
    for outcome in job.params.get("outcomes", {}).values():
        total.update(outcome)
    return {"sites": len(job.params["site_ids"]), **dict(sorted(total.items()))}
