"""Audit trail pages, below /o/<org_slug>/audit/."""
from django.urls import path

from portal.audit import views

urlpatterns = [
    path("", views.AuditEventListView.as_view(), name="audit-list"),
]
