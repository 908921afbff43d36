"""The site dashboard's headline counts, counted by a worker: each count reads every site the
page covers (at 100,000 sites a tenth of a second), so no page load makes them. A page shows the
counts its person's row holds with the time they were counted, and asks the workers for a new
count when they are older than ``DASHBOARD_COUNTS_SECONDS`` (one task, however many pages load
meanwhile); until the first count the headline says it is being counted.

``DASHBOARD_COUNTS_SECONDS = 0`` counts on every page load instead (the tests' default)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from sites.models import DashboardCounts
from sites.selectors.dashboard import flag_counts
from sites.services import queue

logger = logging.getLogger(__name__)

# A count asked for and not made (no worker running, a task lost with a broker restart) is asked
# for again after this long; pages follow it for half of it (``sites.views.dashboard``).
ASK_AGAIN_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class HeadlineCounts:
    """What a page shows: ``counts`` (flag → sites; None: not counted yet for this person),
    when they were counted, and when a new count was last asked of the workers (None: not)."""

    counts: dict[str, int] | None
    counted_at: datetime | None
    requested_at: datetime | None = None

    @property
    def counting(self) -> bool:
        """Whether a count asked for has not been made yet."""
        return self.requested_at is not None and (
            self.counted_at is None or self.counted_at < self.requested_at
        )


def scope_of(actor: Actor) -> str:
    """A fingerprint of the grants the counts are made under: counts made before the person's
    memberships changed count other sites, and are not shown."""
    grants = sorted((grant.organisation_id, grant.role) for grant in actor.grants)
    return hashlib.sha256(repr(grants).encode()).hexdigest()


def headline_counts(actor: Actor, organisation: Organisation, *, now: datetime) -> HeadlineCounts:
    """The headline counts of ``organisation``'s dashboard for ``actor``: the latest a worker
    made under the actor's current grants, asking for a new count when they are older than
    ``DASHBOARD_COUNTS_SECONDS`` (or counted on the spot when that is 0)."""
    seconds = settings.DASHBOARD_COUNTS_SECONDS
    if seconds <= 0 or actor.user is None:
        return HeadlineCounts(counts=flag_counts(actor, organisation, now=now), counted_at=now)
    row = _row(organisation, actor)
    scope = scope_of(actor)
    valid = row.counted_at is not None and row.scope == scope
    if not valid or now - row.counted_at > timedelta(seconds=seconds):
        _ask_for_count(row, now=now)
    return HeadlineCounts(
        counts=row.counts if valid else None,
        counted_at=row.counted_at if valid else None,
        requested_at=row.requested_at,
    )


def _row(organisation: Organisation, actor: Actor) -> DashboardCounts:
    row = DashboardCounts.objects.filter(organisation=organisation, user=actor.user).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return DashboardCounts.objects.create(organisation=organisation, user=actor.user)
    except IntegrityError:  # another page load of the same person made it first
        return DashboardCounts.objects.get(organisation=organisation, user=actor.user)


def _ask_for_count(row: DashboardCounts, *, now: datetime) -> None:
    """Send the count task, unless a count asked for less than ``ASK_AGAIN_AFTER`` ago is not
    made yet (however many pages load meanwhile, one task)."""
    asked = (
        DashboardCounts.objects.filter(pk=row.pk)
        .filter(
            Q(requested_at__isnull=True)
            | Q(counted_at__gte=F("requested_at"))
            | Q(requested_at__lte=now - ASK_AGAIN_AFTER)
        )
        .update(requested_at=now)
    )
    if asked:
        row.requested_at = now
        transaction.on_commit(lambda: _send_count(row.pk))


def _send_count(row_id: int) -> None:
    """Send the count task. A broker that cannot be reached fails no page load: the ask stays
    recorded, the headline says after a while that no worker answered, and a page load asks
    again after ``ASK_AGAIN_AFTER``."""
    try:
        queue.enqueue(queue.COUNT_DASHBOARD, row_id)
    except Exception:  # whatever the broker's client raises (Redis, the embedded broker)
        logger.warning(
            "dashboard count %s not sent: the broker is unreachable", row_id, exc_info=True
        )


def count(row_id: int) -> bool:
    """Make the counts of the row ``row_id`` (what the task runs); False when there was nothing
    to do: the row is gone, or it was counted since it was last asked for."""
    row = DashboardCounts.objects.select_related("organisation", "user").filter(pk=row_id).first()
    if row is None or (
        row.counted_at is not None
        and row.requested_at is not None
        and row.counted_at >= row.requested_at
    ):
        return False
    actor = Actor.for_user(row.user)
    now = timezone.now()
    counts = flag_counts(actor, row.organisation, now=now)
    DashboardCounts.objects.filter(pk=row_id).update(
        counts=counts, counted_at=now, scope=scope_of(actor)
    )
    return True
