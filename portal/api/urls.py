"""API routes, below /api/: the schema, its Swagger UI, the token page, and everything of an
organisation below /api/o/<org_slug>/ (the same tenancy as the pages' /o/<org_slug>/)."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal.api import views

organisation_patterns = [
    path("sites/", views.SiteListView.as_view(), name="api-site-list"),
    path("sites/<int:site_pk>/", views.SiteDetailView.as_view(), name="api-site-detail"),
    path(
        "sites/<int:site_pk>/instruction-sets/",
        views.InstructionSetListView.as_view(),
        name="api-instruction-set-list",
    ),
    path(
        "sites/<int:site_pk>/instruction-sets/<int:version>/",
        views.InstructionSetDetailView.as_view(),
        name="api-instruction-set-detail",
    ),
    path("sites/<int:site_pk>/steps/", views.RolloutStepListView.as_view(), name="api-step-list"),
    path(
        "sites/<int:site_pk>/steps/<int:step_pk>/",
        views.RolloutStepDetailView.as_view(),
        name="api-step-detail",
    ),
    path(
        "sites/<int:site_pk>/probes/", views.ProbeRunListView.as_view(), name="api-probe-run-list"
    ),
    path(
        "sites/<int:site_pk>/probes/<int:run_pk>/",
        views.ProbeRunDetailView.as_view(),
        name="api-probe-run-detail",
    ),
    path("audit/", views.AuditEventListView.as_view(), name="api-audit-list"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("tokens/", views.TokenListView.as_view(), name="api-tokens"),
    path("tokens/<int:token_pk>/revoke/", views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("o/<slug:org_slug>/", include(organisation_patterns)),
]
