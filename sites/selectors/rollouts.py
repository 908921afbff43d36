"""Reads of a site's instruction sets and of its rollout's steps."""
from django.db.models import QuerySet

from sites.models import InstructionSet, RolloutStep, Site


def previous_version(instruction_set: InstructionSet) -> InstructionSet | None:
    """The version before ``instruction_set`` (its number and documents only), if there is one."""
    if instruction_set.version <= 1:
        return None
    return (
        InstructionSet.objects.filter(site_id=instruction_set.site_id, version=instruction_set.version - 1)
        .only("version", "documents")
        .first()
    )


def rollout_steps(
    instruction_set: InstructionSet, *, badges_only: bool = False
) -> list[tuple[RolloutStep, dict]]:
    """The rollout's steps, each beside the step content it follows (in position order).

    ``badges_only``: each step loaded with only what its badge shows (state, note, who, when).
    """
    content = [step for document in instruction_set.documents for step in document["steps"]]
    steps = instruction_set.rollout.steps.select_related("changed_by").order_by("position")
    if badges_only:
        steps = steps.only("state", "note", "changed_at", "changed_by__username")
    return list(zip(steps, content, strict=True))


def instruction_history(site: Site) -> QuerySet[InstructionSet]:
    """The site's instruction sets and who made them, without their (large) contents."""
    return site.instruction_sets.select_related("created_by").defer("documents", "rules", "description")
