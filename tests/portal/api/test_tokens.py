"""Personal API tokens: made on a page and shown once, kept only as a hash, revocable; the API
answers a missing, unknown or revoked token with 401 and a message saying which."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from portal.api.models import ApiToken
from portal.api.services import create_token
from portal.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.portal.api.helpers import json_client

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"frp_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def bearer(secret: str) -> APIClient:
    client = json_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def every_stored_value() -> str:
    """Every column of every API token row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        return repr(cursor.fetchall())


def test_the_page_shows_a_new_token_once_and_stores_only_its_hash(world):
    person = world.people["customer_admin"]
    client = signed_in(person)
    response = client.post("/api/tokens/", {"name": "nightly report"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = TOKEN.search(response.content.decode()).group()

    token = ApiToken.objects.get(person=person)
    assert token.name == "nightly report"
    assert secret.startswith(token.prefix)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in every_stored_value()
    secret_part = secret.removeprefix(token.prefix + "_")
    assert secret_part not in every_stored_value()

    listing = client.get("/api/tokens/").content.decode()
    assert token.prefix in listing and "nightly report" in listing
    assert secret not in listing and not TOKEN.search(listing)

    assert bearer(secret).get(f"/api/o/{world.customer.slug}/sites/").status_code == 200


def test_a_token_acts_as_its_person_and_records_its_use(world):
    token, secret = create_token(person=world.people["customer_viewer"], name="script")
    client = bearer(secret)
    assert client.get(f"/api/o/{world.customer.slug}/sites/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    # The viewer's token reads but does not write, like the viewer.
    site = world.sites[world.customer.slug]
    response = client.patch(f"/api/o/{world.customer.slug}/sites/{site.pk}/", {"reverify": "daily"})
    assert response.status_code == 403
    assert "can_edit_sites" in response.json()["detail"]


def test_last_use_is_written_at_most_once_a_minute(world):
    token, secret = create_token(person=world.people["customer_admin"], name="script")
    client = bearer(secret)
    client.get(f"/api/o/{world.customer.slug}/audit/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get(f"/api/o/{world.customer.slug}/audit/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get(f"/api/o/{world.customer.slug}/audit/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_a_revoked_token_is_refused_with_401(world):
    person = world.people["customer_admin"]
    token, secret = create_token(person=person, name="old laptop")
    page = signed_in(person)
    response = page.post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/api/tokens/"
    token.refresh_from_db()
    assert token.revoked_at is not None

    response = bearer(secret).get(f"/api/o/{world.customer.slug}/sites/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in page.get("/api/tokens/").content.decode()


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer frp_00000000_not-a-token-anyone-has", "Unknown API token"),
        ("Bearer", "Malformed"),
        ("Bearer two parts", "Malformed"),
    ],
)
def test_an_unknown_or_malformed_token_is_refused_with_401(world, header, message):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"/api/o/{world.customer.slug}/sites/")
    assert response.status_code == 401
    assert message in response.json()["detail"]


def test_no_credentials_is_401_and_says_so(world):
    response = APIClient().get(f"/api/o/{world.customer.slug}/sites/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_disabled_persons_token_is_refused(world):
    person = UserFactory(username="leaver")
    _, secret = create_token(person=person, name="script")
    person.is_active = False
    person.save()
    response = bearer(secret).get(f"/api/o/{world.customer.slug}/sites/")
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]


def test_creating_and_revoking_are_audited_as_web_events(world):
    person = world.people["customer_admin"]
    client = signed_in(person)
    client.post("/api/tokens/", {"name": "ci"})
    token = ApiToken.objects.get(person=person)
    client.post(f"/api/tokens/{token.pk}/revoke/")
    created = AuditEvent.objects.get(action="api_token.created")
    revoked = AuditEvent.objects.get(action="api_token.revoked")
    for event in (created, revoked):
        assert event.actor_user_id == person.pk
        assert event.source == "web"  # a page, although its URL is below /api/
        assert event.object_id == str(token.pk)
    assert created.after == {"name": "ci", "prefix": token.prefix}
    # Revoking again changes nothing and records nothing.
    client.post(f"/api/tokens/{token.pk}/revoke/")
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_a_token_needs_a_name(world):
    client = signed_in(world.people["customer_admin"])
    response = client.post("/api/tokens/", {"name": ""})
    assert response.status_code == 422
    assert 'id="id_name_errors"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_nobody_sees_or_revokes_anothers_token(world):
    token, secret = create_token(person=world.people["customer_admin"], name="mine")
    other = signed_in(world.people["support"])
    assert token.prefix not in other.get("/api/tokens/").content.decode()
    assert other.post(f"/api/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_token_page_needs_a_signed_in_person():
    assert Client().get("/api/tokens/").status_code == 302
    assert Client().post("/api/tokens/", {"name": "x"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_the_session_works_for_the_api_with_its_csrf_check(world):
    person = world.people["customer_admin"]
    site = world.sites[world.customer.slug]
    client = json_client(enforce_csrf_checks=True)
    client.force_login(person)
    url = f"/api/o/{world.customer.slug}/sites/{site.pk}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"reverify": "daily"})
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    client.get("/api/tokens/")  # a page sets the CSRF cookie
    response = client.patch(
        url, {"reverify": "daily"}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert response.status_code == 200, response.content
    assert response.json()["reverify"] == "daily"
