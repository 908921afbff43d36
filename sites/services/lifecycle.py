"""A site's life after its first rollout: removing its monitoring access, decommissioning it.

Each opens a new version whose rollout is a removal plan (``sites.plans.plan_removal``) of what
the customer applied (the latest version whose rollout finished; the current one when none did):
every object and rule the instructions created for that scope, in a safe order, ending with a
verification that the monitoring ports are now closed (a closure probe that must fail,
``sites.services.probes``).

- ``remove_monitoring``: the site's description turns monitoring off, so later versions (a
  profile change, an edit) start from a site without it; the expiry date goes.
- ``decommission_site``: the site is "being decommissioned" (no new versions); when the removal
  rollout is done it is decommissioned (``sites.services.decommission``), kept for the audit trail.
"""

from __future__ import annotations

from django.db import transaction

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.description import SiteDescription
from sites.instructions import build_instructions
from sites.models import InstructionSet, Lifecycle, PlanKind, RolloutState, Site
from sites.plans import PlansUnavailable, plan_removal
from sites.plans.applied import AppliedCheck
from sites.services.decommission import rollout_finished
from sites.services.instructions import (
    NewVersion,
    applied_versions,
    has_markers,
    stored_profile,
    write_version,
)

REASON_LIMIT = 1000
SCOPE_MONITORING, SCOPE_ALL = "monitoring", "all"


def _clean_reason(reason: str, default: str) -> str:
    reason = reason.strip()
    if len(reason) > REASON_LIMIT:
        raise ServiceError("reason", f"Keep the reason under {REASON_LIMIT} characters.")
    return reason or default


def _lock(site: Site) -> Site:
    locked = (
        Site.objects.select_for_update(of=("self",))
        .select_related("organisation", "profile", "current_instruction_set")
        .get(pk=site.pk)
    )
    if locked.lifecycle != Lifecycle.ACTIVE:
        raise ServiceError("", "This site is being decommissioned or was decommissioned already.")
    if locked.current_instruction_set is None or locked.profile is None:
        raise ServiceError("", "This site has no instructions yet: there is nothing to remove.")
    return locked


def _base(site: Site, *, monitoring: bool) -> InstructionSet:
    """What the removal starts from: the applied version (with monitoring on, when removing it),
    else the current one."""
    applied = applied_versions([site.pk]).get(site.pk)
    if applied is not None and (
        not monitoring or SiteDescription.from_dict(applied.description).monitoring_enabled
    ):
        return applied
    return site.current_instruction_set


def remove_monitoring(*, site: Site, reason: str = "", by=None) -> InstructionSet:
    """Open the removal plan of the site's monitoring access (the inbound forward and its allow
    rule) and turn monitoring off in its description. By a customer admin's click, or by the
    expiry sweep (``by=None``) when the access expired. One audit event,
    ``site.monitoring_removal_opened``, with the reason."""
    default = f"Monitoring access removed on request{f' by {by.get_username()}' if by else ''}."
    reason = _clean_reason(reason, default)
    with transaction.atomic():
        locked = _lock(site)
        if not locked.as_description().monitoring_enabled:
            raise ServiceError("", "Remote monitoring is off for this site: nothing to remove.")
        base = _base(locked, monitoring=True)
        plan = _removal(base, SCOPE_MONITORING, reason)
        description = SiteDescription.from_dict(
            {**locked.description, "monitoring_enabled": False, "monitoring_sources": []}
        )
        content = build_instructions(description, locked.profile.as_spec())
        before = {"expires_on": _iso(locked.monitoring_expires_on), "monitoring": True}
        Site.objects.filter(pk=locked.pk).update(description=description.to_dict())
        locked.description = description.to_dict()
        instruction_set = _write_removal(
            locked, base, plan, content, reason, SCOPE_MONITORING, description.to_dict(), by
        )
        record_event(
            action="site.monitoring_removal_opened",
            organisation=locked.organisation,
            target=locked,
            before=before,
            after={
                "monitoring": False,
                "expires_on": None,
                "version": instruction_set.version,
                "reason": reason,
            },
            by=by,
        )
        _finish_if_empty(instruction_set)
    return instruction_set


def decommission_site(*, site: Site, reason: str = "", by=None) -> InstructionSet:
    """Open the removal plan of every rule the site's instructions created; the site is being
    decommissioned until that rollout is done, then decommissioned. One audit event,
    ``site.decommission_started``, with the reason."""
    default = f"Site decommissioned on request{f' by {by.get_username()}' if by else ''}."
    reason = _clean_reason(reason, default)
    with transaction.atomic():
        locked = _lock(site)
        base = _base(locked, monitoring=False)
        plan = _removal(base, SCOPE_ALL, reason)
        content = build_instructions(
            SiteDescription.from_dict(base.description), stored_profile(base)
        )
        Site.objects.filter(pk=locked.pk).update(
            lifecycle=Lifecycle.DECOMMISSIONING, monitoring_expires_on=None, monitoring_reminded=""
        )
        locked.lifecycle = Lifecycle.DECOMMISSIONING
        instruction_set = _write_removal(
            locked, base, plan, content, reason, SCOPE_ALL, base.description, by
        )
        record_event(
            action="site.decommission_started",
            organisation=locked.organisation,
            target=locked,
            before={"lifecycle": Lifecycle.ACTIVE},
            after={
                "lifecycle": Lifecycle.DECOMMISSIONING,
                "version": instruction_set.version,
                "reason": reason,
            },
            by=by,
        )
        _finish_if_empty(instruction_set)
    return instruction_set


def _write_removal(
    site: Site, base: InstructionSet, plan, content, reason: str, scope: str, description, by
) -> InstructionSet:
    """The removal version of ``site`` (locked), with its rollout: the plan's steps, from
    ``base``; ``description`` is what the site is after it."""
    return write_version(
        NewVersion(
            site,
            content,
            kind=PlanKind.REMOVAL,
            rendered=tuple(plan.documents),
            applied_from=base,
            applied_check=base.applied_check,
            changes=tuple(plan.changes),
            reason=reason,
            removal_scope=scope,
            description=description,
            profile_data=stored_profile(base).to_dict() if scope == SCOPE_ALL else {},
        ),
        by=by,
    )


def _removal(base: InstructionSet, scope: str, reason: str):
    if not has_markers(base):
        raise ServiceError(
            "",
            f"Version {base.version} of these instructions predates the markers that let the "
            "portal find the rules it created again, so it cannot list them for removal; "
            "regenerate the instructions and apply them first, or remove the rules by hand.",
        )
    try:
        return plan_removal(
            SiteDescription.from_dict(base.description),
            stored_profile(base),
            scope=scope,
            reasons=(reason,),
            applied=AppliedCheck.from_dict(base.applied_check),
        )
    except PlansUnavailable as unavailable:
        raise ServiceError("", str(unavailable)) from None


def _finish_if_empty(instruction_set: InstructionSet) -> None:
    """A removal plan with nothing to remove (nothing was applied) is done at once."""
    rollout = instruction_set.rollout
    if rollout.state == RolloutState.DONE:
        rollout_finished(rollout)


def _iso(day) -> str | None:
    return day.isoformat() if day else None
