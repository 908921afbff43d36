"""The second step of signing in: every page waits for a code; codes are single-use; recovery
codes work once; wrong codes count toward the account's lockout (429)."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings

from portal.audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.portal.mfa.authenticator import current_code

pytestmark = pytest.mark.django_db
VERIFY = "/accounts/mfa/verify/"


def log_in(username: str, ip: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_after_the_password_every_page_asks_for_the_code(alice):
    user, secret, _ = alice
    client = log_in("alice")
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Faccounts%2Fpassword%2Fchange%2F"
    assert client.get("/accounts/mfa/").status_code == 302  # nor may it switch itself off
    assert client.get(VERIFY).status_code == 200
    assert client.get("/api/tokens/").status_code == 302
    assert client.get("/api/schema/", HTTP_ACCEPT="application/json").status_code == 403

    response = client.post(
        VERIFY, {"code": current_code(secret), "next": "/accounts/password/change/"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"
    assert client.get("/accounts/password/change/").status_code == 200
    assert AuditEvent.objects.filter(action="mfa.verified", actor_user_id=user.pk).exists()


def test_a_foreign_next_is_not_followed(alice):
    _, secret, _ = alice
    client = log_in("alice")
    response = client.post(VERIFY, {"code": current_code(secret), "next": "https://evil.test/"})
    assert response["Location"] == "/"


def test_logging_out_stays_possible_before_the_code(alice):
    client = log_in("alice")
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_used_code_cannot_be_replayed(alice):
    _, secret, _ = alice
    code = current_code(secret)
    assert log_in("alice").post(VERIFY, {"code": code}).status_code == 302
    replay = log_in("alice", ip="198.51.100.20").post(VERIFY, {"code": code})
    assert replay.status_code == 422
    assert "Code: That code is not right (or was already used)" in replay.content.decode()
    assert AuditEvent.objects.filter(action="mfa.failed").count() == 1


def test_a_recovery_code_works_once(alice):
    _, _, codes = alice
    first = log_in("alice").post(VERIFY, {"code": codes[3].upper()})
    assert first.status_code == 302
    again = log_in("alice").post(VERIFY, {"code": codes[3]})
    assert again.status_code == 422
    event = AuditEvent.objects.get(action="mfa.verified")
    assert event.after == {"method": "recovery_code", "recovery_codes_left": 9}


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=15))
def test_wrong_codes_lock_the_account_like_wrong_passwords(alice):
    _, secret, _ = alice
    client = log_in("alice")
    statuses = [client.post(VERIFY, {"code": "000000"}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]
    locked = client.post(VERIFY, {"code": current_code(secret)})
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    # The password form refuses the account too, from anywhere.
    elsewhere = Client(REMOTE_ADDR="192.0.2.50").post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}
    )
    assert elsewhere.status_code == 429
    assert AuditEvent.objects.filter(action="mfa.failed").count() == 3
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1


def test_a_person_without_two_factor_is_not_asked(db):
    from tests.factories import UserFactory

    UserFactory(username="bob")
    client = log_in("bob")
    assert client.get("/accounts/password/change/").status_code == 200
    assert client.get(VERIFY).status_code == 302


def test_an_htmx_request_moves_the_whole_page_to_the_code(alice):
    client = log_in("alice")
    response = client.get("/accounts/password/change/", headers={"HX-Request": "true"})
    assert response.status_code == 302
    assert response["HX-Redirect"].startswith(VERIFY)
