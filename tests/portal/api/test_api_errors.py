"""Below /api/, 404 and 405 are JSON whoever answers them (issue #14 point 9): no route, an
organisation's unknown path, Django's own 405, the schema's negotiated YAML, the Swagger page.
A list's query parameters are given once and never empty, or the answer is a 400 naming them."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import negative_data_rejection
from schemathesis.generation.modes import GenerationMode

from portal.api.services import create_token
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    ["/api/nowhere/", "/api/nowhere", "/api/o/{org}/no-such-thing/", "/api/o/{org}/sites/x/"],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_a_json_404(world, path, method):
    url = path.format(org=world.customer.slug)
    for client in (token_client(world.people["customer_admin"]), Client()):
        response = getattr(client, method)(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}
        assert "Content-Security-Policy" in response and "X-Request-ID" in response


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/schema/"),
        ("put", "/api/schema/"),
        ("delete", "/api/docs/"),
        ("post", "/api/docs/"),
        ("delete", "/api/o/{org}/sites/"),
    ],
)
def test_a_method_the_path_does_not_take_is_a_json_405(world, method, path):
    client = token_client(world.people["customer_admin"])
    response = getattr(client, method)(path.format(org=world.customer.slug))
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert "GET" in response["Allow"]


def test_a_specific_json_404_keeps_its_message(world):
    response = token_client(world.people["customer_admin"]).get("/api/o/nowhere/sites/")
    assert response.json() == {"detail": "No such organisation."}


def test_the_token_page_keeps_the_friendly_error_page(world):
    client = Client()
    client.force_login(world.people["customer_admin"])
    response = client.post("/api/tokens/999999/revoke/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- A list's query parameters: once each, never empty (schemathesis found 13 accepted) ----------


@pytest.mark.parametrize(
    ("path", "query", "field", "message"),
    [
        ("sites/", "page=1&page=2", "page", "once"),
        ("sites/", "page=", "page", "value"),
        ("sites/", "vendor=&rollout_state=", "vendor", "value"),
        ("sites/", "rollout_state=", "rollout_state", "value"),
        ("audit/", "date_to=", "date_to", "value"),
        ("audit/", "date_from=&date_to=", "date_from", "value"),
        ("audit/", "source=", "source", "value"),
        ("audit/", "action=site.*&action=audit.*", "action", "once"),
        ("sites/{site}/steps/", "page=", "page", "value"),
        ("sites/{site}/probes/", "page=", "page", "value"),
        ("sites/{site}/instruction-sets/", "page=1&page=1", "page", "once"),
    ],
)
def test_an_empty_or_repeated_list_parameter_is_a_400_naming_it(world, path, query, field, message):
    site = world.sites[world.customer.slug]
    url = f"/api/o/{world.customer.slug}/{path.format(site=site.pk)}?{query}"
    response = token_client(world.people["customer_admin"]).get(url)
    assert response.status_code == 400, url
    assert message in response.json()[field][0]


def test_the_same_lists_answer_well_formed_parameters(world):
    client = token_client(world.people["customer_admin"])
    base = f"/api/o/{world.customer.slug}"
    assert client.get(f"{base}/sites/?page=1&vendor=fortigate").status_code == 200
    assert client.get(f"{base}/audit/?date_to=2030-01-01&source=web").status_code == 200


def test_the_schema_says_why_a_list_answers_400(world):
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    lists = [
        (path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method == "get" and any(p["name"] == "page" for p in operation.get("parameters", []))
    ]
    assert len(lists) == 6
    for path, operation in lists:
        description = operation["responses"]["400"]["description"]
        assert "at most once and never empty" in description, path


@pytest.fixture
def wsgi_app():
    """The Django WSGI application, kept from closing the test's database connection after each
    request (the test client does the same), so that requests see the test's data."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_schema_violating_query_is_accepted(world, wsgi_app):
    """schemathesis' negative data on every list: each answer must refuse it (4xx)."""
    _, secret = create_token(person=world.people["customer_admin"], name="negative")
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app)
    site = world.sites[world.customer.slug]
    known = {"org_slug": world.customer.slug, "site_pk": site.pk}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or not operation.path.endswith("/"):
            continue
        names = {parameter.name for parameter in operation.path_parameters}
        if names - set(known):
            continue  # a detail view: no query parameters
        real = {name: value for name, value in known.items() if name in names}
        strategy = operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE, path_parameters=real
        )

        @settings(
            max_examples=60,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case):
            response = case.call(headers={"Authorization": f"Bearer {secret}"})
            case.validate_response(response, checks=[negative_data_rejection])

        call()
