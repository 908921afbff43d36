"""Enrolment, switching off and new recovery codes, through the pages; each is audited."""

import re

import pytest
from django.test import Client

from portal.audit.models import AuditEvent
from portal.mfa.models import RecoveryCode, TotpDevice
from portal.mfa.status import is_enrolled
from tests.factories import PASSWORD, UserFactory
from tests.portal.mfa.authenticator import code_at, current_code

pytestmark = pytest.mark.django_db
SETUP = "/accounts/mfa/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shown_secret(response) -> str:
    match = re.search(r'<code id="mfa-secret">([A-Z2-7 ]+)</code>', response.content.decode())
    return match.group(1).replace(" ", "")


def test_enrolment_shows_a_qr_code_and_the_key_then_ten_recovery_codes_once():
    user = UserFactory()
    client = signed_in(user)
    page = client.get(SETUP)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "<img" not in body.split("<main", 1)[1]
    secret = shown_secret(page)
    assert client.get(SETUP).content.decode().count(page.context["secret"]) == 1  # same key

    wrong = client.post(SETUP, {"code": "000000"})
    assert wrong.status_code == 422
    assert "Code: That code is not right" in wrong.content.decode()
    assert not is_enrolled(user)

    done = client.post(SETUP, {"code": current_code(secret)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert is_enrolled(user)
    # Kept hashed only; the secret and the codes are not shown again.
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert not stored & set(codes)
    again = client.get(SETUP).content.decode()
    assert secret not in again.replace(" ", "") and codes[0] not in again
    assert "Recovery codes left: <strong>10</strong>" in again
    event = AuditEvent.objects.get(action="mfa.enabled")
    assert event.actor_user_id == user.pk and event.after["method"] == "totp"


def test_switching_off_needs_a_current_code_or_the_password(alice):
    user, secret, _ = alice
    client = signed_in(user)
    session = client.session
    session["mfa_verified"] = True
    session.save()

    refused = client.post("/accounts/mfa/disable/", {"confirmation": "123456"})
    assert refused.status_code == 422
    assert "Neither a current code from your app nor your password" in refused.content.decode()
    assert is_enrolled(user)
    assert AuditEvent.objects.filter(action="mfa.failed").count() == 1

    assert (
        client.post("/accounts/mfa/disable/", {"confirmation": current_code(secret)}).status_code
        == 302
    )
    assert not is_enrolled(user)
    assert not TotpDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="mfa.disabled", actor_user_id=user.pk).count() == 1


def test_switching_off_with_the_password(alice):
    user, _, _ = alice
    client = signed_in(user)
    session = client.session
    session["mfa_verified"] = True
    session.save()
    assert client.post("/accounts/mfa/disable/", {"confirmation": PASSWORD}).status_code == 302
    assert not is_enrolled(user)


def test_new_recovery_codes_replace_the_old_ones(alice):
    user, secret, old_codes = alice
    client = signed_in(user)
    session = client.session
    session["mfa_verified"] = True
    session.save()
    response = client.post("/accounts/mfa/recovery-codes/", {"confirmation": PASSWORD})
    assert response.status_code == 200
    new_codes = response.context["codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_regenerated").count() == 1


def test_a_code_outside_the_window_is_refused(alice):
    user, secret, _ = alice
    from portal.mfa import totp

    client = signed_in(user)
    session = client.session
    session["mfa_verified"] = True
    session.save()
    stale = code_at(secret, totp.current_step() - 3)
    response = client.post("/accounts/mfa/disable/", {"confirmation": stale})
    assert response.status_code == 422
