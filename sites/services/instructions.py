"""Generating a site's instructions: a new version only when something changed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from portal.audit.services import record_event
from sites.description import DescriptionError, ProfileSpec, SiteDescription
from sites.instructions import (
    InstructionContent,
    build_instructions,
    rollout_order,
    step_fingerprint,
    step_key,
)
from sites.models import InstructionSet, Rollout, RolloutStep, Site, StepState
from sites.services.rollouts import refresh_rollout_state

# States a customer reached that stay valid when the step itself did not change.
_CARRIED_STATES = (StepState.DONE, StepState.SKIPPED)
# Sites written per transaction by ``regenerate_sites``: the rows stay locked (on SQLite, the
# whole database) only while one batch is written, while another worker renders its next one.
WRITE_BATCH = 50


def regenerate_site(*, site_id: int, by=None) -> tuple[InstructionSet | None, bool]:
    """Render the site's instructions; returns (current instruction set, whether it is new).

    Idempotent: with the same description, profile and renderer versions the current version
    stays. A new version opens a new rollout; steps that did not change keep their done or
    skipped state. ``Site.DoesNotExist`` when there is no such site.
    """
    outcome = regenerate_sites(site_ids=[site_id], by=by)
    if site_id not in outcome:
        raise Site.DoesNotExist(f"No site {site_id}.")
    return outcome[site_id]


def regenerate_sites(
    *, site_ids: Iterable[int], by=None
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
        outcome.update(_regenerate_batch(ids[start : start + WRITE_BATCH], by))
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


def _regenerate_batch(ids: list[int], by) -> dict[int, tuple[InstructionSet | None, bool]]:
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
            outcome.update(_write_new_versions(new, by))
    return outcome


def _write_new_versions(new: list[tuple[Site, InstructionContent]], by) -> dict:
    """New instruction sets, their rollouts (carrying unchanged done and skipped steps over) and
    one audit event each; the sites point at them."""
    instruction_sets = InstructionSet.objects.bulk_create(
        [
            InstructionSet(
                site=site,
                version=site.current_instruction_set.version + 1
                if site.current_instruction_set
                else 1,
                content_hash=content.content_hash,
                profile=site.profile,
                profile_revision=site.profile.revision,
                renderers=content.renderers,
                description=site.description,
                rules=content.rules,
                documents=content.documents,
                created_by=by,
            )
            for site, content in new
        ]
    )
    carried = _carried_steps([site.current_instruction_set_id for site, _ in new])
    rollouts = Rollout.objects.bulk_create(
        [
            Rollout(site=site, instruction_set=instruction_set)
            for (site, _), instruction_set in zip(new, instruction_sets, strict=True)
        ]
    )
    now = timezone.now()
    steps = []
    for (site, content), rollout in zip(new, rollouts, strict=True):
        steps += _rollout_steps(rollout, content, site.current_instruction_set, carried, now)
    RolloutStep.objects.bulk_create(steps)
    for rollout in rollouts:
        refresh_rollout_state(rollout)

    # Each site to its new instruction set, in one statement (the one made for it just now).
    updated_at = timezone.now()
    new_ids = [instruction_set.pk for instruction_set in instruction_sets]
    Site.objects.filter(pk__in=[site.pk for site, _ in new]).update(
        current_instruction_set=Subquery(
            InstructionSet.objects.filter(site=OuterRef("pk"), pk__in=new_ids).values("pk")[:1]
        ),
        updated_at=updated_at,
    )
    outcome = {}
    for (site, content), instruction_set in zip(new, instruction_sets, strict=True):
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
                "renderers": content.renderers,
                "profile_revision": site.profile.revision,
            },
        )
        outcome[site.pk] = (instruction_set, True)
    return outcome


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
    content: InstructionContent,
    previous: InstructionSet | None,
    carried: dict,
    now,
) -> list[RolloutStep]:
    """The new rollout's steps, one per step of ``content`` in rollout order; a step unchanged
    since ``previous`` keeps the done or skipped state it had there."""
    earlier_states = carried.get(previous.pk, {}) if previous is not None else {}
    steps = []
    for position, vendor, step in rollout_order(content.rendered):
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
        Site.objects.filter(profile__isnull=False, updated_at__lte=cutoff)
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
