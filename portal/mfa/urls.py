"""Two-factor URLs: the person's own below /accounts/mfa/, an organisation's policy below /o/."""

from django.urls import path

from portal.mfa import views

urlpatterns = [
    path("accounts/mfa/", views.setup, name="mfa-setup"),
    path("accounts/mfa/verify/", views.verify, name="mfa-verify"),
    path("accounts/mfa/disable/", views.disable, name="mfa-disable"),
    path("accounts/mfa/passkeys/", views.add_passkey, name="mfa-passkey-add"),
    path(
        "accounts/mfa/passkeys/<int:passkey_pk>/remove/",
        views.remove_passkey,
        name="mfa-passkey-remove",
    ),
    path(
        "accounts/mfa/recovery-codes/",
        views.regenerate_recovery_codes,
        name="mfa-recovery-codes",
    ),
    path(
        "o/<slug:org_slug>/security/",
        views.OrganisationSecurityView.as_view(),
        name="organisation-security",
    ),
]
