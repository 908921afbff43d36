"""Searching the audit trail: which events, by organisation, site, person, action, source and dates.

The filter set is built for one actor and one organisation page: its choices (organisations,
actions) come from that page's scope, so a value outside it is a field error, not a leak.
"""

import re
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import OrganisationKind
from portal.audit.context import Source
from portal.audit.labels import action_sentence, family_name
from portal.audit.selectors import (
    actions_present,
    audit_organisations,
    people_matching,
    site_events_filter,
    sites_matching,
)

# "site.updated" (exact) or "site.*" (every action of the family).
ACTION_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$")
# Dates outside this range cannot hold events and would overflow the timezone arithmetic.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 1, 1)


class AuditSearchForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def action_choices(actions: list[str], *, show_codes: bool = False) -> list:
    """The actions in words, grouped by family ("site"), each family led by "site.*" when it has
    several; ``show_codes`` (support) adds each code after its words."""
    families: dict[str, list[str]] = {}
    for action in actions:
        families.setdefault(action.split(".", 1)[0], []).append(action)
    choices = []
    for family, members in families.items():
        options = [
            (a, f"{action_sentence(a)} ({a})" if show_codes else action_sentence(a))
            for a in members
        ]
        if len(members) > 1:
            every = (
                f"{family}.* (all {len(members)})" if show_codes else f"All {len(members)} kinds"
            )
            options.insert(0, (f"{family}.*", every))
        choices.append((family_name(family), options))
    return choices


class AuditEventFilterSet(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(
        queryset=None, to_field_name="slug", label="Organisation", empty_label="All organisations"
    )
    site = django_filters.CharFilter(
        method="filter_site",
        label="Site",
        max_length=120,
        widget=forms.TextInput(attrs={"placeholder": "Name or id", "autocomplete": "off"}),
        help_text="Name or id; includes its instructions, steps and probes.",
    )
    person = django_filters.CharFilter(
        method="filter_person",
        label="Person",
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": "Username or name", "autocomplete": "off"}),
        help_text="Username or name.",
    )
    action = django_filters.ChoiceFilter(
        method="filter_action", label="Action", empty_label="All actions", choices=[]
    )
    source = django_filters.ChoiceFilter(
        choices=Source.CHOICES, label="Source", empty_label="All sources"
    )
    # ISO dates only (what a date input sends): "10/03/2025" is a different day in different places.
    date_from = django_filters.DateFilter(
        method="filter_date_from", label="From", widget=DateInput(), input_formats=["%Y-%m-%d"]
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label="To", widget=DateInput(), input_formats=["%Y-%m-%d"]
    )

    class Meta:
        form = AuditSearchForm
        fields = ["organisation", "site", "person", "action", "source", "date_from", "date_to"]

    def __init__(self, data=None, *, queryset, actor, organisation, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.actor = actor
        self.organisation = organisation
        if organisation.kind == OrganisationKind.CUSTOMER:
            del self.filters["organisation"]  # its own events only: nothing to choose
        else:
            self.filters["organisation"].queryset = audit_organisations(actor, organisation)
        actions = actions_present(queryset)
        wanted = (data or {}).get("action") or ""
        if ACTION_PATTERN.match(wanted) and wanted not in actions and not wanted.endswith(".*"):
            actions = sorted([*actions, wanted])  # a bookmarked action that has not happened yet
        choices = action_choices(actions, show_codes=actor.is_provider_staff)
        if wanted.endswith(".*") and ACTION_PATTERN.match(wanted) and not _offered(choices, wanted):
            choices.insert(0, (wanted, wanted))
        self.filters["action"].extra["choices"] = choices

    @property
    def active(self) -> dict:
        """The filters in use, as their query-string values (for the export's links and event)."""
        if not self.is_bound or not self.is_valid():
            return {}
        active = {}
        for name, value in self.form.cleaned_data.items():
            if value in (None, ""):
                continue
            active[name] = value.slug if name == "organisation" else str(value)
        return active

    def filter_site(self, queryset, name, value):
        sites = sites_matching(self.actor, self.organisation, value.strip())
        return queryset.filter(site_events_filter(sites))

    def filter_person(self, queryset, name, value):
        """Events by a person whose username or name contains ``value``, or whose actor's label
        (a username, a worker, a failed sign-in's name) starts with it. The people are looked
        up first and labels matched by prefix, so each side is one index range (by actor; by
        label on PostgreSQL), however many events there are."""
        value = value.strip()
        return queryset.filter(
            Q(actor_label__istartswith=value) | Q(actor_user_id__in=people_matching(value))
        )

    def filter_action(self, queryset, name, value):
        if value.endswith(".*"):
            return queryset.filter(action__startswith=value[:-1])
        return queryset.filter(action=value)

    def filter_date_from(self, queryset, name, value):
        if value <= EARLIEST:
            return queryset
        return queryset.filter(occurred_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        if value >= LATEST:
            return queryset
        return queryset.filter(occurred_at__lt=_start_of(value + timedelta(days=1)))


def _offered(choices, value) -> bool:
    return any(value == option for _, options in choices for option, _ in options)
