"""A site's instructions: rendering them (``pipeline``), their stored content (``content``,
``documents``) and what changed between two versions (``diff``)."""

from sites.instructions.content import (
    InstructionContent,
    build_instructions,
    content_hash,
    policy_as_dicts,
    rule_as_dict,
)
from sites.instructions.diff import InstructionDiff, diff_documents
from sites.instructions.documents import (
    read_documents,
    rendered_as_dict,
    rendered_from_dict,
    rollout_order,
    step_as_dict,
    step_content,
    step_contents,
    step_fingerprint,
    step_key,
)
from sites.instructions.pipeline import RenderedSite, render_site

__all__ = [
    "InstructionContent",
    "InstructionDiff",
    "RenderedSite",
    "build_instructions",
    "content_hash",
    "diff_documents",
    "policy_as_dicts",
    "read_documents",
    "render_site",
    "rendered_as_dict",
    "rendered_from_dict",
    "rollout_order",
    "rule_as_dict",
    "step_as_dict",
    "step_content",
    "step_contents",
    "step_fingerprint",
    "step_key",
]
