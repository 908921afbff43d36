"""Telling organisations about changes they did not make: a service profile change that gives
their sites steps to change. One notice per organisation (each customer whose sites change, and
its reseller), shown on its home page and mailed to its admins once (``mail_notices``)."""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Organisation
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.models import Notice, ServiceProfile
from sites.services import queue
from sites.services.reverification import admin_emails


def announce_profile_change(
    *,
    profile: ServiceProfile,
    changes: tuple[str, ...],
    reason: str,
    sites: list[tuple[int, int]],
    by=None,
) -> list[Notice]:
    """A notice for each organisation whose sites (``sites``: (site id, organisation id)) get
    steps to change, and for each reseller of theirs (counting its clients' sites); mailed after
    commit. Inside the profile change's transaction."""
    per_customer = Counter(organisation_id for _, organisation_id in sites)
    customers = Organisation.objects.filter(pk__in=per_customer).only("pk", "parent_id", "name")
    counts: Counter[int] = Counter(per_customer)
    for customer in customers:
        if customer.parent_id:
            counts[customer.parent_id] += per_customer[customer.pk]
    subject = f"The service profile “{profile.name}” changed: firewall steps to follow"
    notices = Notice.objects.bulk_create(
        [
            Notice(
                organisation_id=organisation_id,
                subject=subject,
                body=(
                    f"{count} site{'s' if count != 1 else ''} need{'' if count != 1 else 's'} a "
                    "change on the firewall. What changed: " + "; ".join(changes) + "."
                ),
                reason=reason,
                profile=profile,
                profile_revision=profile.revision,
                site_count=count,
                created_by=by,
            )
            for organisation_id, count in sorted(counts.items())
        ]
    )
    queue.enqueue_after_commit(queue.MAIL_NOTICES, [notice.pk for notice in notices])
    return notices


def mail_notices(*, notice_ids: list[int]) -> int:
    """Mail each notice to its organisation's admins, once (claimed by a conditional update, so
    a task delivered twice mails once). Returns how many notices were mailed."""
    mailed = 0
    for notice in Notice.objects.filter(pk__in=notice_ids, mailed_at__isnull=True).select_related(
        "organisation"
    ):
        with transaction.atomic():
            claimed = Notice.objects.filter(pk=notice.pk, mailed_at__isnull=True).update(
                mailed_at=timezone.now()
            )
        if not claimed:
            continue
        to = admin_emails([notice.organisation_id])
        if not to:
            continue
        context = {
            "notice": notice,
            "organisation": notice.organisation,
            "url": settings.PORTAL_URL.rstrip("/")
            + reverse("site-list", kwargs={"org_slug": notice.organisation.slug}),
        }
        send_mail(
            notice.subject,
            render_to_string("sites/lifecycle/mail/notice.txt", context),
            None,
            to,
        )
        mailed += 1
    return mailed


def dismiss_notice(*, notice_id: int, organisation: Organisation, by) -> Notice:
    """Put away one of ``organisation``'s notices (the home page stops showing it), audited.
    A notice of another organisation is refused as unknown; dismissing twice changes nothing."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update()
            .filter(pk=notice_id, organisation=organisation)
            .first()
        )
        if notice is None:
            raise ServiceError("notice", "This notice does not exist.")
        if notice.dismissed_at is None:
            notice.dismissed_at = timezone.now()
            notice.dismissed_by = by
            notice.save(update_fields=["dismissed_at", "dismissed_by"])
            record_event(
                action="notice.dismissed",
                organisation=organisation,
                target=notice,
                after={"subject": notice.subject},
            )
    return notice
