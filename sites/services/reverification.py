"""Scheduled re-verification: tell a site's people when its proof goes stale or fails.

The proof is renewed by a probe: by someone on the rollout page, or by the site's probe agent,
which asks every hour and is given a run when the site is due (``sites.services.agent``). Celery
beat runs ``flag_sites`` every hour: a site whose proof went stale (older than its schedule, or
than its last change of public address) or failed is flagged — the flags show on the site page
and the dashboards at once — and its customer's admins and its reseller's admins get one mail per
change of flag, not one per hour.

A reseller can also ask for a new proof at once ("Ask customers to prove again", ``sites.services.
bulk``): ``mail_proof_request`` tells the customer's admins.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from portal.accounts.models import Membership, Role
from portal.audit.services import record_event
from sites.models import ProbeRun, Site
from sites.models.site import Reverify
from sites.selectors import proof_flag

# Flags worth a mail; "unproven" is a site still being rolled out, which its page already shows.
NOTIFIED_FLAGS = ("stale", "failing")

MESSAGES = {
    "stale": (
        "The firewall proof of {site} is out of date",
        "The backup ports of {site} ({organisation}) were last proven {when}. The site asks for "
        "a new proof {schedule}{address}.\n\nRun the probe from the rollout page, or set up the "
        "probe agent there so that the backup host renews the proof by itself:\n{url}\n",
    ),
    "failing": (
        "The firewall probe of {site} failed",
        "The last probe of {site} ({organisation}) did not get through the firewall: backups may "
        "not reach the datacenter. The rollout page says which steps to check again:\n{url}\n",
    ),
}


def flag_sites(*, batch_size: int = 1000) -> dict[str, int]:
    """Compare each site's proof flag with the one its people were told about; mail the changes.

    Returns how many sites were newly flagged, per flag, and how many recovered.
    """
    counts = {"stale": 0, "failing": 0, "recovered": 0}
    sites = (
        Site.objects.exclude(reverify=Reverify.OFF, notified_flag="")
        .select_related("organisation")
        .order_by("pk")
    )
    for site in sites.iterator(chunk_size=batch_size):
        flag = proof_flag(site)
        told = flag if flag in NOTIFIED_FLAGS else ""
        if told == site.notified_flag:
            continue
        if _record_flag(site, told):
            counts[told or "recovered"] += 1
    return counts


def _record_flag(site: Site, flag: str) -> bool:
    """Store and announce the site's new flag, once even if two beats overlap."""
    with transaction.atomic():
        changed = Site.objects.filter(pk=site.pk, notified_flag=site.notified_flag).update(
            notified_flag=flag
        )
        if not changed:
            return False
        record_event(
            action="site.proof_flagged" if flag else "site.proof_recovered",
            organisation=site.organisation,
            target=site,
            before={"flag": site.notified_flag},
            after={"flag": flag},
        )
        if flag:
            transaction.on_commit(lambda: _mail(site, flag))
    return True


def recipients(site: Site) -> list[str]:
    """The customer's admins and the reseller's admins who have an e-mail address."""
    organisations = [site.organisation_id]
    if site.organisation.parent_id:
        organisations.append(site.organisation.parent_id)
    return admin_emails(organisations)


def admin_emails(organisation_ids: list[int]) -> list[str]:
    """The e-mail addresses of the active customer and reseller admins of these organisations."""
    return sorted(
        set(
            Membership.objects.filter(
                organisation_id__in=organisation_ids,
                role__in=[Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN],
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _mail(site: Site, flag: str) -> None:
    to = recipients(site)
    if not to:
        return
    subject, body = MESSAGES[flag]
    url = settings.PORTAL_URL.rstrip("/") + reverse(
        "site-detail", kwargs={"org_slug": site.organisation.slug, "site_pk": site.pk}
    )
    changed = site.public_address_changed_at
    proven = site.last_proven_at
    values = {
        "site": site.name,
        "organisation": site.organisation.name,
        "when": f"on {proven:%Y-%m-%d}" if proven else "never",
        "schedule": site.get_reverify_display().lower(),
        "address": (
            f", and its public address changed on {changed:%Y-%m-%d}"
            if changed and (proven is None or changed > proven)
            else ""
        ),
        "url": url,
    }
    send_mail(subject.format(**values), body.format(**values), None, to)


def customer_admins(site: Site) -> list[str]:
    """The e-mail addresses of the site's customer admins: who can run the probe (not the
    reseller, who asked)."""
    return sorted(
        set(
            Membership.objects.filter(
                organisation_id=site.organisation_id,
                role=Role.CUSTOMER_ADMIN,
                user__is_active=True,
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def mail_proof_request(*, site: Site, run: ProbeRun, by=None) -> int:
    """Ask the site's customer admins to prove the firewall again (a run opened for them by
    "Ask customers to prove again"): a link to the site's probe panel and until when the request
    stands. Audited; returns how many people were mailed."""
    to = customer_admins(site)
    context = {
        "site": site,
        "organisation": site.organisation,
        "asked_by": (by.get_full_name() or by.email) if by else "",
        "url": settings.PORTAL_URL.rstrip("/")
        + reverse("site-detail", kwargs={"org_slug": site.organisation.slug, "site_pk": site.pk})
        + "#probe",
        "expires_at": run.expires_at,
    }
    if to:
        send_mail(
            render_to_string("sites/mail/proof_request_subject.txt", context).strip(),
            render_to_string("sites/mail/proof_request.txt", context),
            None,
            to,
        )
    record_event(
        action="site.proof_requested",
        organisation=site.organisation,
        target=site,
        after={"probe_run": run.pk, "mailed": len(to), "expires_at": run.expires_at.isoformat()},
    )
    return len(to)
