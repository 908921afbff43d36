"""The site dashboard: filters, search and sorting (django-filter), and its page of rows.

Built to stay fast at 10,000 sites with a number of queries that does not depend on them:

- filters and sorts run on the lean queryset of the covered sites (``sites.selectors.
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
from datetime import datetime, timedelta
from types import SimpleNamespace

import django_filters
from django.core.paginator import Page, Paginator
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import NullIf
from django.utils import timezone

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from sites.models import (
    ProbeDirection,
    ProbePurpose,
    ProbeRun,
    ProbeRunState,
    Rollout,
    RolloutState,
    Site,
)
from sites.models.site import REVERIFY_PERIOD_DAYS
from sites.selectors import covered_sites, current_rollout
from sites.vendors import vendor_choices

PAGE_SIZE = 50


def covered_customers(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The customer organisations whose sites the organisation's dashboard lists."""
    customers = visible_organisations(actor).filter(kind=OrganisationKind.CUSTOMER).order_by("name")
    if organisation.kind == OrganisationKind.CUSTOMER:
        return customers.filter(pk=organisation.pk)
    if organisation.kind == OrganisationKind.RESELLER:
        return customers.filter(parent=organisation)
    return customers


def _waiting_runs(now: datetime) -> QuerySet[ProbeRun]:
    """Outbound verify runs still waiting for the customer's probe client."""
    return ProbeRun.objects.filter(
        direction=ProbeDirection.OUTBOUND, purpose=ProbePurpose.VERIFY,
        state=ProbeRunState.WAITING, expires_at__gt=now,
    )


def dashboard_columns(site_ids: list[int], *, now: datetime) -> dict[int, SimpleNamespace]:
    """Every column of the dashboard rows of ``site_ids`` (ids the scoped, filtered query gave),
    in one query, as plain values (no model instances: 50 rows, a dozen columns):

    name, vendor, organisation slug and name, ``reverify``, ``public_address_changed_at``,
    ``updated_at``; the proof summary (``last_proven_at``, ``last_probe_state``,
    ``last_probe_at``: what ``proof_flag`` reads); ``rollout_state``, ``steps_total`` and
    ``steps_finished`` (done or skipped) of the current rollout; ``waiting_run_id``, an outbound
    probe run still waiting for the customer's probe client.
    """
    waiting = _waiting_runs(now).filter(site=OuterRef("pk")).order_by("-created_at")
    rows = (
        Site.objects.filter(pk__in=site_ids)
        .order_by()
        .annotate(current_rollout=current_rollout())
        .values(
            "pk", "name", "vendor", "reverify", "public_address_changed_at", "updated_at",
            "last_proven_at", "last_probe_state", "last_probe_at",
            organisation_slug=F("organisation__slug"),
            organisation_name=F("organisation__name"),
            rollout_state=F("current_rollout__state"),
            steps_total=F("current_rollout__steps_total"),
            steps_finished=F("current_rollout__steps_finished"),
            waiting_run_id=Subquery(waiting.values("pk")[:1]),
        )
    )
    return {row["pk"]: SimpleNamespace(**row) for row in rows}


def proof_flag_q(flag: str, *, now: datetime) -> Q:
    """``sites.selectors.proof_flag`` as a condition on the site's columns (no subquery per site),
    and the dashboard's two other flags:

    - failing: the latest settled probe failed; else
    - unproven: never proven; stale: proven, but before the re-verification period began or
      before the public address last changed; fresh: proven, and neither;
    - waiting: an outbound run waits for the customer's probe client (whatever the proof);
    - attention: something for the reseller to act on: failing, unproven or stale, and nobody
      asked the customer yet (not waiting).
    """
    failing = Q(last_probe_state=ProbeRunState.FAILED)
    proven = Q(last_proven_at__isnull=False)
    expired = Q(*(
        Q(reverify=reverify, last_proven_at__lt=now - timedelta(days=days))
        for reverify, days in REVERIFY_PERIOD_DAYS.items()
    ), _connector=Q.OR)
    within_period = ~Q(reverify__in=list(REVERIFY_PERIOD_DAYS)) | Q(*(
        Q(reverify=reverify, last_proven_at__gte=now - timedelta(days=days))
        for reverify, days in REVERIFY_PERIOD_DAYS.items()
    ), _connector=Q.OR)
    moved = Q(public_address_changed_at__gt=F("last_proven_at"))
    same_address = Q(public_address_changed_at__isnull=True) | Q(
        public_address_changed_at__lte=F("last_proven_at")
    )
    # Open runs are few at any time (they expire within PROBE_TOKEN_TTL): one list for the query.
    waiting = Q(pk__in=_waiting_runs(now).values("site_id"))
    return {
        "failing": failing,
        "unproven": ~failing & ~proven,
        "stale": ~failing & proven & (expired | moved),
        "fresh": ~failing & proven & within_period & same_address,
        "waiting": waiting,
        "attention": ~waiting & (failing | ~proven | expired | moved),
    }[flag]


FLAG_CHOICES = [
    ("attention", "Needs attention"),
    ("failing", "Probe failed"),
    ("stale", "Proof stale"),
    ("unproven", "Not proven yet"),
    ("waiting", "Waiting on customer"),
    ("fresh", "Proven"),
]
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
                    progress=F("current_rollout__steps_finished") * 100
                    / NullIf(F("current_rollout__steps_total"), 0),
                )
            descending = key.startswith("-")
            ordering.append(F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True))
        return qs.order_by(*ordering, "name", "pk")


class SiteFilterSet(django_filters.FilterSet):
    """The dashboard's filters over ``covered_sites``. ``organisation`` offers only the customer
    organisations the page covers, so another tenant's organisation is an invalid choice."""

    q = django_filters.CharFilter(method="search", label="Search")
    organisation = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.none(), to_field_name="slug", label="Organisation",
        empty_label="All organisations",
    )
    vendor = django_filters.ChoiceFilter(choices=vendor_choices, label="Firewall", empty_label="All firewalls")
    rollout = django_filters.ChoiceFilter(
        choices=ROLLOUT_CHOICES, method="filter_rollout", label="Rollout", empty_label="Any rollout"
    )
    flag = django_filters.ChoiceFilter(choices=FLAG_CHOICES, method="filter_flag", label="Flag",
                                       empty_label="Any flag")
    sort = SortFilter(fields={field: key for key, (field, _) in SORTS.items()}, label="Sort")

    class Meta:
        model = Site
        fields = ["q", "organisation", "vendor", "rollout", "flag"]

    def __init__(self, data=None, queryset=None, *, actor: Actor, organisation: Organisation,
                 now: datetime, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.now = now
        self.filters["organisation"].queryset = covered_customers(actor, organisation)

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


def dashboard_filterset(actor: Actor, organisation: Organisation, data, *, now=None) -> SiteFilterSet:
    """The dashboard's filterset over the sites the organisation covers, bound to ``data``."""
    now = now or timezone.now()
    return SiteFilterSet(data, covered_sites(actor, organisation), actor=actor,
                         organisation=organisation, now=now)


@dataclass(frozen=True)
class DashboardPage:
    page: Page
    rows: list[SimpleNamespace]  # see dashboard_columns


def dashboard_page(filterset: SiteFilterSet, page_number) -> DashboardPage:
    """One page of the filtered, sorted sites in three queries: the count, the ids of the page,
    and the rows with every column (``dashboard_columns``).

    An invalid filter (another tenant's organisation, an unknown vendor…) lists nothing rather
    than being ignored.
    """
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(queryset.values_list("pk", flat=True), PAGE_SIZE).get_page(page_number)
    ids = list(page.object_list)
    columns = dashboard_columns(ids, now=filterset.now) if ids else {}
    return DashboardPage(page=page, rows=[columns[pk] for pk in ids if pk in columns])
