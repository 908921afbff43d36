"""Reads of sites: the sites an organisation's pages cover, one site, and what the live part
of a site's page shows. Scoped to the actor and to the organisation in the URL."""

from collections.abc import Iterator
from functools import lru_cache

from django.db import connection
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from portal.accounts import permissions
from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from sites.models import RolloutState, Site


def organisations_under(organisation: Organisation) -> dict:
    """ORM lookups selecting the organisations an organisation's pages cover."""
    if organisation.kind == OrganisationKind.PROVIDER:
        return {}
    if organisation.kind == OrganisationKind.RESELLER:
        # Membership, not a join: a sort then reads the sites' own sort index on SQLite too (with
        # the organisations joined, SQLite starts from them and sorts all their sites).
        return {"organisation__in": Organisation.objects.filter(parent=organisation).values("pk")}
    return {"organisation": organisation}


def covered_customers(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The customer organisations whose sites an organisation's pages cover, that the actor may
    see, by name."""
    customers = visible_organisations(actor).filter(kind=OrganisationKind.CUSTOMER).order_by("name")
    if organisation.kind == OrganisationKind.CUSTOMER:
        return customers.filter(pk=organisation.pk)
    if organisation.kind == OrganisationKind.RESELLER:
        return customers.filter(parent=organisation)
    return customers


def editable_customers(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The customer organisations the page covers whose sites the actor may create and change
    (where an import may put sites), by name."""
    editable = [
        o.pk for o in covered_customers(actor, organisation) if permissions.can_edit_sites(actor, o)
    ]
    return Organisation.objects.filter(pk__in=editable).order_by("name")


def covered_sites(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """The sites an organisation's pages cover (a customer's own, a reseller's clients', every
    site for the provider) that the actor may see: both rules, and nothing else (no annotations,
    no joins beyond the organisation, no order). Every list of sites starts here: ``sites_for``,
    the dashboard (``sites.selectors.dashboard``)."""
    return Site.objects.filter(organisation__in=visible_organisations(actor)).filter(
        **organisations_under(organisation)
    )


def current_rollout() -> FilteredRelation:
    """The rollout of the site's current instruction set, as a join of the rollouts alone (not
    through the instruction sets, whose rows are large): ``.annotate(current_rollout=
    current_rollout())``, then ``current_rollout__state`` and so on. At most one row: a rollout
    per instruction set."""
    return FilteredRelation(
        "rollouts", condition=Q(rollouts__instruction_set_id=F("current_instruction_set_id"))
    )


def sites_for(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """The sites an organisation's pages list (``covered_sites``), with their organisation, the
    state of each one's current rollout (``rollout_state``) and its proof summary (see
    ``sites.selectors.proof.proof_flag``)."""
    return (
        covered_sites(actor, organisation)
        .select_related("organisation")
        .annotate(current_rollout=current_rollout(), rollout_state=F("current_rollout__state"))
        .order_by("organisation__name", "name")
    )


def rollouts_in_progress(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """Sites whose current rollout is under way."""
    return sites_for(actor, organisation).filter(rollout_state=RolloutState.IN_PROGRESS)


def sites_for_export(sites: QuerySet[Site]) -> Iterator[Site]:
    """``sites`` (any scoped queryset of sites) with what an export writes, by organisation and
    name, streamed from the database in chunks."""
    return (
        Site.objects.filter(pk__in=sites.order_by().values("pk"))
        .select_related("organisation")
        .only("name", "description", "reverify", "organisation__slug", "organisation__name")
        .order_by("organisation__name", "name", "pk")
        .iterator(chunk_size=500)
    )


def site_for(actor: Actor, organisation: Organisation, pk: int) -> Site:
    """One site of the organisation in the URL, if the actor may see it; else Http404."""
    queryset = Site.objects.filter(
        organisation=organisation, organisation__in=visible_organisations(actor)
    ).select_related("organisation", "profile", "current_instruction_set__rollout")
    return get_object_or_404(queryset, pk=pk)


def site_progress_for(organisation: Organisation, pk: int) -> Site:
    """The site ``pk`` of ``organisation`` (else Http404), loaded only for its rollout's progress:
    the current instruction set (version, documents) and its rollout; no profile, description,
    rules or proof. What the live part of the site page shows.

    ``organisation`` is one ``organisation_for`` returned (``OrganisationMixin`` loads it so), so
    the actor may see it and its sites; ``site.organisation`` is set to it.
    """
    queryset = (
        Site.objects.filter(organisation=organisation)
        .select_related("current_instruction_set__rollout")
        .only(
            "name",
            "organisation_id",
            "current_instruction_set__site",
            "current_instruction_set__version",
            "current_instruction_set__created_at",
            "current_instruction_set__documents",
            "current_instruction_set__rollout__state",
        )
    )
    site = get_object_or_404(queryset, pk=pk)
    site.organisation = organisation
    return site


_STEPS = "current_instruction_set__rollout__steps__"
# Stand-ins for the parameters when the query below is compiled, to find them in its parameters.
_ORGANISATION, _SITE = -7_000_001, -7_000_002


def site_progress_key(organisation: Organisation, pk: int) -> tuple:
    """What the live part of the site ``pk`` of ``organisation`` shows and may change, as the
    database's raw values, in one query: the current instruction set (id, version, when made),
    its rollout (id, state), and each step (id, state, note, when and by whom changed) in
    position order. Http404 when the organisation has no such site (``organisation`` as for
    ``site_progress_for``).

    The open site page polls it every 1.5 s and renders the page's live part again only when it
    changed (``SiteDetailView``). The query is compiled by the ORM once per process and then
    run with each request's parameters: compiling it costs more than running it.
    """
    sql, params = _site_progress_sql(connection.vendor)
    values = {_ORGANISATION: organisation.pk, _SITE: pk}
    with connection.cursor() as cursor:
        cursor.execute(sql, [values.get(param, param) for param in params])
        rows = tuple(cursor.fetchall())
    if not rows:
        raise Http404("No such site.")
    return rows


@lru_cache(maxsize=4)
def _site_progress_sql(vendor: str) -> tuple[str, tuple]:
    query = (
        Site.objects.filter(organisation_id=_ORGANISATION, pk=_SITE)
        .values_list(
            "current_instruction_set_id",
            "current_instruction_set__version",
            "current_instruction_set__created_at",
            "current_instruction_set__rollout__id",
            "current_instruction_set__rollout__state",
            f"{_STEPS}id",
            f"{_STEPS}state",
            f"{_STEPS}note",
            f"{_STEPS}changed_at",
            f"{_STEPS}changed_by__username",
        )
        .order_by(f"{_STEPS}position")
        .query
    )
    sql, params = query.sql_with_params()
    if not {_ORGANISATION, _SITE} <= set(params):
        raise RuntimeError("the site progress query lost a parameter")
    return sql, tuple(params)
