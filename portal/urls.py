"""URLs: sign-in, the core pages, and each app's ``urls``. Everything below an organisation
lives under /o/<org_slug>/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.accounts import views as accounts
from portal.core import views as core

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
    path("sessions/", accounts.SessionListView.as_view(), name="session-list"),
]

organisation_patterns = [
    path("", include("portal.accounts.urls")),
    path("", include("sites.urls")),
    path("audit/", include("portal.audit.urls")),
    path("", include("portal.jobs.urls")),
]

urlpatterns = [
    path("", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("", include("sites.agent_urls")),
    path("accounts/", include(auth_patterns)),
    path("accounts/sso/", include("portal.sso.urls")),  # single sign-on (OpenID Connect)
    path(
        "invitations/<str:token>/",
        accounts.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("", include("portal.mfa.urls")),  # /accounts/mfa/… and /o/<org_slug>/security/
    path("api/", include("portal.api.urls")),
    path("o/<slug:org_slug>/", include(organisation_patterns)),
]

handler400 = "portal.core.views.bad_request"
handler403 = "portal.core.views.permission_denied"
handler404 = "portal.core.views.page_not_found"
handler500 = "portal.core.views.server_error"
