"""What changed between two versions of a site's instructions, step by step."""

from __future__ import annotations

from dataclasses import dataclass

from sites.instructions.documents import rollout_order, step_fingerprint, step_key
from sites.vendors.base import Rendered


@dataclass(frozen=True)
class InstructionDiff:
    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_documents(old: list[Rendered], new: list[Rendered]) -> InstructionDiff:
    """Steps added, removed and changed between two versions' documents (titles, in order)."""

    def index(documents: list[Rendered]) -> dict[str, tuple[str, str]]:
        return {
            step_key(vendor, step): (step.title, step_fingerprint(step))
            for _, vendor, step in rollout_order(documents)
        }

    before, after = index(old), index(new)
    return InstructionDiff(
        added=[after[k][0] for k in after if k not in before],
        removed=[before[k][0] for k in before if k not in after],
        changed=[after[k][0] for k in after if k in before and before[k][1] != after[k][1]],
    )
