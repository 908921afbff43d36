"""WebAuthn challenges kept in the person's session: one per purpose (adding a key, signing in),
single-use (taken out when an answer is checked, right or wrong) and expiring after
``WEBAUTHN_CHALLENGE_SECONDS``. A page that offers a ceremony issues a new one."""

from __future__ import annotations

import time

from django.conf import settings
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, generate_challenge

REGISTRATION = "registration"
AUTHENTICATION = "authentication"
_SESSION_KEY = "webauthn_challenges"


def issue(session, purpose: str) -> bytes:
    """A fresh random challenge (64 bytes) for ``purpose``; any earlier one stops counting."""
    challenge = generate_challenge()
    pending = dict(session.get(_SESSION_KEY, {}))
    pending[purpose] = {
        "challenge": bytes_to_base64url(challenge),
        "expires": time.time() + settings.WEBAUTHN_CHALLENGE_SECONDS,
    }
    session[_SESSION_KEY] = pending
    return challenge


def take(session, purpose: str) -> bytes | None:
    """The pending challenge for ``purpose``, removed from the session so that it is never checked
    twice; None when there is none or it has expired."""
    pending = dict(session.get(_SESSION_KEY, {}))
    entry = pending.pop(purpose, None)
    session[_SESSION_KEY] = pending
    if entry is None or entry["expires"] < time.time():
        return None
    return base64url_to_bytes(entry["challenge"])
