"""Whether a person has two-factor authentication on: a confirmed authenticator app, or at least
one security key or passkey (the members page shows which)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q

from portal.mfa.models import TotpDevice, WebAuthnCredential


@dataclass(frozen=True)
class SecondFactors:
    app: bool
    passkeys: int

    def __bool__(self) -> bool:
        return self.app or self.passkeys > 0

    def __str__(self) -> str:
        """ "On: app and 2 passkeys", "On: 1 passkey", "Off"."""
        if not self:
            return "Off"
        parts = ["app"] if self.app else []
        if self.passkeys:
            parts.append(f"{self.passkeys} passkey{'s' if self.passkeys > 1 else ''}")
        return "On: " + " and ".join(parts)


def has_passkey(user) -> bool:
    return WebAuthnCredential.objects.filter(user=user).exists()


def has_totp(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def is_enrolled(user) -> bool:
    return has_totp(user) or has_passkey(user)


def second_factors_among(user_ids) -> dict[int, SecondFactors]:
    """For each of ``user_ids``, what second factors they have, in one query (a members list)."""
    confirmed_app = TotpDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False)
    rows = (
        get_user_model()
        .objects.filter(pk__in=user_ids)
        .annotate(app=Exists(confirmed_app), passkeys=Count("webauthn_credentials"))
        .values_list("pk", "app", "passkeys")
    )
    return {pk: SecondFactors(app=app, passkeys=passkeys) for pk, app, passkeys in rows}


def enrolled_filter(prefix: str = "") -> Q:
    """A filter through the user path ``prefix`` (e.g. "user__"): two-factor authentication on."""
    return Q(**{f"{prefix}totp_device__confirmed_at__isnull": False}) | Q(
        **{f"{prefix}webauthn_credentials__isnull": False}
    )
