"""The sites API's list filters (query parameters). Each narrows a queryset a scoped selector
already returned, so a filter can never widen what the caller sees; a bad value is a 400 naming
it."""

import django_filters

from sites.models import RolloutState, Site
from sites.vendors import vendor_choices


class SiteFilterSet(django_filters.FilterSet):
    vendor = django_filters.ChoiceFilter(
        choices=vendor_choices(), help_text="The firewall vendor's slug."
    )
    organisation = django_filters.CharFilter(
        field_name="organisation__slug",
        max_length=60,
        help_text="A client organisation's slug (on a reseller's or the provider's list).",
    )
    rollout_state = django_filters.ChoiceFilter(
        field_name="current_instruction_set__rollout__state",
        choices=RolloutState.choices,
        help_text="The state of the current instructions' rollout.",
    )

    class Meta:
        model = Site
        fields = ["vendor", "organisation", "rollout_state"]
