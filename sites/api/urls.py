"""Sites API routes, below /api/o/<org_slug>/."""

from django.urls import path

from sites.api import analysis, views

urlpatterns = [
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
    path(
        "sites/<int:site_pk>/analyses/",
        analysis.ConfigAnalysisListView.as_view(),
        name="api-analysis-list",
    ),
    path(
        "sites/<int:site_pk>/analyses/<int:analysis_pk>/",
        analysis.ConfigAnalysisDetailView.as_view(),
        name="api-analysis-detail",
    ),
]
