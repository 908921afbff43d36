"""Service profiles: the provider's operators edit the ports and datacenter networks."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import FormView, ListView

from portal.accounts import permissions
from portal.core.errors import ServiceError
from portal.core.forms import UnprocessableOnInvalidMixin, add_service_error
from portal.core.tenancy import OrganisationMixin
from sites.forms import ServiceProfileForm
from sites.selectors.profiles import profile_for, profiles_with_site_counts
from sites.services.profiles import update_service_profile


class ServiceProfileListView(OrganisationMixin, ListView):
    permission = permissions.can_view_service_profiles
    template_name = "sites/profile_list.html"
    context_object_name = "profiles"

    def get_queryset(self):
        return profiles_with_site_counts()


class ServiceProfileUpdateView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    permission = permissions.can_edit_service_profiles
    template_name = "sites/profile_form.html"
    form_class = ServiceProfileForm

    def load_objects(self, **kwargs) -> None:
        self.profile = profile_for(kwargs["profile_pk"])

    def get_initial(self):
        return ServiceProfileForm.initial_from(self.profile.as_data())

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            profile=self.profile, affected=self.profile.site_count, **kwargs
        )

    def form_valid(self, form):
        try:
            job = update_service_profile(
                profile=self.profile,
                data=form.to_data(),
                by=self.request.user,
                organisation=self.organisation,
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        if job is None:
            messages.info(self.request, "Nothing changed.")
            return redirect("profile-list", org_slug=self.organisation.slug)
        messages.success(
            self.request,
            f"Profile saved: re-deriving the instructions of {job.progress_total} sites.",
        )
        return redirect("job-detail", org_slug=self.organisation.slug, job_pk=job.pk)
