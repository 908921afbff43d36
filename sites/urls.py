"""Site, rollout, probe and service profile pages, below /o/<org_slug>/ (the probe agent's poll,
outside any organisation, is in ``sites.agent_urls``)."""

from django.urls import path

from sites.views import (
    agent,
    analysis,
    dashboard,
    lifecycle,
    probes,
    profiles,
    rollouts,
    sites,
    transfer,
    wizard,
)

urlpatterns = [
    path("sites/", sites.SiteListView.as_view(), name="site-list"),
    # A new site: the step-by-step wizard, its live checks and rule preview (htmx), and the
    # same questions on one page.
    path("sites/new/", wizard.SiteWizardView.as_view(), name="site-create"),
    path("sites/new/check/", wizard.SiteWizardCheckView.as_view(), name="site-wizard-check"),
    path("sites/new/preview/", wizard.SiteWizardPreviewView.as_view(), name="site-wizard-preview"),
    path("sites/new/form/", sites.SiteCreateView.as_view(), name="site-create-form"),
    # The dashboard's bulk actions, import and export, and the page of a bulk job.
    path("sites/bulk/", dashboard.SiteBulkView.as_view(), name="site-bulk"),
    path("sites/jobs/<int:job_pk>/", dashboard.SiteJobView.as_view(), name="site-job"),
    path("sites/import/", transfer.SiteImportView.as_view(), name="site-import"),
    path("sites/export/", transfer.SiteExportView.as_view(), name="site-export"),
    path("sites/<int:site_pk>/", sites.SiteDetailView.as_view(), name="site-detail"),
    path("sites/<int:site_pk>/edit/", sites.SiteUpdateView.as_view(), name="site-update"),
    path(
        "sites/<int:site_pk>/regenerate/",
        sites.SiteRegenerateView.as_view(),
        name="site-regenerate",
    ),
    path(
        "sites/<int:site_pk>/instructions.<str:fmt>",
        sites.InstructionDownloadView.as_view(),
        name="instructions-download",
    ),
    path(
        "sites/<int:site_pk>/steps/<int:step_pk>/",
        rollouts.StepStateView.as_view(),
        name="step-state",
    ),
    path("sites/<int:site_pk>/probes/", probes.ProbeRunCreateView.as_view(), name="probe-start"),
    path(
        "sites/<int:site_pk>/probes/<int:run_pk>/",
        probes.ProbeRunDetailView.as_view(),
        name="probe-run",
    ),
    path(
        "sites/<int:site_pk>/probes/<int:run_pk>/check/",
        probes.ProbeRunCheckView.as_view(),
        name="probe-check",
    ),
    path("sites/<int:site_pk>/agent/", agent.AgentKeyView.as_view(), name="probe-agent"),
    path(
        "probe-client/obm_probe.py", probes.ProbeClientDownloadView.as_view(), name="probe-client"
    ),
    # "Check my current configuration" (issue #11): the form and the site's checks, one check
    # followed live, and marking a step already in place from its evidence.
    path(
        "sites/<int:site_pk>/analyses/", analysis.AnalysisListView.as_view(), name="analysis-list"
    ),
    path(
        "sites/<int:site_pk>/analyses/new/",
        analysis.AnalysisCreateView.as_view(),
        name="analysis-create",
    ),
    path(
        "sites/<int:site_pk>/analyses/<int:analysis_pk>/",
        analysis.AnalysisDetailView.as_view(),
        name="analysis-detail",
    ),
    path(
        "sites/<int:site_pk>/analyses/<int:analysis_pk>/steps/<int:step_pk>/",
        analysis.AnalysisMarkStepView.as_view(),
        name="analysis-mark-step",
    ),
    # A site's life after its first rollout (sites.views.lifecycle).
    path(
        "sites/<int:site_pk>/monitoring/",
        lifecycle.MonitoringAccessView.as_view(),
        name="site-monitoring",
    ),
    path(
        "sites/<int:site_pk>/monitoring/remove/",
        lifecycle.MonitoringRemoveView.as_view(),
        name="site-monitoring-remove",
    ),
    path(
        "sites/<int:site_pk>/decommission/",
        lifecycle.SiteDecommissionView.as_view(),
        name="site-decommission",
    ),
    path(
        "sites/<int:site_pk>/complete/",
        lifecycle.CompleteConfigurationView.as_view(),
        name="site-complete-configuration",
    ),
    path(
        "notices/<int:notice_pk>/dismiss/",
        lifecycle.NoticeDismissView.as_view(),
        name="notice-dismiss",
    ),
    path("profiles/", profiles.ServiceProfileListView.as_view(), name="profile-list"),
    path(
        "profiles/<int:profile_pk>/edit/",
        profiles.ServiceProfileUpdateView.as_view(),
        name="profile-update",
    ),
]
