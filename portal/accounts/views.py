"""Organisation pages: home, clients, settings, members, and the organisation switcher."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from portal.accounts import permissions, services
from portal.accounts.forms import OrganisationForm, SwitchOrganisationForm
from portal.accounts.home import home_summary
from portal.accounts.models import Organisation
from portal.accounts.selectors import client_organisations, members_of, organisation_for
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.forms import UnprocessableOnInvalidMixin, add_service_error
from portal.core.tenancy import OrganisationMixin


class OrganisationHomeView(OrganisationMixin, TemplateView):
    """The home page of an organisation: its figures, recent sites and recent audit events."""

    permission = permissions.can_view_organisation

    def get_template_names(self):
        if self.organisation.is_customer:
            return ["accounts/home_customer.html"]
        return ["accounts/home_with_clients.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(home_summary(self.request.actor, self.organisation))
        context["show_audit"] = permissions.can_read_audit(self.request.actor, self.organisation)
        return context


class ClientListView(OrganisationMixin, TemplateView):
    permission = permissions.can_list_clients
    template_name = "accounts/client_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["clients"] = client_organisations(self.request.actor, self.organisation)
        return context


class ClientCreateView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    permission = permissions.can_create_client_organisation
    form_class = OrganisationForm
    template_name = "accounts/client_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "siblings": self.organisation.clients.all()}

    def form_valid(self, form):
        try:
            client = services.create_client_organisation(
                reseller=self.organisation, **form.cleaned_data
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Client organisation “{client.name}” created.")
        return redirect("org-home", org_slug=client.slug)


class OrganisationSettingsView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    permission = permissions.can_manage_organisation
    form_class = OrganisationForm
    template_name = "accounts/organisation_settings.html"

    def get_initial(self):
        return {"name": self.organisation.name, "contact_email": self.organisation.contact_email}

    def get_form_kwargs(self):
        siblings = Organisation.objects.filter(parent_id=self.organisation.parent_id)
        return {
            **super().get_form_kwargs(),
            "siblings": siblings,
            "exclude_pk": self.organisation.pk,
        }

    def form_valid(self, form):
        services.update_organisation(organisation=self.organisation, **form.cleaned_data)
        messages.success(self.request, "Organisation details saved.")
        return redirect("organisation-settings", org_slug=self.organisation.slug)


class MemberListView(OrganisationMixin, TemplateView):
    permission = permissions.can_manage_organisation
    template_name = "accounts/member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = members_of(self.organisation)
        return context


@login_required
def switch_organisation(request):
    """The switcher: a plain GET form, so it works without JavaScript."""
    form = SwitchOrganisationForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Choose an organisation to switch to.")
        return redirect("home")
    organisation = organisation_for(request.actor, form.cleaned_data["org"])
    return redirect("org-home", org_slug=organisation.slug)


class LoginView(UnprocessableOnInvalidMixin, auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(UnprocessableOnInvalidMixin, auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        record_event(action="auth.password_changed", target=self.request.user)
        return response


class PasswordResetView(UnprocessableOnInvalidMixin, auth_views.PasswordResetView):
    """Django's reset request, answering a bad e-mail address with 422."""


class PasswordResetConfirmView(UnprocessableOnInvalidMixin, auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        record_event(action="auth.password_reset", by=form.user, target=form.user)
        return response
