"""Probe tokens and receipts follow docs/probe-protocol.md exactly, and refuse everything else."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from sites.probes.protocol import ErrorCode
from sites.probes.tokens import (
    TokenClaims,
    TokenError,
    issue_token,
    receipt_mac,
    verify_receipt,
    verify_token,
)

KEY = b"k" * 32
NONCE = bytes(range(8))
EXPIRES = 1_800_000_000
NOW = EXPIRES - 600


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def code_of(token: str, *, key: bytes = KEY, now: float = NOW) -> ErrorCode:
    with pytest.raises(TokenError) as caught:
        verify_token(key, token, now)
    return caught.value.code


def test_token_format_is_the_documented_one():
    """<run_id>.<expires>.<nonce>.<mac>, computed here independently of the module."""
    body = f"42.{EXPIRES}.{b64(NONCE)}"
    mac = hmac.new(KEY, body.encode(), hashlib.sha256).digest()[:16]
    assert issue_token(KEY, 42, EXPIRES, NONCE) == f"{body}.{b64(mac)}"
    assert len(b64(NONCE)) == 11 and len(b64(mac)) == 22


def test_round_trip():
    token = issue_token(KEY, 7, EXPIRES)
    claims = verify_token(KEY, token, NOW)
    assert claims == TokenClaims(run_id=7, expires=EXPIRES, nonce=claims.nonce)
    assert len(claims.nonce) == 8
    assert verify_token(KEY, issue_token(KEY, 7, EXPIRES, NONCE), NOW).nonce == NONCE


def test_nonces_are_random():
    assert issue_token(KEY, 1, EXPIRES) != issue_token(KEY, 1, EXPIRES)


def test_another_key_is_unknown():
    assert code_of(issue_token(b"other key", 7, EXPIRES)) == ErrorCode.UNKNOWN


@pytest.mark.parametrize("part", range(4))
def test_tampering_with_any_part_is_unknown(part):
    token = issue_token(KEY, 7, EXPIRES, NONCE)
    parts = token.split(".")
    replacements = {0: "8", 1: str(EXPIRES + 3600), 2: b64(b"\xff" * 8), 3: b64(b"\x00" * 16)}
    parts[part] = replacements[part]
    assert code_of(".".join(parts)) == ErrorCode.UNKNOWN


def test_every_single_character_change_is_refused():
    token = issue_token(KEY, 123, EXPIRES, NONCE)
    for index, char in enumerate(token):
        for other in "0A_":
            if other != char:
                changed = token[:index] + other + token[index + 1 :]
                assert code_of(changed) in (ErrorCode.UNKNOWN, ErrorCode.MALFORMED), changed


def test_expiry_boundary():
    token = issue_token(KEY, 7, EXPIRES)
    assert verify_token(KEY, token, EXPIRES).run_id == 7  # good up to and including `expires`
    assert code_of(token, now=EXPIRES + 0.001) == ErrorCode.EXPIRED
    assert code_of(token, now=EXPIRES + 1) == ErrorCode.EXPIRED


def test_expired_carries_the_run_only_because_the_signature_verified():
    with pytest.raises(TokenError) as caught:
        verify_token(KEY, issue_token(KEY, 9, EXPIRES), EXPIRES + 5)
    assert caught.value.run_id == 9
    with pytest.raises(TokenError) as caught:
        verify_token(b"other", issue_token(KEY, 9, EXPIRES), EXPIRES + 5)
    assert (caught.value.code, caught.value.run_id) == (ErrorCode.UNKNOWN, None)


def test_signature_is_checked_before_expiry():
    """A forged token is UNKNOWN even when its (claimed) expiry has passed."""
    assert code_of(issue_token(b"other", 7, 10), now=NOW) == ErrorCode.UNKNOWN


GOOD = issue_token(KEY, 42, EXPIRES, NONCE)
RUN, EXP, NON, MAC = GOOD.split(".")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        f"{RUN}.{EXP}.{NON}",  # three parts
        f"{RUN}.{EXP}.{NON}.{MAC}.x",  # five parts
        f"{RUN}..{NON}.{MAC}",
        f"0{RUN}.{EXP}.{NON}.{MAC}",  # leading zero: one token, one spelling
        f"+{RUN}.{EXP}.{NON}.{MAC}",
        f"-{RUN}.{EXP}.{NON}.{MAC}",
        f"{RUN}.{EXP}.0.{MAC}",
        f"{RUN}.{EXP}.{NON}A.{MAC}",  # nonce too long
        f"{RUN}.{EXP}.{NON[:-1]}.{MAC}",  # nonce too short
        f"{RUN}.{EXP}.{NON}.{MAC[:-1]}",  # mac too short
        f"{RUN}.{EXP}.{NON}.{MAC}A",  # mac too long
        f"{RUN}.{EXP}.{NON[:-1]}=.{MAC}",  # padding
        f"{RUN}.{EXP}.{NON[:-1]}+.{MAC}",  # standard base64, not base64url
        f"{RUN}.{EXP}.{NON[:-1]}B.{MAC}",  # unused low bits set: non-canonical
        f"{RUN}.{EXP}.{NON}.{MAC[:-1]}B",  # same for the mac
        f"{RUN}.{EXP}.{NON}.{MAC} ",
        f" {RUN}.{EXP}.{NON}.{MAC}",
        f"{RUN}.{EXP}.{NON}.{MAC}\n",
        f"\u0664\u0662.{EXP}.{NON}.{MAC}",  # Arabic-Indic digits are digits to str.isdigit
        f"{RUN}.1{EXP}0000000000.{NON}.{MAC}",  # 20 digits
        f"{RUN}.9999999999999999999.{NON}.{MAC}",  # 19 digits but beyond 64 bits
        f"{RUN}.{EXP}.{NON}.{MAC[:-2]}é" + "A",
    ],
)
def test_malformed_shapes(token):
    assert code_of(token) == ErrorCode.MALFORMED


def test_non_string_token_is_malformed():
    assert code_of(GOOD.encode()) == ErrorCode.MALFORMED  # type: ignore[arg-type]


def test_largest_ids_round_trip():
    biggest = 2**63 - 1
    assert verify_token(KEY, issue_token(KEY, biggest, biggest), NOW).run_id == biggest


@pytest.mark.parametrize(
    "run_id, expires, nonce",
    [
        (-1, EXPIRES, None),
        (True, EXPIRES, None),
        (1.0, EXPIRES, None),
        (1, 2**63, None),
        (1, "1", None),
        (1, EXPIRES, b"short"),
        (1, EXPIRES, "12345678"),
    ],
)
def test_issue_refuses_bad_claims(run_id, expires, nonce):
    with pytest.raises(ValueError):
        issue_token(KEY, run_id, expires, nonce)


@pytest.mark.parametrize("key", [b"", "a str key", None])
def test_keys_must_be_non_empty_bytes(key):
    with pytest.raises(TypeError):
        issue_token(key, 1, EXPIRES)
    with pytest.raises(TypeError):
        verify_token(key, GOOD, NOW)


def test_receipt_is_the_documented_mac():
    message = f"{GOOD}|203.0.113.9|50123|4401/tcp|{NOW}"
    expected = b64(hmac.new(KEY, message.encode(), hashlib.sha256).digest()[:16])
    assert receipt_mac(KEY, GOOD, "203.0.113.9", 50123, 4401, "tcp", NOW) == expected
    assert len(expected) == 22


def test_receipt_verifies_and_binds_every_fact():
    facts = (GOOD, "203.0.113.9", 50123, 4401, "tcp", NOW)
    receipt = receipt_mac(KEY, *facts)
    assert verify_receipt(KEY, receipt, *facts)
    for index, other in enumerate(("x" + GOOD, "203.0.113.8", 50124, 4403, "udp", NOW + 1)):
        changed = list(facts)
        changed[index] = other
        assert not verify_receipt(KEY, receipt, *changed)
    assert not verify_receipt(b"other", receipt, *facts)
    assert not verify_receipt(KEY, receipt + "é", *facts)
