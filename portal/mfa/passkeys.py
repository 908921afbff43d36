"""The WebAuthn ceremonies of security keys and passkeys, by Duo Labs' py_webauthn: the options
the browser's ``navigator.credentials.create()``/``get()`` receive, and the checks of what it
answers (challenge, origin, RP ID, signature, attestation format).

The relying party is the portal as ``PORTAL_URL`` names it: its host name is the RP ID and its
``scheme://host[:port]`` the one origin accepted (docs/people.md). Browsers refuse an IP address
as an RP ID, so passkeys need the portal reached by a name (``http://localhost:8000`` locally).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import webauthn
from django.conf import settings
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)


class CeremonyRefused(Exception):
    """The browser's answer did not prove what it must (the message says what, for the audit)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str

    @property
    def usable(self) -> bool:
        """Whether browsers accept this RP ID (a host name, never an IP address)."""
        try:
            ipaddress.ip_address(self.id)
        except ValueError:
            return bool(self.id)
        return False


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    transports: list[str]


def relying_party() -> RelyingParty:
    url = urlsplit(settings.PORTAL_URL)
    return RelyingParty(id=url.hostname or "", origin=f"{url.scheme}://{url.netloc}")


def _user_handle(user) -> bytes:
    """A stable handle that is no personal data (WebAuthn §14.6.1): an HMAC of the user's id."""
    key = hashlib.sha256(f"portal.mfa.webauthn-user:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, str(user.pk).encode(), hashlib.sha256).digest()


_KNOWN_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


def _descriptors(credentials) -> list[PublicKeyCredentialDescriptor]:
    found = []
    for credential in credentials:
        # A transport this library does not know (a newer browser's) is left out, not an error.
        transports = [
            AuthenticatorTransport(t) for t in credential.transports if t in _KNOWN_TRANSPORTS
        ]
        found.append(
            PublicKeyCredentialDescriptor(
                id=webauthn.base64url_to_bytes(credential.credential_id),
                transports=transports or None,
            )
        )
    return found


def registration_options(*, user, existing, challenge: bytes) -> str:
    """The JSON for ``navigator.credentials.create()``; ``existing`` (the person's credentials)
    are excluded, so one key is not added twice."""
    rp = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=settings.MFA_ISSUER,
        user_id=_user_handle(user),
        user_name=user.get_username(),
        user_display_name=user.get_full_name() or user.get_username(),
        challenge=challenge,
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return webauthn.options_to_json(options)


def verify_registration(response: str, *, challenge: bytes) -> NewCredential:
    """The new credential, once its answer is proven to be for ``challenge`` at our origin and
    RP ID; ``CeremonyRefused`` otherwise."""
    rp = relying_party()
    try:
        parsed = parse_registration_credential_json(response)
        verified = webauthn.verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise CeremonyRefused(str(error) or type(error).__name__) from None
    transports = [str(getattr(t, "value", t)) for t in parsed.response.transports or []]
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
    )


def authentication_options(*, credentials, challenge: bytes) -> str:
    """The JSON for ``navigator.credentials.get()``, allowing only the person's own credentials."""
    options = webauthn.generate_authentication_options(
        rp_id=relying_party().id,
        challenge=challenge,
        timeout=settings.WEBAUTHN_CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(credentials),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return webauthn.options_to_json(options)


def credential_id_of(response: str) -> str:
    """Which credential an assertion claims to come from (base64url), before it is checked."""
    try:
        return bytes_to_base64url(parse_authentication_credential_json(response).raw_id)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise CeremonyRefused(str(error) or type(error).__name__) from None


def verify_authentication(response: str, *, challenge: bytes, public_key: bytes) -> int:
    """The authenticator's new sign count, once the assertion is proven signed by ``public_key``
    for ``challenge`` at our origin and RP ID. The count itself is compared by the caller (a
    count that goes back is a cloned key, which it audits as such)."""
    rp = relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=response,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise CeremonyRefused(str(error) or type(error).__name__) from None
    return verified.new_sign_count
