"""Organisation pages, below /o/<org_slug>/: home, clients, settings, members, lockouts."""

from django.urls import path

from portal.accounts import views

urlpatterns = [
    path("", views.OrganisationHomeView.as_view(), name="org-home"),
    path("clients/", views.ClientListView.as_view(), name="client-list"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client-create"),
    path("settings/", views.OrganisationSettingsView.as_view(), name="organisation-settings"),
    path("members/", views.MemberListView.as_view(), name="member-list"),
    path("lockouts/", views.LockoutListView.as_view(), name="lockout-list"),
]
