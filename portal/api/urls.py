"""API routes, below /api/: the schema, its Swagger UI, the token page, and each app's API of an
organisation below /api/o/<org_slug>/ (the same tenancy as the pages' /o/<org_slug>/)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.api import pages

organisation_patterns = [
    path("", include("sites.api.urls")),
    path("", include("portal.audit.api.urls")),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own: no inline script (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("tokens/", pages.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:token_pk>/revoke/", pages.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("o/<slug:org_slug>/", include(organisation_patterns)),
]
