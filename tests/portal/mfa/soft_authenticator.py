"""A security key in software, for tests: an EC P-256 key pair made with ``cryptography`` that
answers WebAuthn ceremonies byte for byte as a real authenticator does (authenticatorData,
clientDataJSON, a "none" attestation, ES256 signatures), as the JSON the portal's
static/js/webauthn.js posts. Nothing of the portal's own code is used to build the answers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "https://portal.example.test"
RP_ID = "portal.example.test"

_USER_PRESENT = 0x01
_USER_VERIFIED = 0x04
_ATTESTED_CREDENTIAL_DATA = 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def challenge_of(options_json: str) -> bytes:
    """The challenge inside the options a page gives the browser."""
    return unb64url(json.loads(options_json)["challenge"])


class SoftAuthenticator:
    """One credential: ``register`` answers navigator.credentials.create(), ``sign`` answers
    navigator.credentials.get(). ``sign_count`` goes up by one per signature unless given."""

    def __init__(self, rp_id: str = RP_ID, origin: str = ORIGIN):
        self.rp_id = rp_id
        self.origin = origin
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def _client_data(self, kind: str, challenge: bytes, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": b64url(challenge),
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _authenticator_data(self, flags: int, count: int, attested: bytes = b"") -> bytes:
        rp_id_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", count) + attested

    def register(self, challenge: bytes, *, origin: str | None = None) -> str:
        """The answer to a registration ceremony for ``challenge``, as JSON."""
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_public_key()
        )
        flags = _USER_PRESENT | _USER_VERIFIED | _ATTESTED_CREDENTIAL_DATA
        auth_data = self._authenticator_data(flags, self.sign_count, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", challenge, origin)
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                    "transports": ["usb", "nfc"],
                },
                "clientExtensionResults": {},
            }
        )

    def sign(
        self, challenge: bytes, *, origin: str | None = None, sign_count: int | None = None
    ) -> str:
        """The answer to an authentication ceremony for ``challenge``, as JSON."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        auth_data = self._authenticator_data(_USER_PRESENT | _USER_VERIFIED, self.sign_count)
        client_data = self._client_data("webauthn.get", challenge, origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": self.id,
                "rawId": self.id,
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                },
                "clientExtensionResults": {},
            }
        )
