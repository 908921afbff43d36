"""Background job pages, below /o/<org_slug>/: system health and one job's progress."""

from django.urls import path

from portal.jobs import views

urlpatterns = [
    path("system/", views.SystemHealthView.as_view(), name="system-health"),
    path("jobs/<int:job_pk>/", views.JobDetailView.as_view(), name="job-detail"),
]
