"""A person's TOTP authenticator, their security keys and passkeys (WebAuthn), their single-use
recovery codes, and an organisation's choice to require two-factor authentication of its members."""

from django.conf import settings
from django.db import models

from portal.mfa import sealing


class TotpDevice(models.Model):
    """The shared secret of a person's authenticator app (RFC 6238). Unconfirmed until the person
    has typed one code from it; ``last_used_step`` refuses a code seen before (replay).

    The secret is stored sealed (``portal.mfa.sealing``); ``secret`` opens it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    sealed_secret = models.CharField(max_length=255)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Authenticator of {self.user}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def secret(self) -> str:
        """The base32 secret, opened (``SecretUnreadable`` if the keys changed)."""
        return sealing.open_sealed(self.sealed_secret)


class WebAuthnCredential(models.Model):
    """One security key or passkey of a person (a WebAuthn public-key credential), a second factor
    beside or instead of the authenticator app. Only its public key is kept: a copy of the database
    signs nothing. ``sign_count`` is the authenticator's counter at its last use: a count that goes
    back means a cloned key and is refused (``services.verify_passkey``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webauthn_credentials"
    )
    name = models.CharField(max_length=60)
    # base64url, as the browser names it; unique across people (WebAuthn §7.1 step 22).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE-encoded
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)  # "usb", "nfc", "internal", ...
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="webauthn_name_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} of {self.user}"


class RecoveryCode(models.Model):
    """One recovery code, kept as a salted SHA-256 only: shown once, usable once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Recovery code of {self.user}"


class OrganisationMfaPolicy(models.Model):
    """A customer organisation's choice: every member must use two-factor authentication."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="mfa_policy"
    )
    required = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "organisation MFA policies"

    def __str__(self) -> str:
        state = "required" if self.required else "optional"
        return f"MFA {state} in {self.organisation}"
