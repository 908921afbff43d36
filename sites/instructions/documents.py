"""The stored form of rendered instructions, and the one way to read it back.

An instruction set stores one JSON document per renderer (``InstructionSet.documents``):
``rendered_as_dict`` writes it, ``rendered_from_dict`` reads it back into the renderers' own
:class:`~sites.vendors.base.Rendered`, so no other code picks the dicts apart by hand.

A rollout step (``RolloutStep``) follows one step of those documents: ``rollout_order`` numbers
the steps as the rollout lists them (its ``position``), and ``step_content`` (``step_contents``
for many) finds a rollout step's content by its vendor and number. ``step_key`` and ``step_fingerprint`` tell whether a
step survived a new version unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from sites.policy import GuideRule, PolicyWarning, WarningCode
from sites.vendors.base import Probe, Rendered, Step, StepKind


def step_as_dict(step: Step) -> dict:
    """A JSON-ready copy of one step (as stored, and as the API shows a rollout step's content).

    A plan step's ``action`` and a closure probe's ``expect`` are written only when set, so
    complete instruction sets keep the shape (and content hash) they had before plans existed.
    """
    data = {
        "number": step.number,
        "kind": str(step.kind),
        "title": step.title,
        "gui_path": step.gui_path,
        "config": step.config,
        "config_language": step.config_language,
        "reason": step.reason,
        "verify": step.verify,
        "guide_rules": [int(rule) for rule in step.guide_rules],
        "probes": [_probe_as_dict(p) for p in step.probes],
    }
    if step.action:
        data["action"] = step.action
    return data


def _probe_as_dict(probe: Probe) -> dict:
    data: dict = {"direction": probe.direction, "protocol": probe.protocol, "port": probe.port}
    if probe.expect != "open":
        data["expect"] = probe.expect
    return data


def rendered_as_dict(rendered: Rendered) -> dict:
    """A JSON-ready copy of the instruction set (stored, and what ``--format json`` prints)."""
    return {
        "vendor": rendered.vendor,
        "renderer_version": rendered.renderer_version,
        "warnings": [
            {"code": str(w.code), "field": w.field, "message": w.message} for w in rendered.warnings
        ],
        "steps": [step_as_dict(step) for step in rendered.steps],
    }


def step_from_dict(data: dict) -> Step:
    return Step(
        number=data["number"],
        kind=StepKind(data["kind"]),
        title=data["title"],
        gui_path=data["gui_path"],
        config=data["config"],
        config_language=data["config_language"],
        reason=data["reason"],
        verify=data["verify"],
        guide_rules=tuple(GuideRule(rule) for rule in data["guide_rules"]),
        probes=tuple(Probe(**probe) for probe in data["probes"]),
        action=data.get("action", ""),
    )


def rendered_from_dict(data: dict) -> Rendered:
    """A stored document back in the renderers' shape (the inverse of ``rendered_as_dict``)."""
    return Rendered(
        vendor=data["vendor"],
        renderer_version=data["renderer_version"],
        steps=tuple(step_from_dict(step) for step in data["steps"]),
        warnings=tuple(
            PolicyWarning(WarningCode(w["code"]), w["message"], w["field"])
            for w in data["warnings"]
        ),
    )


def read_documents(documents: list[dict]) -> list[Rendered]:
    """An instruction set's stored documents, read back."""
    return [rendered_from_dict(document) for document in documents]


def unique_warnings(documents: Iterable[Rendered]) -> tuple[PolicyWarning, ...]:
    """The warnings of every document, each message once (the firewall's and the host's
    documents both carry the policy's warnings)."""
    seen: dict[str, PolicyWarning] = {}
    for document in documents:
        for warning in document.warnings:
            seen.setdefault(warning.message, warning)
    return tuple(seen.values())


def rollout_order(documents: Iterable[Rendered]) -> Iterator[tuple[int, str, Step]]:
    """(position, vendor, step) of every step, in the order a rollout follows them: each
    document's steps in turn, positions counted from 1 across documents."""
    position = 0
    for document in documents:
        for step in document.steps:
            position += 1
            yield position, document.vendor, step


def step_contents(documents: list[dict]) -> dict[tuple[str, int], Step]:
    """Every step of stored ``documents`` by (vendor, number): what a ``RolloutStep`` records of
    the step it follows, so this is how a rollout step finds its content."""
    return {
        (document["vendor"], step["number"]): step_from_dict(step)
        for document in documents
        for step in document["steps"]
    }


def step_content(documents: list[dict], *, vendor: str, number: int) -> Step | None:
    """The content of the rollout step ``vendor`` / ``number`` (None if there is no such step)."""
    return step_contents(documents).get((vendor, number))


def step_key(vendor: str, step: Step) -> str:
    """Identifies a step across versions: same vendor, kind and title."""
    return f"{vendor}:{step.kind}:{step.title}"


def step_fingerprint(step: Step) -> str:
    """Changes when anything the customer does for the step changes."""
    material = json.dumps([step.gui_path, step.config, step.verify], separators=(",", ":"))
    return hashlib.sha256(material.encode()).hexdigest()[:16]
