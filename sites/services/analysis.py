"""Checking a customer's current firewall configuration ("Is it already allowed?", issue #11).

``request_analysis`` takes the export (pasted or uploaded), refuses what the analyzer cannot read
(size, binary, not UTF-8, a vendor it does not read), **redacts its secrets first**
(``sites.analyzer.redact``), and only then writes: the analysis row, the redacted text waiting
for its worker (``ConfigAnalysisInput``), one audit event; the task follows the commit.
``run_analysis`` (the worker) claims it, runs the pure analyzer, keeps the result with the
redacted lines it cites and their context, and deletes the waiting text, done or failed. The
audit trail records that a check ran and its verdicts, never the configuration.

``mark_step_in_place`` marks a rollout step done with the analysis's evidence as its note,
through ``sites.services.rollouts.mark_step`` (nothing is marked without the customer asking).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.analyzer.analyze import PARSERS, SUPPORTED_VENDORS, Analysis, FlowResult, analyze
from sites.analyzer.analyze import as_json as analysis_json
from sites.analyzer.evaluate import ALLOWED, BLOCKED, Topology, evaluate
from sites.analyzer.flows import REFUSED, Flow
from sites.analyzer.limits import config_lines
from sites.analyzer.model import ConfigError, Ruleset
from sites.analyzer.redact import redact
from sites.description import SiteDescription
from sites.models import (
    AnalysisState,
    ConfigAnalysis,
    ConfigAnalysisInput,
    RolloutStep,
    Site,
)
from sites.models.analysis import OPEN_ANALYSIS_STATES
from sites.plans.applied import AppliedCheck
from sites.services import queue
from sites.services.analysis_adjustments import adjusted_steps
from sites.services.instructions import stored_profile
from sites.services.rollouts import mark_step
from sites.vendors import get_renderer, vendor_display_name
from sites.vendors.base import Rendered, StepKind

logger = logging.getLogger(__name__)

ANALYSE_CONFIGURATION = "sites.tasks.analyse_configuration"
OPEN_PER_SITE = 3  # checks of one site queued or running at once
MAX_ATTEMPTS = 3  # a configuration its worker died on three times is given up
CONTEXT_LINES = 2  # kept either side of a cited line
MAX_LINE_CHARS = 500  # of each kept line
MAX_UNRECOGNISED_KEPT = 1000
# Effects (sites.analyzer.evaluate) that say what decides a connection's first packet: the
# evidence for a step. Effects on the replies and later packets only support it.
_DECIDING = (
    "accepts the new connection",
    "drops the new connection",
    "rejects the new connection",
    "the chain's policy drops the new connection",
    "the chain's policy accepts the new connection",
    "translates the destination",
    "translates the source",
    "masquerades the source",
)


def analysable_vendors() -> list[tuple[str, str]]:
    """The vendors the analyzer reads, as (slug, name) choices."""
    return [(slug, vendor_display_name(slug)) for slug in SUPPORTED_VENDORS]


def request_analysis(
    *, site: Site, vendor: str, config: str | bytes, source_name: str = "", by=None
) -> ConfigAnalysis:
    """Queue a check of ``config`` (a ``vendor`` export) for ``site``.

    ``ServiceError`` naming ``vendor`` or ``config`` for what cannot be analysed, and when the
    site already has ``OPEN_PER_SITE`` checks waiting; nothing is written then. The text is
    redacted before it is written anywhere."""
    if vendor not in SUPPORTED_VENDORS:
        raise ServiceError(
            "vendor",
            f"The configuration of {vendor_display_name(vendor) or 'this firewall'} cannot be "
            f"read yet. Choose one of: {', '.join(n for _, n in analysable_vendors())}.",
        )
    text = _text_of(config)
    if site.current_instruction_set_id is None:
        raise ServiceError(
            "", "This site's instructions are still being prepared; check again in a moment."
        )
    redacted = redact(text, vendor)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        waiting = ConfigAnalysis.objects.filter(site=locked, state__in=OPEN_ANALYSIS_STATES)
        if waiting.count() >= OPEN_PER_SITE:
            raise ServiceError(
                "",
                f"{OPEN_PER_SITE} checks of this site are already waiting for a worker; wait "
                "until one has finished.",
            )
        analysis = ConfigAnalysis.objects.create(
            site=locked,
            instruction_set_id=locked.current_instruction_set_id,
            vendor=vendor,
            source_name=source_name[:200],
            size_bytes=len(text.encode("utf-8", "surrogatepass")),
            line_count=len(text.splitlines()),
            redacted_count=redacted.count,
            created_by=by,
        )
        ConfigAnalysisInput.objects.create(analysis=analysis, text=redacted.text)
        record_event(
            action="analysis.requested",
            organisation=locked.organisation,
            target=analysis,
            after={
                "site": locked.pk,
                "vendor": vendor,
                "lines": analysis.line_count,
                "bytes": analysis.size_bytes,
                "secrets_redacted": redacted.count,
            },
        )
        queue.enqueue_after_commit(ANALYSE_CONFIGURATION, analysis.pk)
    return analysis


def _text_of(config: str | bytes) -> str:
    if not config or (isinstance(config, str) and not config.strip()):
        raise ServiceError("config", "Paste the configuration or choose its file.")
    try:
        config_lines(config)  # size, binary, UTF-8, line count: the analyzer's own limits
    except ConfigError as error:
        raise ServiceError("config", f"Cannot read this: {error}.") from None
    text = config.decode("utf-8-sig") if isinstance(config, bytes) else config
    if not text.strip():
        raise ServiceError("config", "Paste the configuration or choose its file.")
    return text


# --- The worker ----------------------------------------------------------------------------------


def run_analysis(*, analysis_id: int) -> ConfigAnalysis | None:
    """Claim the analysis, analyse its waiting text, keep the result, delete the text.

    Safe to run twice: a second delivery finds it settled, or being analysed by a live worker,
    and changes nothing. One whose worker died (analysing for longer than the task time limit,
    which a live worker never is) is claimed again, at most ``MAX_ATTEMPTS`` times in all."""
    claimed = _claimable(analysis_id).update(
        state=AnalysisState.ANALYSING,
        started_at=timezone.now(),
        attempts=models.F("attempts") + 1,
    )
    if not claimed:
        _give_up_if_exhausted(analysis_id)
        return None
    analysis = ConfigAnalysis.objects.select_related(
        "site__profile", "site__organisation", "instruction_set"
    ).get(pk=analysis_id)
    waiting = ConfigAnalysisInput.objects.filter(analysis_id=analysis_id).first()
    if waiting is None:
        return _settle(analysis, error="The configuration was no longer there to analyse.")
    try:
        outcome = analyse_text(analysis, waiting.text)
    except ConfigError as error:
        return _settle(analysis, error=f"Cannot analyse this configuration: {error}.")
    except SoftTimeLimitExceeded:
        return _settle(analysis, error="The analysis took too long and was stopped.")
    except Exception:
        logger.exception("configuration check %s failed", analysis_id)
        return _settle(
            analysis,
            error="The analyzer stopped on an unexpected error; the portal's team has been told.",
        )
    return _settle(analysis, outcome=outcome)


def _stale_since():
    """Analysing since before this: its worker died (a live one stops at the soft time limit)."""
    return timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def _claimable(analysis_id: int):
    return ConfigAnalysis.objects.filter(
        models.Q(state=AnalysisState.QUEUED)
        | models.Q(state=AnalysisState.ANALYSING, started_at__lt=_stale_since()),
        pk=analysis_id,
        attempts__lt=MAX_ATTEMPTS,
    )


def _give_up_if_exhausted(analysis_id: int) -> None:
    exhausted = ConfigAnalysis.objects.filter(
        pk=analysis_id,
        state=AnalysisState.ANALYSING,
        started_at__lt=_stale_since(),
        attempts__gte=MAX_ATTEMPTS,
    ).select_related("site__organisation")
    for analysis in exhausted:
        _settle(
            analysis,
            error=f"The worker stopped {MAX_ATTEMPTS} times while analysing this configuration.",
        )


@dataclass(frozen=True)
class Outcome:
    """What the worker keeps of an analysis."""

    result: dict[str, Any]
    details: dict[str, Any]
    excerpts: dict[str, str]


def _settle(
    analysis: ConfigAnalysis, *, outcome: Outcome | None = None, error: str = ""
) -> ConfigAnalysis | None:
    with transaction.atomic():
        locked = (
            ConfigAnalysis.objects.select_for_update()
            .select_related("site__organisation")
            .filter(pk=analysis.pk, state__in=OPEN_ANALYSIS_STATES)
            .first()
        )
        if locked is None:
            return None  # settled by another delivery meanwhile
        ConfigAnalysisInput.objects.filter(analysis_id=locked.pk).delete()
        locked.finished_at = timezone.now()
        if outcome is not None:
            locked.state = AnalysisState.DONE
            locked.result, locked.details = outcome.result, outcome.details
            locked.excerpts = outcome.excerpts
        else:
            locked.state, locked.error = AnalysisState.FAILED, error[:2000]
        locked.save(
            update_fields=["state", "result", "details", "excerpts", "error", "finished_at"]
        )
        after: dict[str, Any] = {"state": locked.state, "vendor": locked.vendor}
        if outcome is not None:
            after["verdicts"] = {f["flow"]: f["verdict"] for f in outcome.result["flows"]}
            after["missing_steps"] = outcome.result["missing_steps"]
        else:
            after["error"] = locked.error
        record_event(
            action="analysis.finished",
            organisation=locked.site.organisation,
            target=locked,
            before={"state": AnalysisState.ANALYSING},
            after=after,
        )
    return locked


def sweep_analyses() -> int:
    """Beat: send the task again for checks still queued ``JOB_REQUEUE_AFTER`` seconds on (their
    message was lost) and for those whose worker died mid-way (analysing for longer than the task
    time limit), while attempts remain; fail the others (their waiting text is deleted with
    them). Returns how many were touched."""
    now = timezone.now()
    lost = ConfigAnalysis.objects.filter(
        state=AnalysisState.QUEUED,
        created_at__lt=now - timedelta(seconds=settings.JOB_REQUEUE_AFTER),
        input__isnull=False,
    )
    dead = ConfigAnalysis.objects.filter(
        state=AnalysisState.ANALYSING, started_at__lt=_stale_since()
    )
    resend = list(
        (lost | dead.filter(attempts__lt=MAX_ATTEMPTS)).values_list("pk", flat=True)[:500]
    )
    for analysis_id in resend:
        queue.enqueue(ANALYSE_CONFIGURATION, analysis_id)
    exhausted = list(
        dead.filter(attempts__gte=MAX_ATTEMPTS).select_related("site__organisation")[:500]
    )
    for analysis in exhausted:
        _settle(
            analysis,
            error=f"The worker stopped {MAX_ATTEMPTS} times while analysing this configuration.",
        )
    return len(resend) + len(exhausted)


# --- The analysis itself (no writes) -----------------------------------------------------------


def analyse_text(analysis: ConfigAnalysis, text: str) -> Outcome:
    """The analyzer's answer for the site as it was described when the check was asked for,
    with what the page adds: per flow what it must do and broader rules, the steps already in
    place with their evidence, and the cited lines in context."""
    site = analysis.site
    instruction_set = analysis.instruction_set
    description = SiteDescription.from_dict(
        instruction_set.description if instruction_set is not None else site.description
    )
    profile = site.profile.as_spec()
    vendor = analysis.vendor
    result = analyze(text, vendor, description, profile)
    ruleset = PARSERS[vendor](text)
    inside, outside = get_renderer(vendor).interfaces(description)
    topology = Topology.of_site(description, inside=inside, outside=outside)
    data = analysis_json(result)
    unrecognised_total = len(data["unrecognised"])
    data["unrecognised"] = data["unrecognised"][:MAX_UNRECOGNISED_KEPT]
    documents = instruction_set.rendered if instruction_set is not None else []
    adjusted = adjusted_steps(
        result,
        description,
        stored_profile(instruction_set) if instruction_set is not None else profile,
        documents,
    )
    details = {
        "flows": [_flow_details(r, result, ruleset, topology) for r in result.results],
        "steps_in_place": steps_in_place(result, documents),
        "adjusted_steps": adjusted,
        # What the adjusted steps were made from: recorded on the instruction set when one of
        # them is marked done, so later plans know which text was followed.
        "adjusted_from": AppliedCheck(
            vendor, analysis.pk, result.existing, result.shadowing
        ).as_dict()
        if adjusted
        else {},
        "unrecognised_total": unrecognised_total,
        "instructions_vendor": site.vendor,
    }
    return Outcome(data, details, _excerpts(text, result))


def _flow_details(
    flow_result: FlowResult, result: Analysis, ruleset: Ruleset, topology: Topology
) -> dict[str, Any]:
    required = flow_result.required
    details: dict[str, Any] = {
        "expected": required.expected if required else "",
        "purpose": required.purpose if required else "",
        "guide_rules": [int(r) for r in required.guide_rules] if required else [],
        "as_required": _as_required(flow_result),
        "warnings": broader_rules(flow_result, result, ruleset, topology),
    }
    return details


def _as_required(flow_result: FlowResult) -> bool | None:
    """Whether the flow does what the guide needs (None: not a guide flow, or unknown)."""
    required, verdict = flow_result.required, flow_result.verdict
    if required is None or verdict.verdict not in (ALLOWED, BLOCKED):
        return None
    if required.expected == REFUSED:
        return verdict.verdict == BLOCKED
    if verdict.verdict != ALLOWED:
        return False
    return not required.needs_source_nat or verdict.translated_source is not None


def _accepting_lines(lines) -> set[int]:
    return {c.line for c in lines if c.line > 0 and "accepts the new connection" in c.effect}


def _other_port(flow: Flow, needed: set[tuple[str, int]]) -> Flow:
    for port in (flow.destination_port + 1, flow.destination_port - 1, 9, 65000):
        if 0 < port < 65536 and (flow.protocol, port) not in needed:
            return replace(flow, destination_port=port)
    return flow


def broader_rules(
    flow_result: FlowResult, result: Analysis, ruleset: Ruleset, topology: Topology
) -> list[str]:
    """Warnings where an existing rule already opens more than the guide needs: a flow the guide
    wants refused gets through (the rule that lets it), or the rule accepting a flow the guide
    needs also accepts another port to the same place."""
    required, verdict = flow_result.required, flow_result.verdict
    if required is None or verdict.verdict != ALLOWED:
        return []
    accepting = _accepting_lines(verdict.lines)
    where = ", ".join(str(n) for n in sorted(accepting)) or "an implicit rule"
    if required.expected == REFUSED:
        return [
            f"Already open wider than the guide wants: line {where} lets this through "
            f"({required.purpose}). Adding the guide's rules does not close it; narrow or remove "
            "that rule, or put a refusal above it."
        ]
    needed = {(r.flow.protocol, r.flow.destination_port) for r in result.results}
    other = _other_port(flow_result.flow, needed)
    if other == flow_result.flow or not accepting:
        return []
    wider = evaluate(ruleset, other, topology)
    shared = accepting & _accepting_lines(wider.lines)
    if wider.verdict != ALLOWED or not shared:
        return []
    lines = ", ".join(str(n) for n in sorted(shared))
    return [
        f"Line {lines} accepts more than this flow needs: it also lets "
        f"{other.protocol.upper()} {other.destination_port} through to the same address. It "
        "works, but the guide's rule is narrower."
    ]


def _deciding(effect: str) -> bool:
    return any(part.startswith(_DECIDING) for part in effect.split("; "))


def steps_in_place(result: Analysis, documents: list[Rendered]) -> list[dict[str, Any]]:
    """The change steps of the analysed vendor's instructions that the configuration already
    does, each with the lines that show it: a step the analyzer does not list as missing (so none
    of its guide rules fails, ``missing_steps``), every guide rule of which a guide flow proves,
    with at least one deciding line. Empty when the instructions are for another vendor."""
    document = next((d for d in documents if d.vendor == result.vendor), None)
    if document is None:
        return []
    missing = set(result.missing_steps)
    found = []
    for step in document.steps:
        if step.kind is not StepKind.CHANGE or step.title in missing or not step.guide_rules:
            continue
        rules = set(step.guide_rules)
        relevant = [r for r in result.results if r.required and rules & set(r.required.guide_rules)]
        covered = {rule for r in relevant for rule in r.required.guide_rules} if relevant else set()
        if not relevant or not rules <= covered:
            continue
        lines: dict[int, dict[str, Any]] = {}
        for r in relevant:
            for cited in r.verdict.lines:
                if _deciding(cited.effect) and cited.line not in lines:
                    lines[cited.line] = cited.to_dict()
        if not any(n > 0 for n in lines):
            continue
        found.append(
            {
                "number": step.number,
                "title": step.title,
                "lines": [lines[n] for n in sorted(lines)],
                "flows": [str(r.flow) for r in relevant],
            }
        )
    return found


def _excerpts(text: str, result: Analysis) -> dict[str, str]:
    """The cited lines (redacted text) and ``CONTEXT_LINES`` either side, by line number. None
    for ``nft -j`` input: its "lines" are positions in the JSON array, the cited text is the rule."""
    if result.vendor == "nftables" and text.lstrip().startswith("{"):
        return {}
    lines = text.splitlines()
    wanted: set[int] = set()
    for flow_result in result.results:
        for cited in flow_result.verdict.lines:
            if cited.line > 0:
                low = max(1, cited.line - CONTEXT_LINES)
                wanted.update(range(low, min(len(lines), cited.line + CONTEXT_LINES) + 1))
    return {str(n): lines[n - 1][:MAX_LINE_CHARS] for n in sorted(wanted) if n <= len(lines)}


# --- Marking steps from the evidence -------------------------------------------------------------


def evidence_note(analysis: ConfigAnalysis, evidence: dict[str, Any]) -> str:
    """The note a step marked from ``evidence`` carries: which check, which lines."""
    numbers = [str(line["line"]) for line in evidence["lines"] if line["line"] > 0]
    when = timezone.localtime(analysis.finished_at or analysis.created_at)
    cited = "; ".join(
        f"line {line['line']}: {line['text'][:200]}" for line in evidence["lines"] if line["line"]
    )
    return (
        f"Already in place (line {', '.join(numbers)}), per configuration check "
        f"#{analysis.pk} of {when:%Y-%m-%d %H:%M}. {cited}"
    )[:2000]


def evidence_for_step(analysis: ConfigAnalysis, step: RolloutStep) -> dict[str, Any] | None:
    """The analysis's evidence for the rollout step, if it covers it."""
    if (
        analysis.state != AnalysisState.DONE
        or analysis.instruction_set_id != step.rollout.instruction_set_id
        or step.vendor != analysis.vendor
    ):
        return None
    return next(
        (e for e in analysis.details.get("steps_in_place", []) if e["number"] == step.number),
        None,
    )


def mark_step_in_place(*, analysis: ConfigAnalysis, step: RolloutStep, by=None) -> RolloutStep:
    """Mark ``step`` done with the analysis's evidence as its note (``mark_step``: its checks
    and audit event). ``ServiceError`` when the analysis does not show the step in place."""
    evidence = evidence_for_step(analysis, step)
    if evidence is None:
        raise ServiceError(
            "", "This check does not show that step in place; mark it yourself if it is done."
        )
    return mark_step(step=step, state="done", note=evidence_note(analysis, evidence), by=by)
