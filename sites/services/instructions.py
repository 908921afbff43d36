"""Generating a site's instructions: a new version only when something changed.

A new version's rollout follows one of (``InstructionSet.kind``):

- the complete instructions, while the site has no applied version (no rollout of it finished):
  steps unchanged since the version before keep their done or skipped state;
- the change plan (``sites.plans.plan_change``) from the version the customer applied (the
  latest whose rollout finished) to the new one: only what to add, change and remove, each with
  its reason; the complete instructions stay with the version (``complete_documents``) for
  someone starting fresh. So a finished rollout becomes "change needed: N steps", with the
  reason, instead of falling back to a part of the complete steps. A plan with nothing to do
  makes a version whose rollout is done at once.

Removal plans (remove the monitoring access, decommission) are written here too
(``write_version``), for ``sites.services.lifecycle``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from portal.audit.services import record_event
from sites.description import DescriptionError, ProfileSpec, SiteDescription
from sites.instructions import (
    InstructionContent,
    build_instructions,
    rendered_as_dict,
    rollout_order,
    step_fingerprint,
    step_key,
)
from sites.models import (
    InstructionSet,
    Lifecycle,
    PlanKind,
    Rollout,
    RolloutState,
    RolloutStep,
    Site,
    StepState,
)
from sites.plans import PlansUnavailable, describe_changes, plan_change
from sites.plans.applied import AppliedCheck
from sites.services.monitoring_dates import follow_monitoring
from sites.services.rollouts import follow_current_rollout, refresh_rollout_state
from sites.vendors import RENDERERS
from sites.vendors.base import Rendered

# States a customer reached that stay valid when the step itself did not change.
_CARRIED_STATES = (StepState.DONE, StepState.SKIPPED)
# Sites written per transaction by ``regenerate_sites``: the rows stay locked (on SQLite, the
# whole database) only while one batch is written, while another worker renders its next one.
WRITE_BATCH = 50


def regenerate_site(
    *, site_id: int, by=None, reason: str = ""
) -> tuple[InstructionSet | None, bool]:
    """Render the site's instructions; returns (current instruction set, whether it is new).

    Idempotent: with the same description, profile and renderer versions the current version
    stays. A new version opens a new rollout; steps that did not change keep their done or
    skipped state. ``Site.DoesNotExist`` when there is no such site.
    """
    outcome = regenerate_sites(site_ids=[site_id], by=by, reason=reason)
    if site_id not in outcome:
        raise Site.DoesNotExist(f"No site {site_id}.")
    return outcome[site_id]


def regenerate_sites(
    *, site_ids: Iterable[int], by=None, reason: str = ""
) -> dict[int, tuple[InstructionSet | None, bool]]:
    """``regenerate_site`` for many sites (a profile change's chunk), with the same outcome for
    each: {site id: (current instruction set, whether it is new)}; sites that do not exist are
    left out. One audit event per new version, as for one site.

    The sites are rendered from a first read, outside any transaction; then each batch of
    ``WRITE_BATCH`` is locked and written in one transaction, and a site or profile that changed
    in between is rendered again under the lock. So the locks are held only for the writes, a
    batch costs a fixed number of queries beside one audit event and one rollout refresh per new
    version, and two workers on SQLite render while the other writes.
    """
    ids = sorted(set(site_ids))
    outcome = {}
    for start in range(0, len(ids), WRITE_BATCH):
        outcome.update(_regenerate_batch(ids[start : start + WRITE_BATCH], by, reason))
    return outcome


class _Renderer:
    """build_instructions for sites, parsing each distinct profile once."""

    def __init__(self):
        self._profiles: dict[str, ProfileSpec] = {}

    def inputs(self, site: Site) -> tuple[dict, str]:
        """What the rendering depends on, to tell whether a site changed since it was rendered."""
        return site.description, json.dumps(site.profile.as_data(), sort_keys=True)

    def render(self, site: Site) -> InstructionContent:
        _, profile_key = self.inputs(site)
        profile = self._profiles.get(profile_key)
        if profile is None:
            profile = self._profiles[profile_key] = site.profile.as_spec()
        return build_instructions(site.as_description(), profile)


def _regenerate_batch(
    ids: list[int], by, reason: str
) -> dict[int, tuple[InstructionSet | None, bool]]:
    renderer = _Renderer()
    rendered = {
        site.pk: (renderer.inputs(site), renderer.render(site))
        for site in Site.objects.filter(pk__in=ids).select_related("profile")
        if site.description and site.profile is not None
    }
    outcome, new = {}, []  # new: (site, content)
    with transaction.atomic():
        locked = (
            # of=self: PostgreSQL cannot lock the nullable side of the outer joins.
            Site.objects.select_for_update(of=("self",))
            .select_related("profile", "organisation", "current_instruction_set")
            .defer(
                "current_instruction_set__documents",
                "current_instruction_set__rules",
                "current_instruction_set__description",
            )
            .filter(pk__in=ids)
            .order_by("pk")  # one locking order for every batch: no deadlock between workers
        )
        revisions: dict[int, list[int]] = {}  # profile revision → instruction sets to record it on
        for site in locked:
            if not site.description or site.profile is None:
                outcome[site.pk] = (None, False)
                continue
            if site.lifecycle != Lifecycle.ACTIVE:
                outcome[site.pk] = (site.current_instruction_set, False)
                continue
            inputs, content = rendered.get(site.pk, (None, None))
            if inputs != renderer.inputs(site):  # changed since the first read
                content = renderer.render(site)
            current = site.current_instruction_set
            if current is not None and current.content_hash == content.content_hash:
                if current.profile_revision != site.profile.revision:
                    # The profile changed in a way that does not touch this site: record the check.
                    revisions.setdefault(site.profile.revision, []).append(current.pk)
                outcome[site.pk] = (current, False)
            else:
                new.append((site, content))
        for revision, pks in revisions.items():
            InstructionSet.objects.filter(pk__in=pks).update(profile_revision=revision)
        if new:
            versions = _versions_from_applied(new, reason)
            outcome.update(_write_new_versions(versions, by))
    return outcome


@dataclass(frozen=True)
class NewVersion:
    """A version to write for ``site``: what its rollout follows (``rendered``, stored as
    ``documents``), the complete instructions it stands for (``content``) and why it exists."""

    site: Site
    content: InstructionContent
    kind: str = PlanKind.COMPLETE
    rendered: tuple[Rendered, ...] = ()  # the plan's documents; empty: the complete instructions
    applied_from: InstructionSet | None = None
    # A plan from a version applied from adjusted instructions was adjusted to the same check,
    # and so is this version (``InstructionSet.applied_check``).
    applied_check: dict = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    reason: str = ""
    removal_scope: str = ""
    description: dict = field(
        default_factory=dict
    )  # the version's description (default: the site's)
    profile_data: dict = field(default_factory=dict)

    @property
    def followed(self) -> tuple[Rendered, ...]:
        return self.rendered if self.kind != PlanKind.COMPLETE else self.content.rendered


def stored_profile(instruction_set: InstructionSet) -> ProfileSpec:
    """The profile ``instruction_set`` was made from (the profile's current data for versions
    made before it was kept)."""
    if instruction_set.profile_data:
        return ProfileSpec.from_dict(instruction_set.profile_data)
    return instruction_set.profile.as_spec()


def has_markers(instruction_set: InstructionSet) -> bool:
    """Whether every renderer of ``instruction_set`` marked what it created (its version is at
    least the renderer's ``markers_since``): only then can a plan find those rules again."""
    for renderer in instruction_set.renderers:
        since = getattr(RENDERERS.get(renderer["slug"]), "markers_since", None)
        if since is None or renderer["version"] < since:
            return False
    return True


def applied_versions(site_ids: list[int]) -> dict[int, InstructionSet]:
    """{site: the latest version whose rollout finished}: what the customer applied. Two
    queries; the versions come with their profile, without their documents."""
    latest = (
        InstructionSet.objects.filter(site_id__in=site_ids, rollout__state=RolloutState.DONE)
        .values("site_id")
        .annotate(latest=Max("version"))
        .order_by()
    )
    wanted = Q(pk__in=[])
    for row in latest:
        wanted |= Q(site_id=row["site_id"], version=row["latest"])
    return {
        instruction_set.site_id: instruction_set
        for instruction_set in _without_documents(InstructionSet.objects.filter(wanted))
    }


def _without_documents(instruction_sets):
    return instruction_sets.select_related("profile").defer(
        "rules", "documents", "complete_documents"
    )


def _versions_from_applied(new: list[tuple[Site, InstructionContent]], reason: str) -> list:
    """Each new version as the change plan from the site's applied version, or as the complete
    instructions when it has none (or its renderers cannot plan yet: ``PlansUnavailable``); with
    what changed since the version before, and ``reason``."""
    applied = applied_versions([site.pk for site, _ in new])
    # The current versions of the others, read in one query (the locked sites' are deferred).
    current = {
        instruction_set.site_id: instruction_set
        for instruction_set in _without_documents(
            InstructionSet.objects.filter(
                pk__in=[
                    site.current_instruction_set_id
                    for site, _ in new
                    if site.pk not in applied and site.current_instruction_set_id
                ]
            )
        )
    }
    versions = []
    for site, content in new:
        description, profile = site.as_description(), site.profile.as_spec()
        base = applied.get(site.pk) or current.get(site.pk)
        changes = (
            describe_changes(
                SiteDescription.from_dict(base.description),
                stored_profile(base),
                description,
                profile,
            )
            if base is not None
            else ()
        )
        reasons = ((reason,) if reason else ()) + tuple(changes)
        plan = None
        if site.pk in applied and has_markers(base):
            try:
                plan = plan_change(
                    SiteDescription.from_dict(base.description),
                    stored_profile(base),
                    description,
                    profile,
                    reasons=reasons,
                    applied=AppliedCheck.from_dict(base.applied_check),
                )
            except PlansUnavailable:
                plan = None  # this vendor's instructions carry no markers yet
        if plan is None:
            versions.append(NewVersion(site, content, changes=reasons, reason=reason))
            continue
        versions.append(
            NewVersion(
                site,
                content,
                kind=PlanKind.CHANGE,
                # An empty plan: nothing to do on the firewall; its rollout is done at once.
                rendered=tuple(replace(document, steps=()) for document in plan.documents)
                if plan.is_empty
                else tuple(plan.documents),
                applied_from=base,
                applied_check=base.applied_check,
                changes=tuple(plan.changes),
                reason=reason,
            )
        )
    return versions


def write_version(version: NewVersion, by=None) -> InstructionSet:
    """Write one new version (with its rollout) for ``version.site``, locked by the caller's
    transaction; ``sites.services.lifecycle`` writes removal plans so."""
    return _write_new_versions([version], by)[version.site.pk][0]


def _write_new_versions(new: list[NewVersion], by) -> dict:
    """New instruction sets, their rollouts (carrying unchanged done and skipped steps over) and
    one audit event each; the sites point at them."""
    instruction_sets = InstructionSet.objects.bulk_create(
        [
            InstructionSet(
                site=v.site,
                version=v.site.current_instruction_set.version + 1
                if v.site.current_instruction_set
                else 1,
                content_hash=v.content.content_hash,
                profile=v.site.profile,
                profile_revision=v.site.profile.revision,
                profile_data=v.profile_data or v.site.profile.as_spec().to_dict(),
                renderers=v.content.renderers,
                description=v.description or v.site.description,
                rules=v.content.rules,
                documents=[rendered_as_dict(document) for document in v.followed]
                if v.kind != PlanKind.COMPLETE
                else v.content.documents,
                complete_documents=v.content.documents
                if v.kind != PlanKind.COMPLETE and v.removal_scope != "all"
                else None,
                kind=v.kind,
                removal_scope=v.removal_scope,
                applied_from=v.applied_from,
                applied_check=v.applied_check,
                changes=list(v.changes),
                reason=v.reason,
                created_by=by,
            )
            for v in new
        ]
    )
    carried = _carried_steps([v.site.current_instruction_set_id for v in new])
    rollouts = Rollout.objects.bulk_create(
        [
            Rollout(site=v.site, instruction_set=instruction_set)
            for v, instruction_set in zip(new, instruction_sets, strict=True)
        ]
    )
    now = timezone.now()
    steps = []
    for v, rollout in zip(new, rollouts, strict=True):
        steps += _rollout_steps(rollout, v.followed, _carries_from(v), carried, now)
    RolloutStep.objects.bulk_create(steps)
    with_steps = {step.rollout_id for step in steps}
    for rollout in rollouts:
        if rollout.pk in with_steps:
            refresh_rollout_state(rollout, update_site=False)  # the sites follow below
        else:
            # A plan with nothing to do: what was applied already is what is needed.
            Rollout.objects.filter(pk=rollout.pk).update(
                state=RolloutState.DONE, started_at=now, finished_at=now
            )
            rollout.state, rollout.started_at, rollout.finished_at = RolloutState.DONE, now, now

    # Each site to its new instruction set, in one statement (the one made for it just now).
    updated_at = timezone.now()
    new_ids = [instruction_set.pk for instruction_set in instruction_sets]
    Site.objects.filter(pk__in=[v.site.pk for v in new]).update(
        current_instruction_set=Subquery(
            InstructionSet.objects.filter(site=OuterRef("pk"), pk__in=new_ids).values("pk")[:1]
        ),
        updated_at=updated_at,
    )
    follow_current_rollout(Site.objects.filter(pk__in=[v.site.pk for v in new]))
    outcome = {}
    for v, instruction_set in zip(new, instruction_sets, strict=True):
        site = v.site
        current = site.current_instruction_set
        site.current_instruction_set, site.updated_at = instruction_set, updated_at
        record_event(
            action="instructions.generated",
            organisation=site.organisation,
            target=instruction_set,
            before={"version": current.version, "hash": current.content_hash} if current else None,
            after={
                "version": instruction_set.version,
                "hash": instruction_set.content_hash,
                "renderers": v.content.renderers,
                "profile_revision": site.profile.revision,
                "kind": v.kind,
                "changes": list(v.changes),
                **({"reason": v.reason} if v.reason else {}),
            },
        )
        outcome[site.pk] = (instruction_set, True)
    follow_monitoring(
        (v.site, SiteDescription.from_dict(v.description or v.site.description).monitoring_enabled)
        for v in new
        if v.removal_scope != "all"
    )
    return outcome


def _carries_from(version: NewVersion) -> InstructionSet | None:
    """The version whose done and skipped steps the new one keeps where unchanged: the one
    before, except that a plan keeps only the progress of an earlier plan from the same applied
    version (what was done for the complete instructions, checks included, says nothing about
    the change)."""
    previous = version.site.current_instruction_set
    if previous is None or version.kind == PlanKind.COMPLETE:
        return previous
    same_start = (
        previous.kind == version.kind
        and version.applied_from is not None
        and previous.applied_from_id == version.applied_from.pk
    )
    return previous if same_start else None


def _carried_steps(previous_ids: list[int | None]) -> dict[int, dict[tuple[str, str], str]]:
    """{previous instruction set: {(step key, fingerprint): state}} of its rollout's done and
    skipped steps (a later position wins a duplicate key)."""
    carried: dict[int, dict[tuple[str, str], str]] = {}
    rows = (
        RolloutStep.objects.filter(
            rollout__instruction_set_id__in=[pk for pk in previous_ids if pk is not None],
            state__in=_CARRIED_STATES,
        )
        .order_by("rollout_id", "position")
        .values_list("rollout__instruction_set_id", "key", "fingerprint", "state")
    )
    for instruction_set_id, key, fingerprint, state in rows:
        carried.setdefault(instruction_set_id, {})[(key, fingerprint)] = state
    return carried


def _rollout_steps(
    rollout: Rollout,
    documents: tuple[Rendered, ...],
    previous: InstructionSet | None,
    carried: dict,
    now,
) -> list[RolloutStep]:
    """The new rollout's steps, one per step of ``documents`` in rollout order; a step unchanged
    since ``previous`` keeps the done or skipped state it had there."""
    earlier_states = carried.get(previous.pk, {}) if previous is not None else {}
    steps = []
    for position, vendor, step in rollout_order(documents):
        key, fingerprint = step_key(vendor, step), step_fingerprint(step)
        earlier = earlier_states.get((key, fingerprint))
        steps.append(
            RolloutStep(
                rollout=rollout,
                position=position,
                vendor=vendor,
                number=step.number,
                key=key[:400],
                fingerprint=fingerprint,
                title=step.title[:300],
                kind=str(step.kind),
                state=earlier or StepState.PENDING,
                note=f"Carried over from version {previous.version}." if earlier else "",
                changed_at=now if earlier else None,
            )
        )
    return steps


def sites_needing_regeneration(*, older_than_seconds: float, limit: int) -> list[int]:
    """Sites whose instructions lag their description: no current instruction set, or one made
    from another description, although the site last changed more than ``older_than_seconds``
    ago (by then its ``regenerate_site_instructions`` should have run). Oldest change first, at
    most ``limit``.

    Only described sites on a profile (``regenerate_site`` renders nothing for the others). The
    descriptions are compared as ``SiteDescription`` reads them, so a description stored in
    another form (keys in another order, defaults written out) is not taken for a change. A
    profile change is not looked at here: its job re-derives the sites, and a lost job is sent
    again (``portal.jobs.services.requeue_lost_jobs``). ``updated_at`` stands for the last change
    of the description: it also moves on other saves, which only restarts the wait.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    lagging = Q(current_instruction_set__isnull=True) | ~Q(
        description=F("current_instruction_set__description")
    )
    rows = (
        Site.objects.filter(
            profile__isnull=False, updated_at__lte=cutoff, lifecycle=Lifecycle.ACTIVE
        )
        .exclude(description={})
        .filter(lagging)
        .order_by("updated_at", "pk")
        .values_list("pk", "description", "current_instruction_set__description")
    )
    found = []
    for pk, description, made_from in rows.iterator(chunk_size=500):
        wanted = _read(description)
        if wanted is None:
            continue  # not a valid description: nothing to render
        if made_from is None or _read(made_from) != wanted:
            found.append(pk)
            if len(found) >= limit:
                break
    return found


def _read(description: dict) -> dict | None:
    try:
        return SiteDescription.from_dict(description).to_dict()
    except DescriptionError:
        return None
