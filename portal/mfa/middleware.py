"""The second step of signing in, for every page: a signed-in person who has two-factor
authentication on must enter a code once per session, and one who must have it (``policy``) is
sent to enrol. Placed after authentication and axes in ``MIDDLEWARE``; the login view is unchanged.

What a session needs is remembered in it, so that an ordinary page costs no query: "verified" once
a code was entered, or "nothing needed" until ``RECHECK_SECONDS`` later (then an organisation's
new requirement, or an enrolment from another browser, reaches this session too).
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from portal.mfa.policy import mfa_required
from portal.mfa.status import is_enrolled

SESSION_VERIFIED = "mfa_verified"
SESSION_NOTHING_NEEDED_UNTIL = "mfa_nothing_needed_until"
RECHECK_SECONDS = 300


def needs_nothing(request: HttpRequest, user) -> bool:
    """Whether ``user``, signed in on this session, neither has nor must have a second factor;
    remembered in the session for ``RECHECK_SECONDS``."""
    if is_enrolled(user) or mfa_required(user):
        request.session.pop(SESSION_NOTHING_NEEDED_UNTIL, None)
        return False
    request.session[SESSION_NOTHING_NEEDED_UNTIL] = int(time.time()) + RECHECK_SECONDS
    return True


def forget_second_factor_state(request: HttpRequest) -> None:
    """After switching it off: the next page decides again (enrol again, if required)."""
    request.session.pop(SESSION_VERIFIED, None)
    request.session.pop(SESSION_NOTHING_NEEDED_UNTIL, None)


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._may_pass(request):
            return self.get_response(request)
        path = request.path
        if is_enrolled(request.user):
            if path == reverse("mfa-verify"):
                return self.get_response(request)
            return _send_to(request, "mfa-verify", "Confirm it is you with your second factor.")
        if path in (reverse("mfa-setup"), reverse("mfa-passkey-add")):  # enrolment's two ways
            return self.get_response(request)
        return _send_to(request, "mfa-setup", "Turn on two-factor authentication first.")

    def _may_pass(self, request) -> bool:
        if not request.user.is_authenticated:
            return True
        session = request.session
        if session.get(SESSION_VERIFIED):
            return True
        if session.get(SESSION_NOTHING_NEEDED_UNTIL, 0) > time.time():
            return True
        return request.path.startswith(_always_open_paths()) or needs_nothing(request, request.user)


def _always_open_paths() -> tuple[str, ...]:
    return (reverse("logout"), f"/{settings.STATIC_URL.lstrip('/')}", reverse("healthz"))


def _send_to(request, url_name: str, message: str):
    # A script's API call with the session's cookie (bearer tokens are no sessions): no redirect.
    if request.path.startswith("/api/") and not request.accepts("text/html"):
        return JsonResponse({"detail": message}, status=403)
    url = reverse(url_name)
    if request.method == "GET" and request.path != "/":
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    response = redirect(url)
    if getattr(request, "htmx", False):  # a whole-page move, not a swap of part of the page
        response["HX-Redirect"] = url
    return response
