"""Output formats of an instruction set: the configuration file, and plain text.

``config_file`` is what ``--format config`` prints: the ``config`` of every step, in order, each
ending with a newline; steps with nothing to paste (checks, verifications) are skipped. For the
iptables and nftables renderers the result is one file their loader accepts
(``iptables-restore --test``, ``nft -c -f``); for the others it is the commands in order.

``instructions_text`` is a complete, stable plain-text rendering (used for the golden files and
for ``--format text``).

Titles, reasons, paths and warnings carry what customers typed (site and interface names), so the
downloads escape them: Markdown gets HTML-escaped, Markdown-escaped text on one line (a viewer that
renders HTML runs nothing, a name cannot start a heading or a link); plain text gets no control
characters (a terminal runs no escape sequence). Configuration stays verbatim, in Markdown inside a
fence longer than any run of backticks in it, so no content can close its block.
"""

from __future__ import annotations

import html
import re

from sites.vendors.base import Rendered, Step

# Characters that start Markdown syntax inline (CommonMark lets any ASCII punctuation be escaped).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}#|~!])")
# Control characters other than tab and newline: C0, DEL and C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029]")
_BACKTICKS = re.compile(r"`+")


def plain_inline(text: str) -> str:
    """``text`` on one line, without control characters (shown as U+FFFD)."""
    return _CONTROL.sub("\ufffd", _LINE_BREAK.sub(" ", text))


def plain_block(text: str) -> str:
    """``text`` with its lines, without other control characters (shown as U+FFFD)."""
    return _CONTROL.sub("\ufffd", text)


def markdown_inline(text: str) -> str:
    """``text`` as literal Markdown text on one line: no HTML, no emphasis, link or heading."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(plain_inline(text), quote=False))


def markdown_code_block(code: str, language: str = "") -> list[str]:
    """``code`` verbatim in a fenced block whose fence no line of ``code`` can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{plain_inline(language)}", code.rstrip("\n"), fence]


def config_file(rendered: Rendered) -> str:
    """Every step's configuration in order, as one text."""
    parts = [step.config.rstrip("\n") + "\n" for step in rendered.steps if step.config.strip()]
    return "\n".join(parts)


def instructions_text(rendered: Rendered) -> str:
    """The whole instruction set as readable text: warnings, then each step with every field."""
    text = plain_inline
    lines = [f"vendor: {rendered.vendor} (renderer version {rendered.renderer_version})"]
    for warning in rendered.warnings:
        where = f" ({text(warning.field)})" if warning.field else ""
        lines.append(f"warning [{warning.code}]{where}: {text(warning.message)}")
    for step in rendered.steps:
        lines += ["", f"Step {step.number} [{step.kind}] {text(step.title)}"]
        if step.gui_path:
            lines.append(f"  Where: {text(step.gui_path)}")
        if step.guide_rules:
            lines.append("  Guide rules: " + ", ".join(str(int(r)) for r in step.guide_rules))
        lines.append(f"  Why: {text(step.reason)}")
        if step.config:
            lines.append(f"  Config ({step.config_language}):")
            lines += indented(step.config)
        if step.verify:
            lines.append("  Verify:")
            lines += indented(step.verify)
        if step.probes:
            lines.append("  Probes: " + ", ".join(str(p) for p in step.probes))
    return "\n".join(lines) + "\n"


def indented(text: str) -> list[str]:
    """``text``'s lines indented by four spaces, without control characters."""
    return [f"    {line}".rstrip() for line in plain_block(text).rstrip("\n").split("\n")]


def markdown_step_body(step: Step) -> list[str]:
    """A step's where, why, configuration and check as Markdown lines (below its heading)."""
    lines = []
    if step.gui_path:
        lines += [f"*Where:* {markdown_inline(step.gui_path)}", ""]
    lines += [f"*Why:* {markdown_inline(step.reason)}", ""]
    if step.config:
        lines += [*markdown_code_block(step.config, step.config_language), ""]
    if step.verify:
        lines += ["*Check:*", "", *markdown_code_block(step.verify), ""]
    return lines


def instructions_markdown(rendered: Rendered, *, title: str = "") -> str:
    """The instruction set as Markdown: warnings as a list, each step a section with code blocks.

    ``title`` (a site name) and every text of the steps are escaped (``markdown_inline``).
    """
    text = markdown_inline
    lines = [f"# {text(title or 'Firewall instructions')} ({text(rendered.vendor)})", ""]
    if rendered.warnings:
        lines += ["**Before you start:**", ""]
        lines += [f"- {text(warning.message)}" for warning in rendered.warnings]
        lines.append("")
    for step in rendered.steps:
        lines += [f"## Step {step.number}: {text(step.title)}", ""]
        lines += markdown_step_body(step)
    return "\n".join(lines).rstrip("\n") + "\n"
