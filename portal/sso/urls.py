"""Single sign-on, below /accounts/sso/ (portal/urls.py)."""

from django.urls import path

from portal.sso import views

urlpatterns = [
    path("<slug:provider_slug>/", views.start, name="sso-start"),
    path("<slug:provider_slug>/callback/", views.callback, name="sso-callback"),
]
