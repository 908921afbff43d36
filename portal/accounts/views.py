"""Organisation pages: home, clients, settings, members and invitations, lockouts, the
organisation switcher; and the personal pages (login, password change and reset, accepting an
invitation, one's sessions)."""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, TemplateView

from portal.accounts import invitations, permissions, services, session_records, throttling
from portal.accounts.forms import (
    ClearLockoutForm,
    ClientForm,
    InvitationForm,
    NewPersonForm,
    OrganisationForm,
    RoleChangeForm,
    SwitchOrganisationForm,
)
from portal.accounts.home import home_summary
from portal.accounts.models import Invitation, Membership, Organisation, Role
from portal.accounts.selectors import (
    client_organisations,
    current_lockouts,
    members_of,
    mfa_statuses,
    organisation_for,
    pending_invitations,
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
    """A new client organisation; with an e-mail, its first admin is invited at once."""

    permission = permissions.can_create_client_organisation
    form_class = ClientForm
    template_name = "accounts/client_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "siblings": self.organisation.clients.all()}

    def form_valid(self, form):
        try:
            client = invitations.create_client_inviting_its_admin(
                reseller=self.organisation,
                by=self.request.user,
                base_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        first_admin_email = form.cleaned_data["first_admin_email"]
        note = f" An invitation went to {first_admin_email}." if first_admin_email else ""
        messages.success(self.request, f"Client organisation “{client.name}” created.{note}")
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
    """Members with their role, last login and MFA; pending invitations; the invitation form."""

    permission = permissions.can_manage_members
    template_name = "accounts/member_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        roles = permissions.grantable_roles(actor, self.organisation)
        members = list(members_of(self.organisation))
        mfa = mfa_statuses([membership.user_id for membership in members])
        for membership in members:
            membership.mfa = mfa[membership.user_id]
            membership.changeable = permissions.can_change_member(actor, membership)
        context.update(
            members=members,
            invitations=pending_invitations(self.organisation),
            role_choices=[(role, Role(role).label) for role in roles],
            form=kwargs.get("form") or InvitationForm(roles=roles),
            read_only=False,  # an operator, read-only elsewhere, manages people here
            now=timezone.now(),
        )
        return context


class InvitationCreateView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    """Invite someone by e-mail, with a role the inviter may grant here."""

    permission = permissions.can_manage_members
    form_class = InvitationForm
    template_name = "accounts/invitation_form.html"

    def get_form_kwargs(self):
        roles = permissions.grantable_roles(self.request.actor, self.organisation)
        return {**super().get_form_kwargs(), "roles": roles}

    def form_valid(self, form):
        try:
            invitation = invitations.send_invitation(
                organisation=self.organisation,
                by=self.request.user,
                base_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ServiceError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Invitation sent to {invitation.email}.")
        return redirect("member-list", org_slug=self.organisation.slug)


class _MemberActionView(OrganisationMixin, View):
    """A POST on one member or invitation of the organisation; refusals come back as messages."""

    permission = permissions.can_manage_members

    def back(self):
        return redirect("member-list", org_slug=self.organisation.slug)

    def post(self, request, *args, **kwargs):
        try:
            note = self.act(request)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, note)
        return self.back()


class _OneMemberView(_MemberActionView):
    def load_objects(self, membership_pk, **kwargs):
        self.membership = get_object_or_404(
            Membership.objects.select_related("user", "organisation"),
            pk=membership_pk,
            organisation=self.organisation,
        )


class MemberRoleView(_OneMemberView):
    def act(self, request) -> str:
        form = RoleChangeForm(request.POST)
        if not form.is_valid():
            raise ServiceError("role", "Choose a role.")
        membership = services.change_member_role(
            membership=self.membership, role=form.cleaned_data["role"], by=request.user
        )
        return f"{membership.user.get_username()} is now {membership.get_role_display()}."


class MemberRemoveView(_OneMemberView):
    def act(self, request) -> str:
        services.remove_member(membership=self.membership, by=request.user)
        return f"{self.membership.user.get_username()} is no longer a member."


class MemberLogoutView(_OneMemberView):
    def act(self, request) -> str:
        ended = session_records.force_logout(membership=self.membership, by=request.user)
        return f"{self.membership.user.get_username()} was logged out ({ended} sessions ended)."


class _OneInvitationView(_MemberActionView):
    def load_objects(self, invitation_pk, **kwargs):
        self.invitation = get_object_or_404(
            Invitation.objects.select_related("organisation"),
            pk=invitation_pk,
            organisation=self.organisation,
        )


class InvitationResendView(_OneInvitationView):
    def act(self, request) -> str:
        invitations.resend_invitation(
            invitation=self.invitation,
            by=request.user,
            base_url=request.build_absolute_uri("/"),
        )
        return (
            f"Invitation sent again to {self.invitation.email}; the earlier link no longer works."
        )


class InvitationRevokeView(_OneInvitationView):
    def act(self, request) -> str:
        invitations.revoke_invitation(invitation=self.invitation, by=request.user)
        return f"Invitation of {self.invitation.email} revoked."


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


class InvitationAcceptView(View):
    """``/invitations/<token>/``: the organisation and role on offer. A signed-in person joins
    with one click; a newcomer sets a name and password; someone whose account holds the invited
    address logs in first. A link that cannot be used says why (400 or 410), never a 500."""

    template_name = "accounts/invitation_accept.html"

    def dispatch(self, request, token):
        try:
            self.opened = invitations.open_invitation(token)
        except invitations.InvitationRefused as refused:
            return self.refused(refused)
        self.token = token
        return super().dispatch(request, token)

    def refused(self, refused):
        return render(
            self.request,
            "refused.html",
            {
                "title": refused.title,
                "explanation": refused.explanation,
                "back_url": reverse("home"),
                "back_label": "Go to the portal",
            },
            status=refused.status,
        )

    def render_page(self, form=None, status=200):
        user = self.request.user
        context = {
            "invitation": self.opened.invitation,
            "role_label": Role(self.opened.invitation.role).label,
            "signed_in": user.is_authenticated,
            "must_log_in": not user.is_authenticated and self.opened.existing_account is not None,
            "form": form,
        }
        return render(self.request, self.template_name, context, status=status)

    def new_person_form(self, data=None):
        email = self.opened.invitation.email
        return NewPersonForm(get_user_model()(username=email, email=email), data)

    def get(self, request, token):
        show_form = not request.user.is_authenticated and self.opened.existing_account is None
        return self.render_page(form=self.new_person_form() if show_form else None)

    def post(self, request, token):
        try:
            if request.user.is_authenticated:
                person = invitations.accept_invitation(token=token, user=request.user)
            elif self.opened.existing_account is not None:
                return self.render_page(status=UNPROCESSABLE)
            else:
                form = self.new_person_form(request.POST)
                if not form.is_valid():
                    return self.render_page(form=form, status=UNPROCESSABLE)
                person = invitations.accept_invitation(
                    token=token,
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    password=form.cleaned_data["new_password1"],
                )
                login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        except invitations.InvitationRefused as refused:
            return self.refused(refused)
        organisation = self.opened.invitation.organisation
        messages.success(request, f"Welcome to {organisation.name}.")
        return redirect("org-home", org_slug=organisation.slug)


class SessionListView(LoginRequiredMixin, TemplateView):
    """Account › Sessions: where one is signed in; end one session or all the others."""

    template_name = "accounts/session_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sessions"] = session_records.active_sessions(self.request.user)
        context["current_key"] = self.request.session.session_key
        return context

    def post(self, request):
        current = request.session.session_key
        try:
            if request.POST.get("scope") == "others":
                ended = session_records.end_other_sessions(
                    user=request.user, keep_session_key=current, by=request.user
                )
                messages.success(request, f"Logged out everywhere else ({ended} sessions ended).")
            else:
                record_pk = request.POST.get("session", "")
                if not record_pk.isdigit():
                    raise ServiceError("session", "Choose a session to end.")
                session_records.end_session(
                    user=request.user,
                    record_pk=int(record_pk),
                    keep_session_key=current,
                    by=request.user,
                )
                messages.success(request, "Session ended.")
        except ServiceError as error:
            messages.error(request, error.message)
        return redirect("session-list")
