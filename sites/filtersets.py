"""The site dashboard: filters, search and sorting (django-filter), and its page of rows.

Built to stay fast at 10,000 sites with a number of queries that does not depend on them:

- filters and sorts run on a lean queryset of the covered sites (``dashboard_scope``: no joins
  beyond the organisation, no annotations) and add only what they need. The rollout-state filter
  and "waiting on customer" test membership in one uncorrelated subquery each (rollouts in that
  state; the few open probe runs). The proof flags are one index lookup per site (probe runs by
  site and state, migration 0007), the latest-run test only for sites that ever failed. Sorting by
  rollout progress or by last probe computes that one value per site;
- ``dashboard_page`` then costs three queries (the count, the ids of one page, and every column
  of those 50 rows: ``dashboard_columns``), or two with the flag filter (all ids, then the rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import django_filters
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
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
    RolloutStep,
    Site,
    StepState,
)
from sites.models.probe import OPEN_STATES
from sites.models.site import REVERIFY_PERIOD_DAYS
from sites.selectors import organisations_under
from sites.vendors import vendor_choices

PAGE_SIZE = 50
# Stands in for "no lower bound" in the proof cutoff (SQLite's MAX() is NULL if an argument is).
_DAWN = datetime(1970, 1, 1, tzinfo=UTC)


def covered_customers(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The customer organisations whose sites the organisation's dashboard lists."""
    customers = visible_organisations(actor).filter(kind=OrganisationKind.CUSTOMER).order_by("name")
    if organisation.kind == OrganisationKind.CUSTOMER:
        return customers.filter(pk=organisation.pk)
    if organisation.kind == OrganisationKind.RESELLER:
        return customers.filter(parent=organisation)
    return customers


def dashboard_scope(actor: Actor, organisation: Organisation) -> QuerySet[Site]:
    """The sites ``sites_for`` lists (the same two rules: what the actor may see, what the
    organisation covers), without its joins and annotations: what counting and paging need."""
    return Site.objects.filter(organisation__in=visible_organisations(actor)).filter(
        **organisations_under(organisation)
    )


def _verify_runs():
    return ProbeRun.objects.filter(direction=ProbeDirection.OUTBOUND, purpose=ProbePurpose.VERIFY)


def _rollout_progress():
    """Percent of the current rollout's steps done or skipped, in one correlated subquery."""
    steps = RolloutStep.objects.filter(rollout__instruction_set_id=OuterRef("current_instruction_set_id"))
    finished = Count("pk", filter=Q(state__in=[StepState.DONE, StepState.SKIPPED]))
    return Subquery(
        steps.order_by().values("rollout_id").annotate(p=finished * 100 / Count("pk")).values("p"),
        output_field=IntegerField(),
    )


def _settled_runs():
    """A site's settled outbound verify runs, latest first (as ``sites.selectors.with_proof``)."""
    return _verify_runs().filter(site=OuterRef("pk")).exclude(state__in=OPEN_STATES).order_by("-created_at")


def dashboard_columns(site_ids: list[int], *, now: datetime) -> dict[int, SimpleNamespace]:
    """Every column of the dashboard rows of ``site_ids`` (ids the scoped, filtered query gave),
    in one query, as plain values (no model instances: 50 rows, a dozen columns):

    name, vendor, organisation slug and name, ``reverify``, ``public_address_changed_at``,
    ``updated_at``; ``rollout_state``, ``steps_total`` and ``steps_finished`` (done or skipped) of
    the current rollout; ``last_proven_at``, ``last_probe_state`` and ``last_probe_at`` of the
    outbound verify probes (as ``with_proof``, so ``proof_flag`` reads them); ``waiting_run_id``,
    an outbound probe run still waiting for the customer's probe client.
    """
    runs = _verify_runs().filter(site=OuterRef("pk"))
    settled = _settled_runs()
    proven = runs.filter(state=ProbeRunState.PROVEN).order_by("-finished_at")
    waiting = runs.filter(state=ProbeRunState.WAITING, expires_at__gt=now).order_by("-created_at")
    steps = RolloutStep.objects.filter(
        rollout__instruction_set_id=OuterRef("current_instruction_set_id")
    ).order_by().values("rollout_id")
    finished = Count("pk", filter=Q(state__in=[StepState.DONE, StepState.SKIPPED]))
    rows = Site.objects.filter(pk__in=site_ids).order_by().values(
        "pk", "name", "vendor", "reverify", "public_address_changed_at", "updated_at",
        organisation_slug=F("organisation__slug"),
        organisation_name=F("organisation__name"),
        rollout_state=Subquery(
            Rollout.objects.filter(instruction_set_id=OuterRef("current_instruction_set_id")).values("state")[:1]
        ),
        steps_total=Subquery(steps.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
        steps_finished=Subquery(steps.annotate(n=finished).values("n"), output_field=IntegerField()),
        last_proven_at=Subquery(proven.values("finished_at")[:1]),
        last_probe_state=Subquery(settled.values("state")[:1]),
        last_probe_at=Subquery(settled.values("finished_at")[:1]),
        waiting_run_id=Subquery(waiting.values("pk")[:1]),
    )
    return {row["pk"]: SimpleNamespace(**row) for row in rows}


def with_proof_state(sites: QuerySet[Site], *, now: datetime) -> QuerySet[Site]:
    """``proof_flag`` in SQL, as two never-null booleans (for the flag filter):

    - ``is_failing``: the latest settled outbound probe failed;
    - ``has_fresh_proof``: proven within the site's re-verification period, and not before its
      last change of public address.

    failing = is_failing; fresh = not failing and a fresh proof; stale = not failing, proven, no
    fresh proof; unproven = not failing, never proven. Each test is an index lookup per site
    (probe runs by site and state), the latest-run test only for sites that ever failed.
    """
    runs = _verify_runs().filter(site=OuterRef("pk"))
    settled = _settled_runs()
    period = Case(
        *(When(reverify=value, then=Value(now - timedelta(days=days))) for value, days in REVERIFY_PERIOD_DAYS.items()),
        default=Value(_DAWN),
        output_field=DateTimeField(),
    )
    cutoff = Greatest(period, Coalesce("public_address_changed_at", Value(_DAWN), output_field=DateTimeField()))
    failing = Exists(runs.filter(state=ProbeRunState.FAILED)) & Q(
        latest_settled_state=ProbeRunState.FAILED
    )
    return sites.annotate(
        latest_settled_state=Subquery(settled.values("state")[:1]),
        proof_cutoff=cutoff,
        is_failing=Case(When(failing, then=Value(True)), default=Value(False), output_field=BooleanField()),
        has_fresh_proof=Exists(
            runs.filter(state=ProbeRunState.PROVEN, finished_at__gte=OuterRef("proof_cutoff"))
        ),
    )


def _flag_q(flag: str, now: datetime) -> Q:
    runs = _verify_runs().filter(site=OuterRef("pk"))
    proven = Exists(runs.filter(state=ProbeRunState.PROVEN))
    # Open runs are few at any time (they expire within PROBE_TOKEN_TTL): one list for the query.
    open_runs = _verify_runs().filter(state=ProbeRunState.WAITING, expires_at__gt=now)
    waiting = Q(pk__in=open_runs.values("site_id"))
    return {
        "failing": Q(is_failing=True),
        "unproven": Q(is_failing=False) & ~proven,
        "stale": Q(is_failing=False, has_fresh_proof=False) & proven,
        "fresh": Q(is_failing=False, has_fresh_proof=True),
        "waiting": waiting,
        # Something for the reseller to act on: not proven now, and nobody asked the customer yet.
        "attention": ~waiting & (Q(is_failing=True) | Q(has_fresh_proof=False)),
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

    Sorting by rollout progress or last probe annotates just that column.
    """

    def filter(self, qs, value):
        if not value:
            return qs.order_by(*DEFAULT_SORT, "pk")
        ordering = []
        for key in value:
            field = self.param_map[key.lstrip("-")]
            if field == "progress":
                qs = qs.annotate(progress=_rollout_progress())
            elif field == "last_probe_at":
                qs = qs.annotate(last_probe_at=Subquery(_settled_runs().values("finished_at")[:1]))
            descending = key.startswith("-")
            ordering.append(F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True))
        return qs.order_by(*ordering, "name", "pk")


class SiteFilterSet(django_filters.FilterSet):
    """The dashboard's filters over ``dashboard_scope``. ``organisation`` offers only the customer
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

    @property
    def filters_per_site(self) -> bool:
        """Whether a filter tests a value derived from each site's probes (the flag filter): then
        counting costs as much as listing."""
        return self.is_valid() and bool(self.form.cleaned_data.get("flag"))

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
        return with_proof_state(queryset, now=self.now).filter(_flag_q(value, self.now))


def dashboard_filterset(actor: Actor, organisation: Organisation, data, *, now=None) -> SiteFilterSet:
    """The dashboard's filterset over the sites the organisation covers, bound to ``data``."""
    now = now or timezone.now()
    return SiteFilterSet(data, dashboard_scope(actor, organisation), actor=actor,
                         organisation=organisation, now=now)


@dataclass(frozen=True)
class DashboardPage:
    page: Page
    rows: list[SimpleNamespace]  # see dashboard_columns


def dashboard_page(filterset: SiteFilterSet, page_number) -> DashboardPage:
    """One page of the filtered, sorted sites in three queries (count, ids of the page, rows with
    every column), or two when the flag filter tests each site's probes (all ids, rows).

    An invalid filter (another tenant's organisation, an unknown vendor…) lists nothing rather
    than being ignored.
    """
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    ids = queryset.values_list("pk", flat=True)
    if filterset.filters_per_site:
        # Every site is tested either way: one query for all the ids rather than one to count and
        # another for the page. (A sort alone is cheap to count, and SQL keeps only its top 50.)
        ids = list(ids)
    page = Paginator(ids, PAGE_SIZE).get_page(page_number)
    ids = list(page.object_list)
    columns = dashboard_columns(ids, now=filterset.now) if ids else {}
    return DashboardPage(page=page, rows=[columns[pk] for pk in ids if pk in columns])
