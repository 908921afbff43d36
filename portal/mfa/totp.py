"""Time-based one-time passwords (RFC 6238, by pyotp): secrets, the QR code an authenticator app
scans, and which time step a typed code belongs to."""

import hmac
import time

import pyotp
import segno
from django.conf import settings

STEP_SECONDS = 30
# A code of the step before or after the current one is accepted: phone clocks drift.
WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=settings.MFA_ISSUER)


def qr_svg(uri: str) -> str:
    """An inline <svg> of the QR code: no image request, nothing sent to another service."""
    return segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your app")


def current_step(now: float | None = None) -> int:
    return int(time.time() if now is None else now) // STEP_SECONDS


def matching_step(secret: str, code: str, *, after: int | None, now: float | None = None) -> int:
    """The time step whose code ``code`` is, within the window and later than ``after`` (a step
    already used is never accepted again); -1 when none is."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return -1
    totp = pyotp.TOTP(secret)
    step = current_step(now)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if after is not None and candidate <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return -1


def group(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
