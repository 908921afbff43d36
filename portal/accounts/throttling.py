"""Sign-in throttling: django-axes counts the failures; this module says what is counted and how a
lockout is answered.

Three doors count: the login form (axes listens to Django's ``user_login_failed``), the
password-reset form (by e-mail address and IP) and API tokens (by IP alone: a bad token names no
account). After ``LOGIN_FAILURE_LIMIT`` failures within ``LOGIN_LOCKOUT_MINUTES``, the username and
the IP address are each locked out on their own, until that long after their last counted failure
(or until support clears them, ``services.clear_lockout``). A locked-out request gets a 429 saying
how long to wait, as a page or, under /api/, as JSON; both with ``Retry-After``.
"""

import math
from datetime import datetime

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from portal.core.htmx import render_page_or_partial

TOO_MANY_REQUESTS = 429
API_PREFIX = "/api/"
LOCKOUT_TEMPLATE = "registration/locked_out.html"


def lockout_parameters(request_or_attempt, credentials: dict | None = None) -> list[str]:
    """By username and by IP address, each on its own (``AXES_LOCKOUT_PARAMETERS``). Without a
    username (an API token, an empty form) by IP only: else every such attempt in the world would
    add up under one empty username and lock it for everyone."""
    if isinstance(request_or_attempt, HttpRequest):
        username = get_client_username(request_or_attempt, credentials)
    else:
        username = request_or_attempt.username
    return ["username", "ip_address"] if username else ["ip_address"]


def api_token_credentials() -> dict:
    """The credentials under which a bearer-token attempt is counted: no username, so by IP."""
    return {"username": None}


def password_reset_credentials(email: str) -> dict:
    """A reset request is counted under its e-mail address (as a username) and its IP."""
    return {"username": email.strip().lower() or None}


def is_locked_out(request: HttpRequest, credentials: dict) -> bool:
    return not AxesProxyHandler.is_allowed(request, credentials)


def count_failure(request: HttpRequest, credentials: dict, *, sender: object) -> None:
    """Count one failure outside the login form (a reset request, a bad token). When it reaches
    the limit, axes marks ``request.axes_locked_out`` and its middleware answers 429."""
    AxesProxyHandler.user_login_failed(sender, credentials, request=request)


def lockout_ends_at(request: HttpRequest, credentials: dict | None) -> datetime | None:
    """When the latest of the request's lockouts (by username, by IP) ends; None if not locked."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    cool_off = get_cool_off(request)
    ends = []
    for attempts in handler.get_user_attempts(request, credentials):
        counted = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (counted["failures"] or 0) >= settings.AXES_FAILURE_LIMIT:
            ends.append(counted["last"] + cool_off)
    return max(ends, default=None)


def seconds_to_wait(request: HttpRequest, credentials: dict | None) -> int:
    ends_at = lockout_ends_at(request, credentials)
    if ends_at is None:  # cleared meanwhile: one full cool-off is the safe promise
        return int(get_cool_off(request).total_seconds())
    return max(1, math.ceil((ends_at - timezone.now()).total_seconds()))


def lockout_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins. Try again in {minutes} {unit}."


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 with the time to wait. It says nothing of whether the
    account exists: an unknown username is counted and locked exactly like a known one."""
    seconds = seconds_to_wait(request, credentials)
    message = lockout_message(seconds)
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {"detail": message, "retry_after": seconds}, status=TOO_MANY_REQUESTS
        )
    else:
        response = render_page_or_partial(
            request,
            LOCKOUT_TEMPLATE,
            "lockout",
            {"message": message, "retry_after": seconds},
            status=TOO_MANY_REQUESTS,
        )
    response["Retry-After"] = str(seconds)
    return response
