"""URLs. Everything below an organisation lives under /o/<org_slug>/."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.accounts import views as accounts
from portal.core import views as core
from portal.jobs import views as jobs
from sites.views import agent, profiles

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
    path("", include("sites.urls")),
    path("profiles/", profiles.ServiceProfileListView.as_view(), name="profile-list"),
    path(
        "profiles/<int:profile_pk>/edit/",
        profiles.ServiceProfileUpdateView.as_view(),
        name="profile-update",
    ),
    path("audit/", include("portal.audit.urls")),
    path("system/", jobs.SystemHealthView.as_view(), name="system-health"),
    path("jobs/<int:job_pk>/", jobs.JobDetailView.as_view(), name="job-detail"),
]

urlpatterns = [
    path("", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    # The probe agent on a backup host asks here whether its site is due (sites.views.agent).
    path("probe-agent/runs/", agent.AgentPollView.as_view(), name="probe-agent-poll"),
    path("accounts/", include(auth_patterns)),
    path("api/", include("portal.api.urls")),
    path("o/<slug:org_slug>/", include(organisation_patterns)),
]

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"
