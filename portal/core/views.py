"""Site-wide views: the landing redirect, health check, and the friendly error pages."""

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from portal.accounts.selectors import default_organisation, visible_organisations
from portal.audit.services import record_event
from portal.core.tenancy import acting_organisation

logger = logging.getLogger(__name__)


def home(request):
    """Send a person to the organisation they last worked in, else to their first one."""
    if not request.user.is_authenticated:
        return redirect("login")
    actor = request.actor
    active = request.session.get("active_org")
    organisation = None
    if active:
        organisation = visible_organisations(actor).filter(slug=active).first()
    organisation = organisation or default_organisation(actor)
    if organisation is None:
        return render(request, "core/no_membership.html", status=200)
    return redirect("org-home", org_slug=organisation.slug)


def healthz(request):
    """Liveness for load balancers: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _error_page(request, template, status):
    response = render(request, template, {"request_id": getattr(request, "id", "")}, status=status)
    return response


def permission_denied(request, exception=None):
    if request.user.is_authenticated:
        record_event(
            action="permission.denied",
            organisation=acting_organisation(request, request.actor),
            after={"path": request.path[:300]},
        )
    return _error_page(request, "403.html", 403)


def page_not_found(request, exception=None):
    return _error_page(request, "404.html", 404)


def server_error(request):
    # The traceback is logged by Django with the request id; the page shows only the id.
    try:
        return _error_page(request, "500.html", 500)
    except Exception:  # a broken template must not hide the id
        logger.exception("error page failed")
        return HttpResponse(
            f"Server error. Reference: {getattr(request, 'id', '')}",
            status=500,
            content_type="text/plain",
        )


def bad_request(request, exception=None):
    return _error_page(request, "400.html", 400)
