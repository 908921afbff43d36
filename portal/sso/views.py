"""``/accounts/sso/<provider>/``: off to the identity provider; ``…/callback/``: back with a code.

Every way a sign-in can fail ends on a page that says why (never a 500): the provider cannot be
reached (502), the answer does not verify — state, nonce, signature, issuer, audience, expiry (400,
counted toward the address's sign-in lockout like a bad password), or the person is verified but
not given access (403/409, with the reason). A locked-out username or address gets the same 429
as the login form: single sign-on is no way around the lockout.
"""

import logging

import requests
from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from joserfc.errors import JoseError

from portal.accounts import throttling
from portal.audit.services import record_event
from portal.mfa.middleware import SESSION_VERIFIED
from portal.sso import services
from portal.sso.client import app_for
from portal.sso.providers import Provider, provider_or_none

logger = logging.getLogger(__name__)

SESSION_NEXT = "sso_next"
REFUSED_TEMPLATE = "refused.html"
# Counted toward the lockout by address alone: a forged answer names no account we could trust.
_BY_ADDRESS = {"username": None}
# What a broken or forged answer can raise: Authlib's protocol errors (state, error responses),
# the JOSE checks (signature, claims), and the HTTP calls to the provider.
_VERIFICATION_ERRORS = (
    AuthlibBaseError,
    JoseError,
    requests.RequestException,
    ValueError,
    KeyError,
)


def _provider(slug: str) -> Provider:
    provider = provider_or_none(slug)
    if provider is None:
        raise Http404("No such identity provider.")
    return provider


def _refused(request, provider: Provider, title: str, explanation: str, status: int):
    context = {
        "title": title,
        "explanation": explanation,
        "provider": provider,
        "back_url": reverse("login"),
        "back_label": "Back to the login page",
    }
    return render(request, REFUSED_TEMPLATE, context, status=status)


def _safe_next(request) -> str:
    candidate = request.GET.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def start(request, provider_slug: str):
    """Send the browser to the provider's authorization endpoint (state, nonce and the PKCE
    verifier stay in this session)."""
    provider = _provider(provider_slug)
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    if throttling.is_locked_out(request, _BY_ADDRESS):
        return throttling.lockout_response(request, credentials=_BY_ADDRESS)
    request.session[SESSION_NEXT] = _safe_next(request)
    callback = request.build_absolute_uri(reverse("sso-callback", args=[provider.slug]))
    try:
        app = app_for(provider)
        _check_issuer(app, provider)
        return app.authorize_redirect(request, callback)
    except _VERIFICATION_ERRORS as error:
        logger.warning("OIDC provider %s unreachable or misconfigured: %r", provider.slug, error)
        return _refused(
            request,
            provider,
            f"{provider.name} cannot be reached",
            "The portal could not read the identity provider's configuration. Try again in a "
            "few minutes, or sign in with your password.",
            status=502,
        )


def _check_issuer(app, provider: Provider) -> None:
    """OpenID Connect Discovery: the document must name the issuer it was fetched for."""
    issuer = app.load_server_metadata().get("issuer", "")
    if issuer.rstrip("/") != provider.issuer:
        raise ValueError(f"discovery names issuer {issuer!r}, expected {provider.issuer!r}")


def callback(request, provider_slug: str):
    """Check the provider's answer, then sign the person in with the memberships their mapping
    gives (``services.sign_in``)."""
    provider = _provider(provider_slug)
    if throttling.is_locked_out(request, _BY_ADDRESS):
        return throttling.lockout_response(request, credentials=_BY_ADDRESS)
    if "error" in request.GET and "code" not in request.GET:
        return _not_completed(request, provider)
    try:
        token = app_for(provider).authorize_access_token(request)
        claims = dict(token["userinfo"])
    except _VERIFICATION_ERRORS as error:
        return _verification_failed(request, provider, error)

    outcome = services.sign_in(provider=provider, claims=claims)
    if outcome.refusal is not None:
        refusal = outcome.refusal
        record_event(
            action="sso.refused",
            actor_label=str(claims.get("email") or claims["sub"]),
            after={
                "provider": provider.slug,
                "reason": refusal.reason,
                "email": str(claims.get("email", "")),
            },
        )
        return _refused(request, provider, refusal.title, refusal.explanation, refusal.status)

    user = outcome.user
    by_username = {"username": user.get_username()}
    if throttling.is_locked_out(request, by_username):
        return throttling.lockout_response(request, credentials=by_username)
    amr = claims.get("amr")  # RFC 8176: a list of strings; anything else counts for nothing
    second_factor_at_provider = isinstance(amr, list) and any(v in provider.mfa_amr for v in amr)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if second_factor_at_provider:
        request.session[SESSION_VERIFIED] = True  # the provider asked for it (docs/people.md)
    _record_login(provider, user, outcome, second_factor_at_provider)
    return redirect(request.session.pop(SESSION_NEXT, "") or settings.LOGIN_REDIRECT_URL)


def _not_completed(request, provider: Provider):
    """The provider sent the person back without signing them in (they cancelled, or it refused
    them): nothing to verify and nothing to count, only a page that says so."""
    error = request.GET.get("error", "")[:100]
    record_event(
        action="sso.failed",
        actor_label=provider.slug,
        after={"provider": provider.slug, "error": error},
    )
    return _refused(
        request,
        provider,
        "Single sign-on was not completed",
        f"{provider.name} did not sign you in ({error}). Start again from the login page, or "
        "sign in with your password.",
        status=400,
    )


def _verification_failed(request, provider: Provider, error: Exception):
    logger.warning("OIDC sign-in through %s failed verification: %r", provider.slug, error)
    record_event(
        action="sso.failed",
        actor_label=provider.slug,
        after={"provider": provider.slug, "error": f"{type(error).__name__}: {error}"[:300]},
    )
    throttling.count_failure(request, _BY_ADDRESS, sender=callback)
    if request.axes_locked_out:  # this failure reached the limit
        return throttling.lockout_response(request, credentials=_BY_ADDRESS)
    return _refused(
        request,
        provider,
        "Single sign-on did not work",
        f"The answer from {provider.name} could not be verified (it may have expired, or come "
        "from another browser window). Start again from the login page.",
        status=400,
    )


def _record_login(provider: Provider, user, outcome: services.Outcome, at_provider: bool) -> None:
    memberships = list(user.memberships.select_related("organisation"))
    record_event(
        action="sso.login",
        by=user,
        organisation=memberships[0].organisation if len(memberships) == 1 else None,
        target=user,
        after={
            "provider": provider.slug,
            "roles": outcome.roles,
            "second_factor": "at the provider" if at_provider else "the portal's",
        },
    )
