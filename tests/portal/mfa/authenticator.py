"""An authenticator app in tests: codes computed with pyotp, enrolment through the services."""

import pyotp

from portal.mfa import services, totp


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def current_code(secret: str) -> str:
    return code_at(secret, totp.current_step())


def enrol(user) -> tuple[str, list[str]]:
    """Turn two-factor on for ``user`` with the previous step's code, so that the current code is
    still unused; returns the secret and the recovery codes."""
    device = services.start_enrolment(user=user)
    previous = code_at(device.secret, totp.current_step() - 1)
    return device.secret, services.confirm_enrolment(user=user, code=previous)
