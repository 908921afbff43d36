"""Reads of a site's life: monitoring access running out, what a version's plan changes, and
the notices an organisation was sent."""

import calendar
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.accounts.models import Organisation
from sites.description import DescriptionError, SiteDescription
from sites.instructions import rollout_order
from sites.models import InstructionSet, Lifecycle, Notice, PlanKind, RolloutState, Site

# The dashboard's "expiring" flag: monitoring access ending within this many days (the first
# reminder's, sites.services.expiry.REMINDER_DAYS).
EXPIRING_WITHIN_DAYS = 30


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter
    (31 January + 1 month: 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def today() -> date:
    return timezone.localdate()


def latest_allowed(site: Site, *, on: date | None = None) -> date:
    """The latest expiry a customer may choose for ``site`` (``on`` = today): the profile's
    period from today."""
    return add_months(on or today(), site.profile.monitoring_access_months)


def monitoring_expiring_q(now: datetime | date, *, within_days: int = EXPIRING_WITHIN_DAYS) -> Q:
    """Sites in use whose monitoring access ends within ``within_days`` of ``now`` (or ended and
    its removal is not opened yet): the dashboard's "expiring" flag and the daily expiry sweep."""
    on = timezone.localdate(now) if isinstance(now, datetime) else now
    return Q(
        lifecycle=Lifecycle.ACTIVE,
        monitoring_expires_on__isnull=False,
        monitoring_expires_on__lte=on + timedelta(days=within_days),
    )


def change_needed_label(plan_kind: str | None, rollout_state: str | None, steps_left: int) -> str:
    """ "Change needed: 2 steps" for an unfinished change or removal plan, else "": what lists
    and the site page say instead of a regression of a finished rollout's progress."""
    if plan_kind not in (PlanKind.CHANGE, PlanKind.REMOVAL) or rollout_state == RolloutState.DONE:
        return ""
    what = "Change needed" if plan_kind == PlanKind.CHANGE else "Removal needed"
    return f"{what}: {steps_left} step{'s' if steps_left != 1 else ''}"


def notices_for(organisation: Organisation, *, limit: int = 5) -> QuerySet[Notice]:
    """The organisation's latest notices not yet dismissed (its home page shows them)."""
    return Notice.objects.filter(organisation=organisation, dismissed_at__isnull=True).order_by(
        "-created_at", "-pk"
    )[:limit]


def notice_for(organisation: Organisation, notice_id: int) -> Notice:
    """One of the organisation's notices; another organisation's is a 404."""
    return get_object_or_404(Notice, pk=notice_id, organisation=organisation)


def plan_context(instruction_set: InstructionSet | None) -> dict:
    """What the site page's rollout summary says of a version's plan: "Change needed: N steps",
    the applied version it starts from; and whether its closing check proves the monitoring
    ports closed (a removal plan's)."""
    if instruction_set is None:
        return {}
    rollout = instruction_set.rollout
    left = rollout.steps_total - rollout.steps_finished
    closure = any(
        probe.expect == "closed"
        for _, _, step in rollout_order(instruction_set.rendered)
        for probe in step.probes
    )
    return {
        "plan_kind": instruction_set.kind,
        "change_needed": change_needed_label(instruction_set.kind, rollout.state, left),
        "applied_from": version_for_plan(instruction_set) if instruction_set.is_plan else None,
        "closure_check": closure,
    }


def monitoring_context(site: Site) -> dict:
    """The site page's monitoring access panel: whether monitoring is on, and the latest end
    date a customer may choose."""
    try:
        monitored = SiteDescription.from_dict(site.description).monitoring_enabled
    except DescriptionError:
        monitored = False
    return {
        "monitoring_on": monitored,
        "monitoring_latest": latest_allowed(site) if site.profile_id else None,
    }


def version_for_plan(instruction_set: InstructionSet) -> InstructionSet | None:
    """The version a plan starts from (its number and documents only), if any."""
    if instruction_set.applied_from_id is None:
        return None
    return (
        InstructionSet.objects.filter(pk=instruction_set.applied_from_id)
        .only("version", "created_at")
        .first()
    )
