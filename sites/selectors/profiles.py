"""Reads of service profiles (the provider's, shared by every organisation)."""

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from sites.description import ProfileSpec
from sites.models import ServiceProfile, Site


def profiles_with_site_counts() -> QuerySet[ServiceProfile]:
    """Every service profile, each with ``site_count``: how many sites use it."""
    return ServiceProfile.objects.annotate(site_count=Count("sites"))


def site_ids_of_profile(profile_id: int) -> list[int]:
    """The ids of the sites on the profile, in order: what a change of it re-derives."""
    return list(
        Site.objects.filter(profile_id=profile_id).order_by("pk").values_list("pk", flat=True)
    )


def profile_for(pk: int) -> ServiceProfile:
    """The service profile ``pk``, with ``site_count`` (the sites a change re-derives); else
    Http404."""
    return get_object_or_404(profiles_with_site_counts(), pk=pk)


def default_profile_spec() -> ProfileSpec:
    """The default profile (the one new sites get) as the policy reads it; only reads."""
    return ServiceProfile.objects.default().as_spec()
