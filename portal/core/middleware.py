"""Per-request context: the request id, where the request comes from, who is acting."""

import re

from django.http import JsonResponse
from django.utils.functional import SimpleLazyObject

from portal.accounts.permissions import Actor
from portal.api.pages import WebPageMixin
from portal.audit import context
from portal.audit.context import Source

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives every request an id (kept from ``X-Request-ID`` when well-formed) and an audit source."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else context.new_request_id()
        context.begin(
            source=Source.API if request.path.startswith("/api/") else Source.WEB,
            request_id=request.id,
            ip_address=request.META.get("REMOTE_ADDR") or None,
        )
        try:
            response = self.get_response(request)
        finally:
            context.clear_context()
        response["X-Request-ID"] = request.id
        return response


class ActorContextMiddleware:
    """After authentication: ``request.actor`` (permissions) and the person in the audit context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.actor = SimpleLazyObject(lambda: Actor.for_user(user))
        if user.is_authenticated:
            context.update(user_id=user.pk, actor_label=user.get_username())
        return self.get_response(request)


class ApiErrorMiddleware:
    """Below ``/api/``, a 404 or 405 is answered as JSON, like every other API error, whatever
    answered it (no route, Django's own views, a renderer negotiated for YAML or HTML). The
    personal token page, a web page with an /api/ URL, keeps the friendly error pages."""

    STATUSES = (404, 405)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in self.STATUSES
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
            and not _is_web_page(request)
        ):
            return _json_error(request, response)
        return response


def _is_web_page(request) -> bool:
    match = getattr(request, "resolver_match", None)
    view_class = getattr(match and match.func, "view_class", None)
    return view_class is not None and issubclass(view_class, WebPageMixin)


def _json_error(request, response) -> JsonResponse:
    if response.status_code == 404:
        return JsonResponse({"detail": "Not found."}, status=404)
    answer = JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405)
    if allow := response.get("Allow"):
        answer["Allow"] = allow
    return answer
