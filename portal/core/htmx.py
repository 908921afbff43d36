"""htmx conventions: partial or page from one template, 286 to stop polling, 422 for bad forms."""
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

# htmx stops polling when a response has this status.
HTMX_STOP_POLLING = 286


def render_page_or_partial(request, template, partial, context, *, status=200):
    """The named partial for an htmx request, the whole page otherwise; varies on HX-Request."""
    name = f"{template}#{partial}" if request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
