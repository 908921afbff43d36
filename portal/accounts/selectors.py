"""Reads of organisations and people, always scoped to what the actor may see.

Fetching through these makes another tenant's object a 404 by construction.
"""

from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from portal.accounts.actor_cache import cached_organisation
from portal.accounts.models import Invitation, Membership, Organisation
from portal.accounts.permissions import Actor


def visible_organisations(actor: Actor) -> QuerySet[Organisation]:
    if not actor.is_authenticated:
        return Organisation.objects.none()
    if actor.is_provider_staff:
        return Organisation.objects.all()
    return Organisation.objects.filter(
        Q(pk__in=actor.member_org_ids) | Q(parent_id__in=actor.reseller_org_ids)
    )


def may_see(actor: Actor, organisation: Organisation) -> bool:
    """``visible_organisations``' rule for one organisation already loaded, in Python."""
    if not actor.is_authenticated:
        return False
    return (
        actor.is_provider_staff
        or organisation.pk in actor.member_org_ids
        or organisation.parent_id in actor.reseller_org_ids
    )


def organisation_for(actor: Actor, slug: str) -> Organisation:
    """The organisation with ``slug`` (its parent loaded) if the actor may see it, else Http404.

    With a shared cache, the row comes from this process's memory while no organisation changed
    (``actor_cache.cached_organisation``): a page that polls pays no query for it.
    """
    organisation = cached_organisation(
        slug,
        actor.generation,
        lambda: Organisation.objects.select_related("parent").filter(slug=slug).first(),
    )
    if organisation is None or not may_see(actor, organisation):
        raise Http404("No such organisation.")
    return organisation


def client_organisations(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The organisations directly below ``organisation``, with their site and client counts."""
    return (
        visible_organisations(actor)
        .filter(parent=organisation)
        .annotate(site_count=_count_below("sites"), client_count=_count_below("clients"))
        .order_by("name")
    )


def _count_below(relation: str) -> Coalesce:
    """How many rows of the organisation's reverse relation ``relation`` there are, counted per
    organisation from the relation's index (one join of every client to all their sites, then
    a distinct count, read and sorted every site: 26 ms at 100,000 sites; this, 10)."""
    related = Organisation._meta.get_field(relation).related_model  # sites: no import of them
    field = Organisation._meta.get_field(relation).field.name
    per_organisation = (
        related.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(per_organisation), Value(0))


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation=organisation)
        .select_related("user", "organisation")
        .order_by("user__username")
    )


def pending_invitations(organisation: Organisation) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked (expired ones too: they can be resent)."""
    return (
        Invitation.objects.filter(
            organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .order_by("email")
    )


def mfa_statuses(user_ids) -> dict[int, object | None]:
    """For each of ``user_ids``, their second factors (``portal.mfa.status.SecondFactors``: true
    when on, reads "On: app and 1 passkey"), in one query; None while the MFA app is not
    installed."""
    if not apps.is_installed("portal.mfa"):
        return dict.fromkeys(user_ids)
    from portal.mfa.status import second_factors_among

    return second_factors_among(user_ids)


def switcher_organisations(actor: Actor, limit: int = 50) -> list[dict]:
    """Organisations offered by the switcher: the person's own, then their resellers' clients."""
    own = [
        {"slug": g.organisation_slug, "name": g.organisation_name, "role": g.role}
        for g in actor.grants
    ]
    if actor.reseller_org_ids:
        clients = Organisation.objects.filter(parent_id__in=actor.reseller_org_ids).order_by(
            "name"
        )[:limit]
        own += [{"slug": o.slug, "name": o.name, "role": "client"} for o in clients]
    return own


def default_organisation(actor: Actor) -> Organisation | None:
    """Where a person lands after login: their first own organisation."""
    if not actor.grants:
        return None
    first = sorted(
        actor.grants, key=lambda g: (g.organisation_kind != "provider", g.organisation_name)
    )
    return Organisation.objects.filter(pk=first[0].organisation_id).first()


@dataclass(frozen=True)
class Lockout:
    """One current lockout: of an account (``kind`` "username") or of an address ("ip_address")."""

    kind: str
    value: str
    failures: int
    since: datetime
    until: datetime


def current_lockouts() -> list[Lockout]:
    """Every username and IP address locked out now, latest first. A lockout starts at the failure
    that reached the limit (later refused attempts are not counted) and lasts the cool-off."""
    cool_off = get_cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off)
    lockouts = []
    for kind in ("username", "ip_address"):
        # An attempt without a username (a bad API token) counts toward its address only.
        groups = (
            recent.exclude(**{f"{kind}__isnull": True})
            .exclude(**{f"{kind}__exact": ""} if kind == "username" else {})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), since=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        )
        lockouts += [
            Lockout(kind, g[kind], g["failures"], g["since"], g["since"] + cool_off) for g in groups
        ]
    return sorted(lockouts, key=lambda lockout: lockout.since, reverse=True)
