"""A site's life after its first rollout: its monitoring access (end date, recertification,
removal), its decommissioning, and the complete configuration of a version whose rollout is a
plan. Thin: ``sites.services.expiry`` and ``sites.services.lifecycle`` write."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect
from django.views import View
from django.views.generic import TemplateView

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE
from portal.core.tenancy import OrganisationMixin
from sites.instructions import rollout_order
from sites.models import Lifecycle, PlanKind
from sites.selectors.lifecycle import monitoring_context, notice_for
from sites.services.expiry import recertify_monitoring, set_monitoring_expiry
from sites.services.lifecycle import decommission_site, remove_monitoring
from sites.services.notices import dismiss_notice
from sites.views.sites import SiteMixin


class _SiteChangeView(SiteMixin, TemplateView):
    permission = permissions.can_edit_sites

    def back(self, anchor: str = ""):
        response = redirect("site-detail", org_slug=self.organisation.slug, site_pk=self.site.pk)
        response["Location"] += anchor
        return response

    # Fields the page shows errors beside; others are shown above the form.
    fields: tuple[str, ...] = ()

    def refused(self, error: ServiceError, **context):
        general = [m for f, ms in error.errors.items() if f not in self.fields for m in ms]
        return self.render_to_response(
            self.get_context_data(
                errors=error.errors, general_errors=general, posted=self.request.POST, **context
            ),
            status=UNPROCESSABLE,
        )


class MonitoringAccessView(_SiteChangeView):
    """The monitoring access of a site: until when it runs; a new end date (tomorrow to the
    profile's period from today), or a recertification with a reason."""

    template_name = "sites/lifecycle/monitoring_access.html"
    fields = ("expires_on", "reason")

    def get_context_data(self, **kwargs):
        return super().get_context_data(**monitoring_context(self.site), **kwargs)

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        try:
            if action == "recertify":
                recertify_monitoring(
                    site=self.site, reason=request.POST.get("reason", ""), by=request.user
                )
                messages.success(
                    request,
                    f"Monitoring access recertified until {self.site.monitoring_expires_on:%Y-%m-%d}.",
                )
            elif action == "expiry":
                set_monitoring_expiry(
                    site=self.site,
                    expires_on=_date(request.POST.get("expires_on", "")),
                    by=request.user,
                )
                messages.success(
                    request,
                    f"Monitoring access now ends on {self.site.monitoring_expires_on:%Y-%m-%d}.",
                )
            else:
                raise ServiceError("action", "Choose “Recertify” or “Change the end date”.")
        except ServiceError as error:
            return self.refused(error)
        return self.back("#monitoring-access")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ServiceError("expires_on", "Enter a date as YYYY-MM-DD.") from None


class _RemovalView(_SiteChangeView):
    """A confirmation page, then a removal rollout (audited by the service)."""

    template_name = "sites/lifecycle/confirm_removal.html"
    scope = ""

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            scope=self.scope,
            decommissioned=self.site.lifecycle != Lifecycle.ACTIVE,
            **monitoring_context(self.site),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if request.POST.get("confirm") != "yes":
            return self.refused(ServiceError("confirm", "Tick the box to confirm."))
        try:
            instruction_set = self.remove(request.POST.get("reason", ""))
        except ServiceError as error:
            return self.refused(error)
        messages.success(
            request,
            f"Version {instruction_set.version} is the removal plan: follow its steps, then the "
            "closing check proves the ports closed.",
        )
        return self.back()


class MonitoringRemoveView(_RemovalView):
    scope = "monitoring"

    def remove(self, reason: str):
        return remove_monitoring(site=self.site, reason=reason, by=self.request.user)


class SiteDecommissionView(_RemovalView):
    scope = "all"

    def remove(self, reason: str):
        return decommission_site(site=self.site, reason=reason, by=self.request.user)


class CompleteConfigurationView(SiteMixin, TemplateView):
    """The complete instructions of the site's current version, for someone starting fresh:
    where its rollout follows a plan, the plan has only the changes."""

    permission = permissions.can_view_organisation
    template_name = "sites/lifecycle/complete_configuration.html"

    def get_context_data(self, **kwargs):
        current = self.site.current_instruction_set
        steps = []
        if current is not None and not (
            current.kind == PlanKind.REMOVAL and current.removal_scope == "all"
        ):
            steps = list(rollout_order(current.complete_rendered))
        return super().get_context_data(instruction_set=current, steps=steps, **kwargs)


class NoticeDismissView(OrganisationMixin, View):
    """An admin of the organisation puts a notice away (POST); the home page stops showing it."""

    permission = permissions.can_dismiss_notices

    def load_objects(self, **kwargs) -> None:
        self.notice = notice_for(self.organisation, kwargs["notice_pk"])

    def post(self, request, *args, **kwargs):
        dismiss_notice(notice_id=self.notice.pk, organisation=self.organisation, by=request.user)
        messages.success(request, f"Notice dismissed: {self.notice.subject}")
        return redirect("org-home", org_slug=self.organisation.slug)
