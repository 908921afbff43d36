"""Recovery codes: ten random codes shown once, kept as salted SHA-256 (fast to check, and with 50
random bits each a hash needs no slow password hasher)."""

import hashlib
import hmac
import secrets

COUNT = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def new_salt() -> str:
    return secrets.token_hex(16)


def digest(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise(code)}".encode()).hexdigest()


def matches(code: str, *, salt: str, code_hash: str) -> bool:
    return hmac.compare_digest(digest(code, salt), code_hash)
