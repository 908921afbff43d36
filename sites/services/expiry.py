"""Expiry and recertification of a site's monitoring access (the optional inbound forward of the
monitoring ports, guide rule 4).

An inbound port-forward nobody needs any more is what a security review finds, so monitoring
access runs until a date (``Site.monitoring_expires_on``): the profile's
``monitoring_access_months`` after monitoring was first rolled out
(``sites.services.monitoring_dates.follow_monitoring``, called when a new version of the
instructions is written). Until then:

- a customer admin may set another date, from tomorrow to the profile's period from today
  (``set_monitoring_expiry``); beyond that they recertify;
- recertifying (``recertify_monitoring``: one click and a reason) certifies the next period from
  today; both are audited with the expiry before and after;
- beat's daily ``remind_and_expire`` mails the customer's and the reseller's admins 30 and 7 days
  before the date (each reminder once per expiry date), and on the date opens the removal plan of
  the monitoring access (``sites.services.lifecycle.remove_monitoring``).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.models import Lifecycle, Site
from sites.selectors.lifecycle import latest_allowed, monitoring_expiring_q, today
from sites.services.lifecycle import remove_monitoring
from sites.services.reverification import recipients

# Days before the expiry date a reminder goes out, the earliest first.
REMINDER_DAYS = (30, 7)
EXPIRED = "expired"
REASON_LIMIT = 1000


def _check_can_change(site: Site) -> None:
    if site.lifecycle != Lifecycle.ACTIVE:
        raise ServiceError(
            "", "This site is being decommissioned: its access can no longer change."
        )
    if site.monitoring_expires_on is None:
        raise ServiceError(
            "", "Remote monitoring is off for this site: there is no access to renew."
        )


def _save_expiry(site: Site, expires_on: date, *, action: str, by, extra: dict) -> Site:
    with transaction.atomic():
        locked = Site.objects.select_for_update().select_related("organisation").get(pk=site.pk)
        _check_can_change(locked)
        before = locked.monitoring_expires_on
        locked.monitoring_expires_on, locked.monitoring_reminded = expires_on, ""
        locked.save(update_fields=["monitoring_expires_on", "monitoring_reminded"])
        record_event(
            action=action,
            organisation=locked.organisation,
            target=locked,
            before={"expires_on": before.isoformat() if before else None},
            after={"expires_on": expires_on.isoformat(), **extra},
            by=by,
        )
    site.monitoring_expires_on, site.monitoring_reminded = expires_on, ""
    return site


def set_monitoring_expiry(*, site: Site, expires_on: date, by=None) -> Site:
    """A customer admin's chosen expiry: after today, and at most the profile's period from
    today (``latest_allowed``). The reminders start again for the new date. Audited
    (``site.monitoring_expiry_changed``, the date before and after)."""
    _check_can_change(site)
    now = today()
    if expires_on <= now:
        raise ServiceError("expires_on", "Choose a date after today.")
    latest = latest_allowed(site, on=now)
    if expires_on > latest:
        raise ServiceError(
            "expires_on",
            f"Choose a date until {latest:%Y-%m-%d} at the latest: this service allows "
            f"{site.profile.monitoring_access_months} months at a time; recertify to go further.",
        )
    return _save_expiry(site, expires_on, action="site.monitoring_expiry_changed", by=by, extra={})


def recertify_monitoring(*, site: Site, reason: str, by=None) -> Site:
    """Someone confirms the monitoring access is still needed, and why: it runs for the
    profile's period from today. Audited (``site.monitoring_recertified``: the date before and
    after, and the reason)."""
    reason = reason.strip()
    if not reason:
        raise ServiceError("reason", "Say why monitoring from outside is still needed.")
    if len(reason) > REASON_LIMIT:
        raise ServiceError("reason", f"Keep the reason under {REASON_LIMIT} characters.")
    _check_can_change(site)
    return _save_expiry(
        site,
        latest_allowed(site),
        action="site.monitoring_recertified",
        by=by,
        extra={"reason": reason},
    )


def remind_and_expire(*, on: date | None = None) -> dict[str, int]:
    """Beat's daily sweep: the 30- and 7-day reminders (each once per expiry date, however often
    the sweep runs), and the removal plan of every access that reached its date. Returns how many
    of each it sent or opened."""
    on = on or today()
    counts = {"30": 0, "7": 0, EXPIRED: 0}
    due = (
        Site.objects.filter(monitoring_expiring_q(on, within_days=REMINDER_DAYS[0]))
        .exclude(monitoring_reminded=EXPIRED)
        .select_related("organisation", "profile")
        .order_by("pk")
    )
    for site in due.iterator(chunk_size=500):
        days_left = (site.monitoring_expires_on - on).days
        if days_left <= 0:
            if _claim(site, EXPIRED):
                reason = (
                    f"Monitoring access expired on {site.monitoring_expires_on:%Y-%m-%d} "
                    "without a recertification."
                )
                try:
                    remove_monitoring(site=site, by=None, reason=reason)
                except ServiceError as error:
                    # No plan can be made (instructions without markers): the people are told
                    # to remove the forward themselves, never left believing it closed.
                    _removal_unavailable(site, reason, error.message)
                counts[EXPIRED] += 1
            continue
        stage = next((str(d) for d in reversed(REMINDER_DAYS) if days_left <= d), None)
        if stage is None or site.monitoring_reminded == stage:
            continue
        if _claim(site, stage):
            _mail_reminder(site, days_left)
            counts[stage] += 1
    return counts


def _claim(site: Site, stage: str) -> bool:
    """Record that ``stage`` was handled for the site's current expiry date, once even if two
    sweeps overlap (a conditional update); audited."""
    with transaction.atomic():
        claimed = Site.objects.filter(
            pk=site.pk,
            monitoring_reminded=site.monitoring_reminded,
            monitoring_expires_on=site.monitoring_expires_on,
        ).update(monitoring_reminded=stage)
        if not claimed:
            return False
        record_event(
            action="site.monitoring_expired" if stage == EXPIRED else "site.monitoring_reminded",
            organisation=site.organisation,
            target=site,
            before={"reminded": site.monitoring_reminded},
            after={"reminded": stage, "expires_on": site.monitoring_expires_on.isoformat()},
        )
    site.monitoring_reminded = stage
    return True


def _removal_unavailable(site: Site, reason: str, why: str) -> None:
    """The access expired but its removal plan cannot be made: audited, and the admins mailed
    to remove the forward by hand."""
    record_event(
        action="site.monitoring_removal_unavailable",
        organisation=site.organisation,
        target=site,
        after={"expires_on": site.monitoring_expires_on.isoformat(), "why": why},
    )
    to = recipients(site)
    if to:
        context = {"site": site, "organisation": site.organisation, "reason": reason, "why": why}
        context["url"] = _site_url(site)
        send_mail(
            f"Monitoring access to {site.name} expired: remove its port-forward",
            render_to_string("sites/lifecycle/mail/expired_by_hand.txt", context),
            None,
            to,
        )


def _site_url(site: Site) -> str:
    return (
        settings.PORTAL_URL.rstrip("/")
        + reverse("site-detail", kwargs={"org_slug": site.organisation.slug, "site_pk": site.pk})
        + "#monitoring-access"
    )


def _mail_reminder(site: Site, days_left: int) -> None:
    to = recipients(site)
    if not to:
        return
    context = {
        "site": site,
        "organisation": site.organisation,
        "days_left": days_left,
        "expires_on": site.monitoring_expires_on,
        "months": site.profile.monitoring_access_months,
        "url": _site_url(site),
    }
    send_mail(
        render_to_string("sites/lifecycle/mail/expiry_reminder_subject.txt", context).strip(),
        render_to_string("sites/lifecycle/mail/expiry_reminder.txt", context),
        None,
        to,
    )
