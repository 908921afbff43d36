"""Template context every page needs: version, the actor, the organisation switcher, and whether
this request is answered with a partial (``wants_partial``: htmx, but not a history restore)."""

from django.conf import settings

from portal.accounts.selectors import switcher_organisations
from portal.core.htmx import wants_partial


def portal(request):
    actor = getattr(request, "actor", None)
    data = {
        "portal_version": settings.PORTAL_VERSION,
        "request_id": getattr(request, "id", ""),
        "wants_partial": wants_partial(request),
    }
    if actor is not None and actor.is_authenticated:
        data["actor"] = actor
        data["switcher_organisations"] = lambda: switcher_organisations(actor)
    return data
