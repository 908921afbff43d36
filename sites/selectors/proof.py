"""Whether a site's proof is fresh, stale, failing or missing: in Python for one site, and in SQL
for the dashboard's filters. Both read the proof summary ``sites.services.proof`` keeps."""

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from sites.models import ProbeRunState, Site
from sites.models.site import REVERIFY_PERIOD_DAYS
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


def proof_flag_q(flag: str, *, now: datetime) -> Q:
    """``proof_flag`` as a condition on the site's columns (no subquery per site),
    and the dashboard's two other flags:

    - failing: the latest settled probe failed; else
    - unproven: never proven; stale: proven, but before the re-verification period began or
      before the public address last changed; fresh: proven, and neither;
    - waiting: an outbound run waits for the customer's probe client (whatever the proof);
    - attention: something for the reseller to act on: failing, unproven or stale, and nobody
      asked the customer yet (not waiting).
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
    # Open runs are few at any time (they expire within PROBE_TOKEN_TTL): one list for the query.
    waiting = Q(pk__in=waiting_runs(now).values("site_id"))
    return {
        "failing": failing,
        "unproven": ~failing & ~proven,
        "stale": ~failing & proven & (expired | moved),
        "fresh": ~failing & proven & within_period & same_address,
        "waiting": waiting,
        "attention": ~waiting & (failing | ~proven | expired | moved),
    }[flag]
