"""URLs. Everything below an organisation lives under /o/<org_slug>/."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.accounts import views as accounts
from portal.audit import views as audit
from portal.core import views as core
from portal.jobs import views as jobs
from sites.views import probes
from sites.views import profiles
from sites.views import rollouts
from sites.views import sites

auth_patterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("switch/", accounts.switch_organisation, name="switch-organisation"),
]

organisation_patterns = [
    path("", accounts.OrganisationHomeView.as_view(), name="org-home"),
    path("clients/", accounts.ClientListView.as_view(), name="client-list"),
    path("clients/new/", accounts.ClientCreateView.as_view(), name="client-create"),
    path("settings/", accounts.OrganisationSettingsView.as_view(), name="organisation-settings"),
    path("members/", accounts.MemberListView.as_view(), name="member-list"),
    path("sites/", sites.SiteListView.as_view(), name="site-list"),
    path("sites/new/", sites.SiteCreateView.as_view(), name="site-create"),
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
    path("probe-client/obm_probe.py", probes.ProbeClientDownloadView.as_view(), name="probe-client"),
    path("profiles/", profiles.ServiceProfileListView.as_view(), name="profile-list"),
    path(
        "profiles/<int:profile_pk>/edit/",
        profiles.ServiceProfileUpdateView.as_view(),
        name="profile-update",
    ),
    path("audit/", audit.AuditEventListView.as_view(), name="audit-list"),
    path("system/", jobs.SystemHealthView.as_view(), name="system-health"),
    path("jobs/<int:job_pk>/", jobs.JobDetailView.as_view(), name="job-detail"),
]

urlpatterns = [
    path("", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("accounts/", include(auth_patterns)),
    path("o/<slug:org_slug>/", include(organisation_patterns)),
]

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"
