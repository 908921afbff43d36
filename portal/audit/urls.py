"""Audit trail pages, below /o/<org_slug>/audit/."""

from django.urls import path

from portal.audit import views

urlpatterns = [
    path("", views.AuditEventListView.as_view(), name="audit-list"),
    path(
        "export.csv",
        views.AuditExportView.as_view(export_format="csv"),
        name="audit-export-csv",
    ),
    path(
        "export.json",
        views.AuditExportView.as_view(export_format="json"),
        name="audit-export-json",
    ),
    path("site/<int:site_pk>/", views.SiteTimelineView.as_view(), name="audit-site-timeline"),
    path(
        "object/<str:object_type>/<str:object_id>/",
        views.AuditObjectHistoryView.as_view(),
        name="audit-object-history",
    ),
]
