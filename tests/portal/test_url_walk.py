"""Walk every URL pattern as every role and as anonymous; the permission module says what each gets.

Views below /o/<org_slug>/ declare ``permission``; the expected status is computed from it and from
the scoped selectors' rule (an organisation one may not see is a 404). A view that forgets its scoping
answers 200 or 403 where 404 is due, and fails here. A new pattern outside /o/ must be listed in
``PUBLIC_AND_PERSONAL`` with what each caller gets, or this test fails.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from portal.accounts import permissions
from portal.accounts.models import ROLES_BY_KIND, Invitation
from portal.accounts.permissions import Actor
from sites.models import ConfigAnalysis, Notice
from tests.factories import WebAuthnCredentialFactory
from tests.world import ROLES

ANONYMOUS = "anonymous"
CALLERS = [ANONYMOUS, *ROLES]


def walk_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


ALL_PATTERNS = list(walk_patterns())

# route → (status for anonymous, status for a signed-in person); URLs outside any organisation.
PUBLIC_AND_PERSONAL = {
    "": (302, 302),
    "healthz": (200, 200),
    "accounts/login/": (200, 302),
    "accounts/logout/": (405, 405),  # logging out is a POST
    "accounts/password/change/": (302, 200),
    "accounts/password/change/done/": (302, 200),
    "accounts/password/reset/": (200, 200),
    "accounts/password/reset/sent/": (200, 200),
    "accounts/password/reset/<uidb64>/<token>/": (200, 200),  # an invalid link explains itself
    "accounts/password/reset/complete/": (200, 200),
    "accounts/switch/": (302, 302),
    "accounts/sessions/": (302, 200),
    "invitations/<str:token>/": (400, 400),  # an unknown link explains itself
    # Single sign-on is not configured in the walk: no provider. Configured, in
    # test_single_sign_on_urls below and tests/portal/sso/.
    "accounts/sso/<slug:provider_slug>/": (404, 404),
    "accounts/sso/<slug:provider_slug>/callback/": (404, 404),
    "accounts/mfa/": (302, 200),
    "accounts/mfa/verify/": (302, 302),  # nobody here has two-factor on: back to where they were
    "accounts/mfa/disable/": (302, 405),  # a POST
    "accounts/mfa/recovery-codes/": (302, 405),  # a POST
    "accounts/mfa/passkeys/": (302, 405),  # adding a security key is a POST
    # A key of someone outside the world: nobody else may even see its page.
    "accounts/mfa/passkeys/<int:passkey_pk>/remove/": (302, 404),
    "api/schema/": (200, 200),
    "api/docs/": (200, 200),
    "api/tokens/": (302, 200),
    "api/tokens/<int:token_pk>/revoke/": (302, 405),  # revoking is a POST
    "probe-agent/runs/": (
        405,
        405,
    ),  # the probe agent POSTs, with its key (tests/sites/probes/test_agent.py)
}


def fill(route: str, values: dict) -> str:
    url = "/" + route
    for name, value in values.items():
        for converter in ("slug:", "int:", "str:", ""):
            url = url.replace(f"<{converter}{name}>", str(value))
    return url


def client_for(world, caller) -> Client:
    client = Client()
    if caller != ANONYMOUS:
        client.force_login(world.people[caller])
    return client


def site_of(world, organisation):
    """The organisation's own site, or (for organisations without one) another tenant's."""
    return world.sites.get(organisation.slug) or world.sites[world.other_customer.slug]


def related_object(world, organisation, name):
    """A value for a URL parameter after the organisation, and whether it belongs to it.

    Where the organisation has no such object, another tenant's is used: the view must 404.
    """
    if name == "job_pk":
        job = world.jobs.get(organisation.slug) or world.jobs[world.provider.slug]
        return job.pk, job.organisation_id == organisation.pk
    if name == "site_pk":
        site = site_of(world, organisation)
        return site.pk, site.organisation_id == organisation.pk
    if name == "step_pk":
        site = site_of(world, organisation)
        step = site.current_instruction_set.rollout.steps.first()
        return step.pk, site.organisation_id == organisation.pk
    if name == "version":
        site = site_of(world, organisation)
        return site.current_instruction_set.version, site.organisation_id == organisation.pk
    if name == "run_pk":
        site = site_of(world, organisation)
        run = world.probe_runs[site.organisation.slug]
        return run.pk, site.organisation_id == organisation.pk
    if name == "analysis_pk":
        site = site_of(world, organisation)
        analysis = ConfigAnalysis.objects.filter(
            site=site
        ).first() or ConfigAnalysis.objects.create(
            site=site, instruction_set=site.current_instruction_set, vendor=site.vendor
        )
        return analysis.pk, site.organisation_id == organisation.pk
    if name == "object_type":
        # Instruction sets have events of their own (instructions.generated) in every world.
        return "sites.instructionset", True
    if name == "object_id":
        # An object's history is in an organisation's audit scope when the organisation is the
        # provider (everything), the object's own organisation, or its reseller.
        site = site_of(world, organisation)
        in_scope = organisation.kind == "provider" or organisation.pk in {
            site.organisation_id,
            site.organisation.parent_id,
        }
        return site.current_instruction_set_id, in_scope
    if name == "notice_pk":
        notice = Notice.objects.get_or_create(
            organisation=organisation, subject="A notice to dismiss", body="…"
        )[0]
        return notice.pk, True
    if name == "profile_pk":
        return world.profile.pk, True  # profiles are the provider's; the permission decides
    if name == "fmt":
        return "md", True
    if name == "membership_pk":
        # Organisations without members of their own are given another tenant's membership.
        membership = organisation.memberships.first() or world.customer.memberships.first()
        return membership.pk, membership.organisation_id == organisation.pk
    if name == "invitation_pk":
        invitation = Invitation.objects.get_or_create(
            organisation=organisation,
            email=f"invited@{organisation.slug}.test",
            defaults={
                "role": ROLES_BY_KIND[organisation.kind][0],
                "token_hash": organisation.slug,
                "expires_at": timezone.now() + timedelta(days=1),
            },
        )[0]
        return invitation.pk, True
    if name == "provider_slug":
        return "staff", True  # an identity provider (single sign-on); none is configured here
    raise AssertionError(f"the URL walk does not know the parameter {name!r}: teach it")


def expected_status(world, caller, view_class, organisation, belongs: bool) -> int:
    if caller == ANONYMOUS:
        return getattr(view_class, "anonymous_status", 302)  # the API answers 401
    actor = Actor.for_user(world.people[caller])
    if not permissions.can_view_organisation(actor, organisation):
        return 404
    if not view_class.permission(actor, organisation):
        return 403
    if not belongs:
        return 404
    return 200 if hasattr(view_class, "get") else 405  # a POST-only action


def organisation_cases():
    for route, entry in ALL_PATTERNS:
        if "<slug:org_slug>" in route:
            yield pytest.param(route, entry, id=route)


def test_every_pattern_is_covered():
    outside = {route for route, _ in ALL_PATTERNS if "<slug:org_slug>" not in route}
    assert outside == set(PUBLIC_AND_PERSONAL), "list new URLs outside /o/ in PUBLIC_AND_PERSONAL"


@pytest.mark.parametrize("route", sorted(PUBLIC_AND_PERSONAL))
def test_public_and_personal_urls(world, route):
    someone_elses_key = WebAuthnCredentialFactory()
    values = {"uidb64": "MQ", "token": "set-password", "token_pk": 1, "provider_slug": "staff"}
    values["passkey_pk"] = someone_elses_key.pk
    for caller in CALLERS:
        url = fill(route, values)
        status = client_for(world, caller).get(url).status_code
        expected = PUBLIC_AND_PERSONAL[route][0 if caller == ANONYMOUS else 1]
        assert status == expected, f"{caller} GET {url}: {status}, expected {expected}"


@pytest.mark.parametrize(("route", "entry"), list(organisation_cases()))
def test_organisation_urls_follow_the_permission_module(world, route, entry):
    view_class = getattr(entry.callback, "view_class", None)
    assert view_class is not None, (
        f"{route}: organisation pages are class-based OrganisationMixin views"
    )
    assert getattr(view_class, "permission", None), (
        f"{route}: {view_class.__name__} declares no permission"
    )
    params = [p for p in entry.pattern.converters if p != "org_slug"]
    failures = []
    for caller in CALLERS:
        client = client_for(world, caller)
        for organisation in world.organisations:
            values = {"org_slug": organisation.slug}
            belongs = True
            for name in params:
                values[name], owned = related_object(world, organisation, name)
                belongs = belongs and owned
            url = fill(route, values)
            status = client.get(url).status_code
            expected = expected_status(world, caller, view_class, organisation, belongs)
            if status != expected:
                failures.append(f"{caller} GET {url}: {status}, expected {expected}")
            # Writes are refused exactly as reads are; a permitted write never answers 500.
            post_status = client.post(url, {}).status_code
            if expected in (302, 401, 403, 404):
                if post_status != expected:
                    failures.append(f"{caller} POST {url}: {post_status}, expected {expected}")
            elif post_status >= 500:
                failures.append(f"{caller} POST {url}: {post_status}")
    assert not failures, "\n".join(failures)


# With a provider configured (its address answers nothing here): starting is a page saying the
# provider cannot be reached (a signed-in person goes home instead), and a callback without the
# session's state is refused.
SINGLE_SIGN_ON_CONFIGURED = {
    "accounts/sso/<slug:provider_slug>/": (502, 302),
    "accounts/sso/<slug:provider_slug>/callback/": (400, 400),
}


@pytest.mark.parametrize("route", sorted(SINGLE_SIGN_ON_CONFIGURED))
def test_single_sign_on_urls(world, settings, route):
    settings.OIDC_PROVIDERS = [
        {
            "slug": "staff",
            "name": "Staff",
            "issuer": "http://127.0.0.1:9",  # discard: nothing listens
            "client_id": "portal",
            "client_secret": "secret",
        }
    ]
    for caller in CALLERS:
        url = fill(route, {"provider_slug": "staff"})
        status = client_for(world, caller).get(url).status_code
        expected = SINGLE_SIGN_ON_CONFIGURED[route][0 if caller == ANONYMOUS else 1]
        assert status == expected, f"{caller} GET {url}: {status}, expected {expected}"
        unknown = client_for(world, caller).get(fill(route, {"provider_slug": "other"}))
        assert unknown.status_code == 404
