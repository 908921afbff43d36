"""Reads of sites and rollouts, scoped to the actor and to the organisation in the URL."""
from django.db.models import OuterRef, QuerySet, Subquery

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from sites.models import Rollout, RolloutState, Site


def organisations_under(organisation: Organisation) -> dict:
    """ORM lookups selecting the organisations an organisation's pages cover."""
    if organisation.kind == OrganisationKind.PROVIDER:
        return {}
    if organisation.kind == OrganisationKind.RESELLER:
        return {"organisation__parent": organisation}
    return {"organisation": organisation}


def sites_for(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    latest_rollout = Rollout.objects.filter(site=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Site.objects.filter(organisation__in=visible_organisations(actor))
        .filter(**organisations_under(organisation))
        .select_related("organisation")
        .annotate(rollout_state=Subquery(latest_rollout.values("state")[:1]))
        .order_by("organisation__name", "name")
    )


def rollouts_in_progress(actor: Actor, organisation: Organisation) -> QuerySet[Rollout]:
    scope = {f"site__{key}": value for key, value in organisations_under(organisation).items()}
    return Rollout.objects.filter(
        site__organisation__in=visible_organisations(actor),
        state=RolloutState.IN_PROGRESS,
        **scope,
    )
