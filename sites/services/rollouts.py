"""Following a rollout: a person or a probe's proof marks a step (``mark_step``); the rollout's
state follows."""

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.models import InstructionSet, Rollout, RolloutState, RolloutStep, Site, StepState
from sites.selectors.analysis import adjusted_by_step, latest_rollout_analysis
from sites.services.decommission import rollout_finished

NOTE_LIMIT = 2000
# A step counts towards the rollout's progress (``Rollout.steps_finished``) once done or skipped.
FINISHED_STATES = (StepState.DONE, StepState.SKIPPED)


def rollout_state_for(step_states: list[str]) -> str:
    """Any failed step: failed; every step done or skipped: done; any progress: in progress."""
    if not step_states or all(s == StepState.PENDING for s in step_states):
        return RolloutState.NOT_STARTED
    if StepState.FAILED in step_states:
        return RolloutState.FAILED
    if all(s in FINISHED_STATES for s in step_states):
        return RolloutState.DONE
    return RolloutState.IN_PROGRESS


def refresh_rollout_state(rollout: Rollout, *, update_site: bool = True) -> Rollout:
    """Derive the rollout's state and step counts (``steps_total``, ``steps_finished``) from its
    steps, and save what changed; the site's copy of the counts and the state follows while the
    rollout is its current one (``update_site=False``: the caller is about to move the site to this
    rollout, ``follow_current_rollout``). Called inside the transaction of every change of step
    states: a marked step's (``mark_step``) and a new version's steps
    (``sites.services.instructions``).

    The rollout row is locked first, so two step changes at once count each other's step.
    """
    locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
    states = list(RolloutStep.objects.filter(rollout_id=rollout.pk).values_list("state", flat=True))
    changed = []
    counts = (len(states), sum(state in FINISHED_STATES for state in states))
    state = rollout_state_for(states)
    if update_site and ((locked.steps_total, locked.steps_finished), locked.state) != (
        counts,
        state,
    ):
        Site.objects.filter(
            pk=locked.site_id, current_instruction_set_id=locked.instruction_set_id
        ).update(
            rollout_steps_total=counts[0],
            rollout_steps_finished=counts[1],
            current_rollout_state=state,
        )
    if (locked.steps_total, locked.steps_finished) != counts:
        locked.steps_total, locked.steps_finished = counts
        changed += ["steps_total", "steps_finished"]
    if state != locked.state:
        now = timezone.now()
        locked.state = state
        if state != RolloutState.NOT_STARTED and locked.started_at is None:
            locked.started_at = now
        locked.finished_at = now if state == RolloutState.DONE else None
        changed += ["state", "started_at", "finished_at"]
    if changed:
        locked.save(update_fields=changed)
        if "state" in changed and state == RolloutState.DONE:
            rollout_finished(locked)
    for field in ("state", "started_at", "finished_at", "steps_total", "steps_finished"):
        setattr(rollout, field, getattr(locked, field))
    return rollout


def follow_current_rollout(sites: QuerySet[Site]) -> None:
    """Copy the step counts and the state of each site's current rollout onto the site (``Site.
    rollout_steps_total``, ``rollout_steps_finished``, ``current_rollout_state``; 0, 0 and ""
    without instructions), for every site of ``sites`` in one statement: after sites moved to
    new versions."""
    current = Rollout.objects.filter(instruction_set_id=OuterRef("current_instruction_set_id"))
    sites.update(
        rollout_steps_total=Coalesce(Subquery(current.values("steps_total")[:1]), Value(0)),
        rollout_steps_finished=Coalesce(Subquery(current.values("steps_finished")[:1]), Value(0)),
        current_rollout_state=Coalesce(Subquery(current.values("state")[:1]), Value("")),
    )


class StepReplaced(ServiceError):
    """The step's instructions were replaced by a newer version: it can no longer be marked."""

    def __init__(self):
        super().__init__("", "These instructions were replaced by a newer version.")


def mark_step(*, step: RolloutStep, state: str, note: str = "", by=None) -> RolloutStep:
    """Record a step's new state and note: by a person (``by``), or by a probe's proof
    (``by=None``, the note names the run). One audit event, ``rollout.step_changed``, and the
    rollout's state follows; nothing happens when state and note are unchanged.

    ``StepReplaced`` when the site's current instructions are no longer the step's: what was
    done for an older version proves nothing about the newer one.
    """
    if state not in StepState.values:
        raise ServiceError("state", f"Choose one of: {', '.join(StepState.values)}.")
    if len(note) > NOTE_LIMIT:
        raise ServiceError("note", f"Keep the note under {NOTE_LIMIT} characters.")
    with transaction.atomic():
        locked = (
            RolloutStep.objects.select_for_update()
            .select_related("rollout__site__organisation")
            .get(pk=step.pk)
        )
        site = locked.rollout.site
        if site.current_instruction_set_id != locked.rollout.instruction_set_id:
            raise StepReplaced()
        before = {"state": locked.state, "note": locked.note}
        after = {"state": state, "note": note}
        if before == after:
            return locked
        locked.state, locked.note = state, note
        locked.changed_by, locked.changed_at = by, timezone.now()
        locked.save(update_fields=["state", "note", "changed_by", "changed_at"])
        refresh_rollout_state(locked.rollout)
        followed = _adjusted_text_followed(locked) if state == StepState.DONE else {}
        if followed:
            InstructionSet.objects.filter(pk=locked.rollout.instruction_set_id).update(
                applied_check=followed
            )
        record_event(
            action="rollout.step_changed",
            organisation=site.organisation,
            target=locked,
            before=before,
            after={**after, "adjusted_by_check": followed["check"]} if followed else after,
        )
    return locked


def _adjusted_text_followed(step: RolloutStep) -> dict:
    """The adjustments (``sites.plans.applied.AppliedCheck.as_dict``) of the check whose
    adjusted text the rollout shows for ``step`` (the latest finished check of its instructions,
    as the site page does: ``adjusted_by_step``), or {} when it shows the plain text. Marking
    such a step done says the customer followed that text: plans from this version must know
    (``InstructionSet.applied_check``)."""
    rollout = step.rollout
    # Only the version's id is needed, not its documents.
    instruction_set = InstructionSet.objects.only("pk").get(pk=rollout.instruction_set_id)
    analysis = latest_rollout_analysis(rollout.site, instruction_set)
    if f"{step.vendor}:{step.number}" not in adjusted_by_step(analysis):
        return {}
    assert analysis is not None  # adjusted_by_step is empty without one
    return analysis.details.get("adjusted_from") or {}
