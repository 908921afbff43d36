"""Output formats of an instruction set: the configuration file, and plain text.

``config_file`` is what ``--format config`` prints: the ``config`` of every step, in order, each
ending with a newline; steps with nothing to paste (checks, verifications) are skipped. For the
iptables and nftables renderers the result is one file their loader accepts
(``iptables-restore --test``, ``nft -c -f``); for the others it is the commands in order.

``instructions_text`` is a complete, stable plain-text rendering (used for the golden files and
for ``--format text``).
"""

from __future__ import annotations

from sites.vendors.base import Rendered


def config_file(rendered: Rendered) -> str:
    """Every step's configuration in order, as one text."""
    parts = [step.config.rstrip("\n") + "\n" for step in rendered.steps if step.config.strip()]
    return "\n".join(parts)


def instructions_text(rendered: Rendered) -> str:
    """The whole instruction set as readable text: warnings, then each step with every field."""
    lines = [f"vendor: {rendered.vendor} (renderer version {rendered.renderer_version})"]
    for warning in rendered.warnings:
        where = f" ({warning.field})" if warning.field else ""
        lines.append(f"warning [{warning.code}]{where}: {warning.message}")
    for step in rendered.steps:
        lines += ["", f"Step {step.number} [{step.kind}] {step.title}"]
        if step.gui_path:
            lines.append(f"  Where: {step.gui_path}")
        if step.guide_rules:
            lines.append("  Guide rules: " + ", ".join(str(int(r)) for r in step.guide_rules))
        lines.append(f"  Why: {step.reason}")
        if step.config:
            lines.append(f"  Config ({step.config_language}):")
            lines += _indent(step.config)
        if step.verify:
            lines.append("  Verify:")
            lines += _indent(step.verify)
        if step.probes:
            lines.append("  Probes: " + ", ".join(str(p) for p in step.probes))
    return "\n".join(lines) + "\n"


def _indent(text: str) -> list[str]:
    return [f"    {line}".rstrip() for line in text.rstrip("\n").split("\n")]


def instructions_markdown(rendered: Rendered, *, title: str = "") -> str:
    """The instruction set as Markdown: warnings as a list, each step a section with code blocks."""
    lines = [f"# {title or 'Firewall instructions'} ({rendered.vendor})", ""]
    if rendered.warnings:
        lines += ["**Before you start:**", ""]
        lines += [f"- {warning.message}" for warning in rendered.warnings]
        lines.append("")
    for step in rendered.steps:
        lines += [f"## Step {step.number}: {step.title}", ""]
        if step.gui_path:
            lines += [f"*Where:* {step.gui_path}", ""]
        lines += [f"*Why:* {step.reason}", ""]
        if step.config:
            lines += [f"```{step.config_language}", step.config.rstrip("\n"), "```", ""]
        if step.verify:
            lines += ["*Check:*", "", "```", step.verify.rstrip("\n"), "```", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
