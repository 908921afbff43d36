"""Sign-in throttling: after LOGIN_FAILURE_LIMIT failures in the window, a username and an IP
address are each locked out (429 with the time to wait) on the login form, the password-reset form
and the API's tokens; lockouts are audited, and support sees and clears them.

Through the real test client and database; time moves by moving the counted attempts back.
"""

from datetime import timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db.models import F
from django.test import Client, override_settings
from rest_framework.test import APIClient

from portal.api.services import create_token
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.LOGIN_FAILURE_LIMIT
ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LOGIN = "/accounts/login/"


def log_in(username: str, password: str, ip: str = ATTACKER, **headers):
    return Client(REMOTE_ADDR=ip).post(
        LOGIN, {"username": username, "password": password}, **headers
    )


def fail(username: str, times: int = LIMIT, ip: str = ATTACKER) -> list[int]:
    return [log_in(username, "wrong guess", ip).status_code for _ in range(times)]


def is_signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def move_attempts_back(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


def test_the_limit_of_wrong_passwords_locks_the_account_even_for_the_right_one():
    UserFactory(username="alice")
    assert fail("alice") == [422] * (LIMIT - 1) + [429]

    response = log_in("alice", PASSWORD)
    assert response.status_code == 429
    assert not is_signed_in(response)
    body = response.content.decode()
    assert "Too many failed sign-ins. Try again in 15 minutes." in body
    assert int(response["Retry-After"]) == pytest.approx(15 * 60, abs=5)


def test_the_message_says_the_time_left_and_follows_the_settings():
    UserFactory(username="alice")
    with override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=40)):
        assert fail("alice", 3) == [422, 422, 429]
        move_attempts_back(31)
        response = log_in("alice", PASSWORD)
    assert response.status_code == 429
    assert "Try again in 9 minutes." in response.content.decode()


def test_the_lockout_page_says_nothing_of_whether_the_account_exists():
    UserFactory(username="alice")
    fail("alice")
    fail("nobody-here", ip=ELSEWHERE)
    known = log_in("alice", PASSWORD, ip="192.0.2.1", HTTP_HX_REQUEST="true")
    unknown = log_in("nobody-here", PASSWORD, ip="192.0.2.1", HTTP_HX_REQUEST="true")
    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content  # the lockout itself, without the page's CSRF token


def test_a_spray_over_accounts_from_one_address_locks_the_address():
    people = [UserFactory(username=f"user{n}") for n in range(7)]
    statuses = [
        log_in(f"user{n % 7}" if n % 2 else f"ghost{n}", "Summer2026!").status_code
        for n in range(LIMIT)
    ]
    assert statuses == [422] * (LIMIT - 1) + [429]

    # Every account is refused from that address, even with its right password...
    assert log_in(people[0].username, PASSWORD).status_code == 429
    # ...and each still signs in from elsewhere: none of them reached the limit on its own.
    assert is_signed_in(log_in(people[0].username, PASSWORD, ip=ELSEWHERE))


def test_a_username_locked_from_many_addresses_is_locked_from_every_address():
    """By username and by IP independently: guesses spread over addresses still lock the account
    (its owner waits or asks support), so a botnet gets LIMIT guesses per account per window."""
    UserFactory(username="alice")
    for n in range(LIMIT):
        log_in("alice", "wrong guess", ip=f"192.0.2.{n + 1}")
    assert log_in("alice", PASSWORD, ip=ELSEWHERE).status_code == 429


def test_after_the_cool_off_the_right_password_works_again():
    UserFactory(username="alice")
    fail("alice")
    move_attempts_back(14)
    assert log_in("alice", PASSWORD).status_code == 429
    move_attempts_back(2)
    assert is_signed_in(log_in("alice", PASSWORD))


def test_an_htmx_request_gets_the_429_as_a_partial():
    UserFactory(username="alice")
    fail("alice")
    response = log_in("alice", PASSWORD, HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed sign-ins. Try again in 15 minutes." in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_a_lockout_is_one_audit_event_naming_username_and_address():
    UserFactory(username="alice")
    fail("alice")
    fail("alice", 3)  # refused attempts during the lockout start nothing new
    [event] = AuditEvent.objects.filter(action="auth.locked_out")
    assert event.actor_label == "alice"
    assert event.after["username"] == "alice"
    assert event.after["ip_address"] == ATTACKER
    assert event.after["failures"] == LIMIT
    assert event.after["until"]


def test_an_unknown_username_costs_one_hash_and_counts_like_a_known_one():
    """Same cost for an existing and a non-existing account: Django's ModelBackend hashes the
    password for a missing user too. Counted by calls to the hasher, not by timing."""
    UserFactory(username="alice")
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as encode:
        assert log_in("alice", "wrong guess").status_code == 422
        known = encode.call_count
        encode.reset_mock()
        assert log_in("nobody-here", "wrong guess", ip=ELSEWHERE).status_code == 422
        unknown = encode.call_count
    assert known == unknown == 1

    assert fail("nobody-here", LIMIT - 1, ip=ELSEWHERE)[-1] == 429
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1


def test_support_sees_and_clears_a_lockout_and_the_account_signs_in_at_once(world):
    person = world.people["customer_admin"]
    fail(person.username)
    support = Client()
    support.force_login(world.people["support"])
    url = f"/o/{world.provider.slug}/lockouts/"

    page = support.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert person.username in body and ATTACKER in body
    assert "Read-only view" not in body

    response = support.post(url, {"kind": "username", "value": person.username})
    assert response.status_code == 302
    assert is_signed_in(log_in(person.username, PASSWORD))
    event = AuditEvent.objects.get(action="auth.lockout_cleared")
    assert event.actor_user_id == world.people["support"].pk
    assert event.after["username"] == person.username
    assert event.after["attempts_removed"] >= 1
    assert "No account or address is locked out." in support.get(url).content.decode()


def test_support_clears_an_address(world):
    fail("ghost")
    fail("ghost2", 1)
    operator = Client()
    operator.force_login(world.people["operator"])
    url = f"/o/{world.provider.slug}/lockouts/"
    assert operator.post(url, {"kind": "ip_address", "value": ATTACKER}).status_code == 302
    assert is_signed_in(log_in(world.people["customer_viewer"].username, PASSWORD))


def test_a_clear_without_a_lockout_named_is_422(world):
    support = Client()
    support.force_login(world.people["support"])
    url = f"/o/{world.provider.slug}/lockouts/"
    assert support.post(url, {}).status_code == 422
    response = support.post(url, {"kind": "ip_address", "value": "ff:not:an:address"})
    assert response.status_code == 422
    assert "Give a valid IPv4 or IPv6 address." in response.content.decode()
    assert not AuditEvent.objects.filter(action="auth.lockout_cleared").exists()


def test_customers_and_resellers_do_not_see_lockouts(world):
    for role in ("customer_admin", "reseller_admin"):
        client = Client()
        client.force_login(world.people[role])
        assert client.get(f"/o/{world.provider.slug}/lockouts/").status_code == 404
        own = world.customer if role == "customer_admin" else world.reseller
        assert client.get(f"/o/{own.slug}/lockouts/").status_code == 403


def test_password_reset_requests_are_throttled_by_address_and_ip(mailoutbox):
    UserFactory(username="alice")
    client = Client(REMOTE_ADDR=ATTACKER)
    statuses = [
        client.post("/accounts/password/reset/", {"email": "alice@example.test"}).status_code
        for _ in range(LIMIT)
    ]
    assert statuses == [302] * (LIMIT - 1) + [429]
    assert len(mailoutbox) == LIMIT - 1  # the request that reached the limit sent nothing

    other_address = client.post("/accounts/password/reset/", {"email": "bob@example.test"})
    assert other_address.status_code == 429  # the IP is locked
    assert "Too many failed sign-ins" in other_address.content.decode()
    from_elsewhere = Client(REMOTE_ADDR=ELSEWHERE).post(
        "/accounts/password/reset/", {"email": "ALICE@example.test"}
    )
    assert from_elsewhere.status_code == 429  # so is the address, whatever its case
    assert len(mailoutbox) == LIMIT - 1


def bearer(secret: str, ip: str = ATTACKER) -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_bad_api_tokens_lock_the_address_with_429_json(world):
    url = f"/api/o/{world.customer.slug}/sites/"
    statuses = [bearer(f"frp_0000000{n % 10}_guess").get(url).status_code for n in range(LIMIT)]
    assert statuses == [401] * (LIMIT - 1) + [429]

    _, secret = create_token(person=world.people["customer_admin"], name="script")
    response = bearer(secret).get(url)
    assert response.status_code == 429
    body = response.json()
    assert body["detail"] == "Too many failed sign-ins. Try again in 15 minutes."
    assert body["retry_after"] == pytest.approx(15 * 60, abs=5)
    assert response["Retry-After"] == str(body["retry_after"])

    assert bearer(secret, ip=ELSEWHERE).get(url).status_code == 200
    # A bad token names no account: nobody's sign-in is locked by it.
    assert is_signed_in(log_in(world.people["customer_admin"].username, PASSWORD, ip=ELSEWHERE))
