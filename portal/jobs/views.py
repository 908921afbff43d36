"""System health: operators ping the worker fleet and watch the job finish, live, and see what
the configuration checks find (``portal.core.health``)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.generic import TemplateView

from portal.accounts import permissions
from portal.core.health import configuration_messages
from portal.core.htmx import render_page_or_partial
from portal.core.tenancy import OrganisationMixin
from portal.jobs import services
from portal.jobs.models import Job, JobKind


class SystemHealthView(OrganisationMixin, TemplateView):
    permission = permissions.can_run_system_checks
    template_name = "jobs/system_health.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["jobs"] = Job.objects.filter(
            organisation=self.organisation, kind=JobKind.HEALTH_PING
        ).select_related("created_by")[:20]
        context["configuration"] = configuration_messages()
        return context

    def post(self, request, *args, **kwargs):
        job = services.enqueue_health_ping(organisation=self.organisation, by=request.user)
        messages.info(request, f"Health ping #{job.pk} queued.")
        return redirect("job-detail", org_slug=self.organisation.slug, job_pk=job.pk)


class JobDetailView(OrganisationMixin, TemplateView):
    """A job's state; its ``status`` partial is polled every 2 s and stops (286) once finished."""

    permission = permissions.can_run_system_checks
    template_name = "jobs/job_detail.html"

    def load_objects(self, **kwargs) -> None:
        self.job = get_object_or_404(Job, pk=kwargs["job_pk"], organisation=self.organisation)

    def get(self, request, *args, **kwargs):
        context = self.get_context_data(job=self.job)
        return render_page_or_partial(
            request, self.template_name, "status", context, stop_polling=self.job.is_finished
        )
