"""The OpenAPI schema: it validates, has no generator warnings, is served at /api/schema/ and
browsable at /api/docs/ from our own static files; and no request it allows ends in a 5xx.

The last test is property-based (schemathesis on the Django WSGI application): a bounded number of
generated requests per operation, both conforming and not conforming to the schema, with a customer
admin's token and the world's real objects in the path, none of which may answer 5xx.
"""

import json
import re
from itertools import product

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from portal.api.services import create_token
from tests.factories import ConfigAnalysisFactory

EXAMPLES = 10  # per operation, mode and kind of path: about 25 s for the whole API


def test_the_schema_validates_without_warnings(tmp_path):
    path = tmp_path / "schema.json"
    # --fail-on-warn: drf-spectacular's warnings (an unresolved type, a clashing enum…) fail it.
    options = ["--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(path)]
    call_command("spectacular", *options)
    schema = json.loads(path.read_text())
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert "/api/o/{org_slug}/sites/{site_pk}/steps/{step_pk}/" in paths
    assert all(p.startswith("/api/o/{org_slug}/") for p in paths), paths
    assert set(schema["components"]["securitySchemes"]) == {"personalToken", "cookieAuth"}


@pytest.mark.django_db
def test_the_schema_and_its_swagger_ui_are_served_without_a_cdn():
    client = Client()
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Firewall rollout portal API"
    assert client.get("/api/schema/").content.startswith(b"openapi: 3")  # YAML by default

    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    # Its start-up script is a file of its own (no inline script: CSP), naming the schema.
    assert "/api/schema/" in client.get("/api/docs/?script=").content.decode()
    assert not re.search(r"https?://(cdn|unpkg|fonts)", html)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("swagger-ui" in a for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.fixture
def wsgi_app():
    """The Django WSGI application, kept from closing the test's database connection after each
    request (the test client does the same), so that requests see the test's data."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
def test_no_generated_request_is_a_server_error(world, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    _, secret = create_token(person=world.people["customer_admin"], name="schemathesis")
    site = world.sites[world.customer.slug]
    known = {
        "org_slug": world.customer.slug,
        "site_pk": site.pk,
        "version": site.current_instruction_set.version,
        "step_pk": site.current_instruction_set.rollout.steps.first().pk,
        "run_pk": world.probe_runs[world.customer.slug].pk,
        "analysis_pk": ConfigAnalysisFactory(site=site).pk,
    }
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 17
    for operation in operations:
        names = {parameter.name for parameter in operation.path_parameters}
        real = {name: value for name, value in known.items() if name in names}
        # Conforming and not; with the world's objects in the path, and with generated ones.
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for mode, path_parameters in product(modes, (real, None)):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def call(case):
                response = case.call(headers={"Authorization": f"Bearer {secret}"})
                case.validate_response(response, checks=[not_a_server_error])

            call()
