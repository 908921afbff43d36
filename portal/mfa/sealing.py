"""TOTP secrets sealed at rest, so a copy of the database alone gives nobody a second factor.

A secret is sealed with Fernet (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) before it is
stored, and opened only to check a code or to show the QR code during enrolment. The keys come
from ``MFA_SECRET_KEYS`` (Fernet keys, newest first: the first seals, every one opens, so a key can
be rotated and ``manage.py mfa_reseal`` moves every secret to the newest), or, when it is unset,
from one key derived from ``SECRET_KEY`` with HKDF-SHA256 (rotating ``SECRET_KEY`` then needs
``MFA_SECRET_KEYS`` to list the old derived key first; docs/people.md).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SecretUnreadable(Exception):
    """A sealed secret no configured key opens (the keys changed without the old one)."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from a Django ``SECRET_KEY`` (what is used without
    ``MFA_SECRET_KEYS``)."""
    material = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal.mfa.totp-secret"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(material)


def _keys() -> MultiFernet:
    configured = [key.encode() for key in getattr(settings, "MFA_SECRET_KEYS", []) if key]
    return MultiFernet([Fernet(key) for key in configured or [derived_key(settings.SECRET_KEY)]])


def seal(secret: str) -> str:
    """The secret sealed with the newest key (a different text each time)."""
    return _keys().encrypt(secret.encode()).decode()


def open_sealed(sealed: str) -> str:
    """The secret back; ``SecretUnreadable`` if no configured key opens it."""
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "The authenticator's secret cannot be opened with the configured keys "
            "(MFA_SECRET_KEYS or SECRET_KEY changed)."
        ) from None


def reseal(sealed: str) -> str:
    """The same secret sealed with the newest key (for key rotation)."""
    try:
        return _keys().rotate(sealed.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("The authenticator's secret cannot be opened.") from None
