"""Every write of two-factor authentication: enrol, verify, disable, new recovery codes, reset,
an organisation's policy. Each writes its audit event (``mfa.*``)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from portal.accounts.models import Organisation
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.mfa import recovery, sealing, totp
from portal.mfa.models import OrganisationMfaPolicy, RecoveryCode, TotpDevice

WRONG_CODE = "That code is not right (or was already used). Try the next one your app shows."
WRONG_CONFIRMATION = "Neither a current code from your app nor your password."
SECRET_UNREADABLE = (
    "The portal cannot check codes from your app right now: its keys for them changed. Use a "
    "recovery code, or ask support to reset your two-factor authentication."
)
logger = logging.getLogger(__name__)


def _home_organisation(user) -> Organisation | None:
    """The organisation a personal event is filed under: the person's own when they have one."""
    memberships = list(user.memberships.select_related("organisation")[:2])
    return memberships[0].organisation if len(memberships) == 1 else None


def _record(action: str, *, user, by=None, after: dict | None = None) -> None:
    record_event(
        action=action,
        organisation=_home_organisation(user),
        target=user,
        by=by or user,
        after=after,
    )


def _new_recovery_codes(user) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [recovery.new_code() for _ in range(recovery.COUNT)]
    rows = []
    for code in codes:
        salt = recovery.new_salt()
        rows.append(RecoveryCode(user=user, salt=salt, code_hash=recovery.digest(code, salt)))
    RecoveryCode.objects.bulk_create(rows)
    return codes


def start_enrolment(*, user) -> TotpDevice:
    """The person's unconfirmed authenticator, with a fresh secret the first time (a reload shows
    the same QR code). Refused once two-factor authentication is on."""
    device, _ = TotpDevice.objects.get_or_create(
        user=user, defaults={"sealed_secret": sealing.seal(totp.new_secret())}
    )
    if device.is_confirmed:
        raise ServiceError("", "Two-factor authentication is already on.")
    return device


def confirm_enrolment(*, user, code: str) -> list[str]:
    """Turn two-factor authentication on with a first code from the app; returns the ten
    recovery codes, in clear this once."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.is_confirmed:
            raise ServiceError("", "Start again from the two-factor page.")
        step = totp.matching_step(device.secret, code, after=None)
        if step < 0:
            raise ServiceError("code", WRONG_CODE)
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        codes = _new_recovery_codes(user)
        _record("mfa.enabled", user=user, after={"method": "totp", "recovery_codes": len(codes)})
    return codes


def _use_totp(user, code: str) -> bool:
    with transaction.atomic():
        device = (
            TotpDevice.objects.select_for_update()
            .filter(user=user, confirmed_at__isnull=False)
            .first()
        )
        if device is None:
            return False
        try:
            secret = device.secret
        except sealing.SecretUnreadable:
            logger.error(
                "The TOTP secret of user %s cannot be opened with MFA_SECRET_KEYS.", user.pk
            )
            return False
        step = totp.matching_step(secret, code, after=device.last_used_step)
        if step < 0:
            return False
        device.last_used_step = step
        device.save(update_fields=["last_used_step"])
    return True


def authenticator_readable(user) -> bool:
    """Whether the person's authenticator secret opens with the configured keys (a code that
    fails is then a wrong code, not the portal's keys)."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        return True
    try:
        return bool(device.secret)
    except sealing.SecretUnreadable:
        return False


def _use_recovery_code(user, code: str) -> bool:
    with transaction.atomic():
        unused = RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True)
        for row in unused:
            if recovery.matches(code, salt=row.salt, code_hash=row.code_hash):
                row.used_at = timezone.now()
                row.save(update_fields=["used_at"])
                return True
    return False


def verify_second_factor(*, user, code: str) -> str | None:
    """Check a sign-in's second factor: a code from the app (each usable once) or an unused
    recovery code (then spent). Returns "totp" or "recovery_code", or None for a failure."""
    method = None
    if _use_totp(user, code):
        method = "totp"
    elif _use_recovery_code(user, code):
        method = "recovery_code"
    if method is None:
        _record("mfa.failed", user=user, after={"during": "sign-in"})
        return None
    remaining = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
    _record("mfa.verified", user=user, after={"method": method, "recovery_codes_left": remaining})
    return method


def _confirm(user, confirmation: str, during: str) -> None:
    """A current app code or the password, before a change to the person's second factor."""
    if _use_totp(user, confirmation) or user.check_password(confirmation):
        return
    _record("mfa.failed", user=user, after={"during": during})
    raise ServiceError("confirmation", WRONG_CONFIRMATION)


def disable_mfa(*, user, confirmation: str) -> None:
    _confirm(user, confirmation, "disable")
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        _record("mfa.disabled", user=user)


def regenerate_recovery_codes(*, user, confirmation: str) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    _confirm(user, confirmation, "regenerate recovery codes")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _record("mfa.recovery_codes_regenerated", user=user, after={"recovery_codes": len(codes)})
    return codes


def reset_mfa(*, user, by=None, organisation: Organisation | None = None) -> bool:
    """Remove a person's second factor for them (a lost phone): they enrol again at their next
    sign-in if their role or organisation requires it. False when there was none. The event is
    filed under ``organisation`` (whose admin or support acts), else the person's own."""
    with transaction.atomic():
        deleted, _ = TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        if not deleted:
            return False
        record_event(
            action="mfa.reset",
            organisation=organisation or _home_organisation(user),
            target=user,
            by=by,
            after={"username": user.get_username()},
        )
    return True


def set_mfa_policy(*, organisation: Organisation, required: bool, by=None) -> None:
    """Require (or stop requiring) two-factor authentication of every member."""
    with transaction.atomic():
        policy, _ = OrganisationMfaPolicy.objects.select_for_update().get_or_create(
            organisation=organisation
        )
        if policy.required == required:
            return
        before = {"required": policy.required}
        policy.required = required
        policy.save(update_fields=["required", "updated_at"])
        record_event(
            action="mfa.policy_changed",
            organisation=organisation,
            target=organisation,
            before=before,
            after={"required": required},
            by=by,
        )
