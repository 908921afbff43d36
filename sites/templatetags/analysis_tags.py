"""Template filters of the configuration check's pages and of the site page's steps."""

from django import template

register = template.Library()


@register.filter
def step_evidence(evidence_by_step: dict, step) -> dict | None:
    """What a configuration check holds for a rollout step, by ``vendor:number``: its evidence
    (steps in place) or its adjusted instructions (``adjusted_by_step``)."""
    if not evidence_by_step:
        return None
    return evidence_by_step.get(f"{step.vendor}:{step.number}")


@register.filter
def line_numbers(lines: list[dict]) -> str:
    """ "12, 30" for the numbered lines of a piece of evidence (line 0: an implicit rule)."""
    return ", ".join(str(line["line"]) for line in lines if line["line"] > 0)
