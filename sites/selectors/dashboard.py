"""The site dashboard's reads: its filters, search and sorting (django-filter), its page of rows
with their columns, and the sites a bulk action or an export takes from it.

Built to stay fast at 10,000 sites with a number of queries that does not depend on them:

- filters and sorts run on the lean queryset of the covered sites (``sites.selectors.sites.
  covered_sites``: no joins beyond the organisation, no annotations) and read the site's own
  columns: its proof summary (``last_proven_at``, ``last_probe_state``, ``last_probe_at``,
  ``waiting_on_customer_until``, kept by ``sites.services.proof``) and its current rollout's
  step counts and state (``rollout_steps_total``, ``rollout_steps_finished``,
  ``current_rollout_state``, kept by ``sites.services.rollouts``). Only "stalled" tests
  membership in an uncorrelated subquery (the few unfinished rollouts unchanged for long);
- ``dashboard_page`` then costs three queries: the count, the ids of one page (two index
  ranges from a position: two queries), and every column of those 50 rows
  (``dashboard_columns``).
"""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
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
    RolloutState,
    RolloutStep,
    Site,
)
from sites.models.site import (
    NEVER_EARLY,
    NEVER_LATE,
    NO_PROGRESS_EARLY,
    NO_PROGRESS_LATE,
    Literal,
    rollout_progress,
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
    ``last_probe_at``: what ``sites.selectors.proof.proof_flag`` reads); ``rollout_state`` of the
    current rollout and its ``steps_total`` and ``steps_finished`` (done or skipped; the site's
    copy, which the sort reads too); ``waiting_run_id``, an outbound probe run opened since the
    last proof and still waiting for the customer's probe client;
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
            steps_total=F("rollout_steps_total"),
            steps_finished=F("rollout_steps_finished"),
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
    one query: the dashboard's headline, each count a link to its filter. It reads every covered
    site: a worker makes it (``sites.services.dashboard_counts``), not a page load."""
    return covered_sites(actor, organisation).aggregate(
        **{flag: Count("pk", filter=proof_flag_q(flag, now=now)) for flag in HEADLINE_FLAGS}
    )


NO_ROLLOUT = "none"
ROLLOUT_CHOICES = [*RolloutState.choices, (NO_ROLLOUT, "No instructions yet")]


# The keys below are the expressions of their indexes (``Site.Meta.indexes``), constants
# included (``Literal``: on SQLite an expression with a parameter in it matches no index).


def probe_key(descending: bool) -> Coalesce:
    """The "Last probe" sort key: never probed sorts last either way."""
    return Coalesce(F("last_probe_at"), Literal(NEVER_EARLY if descending else NEVER_LATE))


def progress_key(descending: bool) -> Coalesce:
    """The "Rollout" sort key: percent of the current rollout's steps finished, from the site's
    copy of its counts; no instructions (or no steps) sorts last either way."""
    return Coalesce(
        rollout_progress(Literal), Literal(NO_PROGRESS_EARLY if descending else NO_PROGRESS_LATE)
    )


@dataclass(frozen=True)
class Sort:
    """A sortable column: its heading, the key it sorts by (an expression for the direction),
    and the type of that key's values (what a page link's position is read back as)."""

    label: str
    key: Callable[[bool], Any]
    kind: type
    tie_by_name: bool = True  # not for the name itself
    by_organisation: bool = False


# Sort key in the URL → the column. The whitelist: nothing else reaches ORDER BY. Ties are broken
# by the site's name, then its id, both ascending whatever the direction (the organisation sort
# keeps each organisation's sites together: its id before them, in the sort's direction).
SORTS = {
    "name": Sort("Site", lambda descending: F("name"), str, tie_by_name=False),
    "organisation": Sort(
        "Organisation", lambda descending: F("organisation__name"), str, by_organisation=True
    ),
    "vendor": Sort("Firewall", lambda descending: F("vendor"), str),
    "rollout": Sort("Rollout", progress_key, int),
    "probe": Sort("Last probe", probe_key, datetime),
    "updated": Sort("Updated", lambda descending: F("updated_at"), datetime),
}
DEFAULT_SORT = "organisation"


@dataclass(frozen=True)
class Ordering:
    """The full order of one sort: (alias, descending, type) per key, the column's own first,
    then the name and the id; what ``order_by`` and keyset positions both follow."""

    sort: Sort
    descending: bool

    @classmethod
    def of(cls, value: str) -> Ordering:
        """The ordering for a (validated) ``sort`` parameter; "" is the default one."""
        key = value or DEFAULT_SORT
        return cls(SORTS[key.lstrip("-")], key.startswith("-"))

    @property
    def keys(self) -> list[tuple[str, bool, type]]:
        keys = [("sort_key", self.descending, self.sort.kind)]
        if self.sort.by_organisation:
            # Organisations of the same name stay apart: one organisation's sites, then the next.
            keys.append(("sort_organisation", self.descending, int))
        if self.sort.tie_by_name:
            keys.append(("sort_name", False, str))
        return [*keys, ("sort_id", False, int)]

    def annotate(self, queryset: QuerySet[Site]) -> QuerySet[Site]:
        """``queryset`` with the sort keys as annotations, ordered by them."""
        keys = {"sort_key": self.sort.key(self.descending), "sort_id": F("pk")}
        if self.sort.by_organisation:
            keys["sort_organisation"] = F("organisation_id")
        if self.sort.tie_by_name:
            keys["sort_name"] = F("name")
        queryset = queryset.annotate(**keys)
        return queryset.order_by(
            *(
                F(alias).desc() if descending else F(alias).asc()
                for alias, descending, _ in self.keys
            )
        )

    def reverse(self, queryset: QuerySet[Site]) -> QuerySet[Site]:
        """``queryset`` (from ``annotate``) in the opposite order: the end of the list first."""
        return queryset.order_by(
            *(
                F(alias).asc() if descending else F(alias).desc()
                for alias, descending, _ in self.keys
            )
        )

    def after(self, position: list, *, backwards: bool = False) -> Q:
        """The rows after ``position`` (the keys' values of one row) in this order, or before it
        with ``backwards``: ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR …``, with ``k1 >= v1`` in front
        so that the database starts its index scan at the position instead of filtering."""
        return _after(self.keys, position, backwards)

    def ranges_after(self, position: list, *, backwards: bool = False) -> tuple[Q, Q]:
        """``after`` as two conditions, each one range of the sort's index, in order: the rest
        of the position's group of equal sort keys (``k1 = v1``, then the tie-breakers after the
        position's), then the rows whose key comes after ``v1``. In one condition only
        ``k1 >= v1`` bounds the index scan, so a page in the middle of a large group of equal
        keys (the sites never probed, a batch regenerated at once) read the group up to it."""
        (alias, descending, _), value = self.keys[0], position[0]
        later = "lt" if descending != backwards else "gt"
        same_key = Q(**{alias: value}) & _after(self.keys[1:], position[1:], backwards)
        return same_key, Q(**{f"{alias}__{later}": value})

    def position_of(self, row: dict) -> str:
        """The position of a row (its keys' values), as a page link carries it."""
        values = [row[alias] for alias, _, _ in self.keys]
        text = json.dumps(
            [value.isoformat() if isinstance(value, datetime) else value for value in values],
            separators=(",", ":"),
        )
        return urlsafe_b64encode(text.encode()).decode().rstrip("=")

    def read_position(self, text: str) -> list:
        """A page link's position back as the keys' values; ValueError when it is not one of
        this ordering's (tampered, or cut short)."""
        try:
            values = json.loads(urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, TypeError) as error:
            raise ValueError("not a position") from error
        if not isinstance(values, list) or len(values) != len(self.keys):
            raise ValueError("not a position")
        position = []
        for value, (_, _, kind) in zip(values, self.keys, strict=True):
            if kind is datetime:
                if not isinstance(value, str):
                    raise ValueError("not a position")
                value = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError("not a position")
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
                    raise ValueError("not a position")
            elif not isinstance(value, str) or len(value) > 400:
                raise ValueError("not a position")
            position.append(value)
        return position


def _after(keys: list[tuple[str, bool, type]], position: list, backwards: bool) -> Q:
    """``Ordering.after`` for the keys ``keys``."""
    condition = Q()
    equal = Q()
    for (alias, descending, _), value in zip(keys, position, strict=True):
        later = "lt" if descending != backwards else "gt"
        condition |= equal & Q(**{f"{alias}__{later}": value})
        equal &= Q(**{alias: value})
    alias, descending, _ = keys[0]
    first = "lte" if descending != backwards else "gte"
    return Q(**{f"{alias}__{first}": position[0]}) & condition


class SortFilter(django_filters.OrderingFilter):
    """Sort by one whitelisted column (``SORTS``); empty values last either way; ties broken by
    name and id."""

    def filter(self, qs, value):
        return Ordering.of(value[0] if value else "").annotate(qs)


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
    sort = SortFilter(fields={key: key for key in SORTS}, label="Sort")

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

    @property
    def ordering(self) -> Ordering:
        """The order the (valid) ``sort`` parameter asks for."""
        value = self.form.cleaned_data.get("sort") if self.is_valid() else None
        return Ordering.of(value[0] if value else "")

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
        # The site's copy of its current rollout's state (``sites.services.rollouts``).
        return queryset.filter(current_rollout_state=value)

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


# Counting stops here: beyond it the page says "more than 1,000", and the page numbers it links
# (offset pages) stop at the same row. Next, Previous and Last reach every row by position.
COUNT_CAP = 1_000
OFFSET_PAGES = COUNT_CAP // PAGE_SIZE
POSITION_PARAMS = ("page", "after", "before")


@dataclass(frozen=True)
class DashboardPage:
    """One page of the dashboard: its rows (see ``dashboard_columns``), how many sites match
    (exact up to ``COUNT_CAP``), and the links to its neighbours as query parameters (added to
    the filter's; ``None``: no such link)."""

    rows: list[SimpleNamespace]
    count: int  # COUNT_CAP + 1: more than COUNT_CAP
    number: int | None  # the page's number, when known (not past the counted rows)
    previous: dict[str, str] | None
    next: dict[str, str] | None
    error: str = ""  # why the position asked for was not used (shown, never a 500)
    cap: int = 0  # COUNT_CAP when the page was counted

    @property
    def count_capped(self) -> bool:
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"

    @property
    def num_pages(self) -> int | None:
        return None if self.count_capped else max(1, -(-self.count // PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.previous is not None

    @property
    def has_next(self) -> bool:
        return self.next is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def last(self) -> dict[str, str]:
        return {"page": "last"}


def capped_count(sites: QuerySet[Site]) -> int:
    """How many ``sites`` there are, counting no further than ``COUNT_CAP + 1``: a count that
    costs the same at 10,000 sites and at 1,000,000."""
    return sites.order_by().values("pk")[: COUNT_CAP + 1].count()


def _page_number(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and 0 < int(text) <= 10**9 else None


@dataclass(frozen=True)
class Slice:
    """Rows of one page in the list's order, and whether rows come before and after them."""

    rows: list
    has_previous: bool
    has_next: bool


def read_slice(
    rows: QuerySet,
    ordering: Ordering,
    *,
    position: list | None = None,
    backwards: bool = False,
    offset: int = 0,
    take: int = PAGE_SIZE,
) -> Slice:
    """Up to ``take`` of ``rows`` (annotated and ordered by ``ordering``): from ``offset``, or
    after ``position`` (before it, with ``backwards``; with no position, ``backwards`` reads the
    end of the list). From a position, two index ranges: the rest of its group of equal keys,
    then what follows, both read whatever the first gave, so the number of queries does not
    depend on it."""
    parts = [rows]
    if position is not None:
        parts = [rows.filter(part) for part in ordering.ranges_after(position, backwards=backwards)]
    found: list = []
    for queryset in parts:
        if backwards:
            queryset = ordering.reverse(queryset)
        found += list(queryset[offset : offset + take + 1])
    found = found[: take + 1]
    more = len(found) > take  # more rows beyond the page, in the direction read
    found = found[:take]
    if backwards:
        found.reverse()
    started_later = position is not None or offset > 0
    return Slice(
        rows=found,
        has_previous=(more if backwards else started_later) and bool(found),
        has_next=(position is not None if backwards else more) and bool(found),
    )


def dashboard_page(filterset: SiteFilterSet, data) -> DashboardPage:
    """One page of the filtered, sorted sites in three queries (four from a position): the capped
    count, the page's ids with their sort keys, and the rows with every column
    (``dashboard_columns``). An invalid filter lists nothing.

    Where the page is comes from ``data``: ``after`` or ``before`` a position (the sort keys of
    the row a Next or Previous link was made from: keyset pages, whatever their depth, one index
    range each), ``page=last`` (the order reversed), or ``page=N`` for the first ``OFFSET_PAGES``
    (a number past the end is the last page, an unreadable one the first). With ``after`` or
    ``before``, ``page`` only numbers the page.
    """
    if not filterset.is_valid():
        return DashboardPage(rows=[], count=0, number=1, previous=None, next=None, cap=COUNT_CAP)
    sites = filterset.matching()
    ordering = filterset.ordering
    count = capped_count(sites)
    pages = None if count > COUNT_CAP else max(1, -(-count // PAGE_SIZE))
    number = _page_number(data.get("page"))
    keys = [alias for alias, _, _ in ordering.keys]
    error = ""
    take, offset, backwards, position = PAGE_SIZE, 0, False, None
    for param, is_backwards in (("after", False), ("before", True)):
        if data.get(param):
            try:
                position = ordering.read_position(data[param])
            except ValueError:
                error = "This page's link is not a position in this list: the first page is shown."
                number = 1
            else:
                backwards = is_backwards
            break
    is_last = position is None and (
        data.get("page") == "last" or (number is not None and pages is not None and number >= pages)
    )
    if position is not None:
        if number is not None and pages is not None and number > pages:
            number = None
    elif is_last:
        number, backwards = pages, True
        if pages is not None:
            take = count - (pages - 1) * PAGE_SIZE or PAGE_SIZE
    else:
        number = number or 1
        if number > OFFSET_PAGES:
            error = (
                f"Page numbers stop at {OFFSET_PAGES}: further pages are reached with Next and "
                "Last, or by narrowing the filter."
            )
            number = OFFSET_PAGES
        offset = (number - 1) * PAGE_SIZE

    piece = read_slice(
        sites.values("pk", *keys),
        ordering,
        position=position,
        backwards=backwards,
        offset=offset,
        take=take,
    )
    found = piece.rows

    def link(param, row, page_number) -> dict[str, str]:
        query = {param: ordering.position_of(row)}
        if page_number:
            query["page"] = str(page_number)
        return query

    previous = next_ = None
    if piece.has_previous:
        previous = {} if number == 2 else link("before", found[0], number - 1 if number else None)
    if piece.has_next:
        following = number + 1 if number and (pages is None or number < pages) else None
        next_ = link("after", found[-1], following)
    ids = [row["pk"] for row in found]
    columns = dashboard_columns(ids, now=filterset.now) if ids else {}
    return DashboardPage(
        rows=[columns[pk] for pk in ids if pk in columns],
        count=count,
        number=number,
        previous=previous,
        next=next_,
        error=error,
        cap=COUNT_CAP,
    )


FILTER_PARAMS = tuple(SiteFilterSet.base_filters)  # q, organisation, vendor, rollout, flag, sort


def filter_query(data) -> QueryDict:
    """The dashboard's filter and sort parameters of ``data`` (nothing else: no page or position,
    no token)."""
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
    for key, column in SORTS.items():
        label = column.label
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
