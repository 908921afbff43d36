"""Service profiles: the provider's operators edit the ports and datacenter networks.

An edit is announced before it lands: the form's first post shows the impact (which profile
fields change, how many sites get steps to change, a sample change plan) and asks for a reason
and a confirmation; the confirmation carries the preview's signed token, so a preview that went
stale (someone saved the profile meanwhile) or a form changed after it is refused and shown
again (``sites.services.profiles``).
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import FormView, ListView

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, UnprocessableOnInvalidMixin, add_service_error
from portal.core.tenancy import OrganisationMixin
from sites.forms import ServiceProfileForm
from sites.selectors.profiles import profile_for, profiles_with_site_counts
from sites.services.profiles import (
    STALE_PREVIEW,
    preview_profile_change,
    update_service_profile,
)


class ServiceProfileListView(OrganisationMixin, ListView):
    permission = permissions.can_view_service_profiles
    template_name = "sites/profile_list.html"
    context_object_name = "profiles"

    def get_queryset(self):
        return profiles_with_site_counts()


class ServiceProfileUpdateView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    permission = permissions.can_edit_service_profiles
    template_name = "sites/profile_form.html"
    preview_template_name = "sites/profile_preview.html"
    form_class = ServiceProfileForm

    def load_objects(self, **kwargs) -> None:
        self.profile = profile_for(kwargs["profile_pk"])

    def get_initial(self):
        return {
            **ServiceProfileForm.initial_from(self.profile.as_data()),
            "monitoring_access_months": self.profile.monitoring_access_months,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            profile=self.profile, affected=self.profile.site_count, **kwargs
        )

    def post(self, request, *args, **kwargs):
        if "back" in request.POST:  # from the preview: the form again, as it was posted
            return self.render_to_response(self.get_context_data(form=self.get_form()))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data, months = form.to_data(), form.cleaned_data["monitoring_access_months"]
        try:
            impact = preview_profile_change(
                profile=self.profile, data=data, monitoring_access_months=months
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        if "confirm" not in self.request.POST:
            return self.preview(form, impact)
        if impact.is_empty:
            messages.info(self.request, "Nothing changed.")
            return redirect("profile-list", org_slug=self.organisation.slug)
        reason = self.request.POST.get("reason", "")
        try:
            job = update_service_profile(
                profile=self.profile,
                data=data,
                monitoring_access_months=months,
                reason=reason,
                preview_token=self.request.POST.get("token", ""),
                by=self.request.user,
                organisation=self.organisation,
            )
        except ServiceError as error:
            stale = error.errors.get("") == [STALE_PREVIEW]
            return self.preview(
                form, impact, errors=error.errors, reason=reason, status=UNPROCESSABLE, stale=stale
            )
        if job is None:
            messages.success(self.request, "Profile saved: no site's instructions change.")
            return redirect("profile-list", org_slug=self.organisation.slug)
        messages.success(
            self.request,
            f"Profile saved: re-deriving the instructions of {job.progress_total} sites; "
            f"{impact.affected_count} get steps to change and their people are told why.",
        )
        return redirect("job-detail", org_slug=self.organisation.slug, job_pk=job.pk)

    def preview(self, form, impact, *, errors=None, reason="", status=200, stale=False):
        """The impact of the posted change, its form carried in hidden fields, the reason and
        the confirmation (a stale confirmation: the fresh impact, and why it was refused)."""
        context = self.get_context_data(
            form=form,
            impact=impact,
            reason=reason,
            reason_errors=(errors or {}).get("reason", []),
            errors=[] if stale else (errors or {}).get("", []),
            stale=stale,
        )
        return self.response_class(
            request=self.request,
            template=[self.preview_template_name],
            context=context,
            using=self.template_engine,
            status=status,
        )
