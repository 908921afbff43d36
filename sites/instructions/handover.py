"""The instructions as a file to hand to a colleague: the whole instruction set of one version, in
the page's order and numbering, under a header saying whose, which version and when.

Pure (the date is given, not read from a clock). Every text a customer typed is escaped
(``sites.vendors.formats``). The per-renderer formats (``instructions_text`` and
``instructions_markdown``) stay what the CLI and the golden files use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sites.instructions.documents import rollout_order
from sites.vendors import get_renderer
from sites.vendors.base import Rendered, Step
from sites.vendors.formats import indented, markdown_inline, markdown_step_body, plain_inline


@dataclass(frozen=True)
class Handover:
    """Whose instructions these are: what the header of a downloaded file says."""

    site: str
    organisation: str
    version: int
    prepared_on: date


def document_heading(rendered: Rendered) -> str:
    """A document's heading: the firewall's or host's name and the versions it targets."""
    renderer = get_renderer(rendered.vendor)
    return f"{renderer.name} ({renderer.versions})"


def numbered_steps(documents: Sequence[Rendered]) -> list[tuple[Rendered, list[tuple[int, Step]]]]:
    """Each document with its steps numbered as the page numbers them (across documents)."""
    positions = {
        (vendor, step.number): position for position, vendor, step in rollout_order(documents)
    }
    return [
        (document, [(positions[document.vendor, step.number], step) for step in document.steps])
        for document in documents
    ]


def handover_markdown(documents: Sequence[Rendered], about: Handover) -> str:
    """One Markdown document: one top-level heading, the header, a section per firewall or host."""
    text = markdown_inline
    lines = [
        f"# Firewall instructions for {text(about.site)}",
        "",
        f"- **Organisation:** {text(about.organisation)}",
        f"- **Version:** {about.version}",
        f"- **Prepared on:** {about.prepared_on.isoformat()}",
        "",
    ]
    for document, steps in numbered_steps(documents):
        lines += [f"## {text(document_heading(document))}", ""]
        if document.warnings:
            lines += ["**Before you start:**", ""]
            lines += [f"- {text(warning.message)}" for warning in document.warnings]
            lines.append("")
        for position, step in steps:
            lines += [f"### Step {position}: {text(step.title)}", ""]
            lines += markdown_step_body(step)
    return "\n".join(lines).rstrip("\n") + "\n"


def handover_text(documents: Sequence[Rendered], about: Handover) -> str:
    """The same as plain text."""
    text = plain_inline
    lines = [
        f"Firewall instructions for {text(about.site)}",
        f"Organisation: {text(about.organisation)}",
        f"Version: {about.version}",
        f"Prepared on: {about.prepared_on.isoformat()}",
    ]
    for document, steps in numbered_steps(documents):
        heading = document_heading(document)
        lines += ["", heading, "=" * len(heading)]
        lines += [f"Before you start: {text(w.message)}" for w in document.warnings]
        for position, step in steps:
            lines += ["", f"Step {position}: {text(step.title)}"]
            if step.gui_path:
                lines.append(f"  Where: {text(step.gui_path)}")
            lines.append(f"  Why: {text(step.reason)}")
            for label, block in (("Config", step.config), ("Check", step.verify)):
                if block:
                    lines.append(f"  {label}:")
                    lines += indented(block)
    return "\n".join(lines) + "\n"
