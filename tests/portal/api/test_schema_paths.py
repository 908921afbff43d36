"""The API's routes are a contract: every path and method of the OpenAPI schema, with its
operation id and tag, is listed here as it was when the sites API moved to ``sites.api`` and the
audit API to ``portal.audit.api``, so that moving code between apps cannot change what clients see.
"""

import pytest
from django.test import Client

OPERATIONS = [
    ("GET", "/api/o/{org_slug}/audit/", "audit_list", "audit"),
    ("GET", "/api/o/{org_slug}/sites/", "sites_list", "sites"),
    ("POST", "/api/o/{org_slug}/sites/", "sites_create", "sites"),
    ("GET", "/api/o/{org_slug}/sites/{site_pk}/", "sites_retrieve", "sites"),
    ("PUT", "/api/o/{org_slug}/sites/{site_pk}/", "sites_update", "sites"),
    ("PATCH", "/api/o/{org_slug}/sites/{site_pk}/", "sites_partial_update", "sites"),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/instruction-sets/",
        "sites_instruction_sets_list",
        "instruction sets",
    ),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/instruction-sets/{version}/",
        "sites_instruction_sets_retrieve",
        "instruction sets",
    ),
    ("GET", "/api/o/{org_slug}/sites/{site_pk}/probes/", "sites_probes_list", "probes"),
    ("POST", "/api/o/{org_slug}/sites/{site_pk}/probes/", "sites_probes_create", "probes"),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/probes/{run_pk}/",
        "sites_probes_retrieve",
        "probes",
    ),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/analyses/",
        "sites_analyses_list",
        "configuration checks",
    ),
    (
        "POST",
        "/api/o/{org_slug}/sites/{site_pk}/analyses/",
        "sites_analyses_create",
        "configuration checks",
    ),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/analyses/{analysis_pk}/",
        "sites_analyses_retrieve",
        "configuration checks",
    ),
    ("GET", "/api/o/{org_slug}/sites/{site_pk}/steps/", "sites_steps_list", "rollout"),
    (
        "GET",
        "/api/o/{org_slug}/sites/{site_pk}/steps/{step_pk}/",
        "sites_steps_retrieve",
        "rollout",
    ),
    (
        "PATCH",
        "/api/o/{org_slug}/sites/{site_pk}/steps/{step_pk}/",
        "sites_steps_partial_update",
        "rollout",
    ),
]


@pytest.mark.django_db
def test_the_schema_lists_exactly_the_known_operations():
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    served = [
        (method.upper(), path, operation["operationId"], *operation["tags"])
        for path, operations in response.json()["paths"].items()
        for method, operation in operations.items()
    ]
    assert sorted(served) == sorted(OPERATIONS)
