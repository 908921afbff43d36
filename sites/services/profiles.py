"""Editing a service profile, and re-deriving every site that uses it through the workers.

A change is announced before it lands: ``preview_profile_change`` says what it would do (the
profile's changes, how many sites get steps to change, a sample change plan) and signs what it
showed (``ProfileImpact.token``); ``update_service_profile`` with that token saves only the change
that was previewed, on the revision that was previewed, so a stale preview is refused. On saving,
the organisations whose sites change are told, in the portal and by mail
(``sites.services.notices``), with the operator's reason, which each new version also carries.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.core import signing
from django.db import transaction

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.jobs.models import Job, JobKind
from portal.jobs.services import finish_job
from sites.description import DescriptionError, ProfileSpec
from sites.models import Lifecycle, ServiceProfile, Site
from sites.models.profile import MAX_MONITORING_ACCESS_MONTHS, served_probe_addresses
from sites.plans import PlansUnavailable, plan_change
from sites.services import notices, queue
from sites.vendors import RENDERERS

PROFILE_FIELDS = ["datacenter_networks", "datacenter_fqdns", "outbound_ports", "monitoring_ports"]
# Fields whose change gives every site of the profile steps to change; a change of the monitoring
# ports concerns only the sites monitored from outside.
EVERY_SITE_FIELDS = ("datacenter_networks", "datacenter_fqdns", "outbound_ports")
FIELD_LABELS = {
    "name": "Name",
    "datacenter_networks": "Datacenter networks",
    "datacenter_fqdns": "Datacenter host names",
    "outbound_ports": "Backup ports (outbound)",
    "monitoring_ports": "Monitoring ports (forwarded in)",
    "monitoring_access_months": "Monitoring access period (months)",
}
# Sites rendered for the preview's sample plans: enough to show one, bounded for 10,000 sites.
SAMPLE_SITES = 10
REASON_LIMIT = 1000
STALE_PREVIEW = (
    "The profile changed since this preview (someone saved it meanwhile), or the form was "
    "changed after it: look at the impact again before saving."
)


@dataclass(frozen=True)
class ProfileImpact:
    """What saving a profile change would do, as the operator's preview shows it."""

    changes: tuple[str, ...]  # the profile's own changes, field by field
    site_count: int  # sites on the profile
    affected_count: int  # of them, sites whose firewall steps change
    monitored_count: int  # of them, sites with monitoring from outside
    sample_site: str  # the site the sample plan is for ("" when none changes)
    sample_changes: tuple[str, ...]  # what changes for it (sites.plans)
    sample_steps: tuple[tuple[str, str, str], ...]  # (action, title, config) of its plan
    token: str

    @property
    def is_empty(self) -> bool:
        return not self.changes


def _validated(data: dict, months) -> tuple[ProfileSpec, int]:
    errors: dict[str, list[str]] = {}
    validated = None
    try:
        validated = ProfileSpec.from_dict({**data, **served_probe_addresses()})
    except DescriptionError as error:
        errors.update(error.errors)
    if validated is not None and validated.responder_outside_datacenter:
        errors.setdefault("datacenter_networks", []).append(
            f"The portal's probe responder {validated.probe_responder} (PROBE_RESPONDER_HOST) is "
            "outside these networks: the outbound rules would not let the probe reach it, so a "
            "correct firewall would fail its proof. Include its network, or move the responder."
        )
    try:
        months = int(months)
    except (TypeError, ValueError):
        errors["monitoring_access_months"] = ["Enter a whole number of months."]
    else:
        if not 1 <= months <= MAX_MONITORING_ACCESS_MONTHS:
            errors["monitoring_access_months"] = [
                f"Choose between 1 and {MAX_MONITORING_ACCESS_MONTHS} months."
            ]
    if errors:
        raise ServiceError(errors=errors)
    assert validated is not None
    return validated, months


def _port_names(ports: list[dict]) -> list[str]:
    return [f"{p['protocol'].upper()} {p['port']}" for p in ports]


def describe_profile_change(before: dict, after: dict) -> tuple[str, ...]:
    """The profile's changes, one line per field: "Datacenter networks: added 198.51.100.0/24"."""
    lines = []
    for field, label in FIELD_LABELS.items():
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if isinstance(new, list):
            shown_old = _port_names(old) if field.endswith("ports") else list(old)
            shown_new = _port_names(new) if field.endswith("ports") else list(new)
            added = [x for x in shown_new if x not in shown_old]
            removed = [x for x in shown_old if x not in shown_new]
            parts = ([f"added {', '.join(added)}"] if added else []) + (
                [f"removed {', '.join(removed)}"] if removed else []
            )
            lines.append(f"{label}: {'; '.join(parts) or 'reordered'}")
        else:
            lines.append(f"{label}: {old} → {new}")
    return tuple(lines)


def _token(profile: ServiceProfile, after: dict) -> str:
    """Signs the previewed change: the profile, its revision and the new data."""
    digest = hashlib.sha256(json.dumps(after, sort_keys=True).encode()).hexdigest()
    return signing.dumps(
        {"profile": profile.pk, "revision": profile.revision, "data": digest},
        salt="sites.profile-preview",
    )


def _token_matches(token: str, profile: ServiceProfile, after: dict) -> bool:
    try:
        signed = signing.loads(token, salt="sites.profile-preview")
    except signing.BadSignature:
        return False
    digest = hashlib.sha256(json.dumps(after, sort_keys=True).encode()).hexdigest()
    return signed == {"profile": profile.pk, "revision": profile.revision, "data": digest}


def _sites_with_steps(profile: ServiceProfile, before: dict, after: dict):
    """The profile's sites whose firewall steps the change touches (see ``EVERY_SITE_FIELDS``)."""
    sites = Site.objects.filter(profile=profile, lifecycle=Lifecycle.ACTIVE)
    if any(before[f] != after[f] for f in EVERY_SITE_FIELDS):
        return sites
    if before["monitoring_ports"] != after["monitoring_ports"]:
        return sites.filter(description__monitoring_enabled=True)
    return sites.none()


def preview_profile_change(
    *, profile: ServiceProfile, data: dict, monitoring_access_months
) -> ProfileImpact:
    """What saving ``data`` would do; ``ServiceError`` naming the fields when it is invalid.
    Reads only."""
    validated, months = _validated(data, monitoring_access_months)
    before = {**profile.as_data(), "monitoring_access_months": profile.monitoring_access_months}
    after = {**validated.to_dict(), "monitoring_access_months": months}
    affected = _sites_with_steps(profile, before, after)
    sites = Site.objects.filter(profile=profile, lifecycle=Lifecycle.ACTIVE)
    sample_site, sample_changes, sample_steps = "", (), ()
    old_spec = profile.as_spec()
    # Sites whose firewall's instructions carry markers first: their versions become plans.
    plannable = [slug for slug, r in RENDERERS.items() if r.markers_since is not None]
    candidates = affected.exclude(description={}).order_by("pk")
    sample = list(candidates.filter(vendor__in=plannable)[:SAMPLE_SITES]) or list(
        candidates[:SAMPLE_SITES]
    )
    for site in sample:
        description = site.as_description()
        try:
            plan = plan_change(description, old_spec, description, validated)
        except PlansUnavailable:
            continue  # this site's vendor cannot plan yet: it gets its complete instructions
        if not plan.is_empty:
            sample_site, sample_changes = site.name, tuple(plan.changes)
            sample_steps = tuple(
                (step.action, step.title, step.config)
                for document in plan.documents
                for step in document.steps
            )
            break
    return ProfileImpact(
        changes=describe_profile_change(before, after),
        site_count=sites.count(),
        affected_count=affected.count(),
        monitored_count=sites.filter(description__monitoring_enabled=True).count(),
        sample_site=sample_site,
        sample_changes=sample_changes,
        sample_steps=sample_steps,
        token=_token(profile, after),
    )


def update_service_profile(
    *,
    profile: ServiceProfile,
    data: dict,
    by=None,
    organisation=None,
    monitoring_access_months=None,
    reason: str = "",
    preview_token: str | None = None,
) -> Job | None:
    """Validate and save the profile; when its instructions' inputs changed, queue the
    re-derivation of its sites and tell the organisations whose sites get steps to change.

    ``preview_token``: the one ``preview_profile_change`` gave; the change is refused
    (``STALE_PREVIEW``) unless it is exactly the one previewed, on the same revision. ``reason``
    (required with a token: the operator's page) goes to the notices and the new versions.
    Returns the job that tracks the re-derivation (None when no site needs one).
    """
    if monitoring_access_months is None:
        monitoring_access_months = profile.monitoring_access_months
    validated, months = _validated(data, monitoring_access_months)
    reason = reason.strip()
    if preview_token is not None and not reason:
        raise ServiceError("reason", "Say why: the customers whose sites change read it.")
    if len(reason) > REASON_LIMIT:
        raise ServiceError("reason", f"Keep the reason under {REASON_LIMIT} characters.")
    if ServiceProfile.objects.filter(name__iexact=validated.name).exclude(pk=profile.pk).exists():
        raise ServiceError("name", "Another service profile has this name.")
    with transaction.atomic():
        locked = ServiceProfile.objects.select_for_update().get(pk=profile.pk)
        before = {**locked.as_data(), "monitoring_access_months": locked.monitoring_access_months}
        after = {**validated.to_dict(), "monitoring_access_months": months}
        if preview_token is not None and not _token_matches(preview_token, locked, after):
            raise ServiceError("", STALE_PREVIEW)
        if before == after:
            return None
        rederive = locked.as_data() != validated.to_dict()
        with_steps = list(
            _sites_with_steps(locked, before, after).values_list("pk", "organisation_id")
        )
        locked.name = after["name"]
        for field in PROFILE_FIELDS:
            setattr(locked, field, after[field])
        locked.monitoring_access_months = months
        if rederive:
            locked.revision += 1
        locked.save()
        affected = locked.sites.filter(lifecycle=Lifecycle.ACTIVE).count() if rederive else 0
        job = None
        if rederive:
            job = Job.objects.create(
                kind=JobKind.REDERIVE_PROFILE,
                organisation=organisation,
                created_by=by,
                progress_total=affected,
                params={"profile_id": locked.pk, "revision": locked.revision, "reason": reason},
            )
        changes = describe_profile_change(before, after)
        record_event(
            action="profile.updated",
            organisation=organisation,
            target=locked,
            before={**before, "revision": locked.revision - (1 if rederive else 0)},
            after={
                **after,
                "revision": locked.revision,
                "affected_sites": affected,
                "sites_with_steps": len(with_steps),
                "job": job.pk if job else None,
                "reason": reason,
            },
        )
        if job is not None:
            queue.enqueue_after_commit(queue.REDERIVE_PROFILE, job.pk)
        if with_steps:
            notices.announce_profile_change(
                profile=locked, changes=changes, reason=reason, sites=with_steps, by=by
            )
    return job


def rederive_reason(job_id: int) -> str:
    """The operator's reason for the profile change the re-derivation job ``job_id`` follows."""
    params = Job.objects.filter(pk=job_id).values_list("params", flat=True).first() or {}
    return params.get("reason", "")


def record_rederive_progress(*, job_id: int) -> None:
    """Progress is counted from the truth: sites whose instructions match the profile revision.

    Counting (rather than adding up finished chunks) keeps the figure right when a chunk runs
    twice; the job finishes once every site of the profile is on the revision.
    """
    job = Job.objects.get(pk=job_id)
    profile_id, revision = job.params["profile_id"], job.params["revision"]
    # Sites being decommissioned keep their version (sites.services.instructions).
    sites = Site.objects.filter(profile_id=profile_id, lifecycle=Lifecycle.ACTIVE)
    done = sites.filter(current_instruction_set__profile_revision__gte=revision).count()
    Job.objects.filter(pk=job_id, progress_done__lt=done).update(progress_done=done)
    if done >= sites.count():  # sites added meanwhile were rendered on the new revision
        finish_job(job_id=job_id, result={"sites": done, "revision": revision})
