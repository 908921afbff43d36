"""WSGI entry point."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - every view module imported now, not on a first request

# What is loaded by now (modules, settings, URL patterns, vendor renderers) lives as long as the
# process: out of the collector's reach, a full collection no longer walks it. Without this, one
# request in a few hundred paid 65 ms for such a pass (docs/benchmarks.md, dashboard at 100,000
# sites). With a preloading server it also keeps those pages shared after the fork.
gc.freeze()
