"""The audit API's list filters (query parameters). Each narrows the events ``events_for``
already scoped, so a filter can never widen what the caller sees; a bad value is a 400 naming it."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.utils import timezone

from portal.audit.context import Source
from portal.audit.models import AuditEvent

# Days outside this range hold no events, and would overflow the date arithmetic.
EARLIEST = date(1900, 1, 1)
LATEST = date(9000, 1, 1)


class AuditEventFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(
        method="filter_action",
        max_length=60,
        help_text="An action (`site.updated`), or every action of a family (`site.*`).",
    )
    source = django_filters.ChoiceFilter(
        choices=Source.CHOICES, help_text="Where the change came from."
    )
    date_from = django_filters.DateFilter(
        method="filter_date_from", help_text="Events on or after this day."
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", help_text="Events on or before this day."
    )

    class Meta:
        model = AuditEvent
        fields = ["action", "source", "date_from", "date_to"]

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


def _start_of(day: date) -> datetime:
    """Midnight at the start of ``day``, in the portal's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))
