"""Whether a site's proof is fresh, stale, failing or missing: in Python for one site, and in SQL
for the dashboard's filters. Both read the proof summary ``sites.services.proof`` keeps."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from sites.models import (
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    Rollout,
    RolloutState,
    Site,
)
from sites.models.site import REVERIFY_PERIOD_DAYS
from sites.selectors.lifecycle import monitoring_expiring_q
from sites.selectors.probes import waiting_runs


def proof_flag(site: Site, *, now=None) -> str:
    """ "failing", "stale", "unproven" or "" (fresh), from the site's proof summary
    (``last_probe_state``, ``last_proven_at``: see ``sites.services.proof``).

    Failing: the latest settled outbound verification probe failed. Stale: the last proof is
    older than the site's re-verification period, or older than its last change of public
    address (the proof was about another address). ``proof_flag_q`` is the same test in
    SQL.
    """
    if getattr(site, "last_probe_state", None) == ProbeRunState.FAILED:
        return "failing"
    proven_at = getattr(site, "last_proven_at", None)
    if proven_at is None:
        return "unproven"
    if site.public_address_changed_at and site.public_address_changed_at > proven_at:
        return "stale"
    days = REVERIFY_PERIOD_DAYS.get(site.reverify)
    if days and proven_at < (now or timezone.now()) - timedelta(days=days):
        return "stale"
    return ""


FLAG_LABELS = {
    "failing": "Proof failing",
    "stale": "Proof stale",
    "unproven": "Never proven",
    "warning": "Proven with a warning",
    "": "Proven",
}


# A rollout that can stall: every state but done.
STALLABLE_STATES = (RolloutState.NOT_STARTED, RolloutState.IN_PROGRESS, RolloutState.FAILED)


def proof_warning_label(site: Site, *, now=None) -> str:
    """``proof_flag``, except that a fresh proof with a warning (``site.proof_warning``, the NAT
    warning of the proving run: see ``sites.selectors.dashboard``) is "warning": proven, but the
    probe came from another address than the declared public one, which the customer should know."""
    flag = proof_flag(site, now=now)
    return "warning" if flag == "" and getattr(site, "proof_warning", None) else flag


def latest_proof_warning(site: Site) -> str:
    """The NAT warning of the site's latest proof ("" when none, or no proof): what the site page
    shows beside "Proven with a warning" (the dashboard reads it in its one query)."""
    run = (
        ProbeRun.objects.filter(
            site=site,
            direction=ProbeDirection.OUTBOUND,
            purpose=ProbePurpose.VERIFY,
            state=ProbeRunState.PROVEN,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("outcome", flat=True)
        .first()
    )
    return (run or {}).get("nat_warning", "")


def waiting_on_customer(now: datetime) -> QuerySet[ProbeRun]:
    """Open outbound runs still worth waiting for: opened after the site's last proof (a proof
    that settled since makes an older request moot, even while its token lasts)."""
    return waiting_runs(now).filter(
        Q(site__last_proven_at__isnull=True) | Q(created_at__gt=F("site__last_proven_at"))
    )


def stalled_instruction_sets(now: datetime) -> QuerySet[Rollout]:
    """The instruction sets (``instruction_set_id``) of unfinished rollouts (not started, under
    way, or with a failed step), unchanged for more than ``ROLLOUT_STALLED_DAYS``: no step marked since, and the instructions
    older than that (see ``sites.selectors.dashboard.state_since``)."""
    cutoff = now - timedelta(days=settings.ROLLOUT_STALLED_DAYS)
    return (
        Rollout.objects.filter(
            state__in=STALLABLE_STATES,
            instruction_set__isnull=False,
            created_at__lt=cutoff,
        )
        .exclude(steps__changed_at__gte=cutoff)
        .values("instruction_set_id")
    )


def proof_flag_q(flag: str, *, now: datetime) -> Q:
    """``proof_flag`` as a condition on the site's columns (no subquery per site),
    and the dashboard's other flags:

    - failing: the latest settled probe failed; else
    - unproven: never proven; stale: proven, but before the re-verification period began or
      before the public address last changed; fresh: proven, and neither;
    - waiting: an outbound run opened since the last proof waits for the customer's probe client;
    - stalled: the rollout has not changed for more than ``ROLLOUT_STALLED_DAYS``;
    - attention: somebody is stuck: the proof fails or went stale and nobody asked the customer
      yet, or the rollout stalled. A site never proven is not stuck by itself (it is being rolled
      out: "stalled" says when that takes too long);
    - expiring: the monitoring access ends within 30 days unless recertified
      (``sites.selectors.lifecycle.monitoring_expiring_q``).
    """
    failing = Q(last_probe_state=ProbeRunState.FAILED)
    proven = Q(last_proven_at__isnull=False)
    expired = Q(
        *(
            Q(reverify=reverify, last_proven_at__lt=now - timedelta(days=days))
            for reverify, days in REVERIFY_PERIOD_DAYS.items()
        ),
        _connector=Q.OR,
    )
    within_period = ~Q(reverify__in=list(REVERIFY_PERIOD_DAYS)) | Q(
        *(
            Q(reverify=reverify, last_proven_at__gte=now - timedelta(days=days))
            for reverify, days in REVERIFY_PERIOD_DAYS.items()
        ),
        _connector=Q.OR,
    )
    moved = Q(public_address_changed_at__gt=F("last_proven_at"))
    same_address = Q(public_address_changed_at__isnull=True) | Q(
        public_address_changed_at__lte=F("last_proven_at")
    )
    # The site's own column (kept by ``sites.services.proof`` as runs open and settle): the
    # same test as ``waiting_on_customer``, without a look at the runs per site.
    waiting = Q(waiting_on_customer_until__gt=now)
    stalled = Q(current_instruction_set_id__in=stalled_instruction_sets(now))
    return {
        "failing": failing,
        "unproven": ~failing & ~proven,
        "stale": ~failing & proven & (expired | moved),
        "fresh": ~failing & proven & within_period & same_address,
        "waiting": waiting,
        "stalled": stalled,
        "attention": (~waiting & (failing | (proven & (expired | moved)))) | stalled,
        "expiring": monitoring_expiring_q(now),
    }[flag]
