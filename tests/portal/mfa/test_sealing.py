"""TOTP secrets are sealed at rest: the database never holds one in clear, keys rotate, and a
secret no key opens is said as such (never "wrong code"), with recovery codes still working."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from portal.mfa import sealing
from portal.mfa.models import TotpDevice
from tests.portal.mfa.authenticator import current_code
from tests.portal.mfa.test_sign_in import VERIFY, log_in

pytestmark = pytest.mark.django_db


def stored_column(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_secret FROM mfa_totpdevice WHERE user_id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_the_database_never_holds_the_secret_in_clear(alice):
    user, secret, _ = alice
    stored = stored_column(user)
    assert secret not in stored and len(stored) > 100
    assert TotpDevice.objects.get(user=user).secret == secret


def test_sealing_twice_gives_different_texts_that_open_to_the_same_secret():
    first, second = sealing.seal("JBSWY3DPEHPK3PXP"), sealing.seal("JBSWY3DPEHPK3PXP")
    assert first != second
    assert sealing.open_sealed(first) == sealing.open_sealed(second) == "JBSWY3DPEHPK3PXP"


def test_a_new_key_first_still_opens_secrets_sealed_with_the_old(alice, settings):
    user, secret, _ = alice
    old = sealing.derived_key(settings.SECRET_KEY).decode()
    new = Fernet.generate_key().decode()
    settings.MFA_SECRET_KEYS = [new, old]
    assert TotpDevice.objects.get(user=user).secret == secret
    out = StringIO()
    call_command("mfa_reseal", stdout=out)
    assert "Sealed 1 authenticator secret(s)" in out.getvalue()
    settings.MFA_SECRET_KEYS = [new]  # the old key can go now
    assert TotpDevice.objects.get(user=user).secret == secret


def test_reseal_changes_nothing_when_a_secret_cannot_be_opened(alice, settings):
    user, _, _ = alice
    before = stored_column(user)
    settings.MFA_SECRET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="No key opens the authenticator of alice"):
        call_command("mfa_reseal", stdout=StringIO())
    assert stored_column(user) == before


def test_sign_in_says_the_keys_changed_and_a_recovery_code_still_works(alice, settings):
    user, secret, codes = alice
    client = log_in("alice")
    settings.MFA_SECRET_KEYS = [Fernet.generate_key().decode()]
    response = client.post(VERIFY, {"code": current_code(secret)})
    assert response.status_code == 422
    assert "its keys for them changed" in response.content.decode()
    assert "not right" not in response.content.decode()
    response = client.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 302


def test_the_migration_seals_secrets_stored_in_clear_and_back(alice):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("portal.mfa.migrations.0002_seal_totp_secrets")
    user, secret, _ = alice
    TotpDevice.objects.filter(user=user).update(sealed_secret=secret)  # as before sealing
    migration.seal_existing(apps, None)
    assert secret not in stored_column(user)
    assert TotpDevice.objects.get(user=user).secret == secret
    migration.open_all(apps, None)
    assert stored_column(user) == secret
