"""The site dashboard's reads: its filters, search and sorting (django-filter), its page of rows
with their columns, and the sites a bulk action or an export takes from it.

Built to stay fast at 10,000 sites with a number of queries that does not depend on them:

- filters and sorts run on the lean queryset of the covered sites (``sites.selectors.sites.
  covered_sites``: no joins beyond the organisation, no annotations) and read columns: each
  site's proof summary (``last_proven_at``, ``last_probe_state``, ``last_probe_at``, kept by
  ``sites.services.proof``) and its current rollout's step counts (kept by ``sites.services.
  rollouts.refresh_rollout_state``), joined from the rollouts alone for the rollout sort. The
  rollout-state filter and "waiting on customer" test membership in one uncorrelated subquery
  each (rollouts in that state; the few open probe runs);
- ``dashboard_page`` then costs three queries: the count, the ids of one page, and every column
  of those 50 rows (``dashboard_columns``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

import django_filters
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest, NullIf
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from portal.jobs.models import Job
from sites.models import (
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    Rollout,
    RolloutState,
    RolloutStep,
    Site,
)
from sites.selectors.proof import proof_flag_q, waiting_on_customer
from sites.selectors.sites import covered_customers, covered_sites, current_rollout, sites_for
from sites.vendors import vendor_choices

PAGE_SIZE = 50


def dashboard_columns(site_ids: list[int], *, now: datetime) -> dict[int, SimpleNamespace]:
    """Every column of the dashboard rows of ``site_ids`` (ids the scoped, filtered query gave),
    in one query, as plain values (no model instances: 50 rows, a dozen columns):

    name, vendor, organisation slug and name, ``reverify``, ``public_address_changed_at``,
    ``updated_at``; the proof summary (``last_proven_at``, ``last_probe_state``,
    ``last_probe_at``: what ``sites.selectors.proof.proof_flag`` reads); ``rollout_state``, ``steps_total`` and
    ``steps_finished`` (done or skipped) of the current rollout; ``waiting_run_id``, an outbound
    probe run opened since the last proof and still waiting for the customer's probe client;
    ``proof_warning``, the NAT warning of the latest proof ("" or null: none); ``state_since``,
    when the rollout last changed (see ``state_since``); ``monitoring_expires_on``,
    ``plan_kind`` (the current version's: complete, change or removal) and ``lifecycle``.
    """
    waiting = waiting_on_customer(now).filter(site=OuterRef("pk")).order_by("-created_at")
    proofs = ProbeRun.objects.filter(
        site=OuterRef("pk"),
        direction=ProbeDirection.OUTBOUND,
        purpose=ProbePurpose.VERIFY,
        state=ProbeRunState.PROVEN,
        finished_at__isnull=False,
    ).order_by("-finished_at")
    rows = (
        Site.objects.filter(pk__in=site_ids)
        .order_by()
        .annotate(current_rollout=current_rollout())
        .values(
            "pk",
            "name",
            "vendor",
            "reverify",
            "public_address_changed_at",
            "updated_at",
            "profile_id",
            "current_instruction_set_id",
            "last_proven_at",
            "last_probe_state",
            "last_probe_at",
            # Lifecycle (sites.services.lifecycle, expiry): monitoring access end, whether the
            # site is being decommissioned, and the version's plan kind ("change needed").
            "monitoring_expires_on",
            "lifecycle",
            organisation_slug=F("organisation__slug"),
            organisation_name=F("organisation__name"),
            rollout_state=F("current_rollout__state"),
            steps_total=F("current_rollout__steps_total"),
            steps_finished=F("current_rollout__steps_finished"),
            waiting_run_id=Subquery(waiting.values("pk")[:1]),
            proof_warning=Subquery(proofs.values("outcome__nat_warning")[:1]),
            state_since=state_since(),
            plan_kind=F("current_instruction_set__kind"),
        )
    )
    return {row["pk"]: SimpleNamespace(**row) for row in rows}


def state_since() -> Greatest:
    """When the site's current rollout last changed state: its latest marked step, or the
    instructions' creation when no step was marked since (what "days in this state" counts from);
    null without instructions."""
    marked = (
        RolloutStep.objects.filter(
            rollout__instruction_set_id=OuterRef("current_instruction_set_id"),
            changed_at__isnull=False,
        )
        .order_by("-changed_at")
        .values("changed_at")[:1]
    )
    created = F("current_instruction_set__created_at")
    return Greatest(Coalesce(Subquery(marked), created), created)


def flag_choices() -> list[tuple[str, str]]:
    """The flag filter's options: "needs attention" is failing, stale or stalled (see
    ``proof_flag_q``); the stall's length comes from ``ROLLOUT_STALLED_DAYS``."""
    return [
        ("attention", "Needs attention"),
        ("unproven", "Never proven"),
        ("failing", "Proof failing"),
        ("stale", "Proof stale"),
        ("stalled", f"Rollout stalled for more than {settings.ROLLOUT_STALLED_DAYS} days"),
        ("waiting", "Waiting on customer"),
        ("fresh", "Proven"),
        ("expiring", "Monitoring access expiring"),
    ]


HEADLINE_FLAGS = ("attention", "unproven", "failing", "stale", "stalled", "waiting", "expiring")


def flag_counts(actor: Actor, organisation: Organisation, *, now: datetime) -> dict[str, int]:
    """How many of the covered sites carry each of the headline flags (``HEADLINE_FLAGS``), in
    one query: the dashboard's headline, each count a link to its filter."""
    return covered_sites(actor, organisation).aggregate(
        **{flag: Count("pk", filter=proof_flag_q(flag, now=now)) for flag in HEADLINE_FLAGS}
    )


NO_ROLLOUT = "none"
ROLLOUT_CHOICES = [*RolloutState.choices, (NO_ROLLOUT, "No instructions yet")]

# Sort key in the URL → what it orders by, and the column's heading. The whitelist: nothing else
# reaches ORDER BY.
SORTS = {
    "name": ("name", "Site"),
    "organisation": ("organisation__name", "Organisation"),
    "vendor": ("vendor", "Firewall"),
    "rollout": ("progress", "Rollout"),
    "probe": ("last_probe_at", "Last probe"),
    "updated": ("updated_at", "Updated"),
}
DEFAULT_SORT = ("organisation__name", "name")


class SortFilter(django_filters.OrderingFilter):
    """Sort by one whitelisted column; empty values last either way; ties broken by name and id.

    Sorting by rollout progress joins the current rollouts and computes it from their step
    counts; every other sort is a column of the site or its organisation.
    """

    def filter(self, qs, value):
        if not value:
            return qs.order_by(*DEFAULT_SORT, "pk")
        ordering = []
        for key in value:
            field = self.param_map[key.lstrip("-")]
            if field == "progress":
                qs = qs.annotate(
                    current_rollout=current_rollout(),
                    progress=F("current_rollout__steps_finished")
                    * 100
                    / NullIf(F("current_rollout__steps_total"), 0),
                )
            descending = key.startswith("-")
            ordering.append(
                F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
            )
        return qs.order_by(*ordering, "name", "pk")


class SiteFilterSet(django_filters.FilterSet):
    """The dashboard's filters over ``covered_sites``. ``organisation`` offers only the customer
    organisations the page covers, so another tenant's organisation is an invalid choice."""

    q = django_filters.CharFilter(method="search", label="Search")
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.none(),
        to_field_name="slug",
        label="Organisation",
        empty_label="All organisations",
    )
    vendor = django_filters.ChoiceFilter(
        choices=vendor_choices, label="Firewall", empty_label="All firewalls"
    )
    rollout = django_filters.ChoiceFilter(
        choices=ROLLOUT_CHOICES, method="filter_rollout", label="Rollout", empty_label="Any rollout"
    )
    flag = django_filters.ChoiceFilter(
        choices=flag_choices, method="filter_flag", label="Flag", empty_label="Any flag"
    )
    sort = SortFilter(fields={field: key for key, (field, _) in SORTS.items()}, label="Sort")

    class Meta:
        model = Site
        fields = ["q", "organisation", "vendor", "rollout", "flag"]

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        actor: Actor,
        organisation: Organisation,
        now: datetime,
        **kwargs,
    ):
        super().__init__(data, queryset, **kwargs)
        self.now = now
        self.filters["organisation"].queryset = covered_customers(actor, organisation)

    def matching(self) -> QuerySet[Site]:
        """The filtered, sorted sites; none when a filter is invalid (another tenant's
        organisation, an unknown vendor…) rather than the filter ignored."""
        return self.qs if self.is_valid() else self.queryset.none()

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset

    def filter_rollout(self, queryset, name, value):
        if value == NO_ROLLOUT:
            return queryset.filter(current_instruction_set__isnull=True)
        # Rollouts are one per instruction set: no join to the (large) instruction sets needed.
        in_state = Rollout.objects.filter(state=value, instruction_set__isnull=False)
        return queryset.filter(current_instruction_set_id__in=in_state.values("instruction_set_id"))

    def filter_flag(self, queryset, name, value):
        return queryset.filter(proof_flag_q(value, now=self.now))


def dashboard_filterset(
    actor: Actor, organisation: Organisation, data, *, now=None
) -> SiteFilterSet:
    """The dashboard's filterset over the sites the organisation covers, bound to ``data``."""
    now = now or timezone.now()
    return SiteFilterSet(
        data, covered_sites(actor, organisation), actor=actor, organisation=organisation, now=now
    )


@dataclass(frozen=True)
class DashboardPage:
    page: Page
    rows: list[SimpleNamespace]  # see dashboard_columns


def dashboard_page(filterset: SiteFilterSet, page_number) -> DashboardPage:
    """One page of the filtered, sorted sites in three queries: the count, the ids of the page,
    and the rows with every column (``dashboard_columns``). An invalid filter lists nothing.
    """
    page = Paginator(filterset.matching().values_list("pk", flat=True), PAGE_SIZE).get_page(
        page_number
    )
    ids = list(page.object_list)
    columns = dashboard_columns(ids, now=filterset.now) if ids else {}
    return DashboardPage(page=page, rows=[columns[pk] for pk in ids if pk in columns])


FILTER_PARAMS = tuple(SiteFilterSet.base_filters)  # q, organisation, vendor, rollout, flag, sort


def filter_query(data) -> QueryDict:
    """The dashboard's filter and sort parameters of ``data`` (nothing else: no page, no token)."""
    query = QueryDict(mutable=True)
    for name in FILTER_PARAMS:
        value = data.get(name, "")
        if value:
            query[name] = value
    return query


def sort_columns(query: QueryDict) -> dict[str, dict[str, str]]:
    """The sortable columns' headings for the filter and sort parameters ``query``: each one's
    label, how it is sorted now ("ascending", "descending" or "") and the query string that
    sorts by it (the other way round when it is sorted so)."""
    current_sort = query.get("sort", "")
    columns = {}
    for key, (_, label) in SORTS.items():
        state = (
            "ascending"
            if current_sort == key
            else "descending"
            if current_sort == f"-{key}"
            else ""
        )
        link = query.copy()
        link["sort"] = f"-{key}" if state == "ascending" else key
        columns[key] = {"label": label, "state": state, "query": link.urlencode()}
    return columns


def filtered_sites(
    actor: Actor, organisation: Organisation, data, *, site_ids: list[int] | None = None
) -> QuerySet[Site]:
    """The sites matching the dashboard's filter and sort in ``data`` (only those of
    ``site_ids``, when given); none for an invalid filter."""
    sites = dashboard_filterset(actor, organisation, data).matching()
    return sites.filter(pk__in=site_ids) if site_ids else sites


def selected_sites(actor: Actor, organisation: Organisation, site_ids: list[int]) -> QuerySet[Site]:
    """The sites of ``site_ids`` the organisation's dashboard lists: other tenants' ids select
    nothing."""
    return sites_for(actor, organisation).filter(pk__in=site_ids)


def job_for(organisation: Organisation, pk: int) -> Job:
    """The job ``pk`` of ``organisation`` and who started it; else Http404."""
    return get_object_or_404(
        Job.objects.select_related("created_by"), pk=pk, organisation=organisation
    )


def organisation_choices(filterset: SiteFilterSet) -> list[tuple[str, str]]:
    """The organisation filter's options as plain (slug, name) pairs: a form widget renders each
    option through a template, too slow for a provider's thousands of customers."""
    return list(filterset.filters["organisation"].queryset.values_list("slug", "name"))


def site_ids(sites: QuerySet[Site]) -> list[int]:
    """The ids of ``sites`` (a queryset already scoped), in its order: what a bulk job takes."""
    return list(sites.values_list("pk", flat=True))
