"""Security keys and passkeys through the pages: the setup page's options and its add form (422
naming the field), the sign-in's second step with a key (the challenge single-use), failures
counting toward the lockout, enrolment with a key alone, removal with the password, and the
members page naming what each person has."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.mfa.models import WebAuthnCredential
from portal.mfa.services import set_mfa_policy
from portal.mfa.status import is_enrolled
from tests.factories import PASSWORD, UserFactory
from tests.portal.mfa.authenticator import enrol
from tests.portal.mfa.soft_authenticator import ORIGIN, SoftAuthenticator, challenge_of

pytestmark = pytest.mark.django_db
SETUP = "/accounts/mfa/"
ADD = "/accounts/mfa/passkeys/"
VERIFY = "/accounts/mfa/verify/"


@pytest.fixture(autouse=True)
def _portal_url(settings):
    settings.PORTAL_URL = ORIGIN


def signed_in(user, *, past_second_step: bool = True) -> Client:
    """Signed in; by default past the second step (as after a code or a key)."""
    client = Client()
    client.force_login(user)
    if past_second_step:
        session = client.session
        session["mfa_verified"] = True
        session.save()
    return client


def add_key(client, key: SoftAuthenticator, name: str = "YubiKey"):
    options = client.get(SETUP).context["registration_options"]
    return client.post(ADD, {"name": name, "credential": key.register(challenge_of(options))})


def log_in(username: str, ip: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def assertion_for(client, key: SoftAuthenticator, **sign) -> str:
    options = client.get(VERIFY).context["authentication_options"]
    return key.sign(challenge_of(options), **sign)


def test_a_key_added_on_the_setup_page_turns_two_factor_on():
    user = UserFactory()
    client = signed_in(user)
    page = client.get(SETUP)
    body = page.content.decode()
    assert 'data-webauthn="register"' in body and "js/webauthn.js" in body
    assert "No security key or passkey yet." in body
    key = SoftAuthenticator()
    done = add_key(client, key)
    assert done.status_code == 200 and len(done.context["codes"]) == 10
    assert is_enrolled(user)
    again = client.get(SETUP).content.decode()
    assert "YubiKey" in again and "Recovery codes left: <strong>10</strong>" in again
    assert "Add an authenticator app" in again  # the app stays offered
    second = add_key(client, SoftAuthenticator(), name="Laptop")
    assert second.status_code == 302
    assert "Laptop" in client.get(SETUP).content.decode()


def test_the_add_form_names_what_is_wrong():
    user = UserFactory()
    client = signed_in(user)
    client.get(SETUP)
    nothing = client.post(ADD, {"name": "Key", "credential": ""})
    assert nothing.status_code == 422
    assert "Security key or passkey: Your browser sent no answer" in nothing.content.decode()
    no_name = add_key(client, SoftAuthenticator(), name="")
    assert (
        no_name.status_code == 422 and "Name: This field is required." in no_name.content.decode()
    )
    elsewhere = SoftAuthenticator(origin="https://evil.test")
    refused = add_key(client, elsewhere)
    assert refused.status_code == 422
    assert "Your security key&#x27;s answer was not accepted" in refused.content.decode()
    assert not WebAuthnCredential.objects.exists()


def test_an_answer_is_accepted_once():
    client = signed_in(UserFactory())
    options = client.get(SETUP).context["registration_options"]
    answer = SoftAuthenticator().register(challenge_of(options))
    assert client.post(ADD, {"name": "Key", "credential": answer}).status_code == 200
    replay = client.post(ADD, {"name": "Again", "credential": answer})
    assert replay.status_code == 422
    assert "expired or was already used" in replay.content.decode()


def test_passkeys_need_a_host_name(settings):
    settings.PORTAL_URL = "http://127.0.0.1:8000"
    body = signed_in(UserFactory()).get(SETUP).content.decode()
    assert "data-webauthn" not in body
    assert "need the portal reached by a host name" in body


def test_signing_in_with_a_key_instead_of_a_code():
    user = UserFactory(username="alice")
    key = SoftAuthenticator()
    add_key(signed_in(user), key)
    client = log_in("alice")
    assert client.get("/accounts/password/change/").status_code == 302  # waits for the key
    page = client.get(VERIFY).content.decode()
    assert 'data-webauthn="authenticate"' in page and "Security key or passkey" in page
    answer = assertion_for(client, key)
    done = client.post(VERIFY, {"assertion": answer, "next": "/accounts/password/change/"})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/change/"
    assert client.get("/accounts/password/change/").status_code == 200
    assert AuditEvent.objects.filter(action="webauthn.used", actor_user_id=user.pk).exists()

    # The same answer in another sign-in: its challenge is another one.
    other = log_in("alice", ip="198.51.100.20")
    other.get(VERIFY)
    replay = other.post(VERIFY, {"assertion": answer})
    assert replay.status_code == 422
    assert "Security key or passkey: Your security key&#x27;s answer" in replay.content.decode()


def test_a_challenge_is_spent_by_a_failure_too():
    user = UserFactory(username="alice")
    key = SoftAuthenticator()
    add_key(signed_in(user), key)
    client = log_in("alice")
    good = assertion_for(client, key)
    bad = good.replace('"signature": "M', '"signature": "N')
    assert client.post(VERIFY, {"assertion": bad}).status_code == 422
    # The 422 page issued a new challenge; the answer to the first one no longer counts.
    assert client.post(VERIFY, {"assertion": good}).status_code == 422
    assert AuditEvent.objects.filter(action="webauthn.failed").count() == 2


def test_both_an_app_and_a_key_are_offered():
    user = UserFactory(username="alice")
    enrol(user)
    add_key(signed_in(user), SoftAuthenticator())
    body = log_in("alice").get(VERIFY).content.decode()
    assert "Two-factor code" in body and 'data-webauthn="authenticate"' in body


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=15))
def test_failed_keys_lock_the_account_like_wrong_passwords():
    user = UserFactory(username="alice")
    key = SoftAuthenticator()
    add_key(signed_in(user), key)
    client = log_in("alice")
    statuses = []
    for _ in range(3):
        wrong = assertion_for(client, key, origin="https://evil.test")
        statuses.append(client.post(VERIFY, {"assertion": wrong}).status_code)
    assert statuses == [422, 422, 429]
    assert client.post(VERIFY, {"assertion": assertion_for(client, key)}).status_code == 429
    assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1


@pytest.mark.mfa
def test_a_required_person_may_enrol_with_a_key_alone(world):
    user = world.people[Role.RESELLER_ADMIN]
    client = signed_in(user, past_second_step=False)
    home = f"/o/{user.memberships.get().organisation.slug}/"
    assert client.get(home).status_code == 302
    assert add_key(client, SoftAuthenticator()).status_code == 200
    assert client.get(home).status_code == 200  # this session just proved the key


def test_removing_a_key_asks_for_the_password():
    user = UserFactory()
    client = signed_in(user)
    add_key(client, SoftAuthenticator())
    key = WebAuthnCredential.objects.get()
    url = f"/accounts/mfa/passkeys/{key.pk}/remove/"
    assert "Remove “YubiKey”" in client.get(url).content.decode()
    wrong = client.post(url, {"confirmation": "not it"})
    assert wrong.status_code == 422
    assert "Your password: Neither" in wrong.content.decode()  # no app: the password only
    done = client.post(url, {"confirmation": PASSWORD})
    assert done.status_code == 302 and not WebAuthnCredential.objects.exists()
    assert not is_enrolled(user)


@pytest.mark.mfa
def test_the_last_key_of_a_required_person_stays(world):
    user = world.people[Role.CUSTOMER_ADMIN]
    set_mfa_policy(organisation=world.customer, required=True)
    client = signed_in(user)
    add_key(client, SoftAuthenticator())
    key = WebAuthnCredential.objects.get()
    refused = client.post(f"/accounts/mfa/passkeys/{key.pk}/remove/", {"confirmation": PASSWORD})
    assert refused.status_code == 422
    assert "this is your last second factor" in refused.content.decode()
    assert WebAuthnCredential.objects.filter(pk=key.pk).exists()


def test_the_members_page_names_each_persons_second_factors(world):
    admin, viewer = world.people[Role.CUSTOMER_ADMIN], world.people[Role.CUSTOMER_VIEWER]
    enrol(admin)
    add_key(signed_in(admin), SoftAuthenticator())
    add_key(signed_in(viewer), SoftAuthenticator())
    add_key(signed_in(viewer), SoftAuthenticator(), name="Laptop")
    body = signed_in(admin).get(f"/o/{world.customer.slug}/members/").content.decode()
    assert "On: app and 1 passkey" in body and "On: 2 passkeys" in body


def test_a_member_with_only_a_key_is_reset_on_the_security_page(world):
    viewer = world.people[Role.CUSTOMER_VIEWER]
    add_key(signed_in(viewer), SoftAuthenticator())
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    url = f"/o/{world.customer.slug}/security/"
    membership = viewer.memberships.get(organisation=world.customer)
    assert membership in admin.get(url).context["reset_form"].fields["member"].queryset
    done = admin.post(url, {"action": "reset", "member": membership.pk})
    assert done.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=viewer).exists()
    assert AuditEvent.objects.filter(action="mfa.reset", object_id=str(viewer.pk)).exists()
