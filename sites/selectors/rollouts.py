"""Reads of a site's instruction sets and of its rollout's steps."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from sites.instructions import step_content, step_contents
from sites.models import InstructionSet, RolloutStep, Site
from sites.vendors.base import Step


def previous_version(instruction_set: InstructionSet) -> InstructionSet | None:
    """The version before ``instruction_set`` (its number and documents only), if there is one."""
    if instruction_set.version <= 1:
        return None
    return (
        InstructionSet.objects.filter(
            site_id=instruction_set.site_id, version=instruction_set.version - 1
        )
        .only("version", "documents")
        .first()
    )


def rollout_steps(
    instruction_set: InstructionSet, *, badges_only: bool = False
) -> list[tuple[RolloutStep, Step]]:
    """The rollout's steps in position order, each beside the step content it follows.

    ``badges_only``: each step loaded with only what its badge shows (state, note, who, when).
    """
    contents = step_contents(instruction_set.documents)
    steps = instruction_set.rollout.steps.select_related("changed_by").order_by("position")
    if badges_only:
        steps = steps.only(
            "state", "note", "changed_at", "changed_by__username", "vendor", "number", "position"
        )
    return [(step, contents[step.vendor, step.number]) for step in steps]


def instruction_history(site: Site) -> QuerySet[InstructionSet]:
    """The site's instruction sets and who made them, without their (large) contents."""
    return site.instruction_sets.select_related("created_by", "applied_from").defer(
        "documents",
        "rules",
        "description",
        "complete_documents",
        "applied_from__documents",
        "applied_from__rules",
        "applied_from__description",
        "applied_from__complete_documents",
    )


def instruction_set_for(site: Site, version: int) -> InstructionSet:
    """Version ``version`` of ``site``'s instructions (a site the caller's selector gave); else
    Http404."""
    return get_object_or_404(
        site.instruction_sets.select_related("created_by", "applied_from").defer(
            "applied_from__documents",
            "applied_from__rules",
            "applied_from__description",
            "applied_from__complete_documents",
        ),
        version=version,
    )


def rollout_step_for(site: Site, pk: int) -> RolloutStep:
    """The rollout step ``pk`` of ``site``, with its instruction set and who marked it; else
    Http404."""
    return get_object_or_404(
        RolloutStep.objects.select_related("rollout__instruction_set", "changed_by"),
        pk=pk,
        rollout__site=site,
    )


def content_of(step: RolloutStep) -> Step | None:
    """What ``step`` asks the customer to do, as its instruction set's document wrote it."""
    instruction_set = step.rollout.instruction_set
    if instruction_set is None:
        return None
    return step_content(instruction_set.documents, vendor=step.vendor, number=step.number)
