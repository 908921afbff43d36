"""Organisation pages, below /o/<org_slug>/: home, clients, settings, members and their
invitations, lockouts."""

from django.urls import path

from portal.accounts import views

urlpatterns = [
    path("", views.OrganisationHomeView.as_view(), name="org-home"),
    path("clients/", views.ClientListView.as_view(), name="client-list"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client-create"),
    path("settings/", views.OrganisationSettingsView.as_view(), name="organisation-settings"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("members/invite/", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("members/<int:membership_pk>/role/", views.MemberRoleView.as_view(), name="member-role"),
    path(
        "members/<int:membership_pk>/remove/",
        views.MemberRemoveView.as_view(),
        name="member-remove",
    ),
    path(
        "members/<int:membership_pk>/logout/",
        views.MemberLogoutView.as_view(),
        name="member-logout",
    ),
    path(
        "members/invitations/<int:invitation_pk>/resend/",
        views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path(
        "members/invitations/<int:invitation_pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("lockouts/", views.LockoutListView.as_view(), name="lockout-list"),
]
