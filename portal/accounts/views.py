"""Organisation pages: home, clients, settings, members, lockouts, the organisation switcher;
and the sign-in pages (login, password change and reset)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView

from portal.accounts import permissions, services, throttling
from portal.accounts.forms import ClearLockoutForm, OrganisationForm, SwitchOrganisationForm
from portal.accounts.home import home_summary
from portal.accounts.models import Organisation
from portal.accounts.selectors import (
    client_organisations,
    current_lockouts,
    members_of,
    organisation_for,
)
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, UnprocessableOnInvalidMixin, add_service_error
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


class LockoutListView(OrganisationMixin, TemplateView):
    """Current sign-in lockouts, for the provider's support and operators; each can be cleared."""

    permission = permissions.can_manage_lockouts
    template_name = "accounts/lockout_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockouts"] = current_lockouts()
        context["read_only"] = False  # support, read-only elsewhere, clears lockouts here
        return context

    def post(self, request, *args, **kwargs):
        form = ClearLockoutForm(request.POST)
        if not form.is_valid():
            context = self.get_context_data(form=form)
            return self.render_to_response(context, status=UNPROCESSABLE)
        kind, value = form.cleaned_data["kind"], form.cleaned_data["value"]
        services.clear_lockout(**{kind: value}, by=request.user)
        label = "account" if kind == "username" else "address"
        messages.success(request, f"Lockout of {label} “{value}” cleared: it may sign in now.")
        return redirect("lockout-list", org_slug=self.organisation.slug)


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
    """Django's reset request, answering a bad e-mail address with 422. Each request counts
    toward the lockout of its address and its IP (throttling), so it cannot be used to flood a
    mailbox or to probe addresses at speed; the one that reaches the limit sends nothing."""

    def post(self, request, *args, **kwargs):
        credentials = throttling.password_reset_credentials(request.POST.get("email", ""))
        if throttling.is_locked_out(request, credentials):
            return throttling.lockout_response(request, credentials=credentials)
        throttling.count_failure(request, credentials, sender=type(self))
        if request.axes_locked_out:  # this request reached the limit
            return throttling.lockout_response(request, credentials=credentials)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(UnprocessableOnInvalidMixin, auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        record_event(action="auth.password_reset", by=form.user, target=form.user)
        return response
