"""Security keys and passkeys through the services, with real WebAuthn ceremonies answered by a
software authenticator (soft_authenticator.py): registration and sign-in succeed; a wrong origin,
a wrong or spent or expired challenge, someone else's key, a bad signature and a sign count that
goes back (a cloned key) are refused and audited; the last factor of a required person stays."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.backends.signed_cookies import SessionStore

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from portal.mfa import challenges, passkeys, services
from portal.mfa.models import RecoveryCode, WebAuthnCredential
from portal.mfa.status import is_enrolled, second_factors_among
from tests.factories import PASSWORD, UserFactory
from tests.portal.mfa.authenticator import enrol
from tests.portal.mfa.soft_authenticator import ORIGIN, SoftAuthenticator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _portal_url(settings):
    settings.PORTAL_URL = ORIGIN


def register(user, key: SoftAuthenticator, name: str = "YubiKey") -> list[str]:
    challenge = challenges.issue(SessionStore(), challenges.REGISTRATION)
    return services.register_passkey(
        user=user, name=name, response=key.register(challenge), challenge=challenge
    )


def failures(reason_part: str = "") -> list[dict]:
    events = AuditEvent.objects.filter(action="webauthn.failed").order_by("pk")
    return [e.after for e in events if reason_part in e.after["reason"]]


def test_the_relying_party_is_portal_url(settings):
    settings.PORTAL_URL = "https://portal.example.test:8443/some/path"
    rp = passkeys.relying_party()
    assert (rp.id, rp.origin, rp.usable) == (
        "portal.example.test",
        "https://portal.example.test:8443",
        True,
    )
    settings.PORTAL_URL = "http://127.0.0.1:8000"
    assert not passkeys.relying_party().usable  # browsers refuse IP addresses as RP IDs


def test_a_first_passkey_turns_two_factor_on_with_recovery_codes():
    user = UserFactory()
    key = SoftAuthenticator()
    codes = register(user, key)
    assert len(codes) == 10 and RecoveryCode.objects.filter(user=user).count() == 10
    stored = WebAuthnCredential.objects.get(user=user)
    assert (stored.name, stored.credential_id, stored.transports) == (
        "YubiKey",
        key.id,
        ["usb", "nfc"],
    )
    assert is_enrolled(user)
    event = AuditEvent.objects.get(action="webauthn.registered")
    assert event.after == {"name": "YubiKey", "transports": ["usb", "nfc"], "recovery_codes": 10}
    # A second key keeps the codes the person has.
    assert register(user, SoftAuthenticator(), name="Laptop") == []
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert second_factors_among([user.pk])[user.pk].passkeys == 2


@pytest.mark.parametrize(
    "answer, reason",
    [
        (lambda key, challenge: key.register(challenge, origin="https://evil.test"), "origin"),
        (lambda key, challenge: key.register(b"another challenge"), "challenge"),
        (lambda key, challenge: SoftAuthenticator(rp_id="evil.test").register(challenge), "RP ID"),
        (lambda key, challenge: "{not json", ""),
    ],
    ids=["wrong-origin", "wrong-challenge", "wrong-rp-id", "garbage"],
)
def test_a_registration_that_proves_nothing_is_refused(answer, reason):
    user = UserFactory()
    challenge = challenges.issue(SessionStore(), challenges.REGISTRATION)
    with pytest.raises(ServiceError) as refused:
        services.register_passkey(
            user=user,
            name="Key",
            response=answer(SoftAuthenticator(), challenge),
            challenge=challenge,
        )
    assert refused.value.field == "credential"
    assert not WebAuthnCredential.objects.exists() and not is_enrolled(user)
    assert len(failures(reason)) == 1


def test_an_expired_or_spent_registration_challenge_is_refused():
    with pytest.raises(ServiceError, match="expired or was already used"):
        services.register_passkey(
            user=UserFactory(),
            name="Key",
            response=SoftAuthenticator().register(b"x"),
            challenge=None,
        )


def test_a_key_is_registered_once_and_names_are_unique_per_person():
    alice, bob = UserFactory(), UserFactory()
    key = SoftAuthenticator()
    register(alice, key)
    with pytest.raises(ServiceError, match="already registered"):
        register(bob, key, name="Borrowed")
    with pytest.raises(ServiceError) as same_name:
        register(alice, SoftAuthenticator())
    assert same_name.value.field == "name"
    assert WebAuthnCredential.objects.count() == 1


def sign_in(user, answer) -> bool:
    challenge = challenges.issue(SessionStore(), challenges.AUTHENTICATION)
    return services.verify_passkey(user=user, response=answer(challenge), challenge=challenge)


def test_a_registered_key_signs_in_and_its_count_is_kept():
    user = UserFactory()
    key = SoftAuthenticator()
    register(user, key)
    assert sign_in(user, key.sign)
    stored = WebAuthnCredential.objects.get()
    assert stored.sign_count == 1 and stored.last_used_at is not None
    assert AuditEvent.objects.get(action="webauthn.used").after == {
        "name": "YubiKey",
        "sign_count": 1,
    }


@pytest.mark.parametrize(
    "answer, reason",
    [
        (lambda key, challenge: key.sign(challenge, origin="https://evil.test"), "origin"),
        (lambda key, challenge: key.sign(b"another challenge"), "challenge"),
        (
            lambda key, challenge: key.sign(challenge).replace(
                '"signature": "M', '"signature": "N'
            ),
            "",
        ),
    ],
    ids=["wrong-origin", "wrong-challenge", "bad-signature"],
)
def test_an_assertion_that_proves_nothing_is_refused(answer, reason):
    user = UserFactory()
    key = SoftAuthenticator()
    register(user, key)
    assert not sign_in(user, lambda challenge: answer(key, challenge))
    assert len(failures(reason)) == 1
    assert not AuditEvent.objects.filter(action="webauthn.used").exists()
    assert WebAuthnCredential.objects.get().last_used_at is None


def test_a_spent_or_expired_challenge_is_refused(settings):
    user = UserFactory()
    key = SoftAuthenticator()
    register(user, key)
    session = SessionStore()
    challenge = challenges.issue(session, challenges.AUTHENTICATION)
    assert challenges.take(session, challenges.AUTHENTICATION) == challenge
    assert challenges.take(session, challenges.AUTHENTICATION) is None  # single-use
    challenges.issue(session, challenges.AUTHENTICATION)
    later = timedelta(seconds=settings.WEBAUTHN_CHALLENGE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert challenges.take(session, challenges.AUTHENTICATION) is None
    assert not services.verify_passkey(user=user, response=key.sign(challenge), challenge=None)
    assert len(failures("challenge expired or already used")) == 1


def test_someone_elses_key_does_not_sign_in():
    alice, bob = UserFactory(), UserFactory()
    bobs_key = SoftAuthenticator()
    register(alice, SoftAuthenticator())
    register(bob, bobs_key)
    assert not sign_in(alice, bobs_key.sign)
    assert len(failures("not one of this person's")) == 1


def test_a_sign_count_that_goes_back_is_a_cloned_key():
    user = UserFactory()
    key = SoftAuthenticator()
    register(user, key)
    assert sign_in(user, lambda challenge: key.sign(challenge, sign_count=7))
    for count in (7, 3):  # the same count again, or a lower one
        assert not sign_in(user, lambda challenge, c=count: key.sign(challenge, sign_count=c))
    cloned = failures("cloned")
    assert [(f["sign_count_stored"], f["sign_count_received"]) for f in cloned] == [(7, 7), (7, 3)]
    assert WebAuthnCredential.objects.get().sign_count == 7
    assert sign_in(user, lambda challenge: key.sign(challenge, sign_count=8))


def test_a_passkey_without_a_counter_signs_in_every_time():
    """Synced passkeys report 0 always: no counter, nothing to compare (WebAuthn §6.1.1)."""
    user = UserFactory()
    key = SoftAuthenticator()
    register(user, key)
    assert all(sign_in(user, lambda c: key.sign(c, sign_count=0)) for _ in range(2))


def test_removing_a_key_needs_the_password_and_the_last_one_takes_the_codes_along():
    user = UserFactory()
    register(user, SoftAuthenticator())
    credential = WebAuthnCredential.objects.get()
    with pytest.raises(ServiceError) as wrong:
        services.remove_passkey(user=user, credential_pk=credential.pk, confirmation="nope")
    assert wrong.value.field == "confirmation"
    assert services.remove_passkey(user=user, credential_pk=credential.pk, confirmation=PASSWORD)
    assert not is_enrolled(user) and not RecoveryCode.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="webauthn.removed")
    assert event.after == {"name": "YubiKey", "still_on": False}


def test_someone_elses_key_cannot_be_removed():
    alice, bob = UserFactory(), UserFactory()
    register(bob, SoftAuthenticator())
    with pytest.raises(ServiceError, match="not yours"):
        services.remove_passkey(
            user=alice, credential_pk=WebAuthnCredential.objects.get().pk, confirmation=PASSWORD
        )
    assert WebAuthnCredential.objects.count() == 1


@pytest.mark.mfa
def test_a_required_person_keeps_a_last_factor(world):
    user = world.people[Role.RESELLER_ADMIN]
    register(user, SoftAuthenticator())
    key = WebAuthnCredential.objects.get(user=user)
    with pytest.raises(ServiceError, match="this is your last second factor"):
        services.remove_passkey(user=user, credential_pk=key.pk, confirmation=PASSWORD)
    secret, _ = enrol(user)  # with the app beside it, the key may go
    services.remove_passkey(user=user, credential_pk=key.pk, confirmation=PASSWORD)
    with pytest.raises(ServiceError, match="this is your last second factor"):
        services.disable_mfa(user=user, confirmation=PASSWORD)
    assert is_enrolled(user)


def test_the_app_goes_and_the_passkeys_keep_two_factor_on():
    user = UserFactory()
    enrol(user)
    register(user, SoftAuthenticator())
    services.disable_mfa(user=user, confirmation=PASSWORD)
    assert is_enrolled(user) and RecoveryCode.objects.filter(user=user).count() == 10
    assert AuditEvent.objects.get(action="mfa.disabled").after == {
        "method": "totp",
        "still_on": True,
    }


def test_a_reset_removes_the_passkeys_too():
    user = UserFactory()
    register(user, SoftAuthenticator())
    assert services.reset_mfa(user=user)
    assert not is_enrolled(user) and not WebAuthnCredential.objects.exists()
