"""Creating, revoking and using personal API tokens."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.api.models import ApiToken
from portal.api.selectors import hash_token
from portal.audit.services import record_event
from portal.core.errors import ServiceError

TOKEN_PREFIX = "frp_"  # "firewall rollout portal": lets secret scanners recognise a leaked token
NAME_LIMIT = 100
# ``last_used_at`` is written at most this often per token, so reads do not all become writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_token(*, person, name: str) -> tuple[ApiToken, str]:
    """A new token for ``person`` (one audit event). Returns the row and the token itself, which
    exists nowhere else: the caller shows it once."""
    name = (name or "").strip()
    if not name:
        raise ServiceError("name", "Give the token a name, e.g. what will use it.")
    if len(name) > NAME_LIMIT:
        raise ServiceError("name", f"Keep the name under {NAME_LIMIT} characters.")
    prefix = f"{TOKEN_PREFIX}{secrets.token_hex(4)}"
    raw = f"{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            person=person, name=name, prefix=prefix, key_hash=hash_token(raw)
        )
        record_event(
            action="api_token.created",
            target=token,
            after={"name": token.name, "prefix": token.prefix},
        )
    return token, raw


def revoke_token(*, token: ApiToken) -> ApiToken:
    """Revoke a token for good (one audit event); revoking it again changes nothing."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            action="api_token.revoked",
            target=locked,
            before={"revoked_at": None},
            after={
                "name": locked.name,
                "prefix": locked.prefix,
                "revoked_at": str(locked.revoked_at),
            },
        )
    return locked


def mark_token_used(token: ApiToken) -> None:
    """Note that the token authenticated a request. Bookkeeping, not a change of state: no audit
    event, and at most one write per token and ``LAST_USED_RESOLUTION``."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
