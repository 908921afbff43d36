"""The rollout's remaining steps adjusted to a configuration check: what the site page shows in
place of a step's plain configuration once the check found objects to reuse or a deny to place
above (``sites.vendors.reuse``).

Computed with the check, from the analysis of *that* configuration, for the instruction set the
check was made for; the site page shows only those of the latest finished check for the current
instruction set (``sites.selectors.analysis``), so a newer check replaces older advice and a new
instruction version drops it.
"""

from __future__ import annotations

from typing import Any

from sites.analyzer.analyze import Analysis
from sites.description import ProfileSpec, SiteDescription
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import Rendered, StepKind
from sites.vendors.reuse import adjust_to


def adjusted_steps(
    result: Analysis, site: SiteDescription, profile: ProfileSpec, documents: list[Rendered]
) -> list[dict[str, Any]]:
    """The missing change steps of the analysed vendor's document that the adjustments change
    (none when every flow is as the guide needs): per step
    its number, title, the adjusted configuration and check, and the sentences that say what was
    adjusted and why. Empty when there is nothing to adjust, when the instructions are for
    another vendor, or when they were made by another renderer version than today's (the step
    numbers and texts could differ)."""
    document = next((d for d in documents if d.vendor == result.vendor), None)
    if document is None or not (result.shadowing or result.existing.objects):
        return []
    renderer = get_renderer(result.vendor)
    if renderer.renderer_version != document.renderer_version:
        return []
    adjusted = adjust_to(
        renderer, derive_rules(site, profile), site, profile, result.existing, result.shadowing
    )
    if not adjusted.adjustments:
        return []
    plain = {step.number: step for step in document.steps}
    missing = set(result.missing_steps)  # a step already in place needs no advice
    changed = []
    for step in adjusted.rendered.steps:
        before = plain.get(step.number)
        if before is None or step.kind is not StepKind.CHANGE or before.title != step.title:
            continue
        if step.title not in missing:
            continue
        if (before.config, before.reason, before.verify) == (step.config, step.reason, step.verify):
            continue
        changed.append(
            {
                "number": step.number,
                "title": step.title,
                "config": step.config,
                "verify": step.verify,
                "notes": step.reason.removeprefix(before.reason).strip(),
            }
        )
    return changed
