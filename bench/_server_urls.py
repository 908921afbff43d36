"""The portal's URLs plus ``/bench/bare/``: the peer of the served benchmarks (bench/progress.py).

The bare view answers a tiny ``HttpResponse`` and does nothing else; every middleware of the
portal still runs around it (request id, session, CSRF, authentication, actor, messages, htmx).
It comes first, so URL resolution costs it as little as it can.
"""

from django.http import HttpResponse
from django.urls import path

from portal import urls as portal_urls


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *portal_urls.urlpatterns]

handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500
