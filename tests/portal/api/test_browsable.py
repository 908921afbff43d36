"""The browsable API (a signed-in browser's session) and OPTIONS: every route answers them as it
answers a JSON GET, and offers a write form only to those who may write."""

import pytest
from rest_framework.test import APIClient

from tests.portal.api.helpers import organisation_routes, own_objects, url_of

pytestmark = pytest.mark.django_db


def session(person=None) -> APIClient:
    client = APIClient()
    if person is not None:
        client.force_login(person)
    return client


def html_of(client, url) -> str:
    return client.get(url, HTTP_ACCEPT="text/html").content.decode()


@pytest.mark.parametrize("role", [None, "customer_admin", "customer_viewer", "support"])
def test_html_options_and_head_answer_like_a_json_get(world, role):
    client = session(world.people[role] if role else None)
    failures = []
    for pattern in organisation_routes():
        for organisation in (world.customer, world.other_customer):
            values, _ = own_objects(world, world.customer)
            url = url_of(pattern, organisation, values)
            want = client.get(url, HTTP_ACCEPT="application/json").status_code
            for method, accept in (("get", "text/html"), ("options", "*/*"), ("head", "*/*")):
                status = getattr(client, method)(url, HTTP_ACCEPT=accept).status_code
                if status != want:
                    failures.append(f"{role} {method.upper()} {url}: {status}, JSON GET {want}")
    assert not failures, "\n".join(failures)


def test_the_edit_form_holds_the_site_file_for_an_admin_only(world):
    site = world.sites[world.customer.slug]
    url = f"/api/o/{world.customer.slug}/sites/{site.pk}/"
    admin = html_of(session(world.people["customer_admin"]), url)
    assert "put-generic-content-form" in admin
    assert "&quot;lan_gateway&quot;: &quot;192.168.1.1&quot;" in admin
    assert "&quot;reverify&quot;: &quot;weekly&quot;" in admin
    viewer = html_of(session(world.people["customer_viewer"]), url)
    assert "put-generic-content-form" not in viewer
