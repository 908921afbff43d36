"""Reads of the audit trail, scoped like the organisation pages they appear on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import CharField, Q, QuerySet, Value

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from portal.audit.models import AuditEvent

NEWEST_FIRST = ("-occurred_at", "-id")


def events_for(actor: Actor, organisation: Organisation) -> QuerySet[AuditEvent]:
    """Events of ``organisation`` (and of its clients, for a reseller; of everyone, for the provider)."""
    events = AuditEvent.objects.all()
    if organisation.kind == OrganisationKind.PROVIDER:
        if actor.is_provider_staff:
            return events
        return events.none()
    if organisation.kind == OrganisationKind.RESELLER:
        # Its own events and its clients': one range of ``audit_reseller_time``.
        trail = events.filter(reseller=organisation)
        if organisation.pk in actor.reseller_org_ids or actor.is_provider_staff:
            # The actor sees the reseller and every client of it (``visible_organisations``):
            # testing each event's organisation again would change nothing but the planner's
            # estimate (it takes the two tests for independent and expects one row in twenty).
            return trail
        return trail.filter(organisation__in=visible_organisations(actor))
    return events.filter(organisation=organisation, organisation__in=visible_organisations(actor))


def audit_organisations(actor: Actor, organisation: Organisation) -> QuerySet[Organisation]:
    """The organisations whose events ``organisation``'s audit trail covers, by name: for the
    provider every organisation, for a reseller itself and its clients, for a customer itself."""
    visible = visible_organisations(actor)
    if organisation.kind == OrganisationKind.PROVIDER:
        scoped = visible if actor.is_provider_staff else visible.none()
    elif organisation.kind == OrganisationKind.RESELLER:
        scoped = visible.filter(Q(pk=organisation.pk) | Q(parent=organisation))
    else:
        scoped = visible.filter(pk=organisation.pk)
    return scoped.order_by("name")


# How many of the newest events the action filter's options are read from.
ACTIONS_WINDOW = 5_000


def actions_present(events: QuerySet[AuditEvent]) -> list[str]:
    """The distinct actions among the newest ``ACTIONS_WINDOW`` of ``events``, sorted (one
    query, the same cost at a thousand events and at ten million; an older action not offered
    is still a valid search, see ``AuditEventFilterSet``)."""
    newest = events.order_by(*NEWEST_FIRST).values("action")[:ACTIONS_WINDOW]
    try:
        sql, params = newest.query.sql_with_params()
    except EmptyResultSet:  # a scope that holds nothing (``events_for`` gave none())
        return []
    with connections[newest.db].cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT action FROM ({sql}) AS newest ORDER BY 1", params)
        return [action for (action,) in cursor.fetchall()]


# Counting stops here: beyond it a search says "more than 10,000" and its pages stop at the
# 10,000th newest event (narrow the dates to reach older ones).
EVENT_COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """A ``Paginator`` whose count stops at ``EVENT_COUNT_CAP + 1`` (a count of ten million
    events reads them all), and whose pages stop at the cap."""

    cap = EVENT_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}"

    @cached_property
    def num_pages(self) -> int:
        if self.capped:
            return self.cap // self.per_page
        return super().num_pages


# Where each object type that belongs to a site points at it: events on these objects are part of
# the site's trail (its description, its instruction sets, their steps, its probe runs).
SITE_OBJECTS = {
    "sites.site": ("sites", "Site", "pk"),
    "sites.instructionset": ("sites", "InstructionSet", "site"),
    "sites.rolloutstep": ("sites", "RolloutStep", "rollout__site"),
    "sites.proberun": ("sites", "ProbeRun", "site"),
}


# A search naming more objects than this (a name matching hundreds of sites, each with its
# history of instructions, steps and probes) looks at this many of them.
SEARCH_OBJECTS_LIMIT = 5_000


def site_events_filter(sites: QuerySet) -> Q:
    """A filter selecting the events of ``sites`` and of the objects that belong to them.

    The objects' ids are read first, in one query (a UNION over the kinds of objects), and the
    filter names them: each kind is then one range of the events' (object type, object id, time)
    index, where a subquery would be tested against every event.
    """
    parts = []
    for object_type, (app_label, model_name, site_path) in SITE_OBJECTS.items():
        model = apps.get_model(app_label, model_name)
        parts.append(
            model.objects.filter(**{f"{site_path}__in": sites.values("pk")})
            .order_by()
            .annotate(audit_type=Value(object_type, output_field=CharField()))
            .values_list("audit_type", "pk")
        )
    ids: dict[str, list[str]] = {}
    for object_type, pk in parts[0].union(*parts[1:], all=True).order_by()[:SEARCH_OBJECTS_LIMIT]:
        ids.setdefault(object_type, []).append(str(pk))
    condition = Q(pk__in=[])
    for object_type, object_ids in ids.items():
        condition |= Q(object_type=object_type, object_id__in=object_ids)
    return condition


def people_matching(text: str) -> list[int]:
    """The ids of the people whose username, first or last name contains ``text`` (at most
    ``SEARCH_OBJECTS_LIMIT``), for the person filter: people are few beside their events."""
    people = get_user_model().objects.filter(
        Q(username__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text)
    )
    return list(people.order_by("pk").values_list("pk", flat=True)[:SEARCH_OBJECTS_LIMIT])


def sites_matching(actor: Actor, organisation: Organisation, text: str) -> QuerySet:
    """Sites in ``organisation``'s audit scope whose name contains ``text`` (or whose id it is)."""
    site_model = apps.get_model("sites", "Site")
    sites = site_model.objects.filter(organisation__in=audit_organisations(actor, organisation))
    match = Q(name__icontains=text)
    if text.lstrip("#").isdigit():
        match |= Q(pk=int(text.lstrip("#")))
    return sites.filter(match)


def object_events(
    actor: Actor, organisation: Organisation, *, object_type: str, object_id: str
) -> QuerySet[AuditEvent]:
    """Every event of one object within ``organisation``'s audit scope, newest first."""
    return (
        events_for(actor, organisation)
        .filter(object_type=object_type, object_id=object_id)
        .select_related("organisation")
        .order_by(*NEWEST_FIRST)
    )


def object_type_label(object_type: str) -> str:
    """ "sites.site" → "Site"; an unknown type is shown as it is stored."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()


# --- Before/after diffs ------------------------------------------------------------------------

COMPACT_LIMIT = 140


@dataclass(frozen=True)
class Change:
    """One difference between an event's ``before`` and ``after``.

    ``key`` is a path into the JSON ("monitoring_sources", "host_interfaces[0].address");
    ``kind`` is "added", "removed" or "changed"; the values are compact text.
    """

    key: str
    kind: str
    before: str = ""
    after: str = ""

    @property
    def before_short(self) -> str:
        return _shorten(self.before)

    @property
    def after_short(self) -> str:
        return _shorten(self.after)

    @property
    def is_shortened(self) -> bool:
        return len(self.before) > COMPACT_LIMIT or len(self.after) > COMPACT_LIMIT


@dataclass(frozen=True)
class Diff:
    changes: tuple[Change, ...]
    unchanged: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)


def compact(value) -> str:
    """A value on one line: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _shorten(text: str) -> str:
    return text if len(text) <= COMPACT_LIMIT else text[: COMPACT_LIMIT - 1] + "…"


def diff(before, after) -> Diff:
    """What changed from ``before`` to ``after`` (JSON values), key by key.

    Nested objects are compared key by key, lists of the same length item by item; anything
    else that differs is one change showing both values compactly. A missing side (creation,
    deletion) makes every key added or removed.
    """
    changes: list[Change] = []
    unchanged: list[str] = []
    if before is None and after is None:
        return Diff((), ())
    if before is None and isinstance(after, dict):
        before = {}
    if after is None and isinstance(before, dict):
        after = {}
    _compare("", before, after, changes, unchanged)
    return Diff(tuple(changes), tuple(unchanged))


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _compare(path, before, after, changes, unchanged) -> None:
    if before == after and type(before) is type(after):
        unchanged.append(path or "(value)")
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in [*after, *(k for k in before if k not in after)]:
            child = _join(path, key)
            if key not in before:
                changes.append(Change(child, "added", after=compact(after[key])))
            elif key not in after:
                changes.append(Change(child, "removed", before=compact(before[key])))
            else:
                _compare(child, before[key], after[key], changes, unchanged)
    elif (
        path and isinstance(before, list) and isinstance(after, list) and len(before) == len(after)
    ):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            _compare(_join(path, index), old, new, changes, unchanged)
    else:
        changes.append(Change(path or "(value)", "changed", compact(before), compact(after)))
