"""Settings for benchmarks that serve the portal over HTTP (bench/progress.py).

The portal's own settings, read from the environment exactly as in production, with one change:
the URLconf adds a bare view (``bench._server_urls``) beside the product's URLs, so the peer runs
through the same server, settings and middleware stack. Never used by the portal itself.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench._server_urls"
