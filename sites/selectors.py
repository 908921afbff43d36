"""Reads of sites and rollouts, scoped to the actor and to the organisation in the URL."""
from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from sites.models import InstructionSet, RolloutState, RolloutStep, Site


def organisations_under(organisation: Organisation) -> dict:
    """ORM lookups selecting the organisations an organisation's pages cover."""
    if organisation.kind == OrganisationKind.PROVIDER:
        return {}
    if organisation.kind == OrganisationKind.RESELLER:
        return {"organisation__parent": organisation}
    return {"organisation": organisation}


def sites_for(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """The sites an organisation's pages list, with the state of each one's current rollout."""
    return (
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
    queryset = Site.objects.filter(
        organisation=organisation, organisation__in=visible_organisations(actor)
    ).select_related("organisation", "profile", "current_instruction_set__rollout")
    return get_object_or_404(queryset, pk=pk)


def rollout_steps(instruction_set: InstructionSet) -> list[tuple[RolloutStep, dict]]:
    """The rollout's steps, each beside the step content it follows (in position order)."""
    content = [step for document in instruction_set.documents for step in document["steps"]]
    steps = list(instruction_set.rollout.steps.select_related("changed_by").order_by("position"))
    return list(zip(steps, content, strict=True))


def instruction_history(site: Site) -> QuerySet[InstructionSet]:
    return site.instruction_sets.select_related("created_by").defer("documents", "rules", "description")
