"""Reads of service profiles (the provider's, shared by every organisation)."""
from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from sites.models import ServiceProfile


def profiles_with_site_counts() -> QuerySet[ServiceProfile]:
    """Every service profile, each with ``site_count``: how many sites use it."""
    return ServiceProfile.objects.annotate(site_count=Count("sites"))


def profile_for(pk: int) -> ServiceProfile:
    """The service profile ``pk``, with ``site_count`` (the sites a change re-derives); else
    Http404."""
    return get_object_or_404(profiles_with_site_counts(), pk=pk)
