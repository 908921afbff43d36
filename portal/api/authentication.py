"""How the API knows who is calling: a personal token (``Authorization: Bearer <token>``), or the
browser's session (DRF's own ``SessionAuthentication``, which checks the CSRF token on writes;
both are listed in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``, the token first).

A token authenticates as its person; from then on the permission module decides as it does for
the pages. Whoever authenticates is put into the audit context, so that events written during an
API request name the person (the request middleware already marked the source "api").
"""

from rest_framework import authentication, exceptions

from portal.api.selectors import token_for_secret
from portal.api.services import mark_token_used
from portal.audit import context

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer frp_…``. No header: not this scheme (the session may apply). A bad,
    unknown or revoked token: 401 with a message saying which."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected “Bearer <token>”, "
                "the token without spaces."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                "Malformed token: it has characters no token has."
            ) from None
        token = token_for_secret(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown API token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This API token ({token.prefix}…) was revoked; create a new one at /api/tokens/."
            )
        person = token.person
        if not person.is_active:
            raise exceptions.AuthenticationFailed("The account this token belongs to is disabled.")
        mark_token_used(token)
        context.update(user_id=person.pk, actor_label=person.get_username())
        return person, token

    def authenticate_header(self, request) -> str:
        # Makes an unauthenticated request a 401 (with this challenge) rather than a 403.
        return f'{KEYWORD} realm="api"'
