"""Each site's proof summary: its latest outbound verification probe, kept in columns of the site
(``last_proven_at``, ``last_probe_state``, ``last_probe_at``, ``waiting_on_customer_until``) so
that lists, filters and sorts read columns instead of searching every site's probe history.

The summary changes when an outbound verification run opens (``sites.services.probes.
start_probe_run``: the site now waits on its customer) and when one settles: every run settles
in one place (``sites.services.probes._close``), which calls ``record_probe_outcome``. What the
columns mean is ``proof_summary`` and ``waiting_summary``; ``sites.selectors.proof_flag`` reads
them. Migration ``sites.0009_dashboard_summary`` filled them for the runs that existed before
(``sites.0018`` the waiting column).
"""

from __future__ import annotations

from django.db.models import Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from sites.models import ProbeDirection, ProbePurpose, ProbeRun, ProbeRunState, Site
from sites.models.probe import OPEN_STATES
from sites.models.site import NEVER_EARLY


def proof_summary() -> dict:
    """The summary columns as expressions over the probe runs of the site in the outer query
    (``OuterRef("pk")``), for an ``UPDATE`` of ``Site`` rows:

    - ``last_proven_at``: when the latest proven run finished (null: never proven);
    - ``last_probe_state``, ``last_probe_at``: the state and finish time of the latest settled
      run, latest by creation ("": none settled yet; open runs are not an outcome).
    """
    runs = verify_runs()
    proven = runs.filter(state=ProbeRunState.PROVEN, finished_at__isnull=False).order_by(
        "-finished_at"
    )
    settled = runs.exclude(state__in=OPEN_STATES).order_by("-created_at", "-pk")
    return {
        "last_proven_at": Subquery(proven.values("finished_at")[:1]),
        "last_probe_state": Coalesce(Subquery(settled.values("state")[:1]), Value("")),
        "last_probe_at": Subquery(settled.values("finished_at")[:1]),
    }


def waiting_summary() -> dict:
    """``waiting_on_customer_until`` as an expression over the runs of the site in the outer
    query, for an ``UPDATE`` after ``proof_summary``'s (it reads the site's ``last_proven_at``):
    when the latest of the runs still waiting for the customer's probe client, opened since
    that proof, expires (null: none). The site waits on its customer while that time is ahead:
    ``sites.selectors.proof.waiting_on_customer`` as a column the dashboard's flag and its
    index read."""
    waiting = verify_runs().filter(
        state=ProbeRunState.WAITING,
        created_at__gt=Coalesce(OuterRef("last_proven_at"), Value(NEVER_EARLY)),
    )
    # The latest expiry as an aggregate, not the first row by expiry: ordered so, SQLite without
    # statistics walked every waiting run for each site (6 s for 10,000 sites; now 0.02 s).
    latest = waiting.order_by().values("site").annotate(until=Max("expires_at")).values("until")
    return {"waiting_on_customer_until": Subquery(latest)}


def verify_runs():
    """The outbound verification runs of the site in the outer query."""
    return ProbeRun.objects.filter(
        site=OuterRef("pk"), direction=ProbeDirection.OUTBOUND, purpose=ProbePurpose.VERIFY
    )


def refresh_proof_summary(*, site_ids) -> int:
    """Recompute the proof summary of the sites ``site_ids`` from their runs, in two ``UPDATE``s
    (the proof, then whether the site waits since it); returns how many sites it wrote."""
    sites = Site.objects.filter(pk__in=site_ids)
    written = sites.update(**proof_summary())
    sites.update(**waiting_summary())
    return written


def record_probe_opened(run: ProbeRun) -> None:
    """The site of ``run``, a run just opened, waits on its customer until the run expires
    (``waiting_on_customer_until``) when ``run`` is an outbound verification (called by
    ``sites.services.probes.start_probe_run``, inside its transaction, the site's row locked)."""
    if run.direction == ProbeDirection.OUTBOUND and run.purpose == ProbePurpose.VERIFY:
        Site.objects.filter(pk=run.site_id).update(**waiting_summary())


def record_probe_outcome(run: ProbeRun) -> None:
    """Bring the proof summary of ``run``'s site up to date after ``run`` settled (called by
    ``sites.services.probes._close``, inside its transaction).

    Recomputed from the site's runs rather than copied from ``run``: a run that settles late (an
    older token expiring after a newer run was proven) is not the latest outcome, and a proven
    run stays the proof however many runs fail after it. Runs of other kinds (inbound checks,
    restriction checks) are not part of the summary and change nothing.
    """
    if run.direction != ProbeDirection.OUTBOUND or run.purpose != ProbePurpose.VERIFY:
        return
    # The site's row first: a run of the same site settling at the same time in another
    # transaction is then committed before the UPDATE below reads the runs (a statement that
    # waits for a row lock would still read them as they were when it started).
    list(Site.objects.select_for_update().filter(pk=run.site_id).values_list("pk", flat=True))
    refresh_proof_summary(site_ids=[run.site_id])
