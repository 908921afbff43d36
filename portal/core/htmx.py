"""htmx conventions: partial or page from one template, 286 to stop polling, 422 for bad forms."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

# htmx stops polling when a response has this status.
HTMX_STOP_POLLING = 286


def wants_partial(request: HttpRequest) -> bool:
    """Whether the request swaps part of a page: an htmx request, but not a history restore
    (htmx fetching a page it kept no snapshot of wants the whole page, as django-htmx says)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_partial(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict,
    *,
    status: int = 200,
    stop_polling: bool = False,
) -> HttpResponse:
    """The named partial for a partial request (``wants_partial``), the whole page otherwise;
    varies on HX-Request. ``stop_polling`` answers a partial with 286, which ends htmx polling
    (a whole page keeps ``status``)."""
    partial_request = wants_partial(request)
    if partial_request and stop_polling:
        status = HTMX_STOP_POLLING
    name = f"{template}#{partial}" if partial_request else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
