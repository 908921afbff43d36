"""How the API knows who is calling: a personal token (``Authorization: Bearer <token>``), or the
browser's session (DRF's own ``SessionAuthentication``, which checks the CSRF token on writes;
both are listed in ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``, the token first).

A token authenticates as its person; from then on the permission module decides as it does for
the pages. Whoever authenticates is put into the audit context, so that events written during an
API request name the person (the request middleware already marked the source "api").

Each failed token counts toward the lockout of the caller's IP address (portal.accounts.throttling),
so tokens cannot be guessed at speed; a locked-out address gets 429 JSON with ``retry_after``.
"""

from rest_framework import authentication, exceptions

from portal.accounts import throttling
from portal.api.selectors import token_for_secret
from portal.api.services import mark_token_used
from portal.audit import context

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer frp_…``. No header: not this scheme (the session may apply). A bad,
    unknown or revoked token: 401 with a message saying which, counted against the caller's IP."""

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        # axes works on Django's request; its middleware turns a locked-out one into the 429.
        django_request, credentials = request._request, throttling.api_token_credentials()
        if throttling.is_locked_out(django_request, credentials):
            django_request.axes_locked_out = True
            raise exceptions.AuthenticationFailed("Too many failed sign-ins from this address.")
        try:
            return self._authenticate_token(parts)
        except exceptions.AuthenticationFailed:
            throttling.count_failure(django_request, credentials, sender=type(self))
            raise

    def _authenticate_token(self, parts: list[bytes]):
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
