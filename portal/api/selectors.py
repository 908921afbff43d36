"""Reads of API tokens."""

import hashlib

from django.db.models import QuerySet

from portal.api.models import ApiToken


def hash_token(raw: str) -> str:
    """The SHA-256 hex digest stored for a token (tokens are random, so no salt is needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def tokens_of(person) -> QuerySet[ApiToken]:
    """The person's tokens, newest first, revoked ones included."""
    return ApiToken.objects.filter(person=person)


def token_for_secret(raw: str) -> ApiToken | None:
    """The token whose hash matches ``raw``, revoked or not; None if there is none.

    The lookup is by hash, never by the secret, so comparing takes no time that depends on how
    much of a guess was right.
    """
    return ApiToken.objects.select_related("person").filter(key_hash=hash_token(raw)).first()
