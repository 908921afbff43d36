"""Helpers shared by the API tests."""

from django.urls import URLPattern
from rest_framework.test import APIClient

from portal.api.services import create_token
from portal.api.urls import organisation_patterns
from sites.models import ConfigAnalysis
from tests.factories import ConfigAnalysisFactory


def organisation_routes() -> list[URLPattern]:
    """Every API route below /api/o/<org_slug>/, from each app's included ``urls`` (each
    included at the organisation's root, so a route's pattern is its whole path there)."""
    routes = []
    for included in organisation_patterns:
        assert str(included.pattern) == "", included
        routes.extend(included.url_patterns)
    return routes


def token_client(person) -> APIClient:
    """A client that authenticates with a new personal token of ``person`` (and no session), and
    sends its bodies as JSON."""
    _, secret = create_token(person=person, name=f"tests: {person.username}")
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def json_client(**kwargs) -> APIClient:
    """An API client without credentials that sends its bodies as JSON."""
    client = APIClient(**kwargs)
    client.default_format = "json"
    return client


def own_objects(world, organisation) -> tuple[dict, bool]:
    """URL values for ``organisation``: its own site's objects, else another tenant's (which the
    API must answer with 404), and whether they are its own."""
    site = world.sites.get(organisation.slug) or world.sites[world.other_customer.slug]
    values = {
        "site_pk": site.pk,
        "version": site.current_instruction_set.version,
        "step_pk": site.current_instruction_set.rollout.steps.first().pk,
        "run_pk": world.probe_runs[site.organisation.slug].pk,
        "analysis_pk": (
            ConfigAnalysis.objects.filter(site=site).first() or ConfigAnalysisFactory(site=site)
        ).pk,
    }
    return values, site.organisation_id == organisation.pk


def url_of(pattern: URLPattern, organisation, values: dict) -> str:
    url = f"/api/o/{organisation.slug}/{pattern.pattern}"
    for name, value in values.items():
        url = url.replace(f"<int:{name}>", str(value))
    return url
