"""The analysis of one configuration for one site: a verdict per flow, the lines not understood,
and the instruction steps still needed.

``missing_steps`` maps the guide's flows that are not as required to the rendered steps that
carry their guide rules (outbound allow: rules 1 and 3; translation: rule 2; port-forward and
inbound allow: rule 4). It names the steps to do, not how to merge them with the existing rules:
docs/analyzer.md says where that mapping stops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sites.analyzer.cisco_asa import parse_cisco_asa
from sites.analyzer.cisco_ios import parse_cisco_ios
from sites.analyzer.evaluate import ALLOWED, BLOCKED, Topology, Verdict, evaluate
from sites.analyzer.flows import REFUSED, Flow, GuideFlow, guide_flows
from sites.analyzer.fortigate import parse_fortigate
from sites.analyzer.iptables import parse_iptables
from sites.analyzer.mikrotik import parse_mikrotik
from sites.analyzer.model import (
    ConfigError,
    ExistingObjects,
    Ruleset,
    ShadowingRule,
    Unrecognised,
)
from sites.analyzer.nftables import parse_nftables
from sites.analyzer.paloalto import parse_paloalto
from sites.analyzer.pfsense import parse_opnsense, parse_pfsense
from sites.analyzer.shadowing import shadowing_rule
from sites.description import ProfileSpec, SiteDescription
from sites.instructions import render_site
from sites.policy import GuideRule
from sites.vendors import get_renderer
from sites.vendors.base import StepKind

PARSERS: dict[str, Callable[[str | bytes], Ruleset]] = {
    "cisco-asa": parse_cisco_asa,
    "cisco-ios": parse_cisco_ios,
    "fortigate": parse_fortigate,
    "iptables": parse_iptables,
    "mikrotik": parse_mikrotik,
    "nftables": parse_nftables,
    "opnsense": parse_opnsense,
    "paloalto": parse_paloalto,
    "pfsense": parse_pfsense,
}
SUPPORTED_VENDORS = tuple(sorted(PARSERS))


@dataclass(frozen=True)
class FlowResult:
    """One flow's verdict; ``required`` says what the guide needs of it, for the guide's flows."""

    flow: Flow
    verdict: Verdict
    required: GuideFlow | None = None


@dataclass(frozen=True)
class Analysis:
    vendor: str
    results: tuple[FlowResult, ...]  # in the order asked
    unrecognised: tuple[Unrecognised, ...]
    missing_steps: tuple[str, ...]
    # What the instructions for the missing steps can build on (``sites.vendors.reuse``): the
    # configuration's named objects, and per guide flow refused by an explicit rule that rule.
    existing: ExistingObjects = ExistingObjects()
    shadowing: tuple[ShadowingRule, ...] = ()


def analyze(
    text: str | bytes,
    vendor: str,
    site: SiteDescription,
    profile: ProfileSpec,
    flows: Sequence[Flow] | None = None,
    *,
    topology: Topology | None = None,
) -> Analysis:
    """Analyse ``text`` (a ``vendor`` export) for ``flows`` (default: the guide's).

    Raises :class:`ConfigError` for an unsupported vendor or input that cannot be read."""
    if vendor not in PARSERS:
        raise ConfigError(
            f"the vendor {vendor!r} is not analysed yet; supported: {', '.join(SUPPORTED_VENDORS)}"
        )
    ruleset = PARSERS[vendor](text)
    inside, outside = get_renderer(vendor).interfaces(site)  # the vendor's defaults if blank
    topology = topology or Topology.of_site(site, inside=inside, outside=outside)
    needed = guide_flows(site, profile)
    guide_verdicts = {g.flow: evaluate(ruleset, g.flow, topology) for g in needed}
    asked = list(flows) if flows is not None else [g.flow for g in needed]
    required = {g.flow: g for g in needed}
    results = tuple(
        FlowResult(f, guide_verdicts.get(f) or evaluate(ruleset, f, topology), required.get(f))
        for f in asked
    )
    failing = {rule for g in needed for rule in _failing_rules(g, guide_verdicts[g.flow], site)}
    shadowing = (
        shadowing_rule(
            ruleset, guide_verdicts[g.flow], str(g.flow), tuple(int(r) for r in g.guide_rules)
        )
        for g in needed
        if g.expected != REFUSED
    )
    return Analysis(
        vendor=vendor,
        results=results,
        unrecognised=tuple(ruleset.unrecognised),
        missing_steps=_missing_steps(site, profile, vendor, failing),
        existing=ExistingObjects(tuple(ruleset.objects)),
        shadowing=tuple(s for s in shadowing if s is not None),
    )


def _failing_rules(
    guide_flow: GuideFlow, verdict: Verdict, site: SiteDescription
) -> set[GuideRule]:
    if guide_flow.expected == REFUSED:
        return set() if verdict.verdict == BLOCKED else set(guide_flow.guide_rules)
    if verdict.verdict != ALLOWED:
        return set(guide_flow.guide_rules)
    failing: set[GuideRule] = set()
    if guide_flow.needs_source_nat and verdict.translated_source is None:
        failing.add(GuideRule.TRANSPARENCY)
    if GuideRule.REMOTE_MONITORING in guide_flow.guide_rules:
        wanted = f"{site.host_address}:{guide_flow.flow.destination_port}"
        if verdict.translated_destination != wanted:
            failing.add(GuideRule.REMOTE_MONITORING)
    return failing


def _missing_steps(
    site: SiteDescription, profile: ProfileSpec, vendor: str, failing: set[GuideRule]
) -> tuple[str, ...]:
    if not failing:
        return ()
    document = render_site(site, profile, [get_renderer(vendor)]).documents[0]
    return tuple(
        step.title
        for step in document.steps
        if step.kind is StepKind.CHANGE and failing & set(step.guide_rules)
    )


def as_json(analysis: Analysis) -> dict[str, Any]:
    """The analysis in the documented JSON shape (docs/analyzer.md)."""
    return {
        "vendor": analysis.vendor,
        "flows": [
            {
                "flow": str(result.flow),
                "verdict": result.verdict.verdict,
                "translated_source": result.verdict.translated_source,
                "translated_destination": result.verdict.translated_destination,
                "lines": [line.to_dict() for line in result.verdict.lines],
                "reason": result.verdict.reason,
            }
            for result in analysis.results
        ],
        "unrecognised": [u.to_dict() for u in analysis.unrecognised],
        "missing_steps": list(analysis.missing_steps),
    }


def as_text(analysis: Analysis) -> str:
    """The analysis for a terminal: one block per flow with its deciding lines."""
    out = [f"vendor: {analysis.vendor}"]
    for result in analysis.results:
        verdict = result.verdict
        out.append(f"\n{result.flow}  {verdict.verdict.upper()}")
        if result.required is not None:
            out.append(f"  must be {result.required.expected}: {result.required.purpose}")
        if verdict.translated_source:
            out.append(f"  source translated to {verdict.translated_source}")
        if verdict.translated_destination:
            out.append(f"  destination translated to {verdict.translated_destination}")
        out += [f"  line {c.line}: {c.text}\n      -> {c.effect}" for c in verdict.lines]
        out.append(f"  {verdict.reason}")
    if analysis.unrecognised:
        out.append("\nnot understood:")
        out += [f"  line {u.line}: {u.text}  ({u.reason})" for u in analysis.unrecognised]
    out.append("\nmissing steps: " + ("none" if not analysis.missing_steps else ""))
    out += [f"  - {title}" for title in analysis.missing_steps]
    return "\n".join(out) + "\n"
