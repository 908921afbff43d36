"""Per-request context: the request id, where the request comes from, who is acting."""

import re

from django.utils.functional import SimpleLazyObject

from portal.accounts.permissions import Actor
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
