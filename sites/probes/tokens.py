"""Probe tokens and receipts (docs/probe-protocol.md, "Tokens").

A token is ``<run_id>.<expires>.<nonce>.<mac>``: the probe run's id, the Unix time after which it
is refused, 8 random bytes, and the first 16 bytes of
HMAC-SHA256(key, ``<run_id>.<expires>.<nonce>``), both in base64url without padding. It is
self-contained, so the responder checks it with the key alone, without a database round trip.

Promises:

- :func:`verify_token` accepts exactly the tokens :func:`issue_token` makes with the same key,
  until ``expires`` has passed (a token is still good at ``now == expires``);
- anything else raises :class:`TokenError` with ``code`` MALFORMED (not a token's shape),
  UNKNOWN (the MAC does not verify: another key, or altered) or EXPIRED (authentic, too late),
  checked in that order, with the MAC compared in constant time;
- only canonical text verifies (decimal without leading zeros, canonical base64url), so one
  token has one spelling, and the replay cache can key on what it decodes to.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass

from sites.probes.protocol import ErrorCode

NONCE_BYTES = 8
MAC_BYTES = 16
_MAX_INT = 2**63 - 1  # the portal's ids are 64-bit database integers

# Canonical shape only. The last base64url character of 8 bytes (11 characters) carries 2 unused
# bits, of 16 bytes (22 characters) 4: they must be zero, or two spellings would decode alike.
_TOKEN = re.compile(
    r"(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})\."
    r"([A-Za-z0-9_-]{10}[AEIMQUYcgkosw048])\.([A-Za-z0-9_-]{21}[AQgw])"
)


class TokenError(Exception):
    """A token was refused. ``code`` is MALFORMED, UNKNOWN or EXPIRED.

    ``run_id`` is set only when the signature verified (EXPIRED), so it can be trusted.
    """

    def __init__(self, code: ErrorCode, run_id: int | None = None):
        self.code = code
        self.run_id = run_id
        super().__init__(str(code))


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says."""

    run_id: int
    expires: int
    nonce: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(key: bytes, message: str, size: int = MAC_BYTES) -> bytes:
    return hmac.digest(key, message.encode("ascii"), "sha256")[:size]


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or not key:
        raise TypeError("the probe key must be non-empty bytes")


def issue_token(key: bytes, run_id: int, expires: int, nonce: bytes | None = None) -> str:
    """A new token for probe run ``run_id``, good until Unix time ``expires`` (inclusive).

    ``nonce`` is 8 random bytes unless given (tests pass one for fixed vectors).
    """
    _check_key(key)
    for name, value in (("run_id", run_id), ("expires", expires)):
        if type(value) is not int or not 0 <= value <= _MAX_INT:
            raise ValueError(f"{name} must be an int in 0..2**63-1, not {value!r}")
    if nonce is None:
        nonce = secrets.token_bytes(NONCE_BYTES)
    elif not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    body = f"{run_id}.{expires}.{_b64(nonce)}"
    return f"{body}.{_b64(_mac(key, body))}"


def verify_token(key: bytes, token: str, now: float) -> TokenClaims:
    """The claims of ``token`` if ``key`` signed it and it has not expired at Unix time ``now``.

    Raises :class:`TokenError` (MALFORMED, UNKNOWN, EXPIRED) otherwise.
    """
    _check_key(key)
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise TokenError(ErrorCode.MALFORMED)
    run_id, expires = int(match.group(1)), int(match.group(2))
    if run_id > _MAX_INT or expires > _MAX_INT:
        raise TokenError(ErrorCode.MALFORMED)
    body = token[: match.start(4) - 1]
    given = base64.urlsafe_b64decode(match.group(4) + "==")
    if not hmac.compare_digest(given, _mac(key, body)):
        raise TokenError(ErrorCode.UNKNOWN)
    if now > expires:
        raise TokenError(ErrorCode.EXPIRED, run_id)
    return TokenClaims(run_id, expires, base64.urlsafe_b64decode(match.group(3) + "="))


def _receipt_message(
    token: str, observed_ip: str, observed_port: int, port: int, proto: str, unix_time: int
) -> str:
    return f"{token}|{observed_ip}|{observed_port}|{port}/{proto}|{unix_time}"


def receipt_mac(
    key: bytes,
    token: str,
    observed_ip: str,
    observed_port: int,
    port: int,
    proto: str,
    unix_time: int,
) -> str:
    """The receipt of an ``OK`` answer: the first 16 bytes of HMAC-SHA256(key,
    ``<token>|<observed_ip>|<observed_port>|<port>/<proto>|<unix_time>``), base64url."""
    _check_key(key)
    message = _receipt_message(token, observed_ip, observed_port, port, proto, unix_time)
    return _b64(_mac(key, message))


def verify_receipt(
    key: bytes,
    receipt: str,
    token: str,
    observed_ip: str,
    observed_port: int,
    port: int,
    proto: str,
    unix_time: int,
) -> bool:
    """Whether ``receipt`` is the responder's receipt for these facts (constant-time compare)."""
    expected = receipt_mac(key, token, observed_ip, observed_port, port, proto, unix_time)
    return isinstance(receipt, str) and hmac.compare_digest(
        receipt.encode("ascii", "replace"), expected.encode("ascii")
    )
