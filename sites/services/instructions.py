"""Generating a site's instructions: a new version only when something changed."""
from django.db import transaction
from django.utils import timezone

from portal.audit.services import record_event
from sites.instructions import build_instructions, step_fingerprint, step_key
from sites.models import InstructionSet, Rollout, RolloutStep, Site, StepState
from sites.services.rollouts import refresh_rollout_state

# States a customer reached that stay valid when the step itself did not change.
_CARRIED_STATES = (StepState.DONE, StepState.SKIPPED)


def regenerate_site(*, site_id: int, actor=None) -> tuple[InstructionSet | None, bool]:
    """Render the site's instructions; returns (current instruction set, whether it is new).

    Idempotent: with the same description, profile and renderer versions the current version
    stays. A new version opens a new rollout; steps that did not change keep their done or
    skipped state.
    """
    with transaction.atomic():
        site = (
            # of=self: PostgreSQL cannot lock the nullable side of the outer joins.
            Site.objects.select_for_update(of=("self",))
            .select_related("profile", "organisation", "current_instruction_set")
            .get(pk=site_id)
        )
        if not site.description or site.profile is None:
            return None, False
        content = build_instructions(site.as_description(), site.profile.as_description())
        current = site.current_instruction_set
        if current is not None and current.content_hash == content.content_hash:
            if current.profile_revision != site.profile.revision:
                # The profile changed in a way that does not touch this site: record the check.
                InstructionSet.objects.filter(pk=current.pk).update(
                    profile_revision=site.profile.revision
                )
            return current, False

        instruction_set = InstructionSet.objects.create(
            site=site,
            version=(current.version + 1) if current else 1,
            content_hash=content.content_hash,
            profile=site.profile,
            profile_revision=site.profile.revision,
            renderers=content.renderers,
            description=site.description,
            rules=content.rules,
            documents=content.documents,
            created_by=actor,
        )
        _open_rollout(site, instruction_set, previous=current)
        site.current_instruction_set = instruction_set
        site.save(update_fields=["current_instruction_set", "updated_at"])
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
    return instruction_set, True


def _open_rollout(site: Site, instruction_set: InstructionSet, previous: InstructionSet | None):
    carried = {}
    if previous is not None and hasattr(previous, "rollout"):
        carried = {
            (step.key, step.fingerprint): step
            for step in previous.rollout.steps.filter(state__in=_CARRIED_STATES)
        }
    rollout = Rollout.objects.create(site=site, instruction_set=instruction_set)
    steps, position = [], 0
    for document in instruction_set.documents:
        for step in document["steps"]:
            position += 1
            key, fingerprint = step_key(document["vendor"], step), step_fingerprint(step)
            earlier = carried.get((key, fingerprint))
            steps.append(
                RolloutStep(
                    rollout=rollout,
                    position=position,
                    vendor=document["vendor"],
                    number=step["number"],
                    key=key[:400],
                    fingerprint=fingerprint,
                    title=step["title"][:300],
                    kind=step["kind"],
                    state=earlier.state if earlier else StepState.PENDING,
                    note=f"Carried over from version {previous.version}." if earlier else "",
                    changed_at=timezone.now() if earlier else None,
                )
            )
    RolloutStep.objects.bulk_create(steps)
    refresh_rollout_state(rollout)
    return rollout
