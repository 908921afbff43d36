"""Reads of probe runs."""

from datetime import datetime

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from sites.models import (
    ProbeAttempt,
    ProbeDirection,
    ProbeObservation,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    Site,
)


def waiting_runs(now: datetime) -> QuerySet[ProbeRun]:
    """Outbound verify runs still waiting for the customer's probe client."""
    return ProbeRun.objects.filter(
        direction=ProbeDirection.OUTBOUND,
        purpose=ProbePurpose.VERIFY,
        state=ProbeRunState.WAITING,
        expires_at__gt=now,
    )


def probe_runs_of(site: Site) -> QuerySet[ProbeRun]:
    """The site's probe runs, newest first, each with who started it and the version of the
    instructions it proves (``instruction_set_version``)."""
    return site.probe_runs.select_related("created_by").annotate(
        instruction_set_version=F("instruction_set__version")
    )


def probe_run_for(site: Site, pk: int) -> ProbeRun:
    """The probe run ``pk`` of ``site`` (a site the caller's selector gave), as
    ``probe_runs_of`` reads it; else Http404."""
    return get_object_or_404(probe_runs_of(site), pk=pk)


def recent_probe_runs(site: Site, *, count: int = 5) -> QuerySet[ProbeRun]:
    """The site's latest probe runs, newest first (as ``ProbeRun``'s ordering)."""
    return site.probe_runs.all()[:count]


def probe_observations(run: ProbeRun, *, count: int = 50) -> QuerySet[ProbeObservation]:
    """The run's latest ``count`` observations, newest first: a page shows no more."""
    return run.observations.all()[:count]


def probe_attempts(run: ProbeRun) -> QuerySet[ProbeAttempt]:
    """Every worker's try at the run's inbound check, in order."""
    return run.attempt_rows.all()
