"""Two-factor pages: enrol and manage (/accounts/mfa/: the authenticator app, security keys and
passkeys, recovery codes), the sign-in's second step (/accounts/mfa/verify/), and an
organisation's security page (/o/<org_slug>/security/: its policy, and resetting a member's
second factor)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import FormView

from portal.accounts import throttling
from portal.core.errors import ServiceError
from portal.core.forms import UNPROCESSABLE, UnprocessableOnInvalidMixin, add_service_error
from portal.core.tenancy import OrganisationMixin
from portal.mfa import challenges, passkeys, services, totp
from portal.mfa.forms import (
    AssertionForm,
    CodeForm,
    ConfirmationForm,
    MfaPolicyForm,
    PasskeyForm,
    ResetMfaForm,
    VerifyForm,
)
from portal.mfa.middleware import SESSION_VERIFIED, forget_second_factor_state
from portal.mfa.models import OrganisationMfaPolicy, RecoveryCode, WebAuthnCredential
from portal.mfa.permissions import can_reset_mfa, can_see_security, can_set_mfa_policy
from portal.mfa.policy import mfa_required
from portal.mfa.selectors import members_with_mfa
from portal.mfa.status import has_totp, is_enrolled

SETUP_TEMPLATE = "mfa/setup.html"
RECOVERY_CODES_TEMPLATE = "mfa/recovery_codes.html"
REMOVE_PASSKEY_TEMPLATE = "mfa/remove_passkey.html"


def _setup_page(request, *, code_form=None, confirmation_form=None, passkey_form=None, status=200):
    user = request.user
    keys = list(WebAuthnCredential.objects.filter(user=user))
    rp = passkeys.relying_party()
    context = {
        "required": mfa_required(user),
        "has_app": has_totp(user),
        "passkeys": keys,
        "passkeys_usable": rp.usable,
        "rp": rp,
        "passkey_form": passkey_form or PasskeyForm(),
    }
    context["enrolled"] = context["has_app"] or bool(keys)
    if rp.usable:
        challenge = challenges.issue(request.session, challenges.REGISTRATION)
        context["registration_options"] = passkeys.registration_options(
            user=user, existing=keys, challenge=challenge
        )
    if context["enrolled"]:
        context["codes_left"] = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        context["confirmation_form"] = confirmation_form or ConfirmationForm(
            with_app=context["has_app"]
        )
    if not context["has_app"]:
        device = services.start_enrolment(user=user)
        uri = totp.provisioning_uri(device.secret, user.get_username())
        form = code_form or CodeForm()
        if context["enrolled"]:  # the app is an addition here, not the page's first step
            form.fields["code"].widget.attrs.pop("autofocus", None)
        context.update(qr_svg=totp.qr_svg(uri), secret=totp.group(device.secret), form=form)
    return render(request, SETUP_TEMPLATE, context, status=status)


def _show_first_recovery_codes(request, codes):
    request.session[SESSION_VERIFIED] = True  # this session has just proved its second factor
    return render(request, RECOVERY_CODES_TEMPLATE, {"codes": codes, "first_time": True})


@login_required
def setup(request):
    """The person's second factors: the authenticator app (a QR code and a first code), security
    keys and passkeys, and, once on, recovery codes and switching off."""
    if request.method != "POST" or has_totp(request.user):
        return _setup_page(request)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            codes = services.confirm_enrolment(user=request.user, code=form.cleaned_data["code"])
        except ServiceError as error:
            add_service_error(form, error)
        else:
            if codes:
                return _show_first_recovery_codes(request, codes)
            messages.success(request, "Your authenticator app is on.")
            return redirect("mfa-setup")
    return _setup_page(request, code_form=form, status=UNPROCESSABLE)


@login_required
@require_POST
def add_passkey(request):
    """Add a security key or passkey: the browser's answer to the registration challenge the
    setup page issued (single-use, taken out here whatever the outcome)."""
    challenge = challenges.take(request.session, challenges.REGISTRATION)
    form = PasskeyForm(request.POST)
    if form.is_valid():
        try:
            codes = services.register_passkey(
                user=request.user,
                name=form.cleaned_data["name"],
                response=form.cleaned_data["credential"],
                challenge=challenge,
            )
        except ServiceError as error:
            add_service_error(form, error)
        else:
            if codes:
                return _show_first_recovery_codes(request, codes)
            messages.success(
                request, f"Security key or passkey {form.cleaned_data['name']!r} added."
            )
            return redirect("mfa-setup")
    return _setup_page(request, passkey_form=form, status=UNPROCESSABLE)


@login_required
def remove_passkey(request, passkey_pk: int):
    """Remove a security key or passkey, after the password (or a code from the app)."""
    credential = get_object_or_404(WebAuthnCredential, pk=passkey_pk, user=request.user)
    context = {"credential": credential}
    if request.method != "POST":
        form = ConfirmationForm(with_app=has_totp(request.user))
        return render(request, REMOVE_PASSKEY_TEMPLATE, {**context, "form": form})
    credentials = {"username": request.user.get_username()}
    if throttling.is_locked_out(request, credentials):
        return throttling.lockout_response(request, credentials=credentials)
    form = ConfirmationForm(request.POST, with_app=has_totp(request.user))
    if form.is_valid():
        try:
            name = services.remove_passkey(
                user=request.user,
                credential_pk=credential.pk,
                confirmation=form.cleaned_data["confirmation"],
            )
        except ServiceError as error:
            add_service_error(form, error)
            if error.field == "confirmation" and (
                locked := _count_failure_or_lock(request, credentials)
            ):
                return locked
        else:
            if not is_enrolled(request.user):
                forget_second_factor_state(request)
            messages.success(request, f"Security key or passkey {name!r} removed.")
            return redirect("mfa-setup")
    return render(request, REMOVE_PASSKEY_TEMPLATE, {**context, "form": form}, status=UNPROCESSABLE)


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
    form = ConfirmationForm(request.POST, with_app=has_totp(request.user))
    if form.is_valid():
        try:
            codes = service(user=request.user, confirmation=form.cleaned_data["confirmation"])
        except ServiceError as error:
            add_service_error(form, error)
            if error.field == "confirmation" and (
                locked := _count_failure_or_lock(request, credentials)
            ):
                return locked
        else:
            if codes:
                return render(request, RECOVERY_CODES_TEMPLATE, {"codes": codes})
            if is_enrolled(request.user):
                messages.success(request, "Your authenticator app is removed.")
            else:
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


def _verify_page(request, *, form=None, assertion_form=None, status=200):
    """The second step's page; with security keys, a fresh single-use challenge for them."""
    user = request.user
    keys = list(WebAuthnCredential.objects.filter(user=user))
    context = {
        "next": _next_url(request),
        "form": form or VerifyForm(),
        "has_app": has_totp(user),
        "passkeys": keys,
    }
    if not context["has_app"]:  # only a recovery code can be typed here
        context["form"].fields["code"].help_text = "One of your recovery codes."
    if keys:
        context["form"].fields["code"].widget.attrs.pop("autofocus", None)  # the key comes first
        challenge = challenges.issue(request.session, challenges.AUTHENTICATION)
        context["assertion_form"] = assertion_form or AssertionForm()
        context["authentication_options"] = passkeys.authentication_options(
            credentials=keys, challenge=challenge
        )
    return render(request, "mfa/verify.html", context, status=status)


def _signed_in_with_second_factor(request):
    request.session.cycle_key()
    request.session[SESSION_VERIFIED] = True
    return redirect(_next_url(request))


@login_required
def verify(request):
    """The sign-in's second step: a security key or passkey, a code from the app or a recovery
    code. Failures of each count toward the same lockout as wrong passwords; a locked account
    gets 429 here too."""
    if not is_enrolled(request.user) or request.session.get(SESSION_VERIFIED):
        return redirect(_next_url(request))
    credentials = {"username": request.user.get_username()}
    if request.method != "POST":
        return _verify_page(request)
    if throttling.is_locked_out(request, credentials):
        return throttling.lockout_response(request, credentials=credentials)
    if "assertion" in request.POST:
        return _verify_passkey(request, credentials)
    form = VerifyForm(request.POST)
    if form.is_valid():
        method = services.verify_second_factor(user=request.user, code=form.cleaned_data["code"])
        if method is not None:
            if method == "recovery_code":
                messages.warning(
                    request,
                    "You signed in with a recovery code; it cannot be used again. "
                    "Make new ones on the two-factor page if you are running low.",
                )
            return _signed_in_with_second_factor(request)
        readable = services.authenticator_readable(request.user)
        form.add_error("code", services.WRONG_CODE if readable else services.SECRET_UNREADABLE)
        if locked := _count_failure_or_lock(request, credentials):
            return locked
    return _verify_page(request, form=form, status=UNPROCESSABLE)


def _verify_passkey(request, credentials):
    challenge = challenges.take(request.session, challenges.AUTHENTICATION)
    form = AssertionForm(request.POST)
    if form.is_valid():
        if services.verify_passkey(
            user=request.user, response=form.cleaned_data["assertion"], challenge=challenge
        ):
            return _signed_in_with_second_factor(request)
        message = services.PASSKEY_REFUSED if challenge else services.PASSKEY_EXPIRED
        form.add_error("assertion", message)
        if locked := _count_failure_or_lock(request, credentials):
            return locked
    return _verify_page(request, assertion_form=form, status=UNPROCESSABLE)


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
            f"Two-factor authentication of {user.get_username()} reset and their sessions ended: "
            "they sign in and enrol again.",
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
