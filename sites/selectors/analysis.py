"""Reading configuration checks: a site's checks, the one in the URL, the latest one behind the
site's current rollout, and what a probe and the configuration say together."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from sites.models import (
    AnalysisState,
    ConfigAnalysis,
    InstructionSet,
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    Site,
)

# Settled probe runs that did not get through.
FAILED_RUN_STATES = (ProbeRunState.FAILED, ProbeRunState.NOT_PROVEN, ProbeRunState.EXPIRED)
SETTLED_RUN_STATES = (*FAILED_RUN_STATES, ProbeRunState.PROVEN)
_LIST_FIELDS = (
    "id",
    "site_id",
    "instruction_set_id",
    "vendor",
    "state",
    "source_name",
    "line_count",
    "redacted_count",
    "created_at",
    "finished_at",
    "created_by__username",
)


def config_analyses_of(site: Site, *, count: int | None = 10) -> QuerySet[ConfigAnalysis]:
    """The site's latest checks (``count``; None: all), newest first, without their results (a
    list shows states)."""
    checks = (
        ConfigAnalysis.objects.filter(site=site)
        .select_related("created_by", "instruction_set")
        .only(*_LIST_FIELDS, "instruction_set__version", "error", "size_bytes", "started_at")
        .order_by("-created_at", "-id")
    )
    return checks if count is None else checks[:count]


def config_analysis_for(site: Site, pk: int) -> ConfigAnalysis:
    """The site's check ``pk`` (another site's: 404)."""
    return get_object_or_404(
        ConfigAnalysis.objects.select_related("created_by", "instruction_set"), site=site, pk=pk
    )


def latest_rollout_analysis(
    site: Site, instruction_set: InstructionSet | None
) -> ConfigAnalysis | None:
    """The latest finished check made for ``instruction_set`` in the vendor of its instructions:
    the one whose evidence the rollout shows beside its steps."""
    if instruction_set is None:
        return None
    return (
        ConfigAnalysis.objects.filter(
            site=site,
            instruction_set=instruction_set,
            vendor=site.vendor,
            state=AnalysisState.DONE,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def evidence_by_step(analysis: ConfigAnalysis | None) -> dict[str, dict[str, Any]]:
    """The analysis's evidence by rollout step key ``vendor:number`` (see ``step_evidence``)."""
    if analysis is None:
        return {}
    return {
        f"{analysis.vendor}:{e['number']}": e for e in analysis.details.get("steps_in_place", [])
    }


def adjusted_by_step(analysis: ConfigAnalysis | None) -> dict[str, dict[str, Any]]:
    """The steps the analysis adjusts (objects reused, rules placed above a deny), by rollout
    step key ``vendor:number`` (``sites.services.analysis_adjustments``)."""
    if analysis is None:
        return {}
    return {
        f"{analysis.vendor}:{a['number']}": a for a in analysis.details.get("adjusted_steps", [])
    }


@dataclass(frozen=True)
class ProbeNote:
    """What a probe and the configuration say together, for the people looking at both."""

    run: ProbeRun
    text: str


_OUTBOUND_FAILED = (
    "The configuration lets the backup connection out, but the latest probe (#{run}) did not "
    "get through. When the firewall's rules are right, that usually means something else on the "
    "path blocks it: another firewall or router in front of this one (often the internet "
    "provider's router), the provider filtering the port, the probe running on another machine "
    "than the backup host, or a configuration export older than the firewall's running rules."
)
_INBOUND_FAILED = (
    "The configuration forwards the monitoring ports to the backup host, but the latest inbound "
    "probe (#{run}) did not get through. That usually means: another firewall or the internet "
    "provider's router in front of this one (it needs its own port-forward), the provider "
    "blocking inbound ports, carrier-grade NAT (the firewall's outside address is shared with "
    "other customers and cannot be reached from outside: ask the provider for a public "
    "address), or the site's public address {public} is not this firewall's."
)
_OTHER_SOURCE = (
    "The probe (#{run}) arrived from {seen}, but the configuration translates the backup host to "
    "{expected}. Another device translates the connection again on its way out (the provider's "
    "router, or carrier-grade NAT), or the site's public address is out of date. Restrictions "
    "the datacenter or monitoring make by address must use {seen}."
)


def probe_notes(site: Site, analysis: ConfigAnalysis | None) -> list[ProbeNote]:
    """Where the check says allowed but the latest probe of those flows failed, what that
    usually means; where the probe's observed source differs from the translation the
    configuration implies, that too."""
    if analysis is None or analysis.state != AnalysisState.DONE:
        return []
    flows = analysis.result.get("flows", [])
    details = analysis.details.get("flows", [])
    outbound = [
        f for f, d in zip(flows, details, strict=False) if 1 in d["guide_rules"] and d["expected"]
    ]
    inbound = [
        f
        for f, d in zip(flows, details, strict=False)
        if d["guide_rules"] == [4] and d["expected"] == "allowed"
    ]
    notes: list[ProbeNote] = []
    runs = _latest_settled_runs(site)
    out_run, in_run = runs.get(ProbeDirection.OUTBOUND), runs.get(ProbeDirection.INBOUND)
    host_flows = [f for f in outbound if f["verdict"] == "allowed" and f["translated_source"]]
    if out_run is not None and host_flows:
        if out_run.state in FAILED_RUN_STATES:
            notes.append(ProbeNote(out_run, _OUTBOUND_FAILED.format(run=out_run.pk)))
        seen = {
            o.observed_ip for o in out_run.observations.all() if o.outcome == "ok" and o.observed_ip
        }
        expected = _address(host_flows[0]["translated_source"]) or site.public_address
        for address in sorted(seen):
            if expected and str(address) != str(expected):
                text = _OTHER_SOURCE.format(run=out_run.pk, seen=address, expected=expected)
                notes.append(ProbeNote(out_run, text))
    if (
        in_run is not None
        and in_run.state in FAILED_RUN_STATES
        and inbound
        and all(f["verdict"] == "allowed" for f in inbound)
    ):
        public = site.public_address or "(none given)"
        notes.append(ProbeNote(in_run, _INBOUND_FAILED.format(run=in_run.pk, public=public)))
    return notes


def _address(text: str | None) -> IPv4Address | None:
    """The address of a translation ("192.0.2.1", "192.0.2.1:4403"); None for "the address of
    wan0" (a dynamic address)."""
    if not text:
        return None
    try:
        address = ip_address(text.rsplit(":", 1)[0] if text.count(":") == 1 else text)
    except ValueError:
        return None
    return address if isinstance(address, IPv4Address) else None


def _latest_settled_runs(site: Site) -> dict[str, ProbeRun]:
    """The latest settled verification run of each direction, with its observations."""
    runs = (
        ProbeRun.objects.filter(
            site=site, purpose=ProbePurpose.VERIFY, state__in=SETTLED_RUN_STATES
        )
        .prefetch_related("observations")
        .order_by("-created_at", "-id")
    )
    latest: dict[str, ProbeRun] = {}
    for direction in (ProbeDirection.OUTBOUND, ProbeDirection.INBOUND):
        run = runs.filter(direction=direction).first()
        if run is not None:
            latest[direction] = run
    return latest


def site_analysis_context(site: Site, instruction_set: InstructionSet | None) -> dict[str, Any]:
    """What the site's page shows of its configuration checks: the latest check, and the one
    behind the current rollout with its evidence by step and what it says with the probes."""
    latest = ConfigAnalysis.objects.filter(site=site).only(*_LIST_FIELDS[:-1]).first()
    rollout_analysis = latest_rollout_analysis(site, instruction_set)
    return {
        "latest_analysis": latest,
        "rollout_analysis": rollout_analysis,
        "analysis_evidence": evidence_by_step(rollout_analysis),
        "analysis_adjusted": adjusted_by_step(rollout_analysis),
        "analysis_notes": probe_notes(site, rollout_analysis),
    }
