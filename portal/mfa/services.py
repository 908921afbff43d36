"""Every write of two-factor authentication: enrol the app, add and remove security keys and
passkeys, verify, disable, new recovery codes, reset, an organisation's policy. Each writes its
audit event (``mfa.*``, ``webauthn.*``)."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.accounts.models import Organisation
from portal.accounts.session_records import end_all_sessions
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.mfa import passkeys, recovery, sealing, totp
from portal.mfa.models import OrganisationMfaPolicy, RecoveryCode, TotpDevice, WebAuthnCredential
from portal.mfa.policy import mfa_required
from portal.mfa.status import has_passkey, has_totp, is_enrolled

WRONG_CODE = "That code is not right (or was already used). Try the next one your app shows."
WRONG_CONFIRMATION = "Neither a current code from your app nor your password."
SECRET_UNREADABLE = (
    "The portal cannot check codes from your app right now: its keys for them changed. Use a "
    "recovery code, or ask support to reset your two-factor authentication."
)
LAST_FACTOR_REQUIRED = (
    "Your role or organisation requires two-factor authentication, and this is your last second "
    "factor: add another security key, passkey or authenticator app first."
)
PASSKEY_REFUSED = "Your security key's answer was not accepted. Try again."
PASSKEY_EXPIRED = "That request has expired or was already used. Try again."
PASSKEY_TAKEN = "This security key or passkey is already registered."
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
    """Turn the authenticator app on with a first code from it. When it is the person's first
    second factor, returns the ten recovery codes, in clear this once; else [] (a person with a
    passkey keeps the codes they have)."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is None or device.is_confirmed:
            raise ServiceError("", "Start again from the two-factor page.")
        step = totp.matching_step(device.secret, code, after=None)
        if step < 0:
            raise ServiceError("code", WRONG_CODE)
        first = not has_passkey(user)
        device.confirmed_at = timezone.now()
        device.last_used_step = step
        device.save(update_fields=["confirmed_at", "last_used_step"])
        codes = _new_recovery_codes(user) if first else []
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


def _refuse_removing_the_last(user, *, others_left: bool) -> None:
    if not others_left and mfa_required(user):
        raise ServiceError("", LAST_FACTOR_REQUIRED)


def _forget_recovery_codes_if_nothing_left(user) -> None:
    """Recovery codes stand in for a second factor: without one they mean nothing."""
    if not is_enrolled(user):
        RecoveryCode.objects.filter(user=user).delete()


def disable_mfa(*, user, confirmation: str) -> None:
    """Remove the authenticator app. Two-factor authentication stays on while a security key
    or passkey is left; removing the last second factor is refused when the person's role or
    organisation requires one."""
    _refuse_removing_the_last(user, others_left=has_passkey(user))
    _confirm(user, confirmation, "disable")
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        _forget_recovery_codes_if_nothing_left(user)
        _record("mfa.disabled", user=user, after={"method": "totp", "still_on": is_enrolled(user)})


def regenerate_recovery_codes(*, user, confirmation: str) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    _confirm(user, confirmation, "regenerate recovery codes")
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _record("mfa.recovery_codes_regenerated", user=user, after={"recovery_codes": len(codes)})
    return codes


def reset_mfa(*, user, by=None, organisation: Organisation | None = None) -> bool:
    """Remove a person's second factors for them (a lost phone or key): app, security keys and
    passkeys, recovery codes; and end their sessions, so whoever holds a lost device's session
    signs in again. They enrol again at their next
    sign-in if their role or organisation requires it. False when there was none. The event is
    filed under ``organisation`` (whose admin or support acts), else the person's own."""
    with transaction.atomic():
        deleted_app, _ = TotpDevice.objects.filter(user=user).delete()
        deleted_keys, _ = WebAuthnCredential.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        if not (deleted_app or deleted_keys):
            return False
        sessions = end_all_sessions(user)
        record_event(
            action="mfa.reset",
            organisation=organisation or _home_organisation(user),
            target=user,
            by=by,
            after={"username": user.get_username(), "sessions_ended": sessions},
        )
    return True


def register_passkey(*, user, name: str, response: str, challenge: bytes | None) -> list[str]:
    """Add a security key or passkey named ``name`` from the browser's answer to the registration
    ``challenge`` (None when it expired or was used). When it is the person's first second
    factor, returns ten recovery codes in clear this once; else []."""
    if challenge is None:
        raise ServiceError("credential", PASSKEY_EXPIRED)
    if WebAuthnCredential.objects.filter(user=user, name=name).exists():
        raise ServiceError("name", f"You already have a security key or passkey named {name!r}.")
    try:
        new = passkeys.verify_registration(response, challenge=challenge)
    except passkeys.CeremonyRefused as refused:
        _record(
            "webauthn.failed", user=user, after={"during": "registration", "reason": str(refused)}
        )
        raise ServiceError("credential", PASSKEY_REFUSED) from None
    with transaction.atomic():
        if WebAuthnCredential.objects.filter(credential_id=new.credential_id).exists():
            raise ServiceError("credential", PASSKEY_TAKEN)
        first = not is_enrolled(user)
        try:
            with transaction.atomic():  # the checks above raced with another request
                credential = WebAuthnCredential.objects.create(
                    user=user,
                    name=name,
                    credential_id=new.credential_id,
                    public_key=new.public_key,
                    sign_count=new.sign_count,
                    transports=new.transports,
                )
        except IntegrityError:
            raise ServiceError("credential", PASSKEY_TAKEN) from None
        codes = _new_recovery_codes(user) if first else []
        _record(
            "webauthn.registered",
            user=user,
            after={
                "name": credential.name,
                "transports": new.transports,
                "recovery_codes": len(codes),
            },
        )
    return codes


def remove_passkey(*, user, credential_pk: int, confirmation: str) -> str:
    """Remove one of the person's security keys or passkeys after their password (or an app
    code); returns its name. Removing the last second factor is refused when the person's role or
    organisation requires one."""
    credential = WebAuthnCredential.objects.filter(user=user, pk=credential_pk).first()
    if credential is None:
        raise ServiceError("", "That security key or passkey is not yours, or was already removed.")
    others = WebAuthnCredential.objects.filter(user=user).exclude(pk=credential.pk).exists()
    _refuse_removing_the_last(user, others_left=others or has_totp(user))
    _confirm(user, confirmation, "remove a passkey")
    with transaction.atomic():
        credential.delete()
        _forget_recovery_codes_if_nothing_left(user)
        _record(
            "webauthn.removed",
            user=user,
            after={"name": credential.name, "still_on": is_enrolled(user)},
        )
    return credential.name


def _passkey_failed(user, reason: str, **details) -> None:
    _record("webauthn.failed", user=user, after={"during": "sign-in", "reason": reason, **details})


def verify_passkey(*, user, response: str, challenge: bytes | None) -> bool:
    """Check a sign-in's second step answered by a security key or passkey: the assertion must
    come from one of the person's own credentials, signed for ``challenge`` (single-use, None when
    expired) at our origin, with a sign count above the last one seen (a count that goes back
    means a cloned key: refused and audited as such). Failures are audited; the caller counts them
    toward the lockout."""
    if challenge is None:
        _passkey_failed(user, "challenge expired or already used")
        return False
    try:
        credential_id = passkeys.credential_id_of(response)
    except passkeys.CeremonyRefused as refused:
        _passkey_failed(user, str(refused))
        return False
    with transaction.atomic():
        credential = (
            WebAuthnCredential.objects.select_for_update()
            .filter(user=user, credential_id=credential_id)
            .first()
        )
        if credential is None:
            _passkey_failed(user, "not one of this person's security keys or passkeys")
            return False
        try:
            count = passkeys.verify_authentication(
                response, challenge=challenge, public_key=bytes(credential.public_key)
            )
        except passkeys.CeremonyRefused as refused:
            _passkey_failed(user, str(refused), name=credential.name)
            return False
        if (count or credential.sign_count) and count <= credential.sign_count:
            logger.warning(
                "Sign count of passkey %s of user %s went back from %s to %s: cloned?",
                credential.pk,
                user.pk,
                credential.sign_count,
                count,
            )
            _passkey_failed(
                user,
                "sign count went back: the key may have been cloned",
                name=credential.name,
                sign_count_stored=credential.sign_count,
                sign_count_received=count,
            )
            return False
        credential.sign_count = count
        credential.last_used_at = timezone.now()
        credential.save(update_fields=["sign_count", "last_used_at"])
        _record("webauthn.used", user=user, after={"name": credential.name, "sign_count": count})
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
