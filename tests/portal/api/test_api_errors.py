"""Below /api/, 404 and 405 are JSON whoever answers them (issue #14 point 9): no route, an
organisation's unknown path, Django's own 405, the schema's negotiated YAML, the Swagger page."""

import pytest
from django.test import Client

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
