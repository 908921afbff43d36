"""Template context every page needs: version, the actor, the organisation switcher."""

from django.conf import settings

from portal.accounts.selectors import switcher_organisations


def portal(request):
    actor = getattr(request, "actor", None)
    data = {"portal_version": settings.PORTAL_VERSION, "request_id": getattr(request, "id", "")}
    if actor is not None and actor.is_authenticated:
        data["actor"] = actor
        data["switcher_organisations"] = lambda: switcher_organisations(actor)
    return data
