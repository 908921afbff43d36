"""Reads of sites and rollouts, scoped to the actor and to the organisation in the URL."""
from datetime import timedelta

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.shortcuts import get_object_or_404

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from sites.models import (
    InstructionSet,
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    RolloutState,
    RolloutStep,
    Site,
)
from sites.models.site import REVERIFY_PERIOD_DAYS


def organisations_under(organisation: Organisation) -> dict:
    """ORM lookups selecting the organisations an organisation's pages cover."""
    if organisation.kind == OrganisationKind.PROVIDER:
        return {}
    if organisation.kind == OrganisationKind.RESELLER:
        return {"organisation__parent": organisation}
    return {"organisation": organisation}


def with_proof(sites: QuerySet[Site]) -> QuerySet[Site]:
    """Annotate each site with its latest outbound proof: when proven, and the last run's state."""
    outbound = ProbeRun.objects.filter(
        site=OuterRef("pk"), direction=ProbeDirection.OUTBOUND, purpose=ProbePurpose.VERIFY
    )
    proven = outbound.filter(state=ProbeRunState.PROVEN).order_by("-finished_at")
    latest = outbound.exclude(state__in=[ProbeRunState.WAITING, ProbeRunState.RUNNING]).order_by("-created_at")
    return sites.annotate(
        last_proven_at=Subquery(proven.values("finished_at")[:1]),
        last_probe_state=Subquery(latest.values("state")[:1]),
    )


def proof_flag(site: Site, *, now=None) -> str:
    """"failing", "stale", "unproven" or "" (fresh), from a site annotated by ``with_proof``.

    Stale: older than the site's re-verification period, or older than its last change of
    public address (the proof was about another address).
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


def sites_for(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """The sites an organisation's pages list, with the state of each one's current rollout
    and its latest proof (see ``proof_flag``)."""
    return with_proof(
        Site.objects.filter(organisation__in=visible_organisations(actor))
        .filter(**organisations_under(organisation))
        .select_related("organisation")
        .annotate(rollout_state=F("current_instruction_set__rollout__state"))
        .order_by("organisation__name", "name")
    )


def rollouts_in_progress(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """Sites whose current rollout is under way."""
    return sites_for(actor, organisation).filter(
        current_instruction_set__rollout__state=RolloutState.IN_PROGRESS
    )


def site_for(actor: Actor, organisation: Organisation, pk: int) -> Site:
    """One site of the organisation in the URL, if the actor may see it; else Http404."""
    queryset = with_proof(
        Site.objects.filter(
            organisation=organisation, organisation__in=visible_organisations(actor)
        ).select_related("organisation", "profile", "current_instruction_set__rollout")
    )
    return get_object_or_404(queryset, pk=pk)


def rollout_steps(instruction_set: InstructionSet) -> list[tuple[RolloutStep, dict]]:
    """The rollout's steps, each beside the step content it follows (in position order)."""
    content = [step for document in instruction_set.documents for step in document["steps"]]
    steps = list(instruction_set.rollout.steps.select_related("changed_by").order_by("position"))
    return list(zip(steps, content, strict=True))


def instruction_history(site: Site) -> QuerySet[InstructionSet]:
    return site.instruction_sets.select_related("created_by").defer("documents", "rules", "description")
