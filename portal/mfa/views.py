"""Two-factor pages: enrol and manage (/accounts/mfa/), the sign-in's second step
(/accounts/mfa/verify/), and an organisation's security page (/o/<org_slug>/security/: its
policy, and resetting a member's second factor)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from portal.accounts import throttling
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, UnprocessableOnInvalidMixin, add_service_error
from portal.core.tenancy import OrganisationMixin
from portal.mfa import services, totp
from portal.mfa.forms import CodeForm, ConfirmationForm, MfaPolicyForm, ResetMfaForm, VerifyForm
from portal.mfa.middleware import SESSION_VERIFIED, forget_second_factor_state
from portal.mfa.models import OrganisationMfaPolicy, RecoveryCode
from portal.mfa.permissions import can_reset_mfa, can_see_security, can_set_mfa_policy
from portal.mfa.policy import mfa_required
from portal.mfa.selectors import members_with_mfa
from portal.mfa.status import is_enrolled

SETUP_TEMPLATE = "mfa/setup.html"
RECOVERY_CODES_TEMPLATE = "mfa/recovery_codes.html"


def _setup_page(request, *, code_form=None, confirmation_form=None, status=200):
    user = request.user
    context = {"required": mfa_required(user), "enrolled": is_enrolled(user)}
    if context["enrolled"]:
        context["codes_left"] = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        context["confirmation_form"] = confirmation_form or ConfirmationForm()
    else:
        device = services.start_enrolment(user=user)
        uri = totp.provisioning_uri(device.secret, user.get_username())
        context.update(
            qr_svg=totp.qr_svg(uri), secret=totp.group(device.secret), form=code_form or CodeForm()
        )
    return render(request, SETUP_TEMPLATE, context, status=status)


@login_required
def setup(request):
    """Enrolment (a QR code and a first code), or, once on, recovery codes and switching off."""
    if request.method != "POST" or is_enrolled(request.user):
        return _setup_page(request)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            codes = services.confirm_enrolment(user=request.user, code=form.cleaned_data["code"])
        except ServiceError as error:
            add_service_error(form, error)
        else:
            request.session[SESSION_VERIFIED] = True  # this session has just proved the app
            return render(request, RECOVERY_CODES_TEMPLATE, {"codes": codes, "first_time": True})
    return _setup_page(request, code_form=form, status=UNPROCESSABLE)


def _count_failure_or_lock(request, credentials):
    """A wrong code counts toward the account's lockout like a wrong password."""
    throttling.count_failure(request, credentials, sender=__name__)
    if request.axes_locked_out:  # this failure reached the limit
        return throttling.lockout_response(request, credentials=credentials)
    return None


@login_required
@require_POST
def regenerate_recovery_codes(request):
    return _change_with_confirmation(request, services.regenerate_recovery_codes)


@login_required
@require_POST
def disable(request):
    return _change_with_confirmation(request, services.disable_mfa)


def _change_with_confirmation(request, service):
    if not is_enrolled(request.user):
        return redirect("mfa-setup")
    credentials = {"username": request.user.get_username()}
    if throttling.is_locked_out(request, credentials):
        return throttling.lockout_response(request, credentials=credentials)
    form = ConfirmationForm(request.POST)
    if form.is_valid():
        try:
            codes = service(user=request.user, confirmation=form.cleaned_data["confirmation"])
        except ServiceError as error:
            add_service_error(form, error)
            if locked := _count_failure_or_lock(request, credentials):
                return locked
        else:
            if codes:
                return render(request, RECOVERY_CODES_TEMPLATE, {"codes": codes})
            forget_second_factor_state(request)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("mfa-setup")
    return _setup_page(request, confirmation_form=form, status=UNPROCESSABLE)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe else "/"


@login_required
def verify(request):
    """The sign-in's second step: a code from the app or a recovery code. Wrong codes count
    toward the same lockout as wrong passwords; a locked account gets 429 here too."""
    if not is_enrolled(request.user) or request.session.get(SESSION_VERIFIED):
        return redirect(_next_url(request))
    credentials = {"username": request.user.get_username()}
    context = {"next": _next_url(request)}
    if request.method != "POST":
        return render(request, "mfa/verify.html", {**context, "form": VerifyForm()})
    if throttling.is_locked_out(request, credentials):
        return throttling.lockout_response(request, credentials=credentials)
    form = VerifyForm(request.POST)
    if form.is_valid():
        method = services.verify_second_factor(user=request.user, code=form.cleaned_data["code"])
        if method is not None:
            request.session.cycle_key()
            request.session[SESSION_VERIFIED] = True
            if method == "recovery_code":
                messages.warning(
                    request,
                    "You signed in with a recovery code; it cannot be used again. "
                    "Make new ones on the two-factor page if you are running low.",
                )
            return redirect(context["next"])
        readable = services.authenticator_readable(request.user)
        form.add_error("code", services.WRONG_CODE if readable else services.SECRET_UNREADABLE)
        if locked := _count_failure_or_lock(request, credentials):
            return locked
    return render(request, "mfa/verify.html", {**context, "form": form}, status=UNPROCESSABLE)


SECURITY_TEMPLATE = "mfa/organisation_security.html"


class OrganisationSecurityView(UnprocessableOnInvalidMixin, OrganisationMixin, FormView):
    """An organisation's security page: require two-factor authentication of every member (a
    customer's), and reset a member's second factor (a lost phone)."""

    permission = can_see_security
    form_class = MfaPolicyForm
    template_name = SECURITY_TEMPLATE

    def get_initial(self):
        policy = OrganisationMfaPolicy.objects.filter(organisation=self.organisation).first()
        return {"required": bool(policy and policy.required)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        actor = self.request.actor
        context["can_set_policy"] = can_set_mfa_policy(actor, self.organisation)
        if can_reset_mfa(actor, self.organisation) and "reset_form" not in context:
            context["reset_form"] = ResetMfaForm(members=members_with_mfa(self.organisation))
        return context

    def post(self, request, *args, **kwargs):
        if request.POST.get("action") == "reset":
            return self.reset_member()
        if not can_set_mfa_policy(request.actor, self.organisation):
            raise PermissionDenied("can_set_mfa_policy refused")
        return super().post(request, *args, **kwargs)

    def reset_member(self):
        if not can_reset_mfa(self.request.actor, self.organisation):
            raise PermissionDenied("can_reset_mfa refused")
        form = ResetMfaForm(self.request.POST, members=members_with_mfa(self.organisation))
        if not form.is_valid():
            policy_form = self.form_class(initial=self.get_initial())
            context = self.get_context_data(form=policy_form, reset_form=form)
            return self.render_to_response(context, status=UNPROCESSABLE)
        user = form.cleaned_data["member"].user
        services.reset_mfa(user=user, by=self.request.user, organisation=self.organisation)
        messages.success(
            self.request,
            f"Two-factor authentication of {user.get_username()} reset: they enrol again.",
        )
        return redirect("organisation-security", org_slug=self.organisation.slug)

    def form_valid(self, form):
        services.set_mfa_policy(
            organisation=self.organisation,
            required=form.cleaned_data["required"],
            by=self.request.user,
        )
        messages.success(self.request, "Security settings saved.")
        return redirect("organisation-security", org_slug=self.organisation.slug)
