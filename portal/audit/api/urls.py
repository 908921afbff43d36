"""Audit API routes, below /api/o/<org_slug>/."""

from django.urls import path

from portal.audit.api import views

urlpatterns = [
    path("audit/", views.AuditEventListView.as_view(), name="api-audit-list"),
]
