"""Single sign-on through a real OpenID Connect provider (``idp.py``, its own process): the whole
code flow through the test client, the provider's forms answered over HTTP as a browser would."""

import contextlib
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from portal.accounts.models import Membership, Role
from portal.audit.models import AuditEvent
from portal.sso import services
from portal.sso.models import SsoGrant, SsoIdentity
from portal.sso.providers import configured_providers
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

RESELLER_DOMAIN = [
    {
        "email_domain": "reseller-one.example",
        "organisation": "reseller-one",
        "role": "reseller_admin",
    }
]


def go_to_provider(client: Client, next_url: str = "") -> str:
    """The portal's first step: the provider's authorization URL it redirects to."""
    start = client.get("/accounts/sso/staff/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.content
    return start["Location"]


def answer_at_provider(authorize_url: str, username: str) -> str:
    """Sign in at the provider's form; the callback URL it sends the browser back to."""
    browser = requests.Session()
    assert browser.get(authorize_url, timeout=10).status_code == 200
    answer = browser.post(
        authorize_url, data={"username": username}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"].removeprefix("http://testserver")


def sign_in(client: Client, username: str, next_url: str = ""):
    return client.get(answer_at_provider(go_to_provider(client, next_url), username))


def person(idp, username="dana", email="dana@reseller-one.example", verified=True, **claims):
    idp.add_person(username, email=email, email_verified=verified, **claims)


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("id")


def test_the_code_flow_creates_the_account_its_mapping_grants(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp, given_name="Dana", family_name="Reyes")
    client = Client()
    authorize_url = go_to_provider(client)
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(f"{idp.url}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["nonce"] and query["state"] and query["scope"] == ["openid email profile"]

    response = client.get(answer_at_provider(authorize_url, "dana"))

    assert response.status_code == 302 and response["Location"] == "/"
    identity = SsoIdentity.objects.get(issuer=idp.url, subject="sub-dana")
    user = identity.user
    assert (user.username, user.email, user.first_name) == (
        "dana@reseller-one.example",
        "dana@reseller-one.example",
        "Dana",
    )
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role) == (world.reseller, Role.RESELLER_ADMIN)
    assert SsoGrant.objects.get(membership=membership).identity == identity
    login = events("sso.login").get()
    assert login.actor_user_id == user.pk and login.organisation == world.reseller
    assert login.after["provider"] == "staff"
    assert login.after["roles"] == {"reseller-one": "reseller_admin"}
    assert client.get("/o/reseller-one/").status_code == 200


def test_a_second_sign_in_is_the_same_account_and_follows_the_mapping(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    sign_in(Client(), "dana")
    use_sso(
        [
            {
                "email_domain": "reseller-one.example",
                "organisation": "customer-one",
                "role": "customer_viewer",
            }
        ]
    )

    response = sign_in(Client(), "dana")

    assert response.status_code == 302
    user = SsoIdentity.objects.get().user
    assert [(m.organisation.slug, m.role) for m in user.memberships.all()] == [
        ("customer-one", "customer_viewer")
    ]
    assert events("membership.removed").get().before["role"] == "reseller_admin"


def test_the_next_page_is_kept_across_the_provider(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    response = sign_in(Client(), "dana", next_url="/o/reseller-one/clients/")
    assert response["Location"] == "/o/reseller-one/clients/"
    assert sign_in(Client(), "dana", next_url="https://elsewhere.example/")["Location"] == "/"


def test_claims_map_to_roles(world, idp, use_sso):
    use_sso(
        [
            {
                "claim": "groups",
                "value": "portal-support",
                "organisation": world.provider.slug,
                "role": "support",
            },
            {
                "claim": "groups",
                "value": "portal-operators",
                "organisation": world.provider.slug,
                "role": "operator",
            },
        ]
    )
    person(idp, "olga", email="olga@backup.example", groups=["staff", "portal-support"])
    person(idp, "otto", email="otto@backup.example", groups=["portal-support", "portal-operators"])
    sign_in(Client(), "olga")
    sign_in(Client(), "otto")
    roles = {
        m.user.username: m.role
        for m in Membership.objects.filter(organisation=world.provider).exclude(
            user__in=world.people.values()
        )
    }
    # Never more than the mapping says; of two grants in one organisation, the stronger one.
    assert roles == {"olga@backup.example": "support", "otto@backup.example": "operator"}


@pytest.mark.parametrize(
    ("username", "email", "verified", "status", "text", "reason"),
    [
        ("uma", "uma@reseller-one.example", False, 403, "not verified", "email_unverified"),
        (
            "ned",
            "ned@elsewhere.example",
            True,
            403,
            "No access through single sign-on",
            "not_granted",
        ),
    ],
    ids=["unverified-email", "unmapped-domain"],
)
def test_a_person_the_mapping_does_not_admit_gets_a_clear_page(
    world, idp, use_sso, username, email, verified, status, text, reason
):
    use_sso(RESELLER_DOMAIN)
    person(idp, username, email=email, verified=verified)
    client = Client()
    response = sign_in(client, username)
    assert response.status_code == status
    assert text in response.content.decode()
    assert not SsoIdentity.objects.exists()
    assert not get_user_model().objects.filter(username=email).exists()
    assert events("sso.refused").get().after["reason"] == reason
    assert client.get("/o/reseller-one/").status_code == 302  # not signed in


def test_a_person_whose_mapping_no_longer_grants_anything_is_refused_and_loses_it(
    world, idp, use_sso
):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    sign_in(Client(), "dana")
    use_sso([])
    response = sign_in(Client(), "dana")
    assert response.status_code == 403
    assert "No access through single sign-on" in response.content.decode()
    assert not Membership.objects.filter(user__username="dana@reseller-one.example").exists()


def test_an_existing_account_is_linked_only_when_the_configuration_says_so(world, idp, use_sso):
    existing = UserFactory(username="dana", email="dana@reseller-one.example")
    MembershipFactory(user=existing, organisation=world.customer, role=Role.CUSTOMER_ADMIN)
    use_sso(RESELLER_DOMAIN)
    person(idp)
    refused = sign_in(Client(), "dana")
    assert refused.status_code == 409
    assert "Sign in with your password" in refused.content.decode()
    assert not SsoIdentity.objects.exists()

    use_sso(RESELLER_DOMAIN, link_existing_accounts=True)
    assert sign_in(Client(), "dana").status_code == 302
    assert SsoIdentity.objects.get().user == existing
    roles = {m.organisation.slug: m.role for m in existing.memberships.all()}
    # The invited membership stays as its administrator made it; the mapping's is added.
    assert roles == {"customer-one": "customer_admin", "reseller-one": "reseller_admin"}


def test_an_unverified_address_never_links_an_existing_account(world, idp, use_sso):
    UserFactory(username="dana", email="dana@reseller-one.example")
    use_sso(
        [
            {
                "claim": "groups",
                "value": "resellers",
                "organisation": "reseller-one",
                "role": "reseller_admin",
            }
        ],
        link_existing_accounts=True,
    )
    person(idp, verified=False, groups=["resellers"])
    response = sign_in(Client(), "dana")
    assert response.status_code == 403
    assert not SsoIdentity.objects.exists()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("bad_signature", "BadSignatureError"),
        ("wrong_nonce", "InvalidClaimError: invalid_claim: Invalid claim: 'nonce'"),
    ],
)
def test_an_id_token_that_does_not_verify_signs_nobody_in(world, idp, use_sso, fault, error):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    idp.misbehave(fault)
    client = Client()
    response = sign_in(client, "dana")
    assert response.status_code == 400
    assert "could not be verified" in response.content.decode()
    assert not SsoIdentity.objects.exists()
    assert "_auth_user_id" not in client.session
    failed = events("sso.failed").get()
    assert failed.after["provider"] == "staff"
    assert failed.after["error"].startswith(error), failed.after["error"]


def test_a_tampered_state_signs_nobody_in(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    client = Client()
    callback = answer_at_provider(go_to_provider(client), "dana")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = client.get(callback.replace(state, state[:-2] + "xx"))
    assert response.status_code == 400
    assert events("sso.failed").get().after["error"].startswith("MismatchingStateError")
    assert not SsoIdentity.objects.exists()
    # A callback from another browser (no state in its session) is refused just the same.
    assert Client().get(callback).status_code == 400


def test_a_callback_works_once(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp)
    client = Client()
    callback = answer_at_provider(go_to_provider(client), "dana")
    assert client.get(callback).status_code == 302
    again = Client()
    again.cookies = client.cookies
    assert again.get(callback).status_code == 400


def test_verification_failures_count_toward_the_address_lockout(world, idp, use_sso, settings):
    settings.AXES_FAILURE_LIMIT = 2
    use_sso(RESELLER_DOMAIN)
    person(idp)
    idp.misbehave("bad_signature")
    assert sign_in(Client(), "dana").status_code == 400
    assert sign_in(Client(), "dana").status_code == 429
    idp.misbehave("")
    locked = Client().get("/accounts/sso/staff/")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()


def test_a_locked_out_username_cannot_sign_in_through_the_provider(world, idp, use_sso, settings):
    settings.AXES_FAILURE_LIMIT = 2
    use_sso(RESELLER_DOMAIN)
    person(idp)
    assert sign_in(Client(), "dana").status_code == 302
    for _ in range(2):  # wrong passwords from other addresses lock the username
        Client(REMOTE_ADDR="198.51.100.7").post(
            "/accounts/login/", {"username": "dana@reseller-one.example", "password": "wrong"}
        )
    client = Client()
    response = sign_in(client, "dana")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_unreachable_provider_gets_a_page_not_an_error(world, use_sso, settings):
    use_sso(RESELLER_DOMAIN)
    settings.OIDC_PROVIDERS[0]["issuer"] = "http://127.0.0.1:9"  # discard: nothing listens
    response = Client().get("/accounts/sso/staff/")
    assert response.status_code == 502
    assert "Backup Co staff cannot be reached" in response.content.decode()


def test_the_login_page_offers_the_provider_only_when_configured(world, idp, use_sso):
    page = Client().get("/accounts/login/?next=/o/reseller-one/").content.decode()
    assert "Sign in with" not in page
    assert Client().get("/accounts/sso/staff/").status_code == 404
    assert Client().get("/accounts/sso/staff/callback/").status_code == 404

    use_sso(RESELLER_DOMAIN)
    page = Client().get("/accounts/login/?next=/o/reseller-one/").content.decode()
    assert "Sign in with Backup Co staff" in page
    assert 'href="/accounts/sso/staff/?next=/o/reseller-one/"' in page


@pytest.mark.mfa
def test_a_role_that_needs_mfa_is_asked_for_the_portals_code_by_default(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    person(idp, amr=["pwd", "mfa"])
    client = Client()
    sign_in(client, "dana")
    assert client.get("/o/reseller-one/")["Location"].startswith("/accounts/mfa/")
    assert events("sso.login").get().after["second_factor"] == "the portal's"


@pytest.mark.mfa
def test_the_providers_second_factor_counts_when_the_configuration_trusts_its_amr(
    world, idp, use_sso
):
    use_sso(RESELLER_DOMAIN, mfa_amr=["mfa", "hwk"])
    person(idp, amr=["pwd", "mfa"])
    person(idp, "piet", email="piet@reseller-one.example", amr=["pwd"])
    client = Client()
    sign_in(client, "dana")
    assert client.get("/o/reseller-one/").status_code == 200
    assert events("sso.login").get().after["second_factor"] == "at the provider"

    password_only = Client()
    sign_in(password_only, "piet")
    assert password_only.get("/o/reseller-one/")["Location"].startswith("/accounts/mfa/")

    # amr must be a list (RFC 8176): an id_token with anything else is refused whole.
    person(idp, "stan", email="stan@reseller-one.example", amr="mfa")
    assert sign_in(Client(), "stan").status_code == 400


def test_a_role_follows_the_mapping_but_an_organisation_keeps_its_last_admin(world, idp, use_sso):
    def mapping(sibling_role):
        return [
            *RESELLER_DOMAIN,
            {
                "email_domain": "reseller-one.example",
                "organisation": "customer-sibling",
                "role": sibling_role,
            },
            {
                "claim": "groups",
                "value": "helpdesk",
                "organisation": "customer-one",
                "role": "customer_viewer",
            },
            {
                "claim": "groups",
                "value": "leads",
                "organisation": "customer-one",
                "role": "customer_admin",
            },
        ]

    use_sso(mapping("customer_admin"))
    person(idp, groups=["helpdesk"])
    sign_in(Client(), "dana")
    person(idp, groups=["helpdesk", "leads"])
    use_sso(mapping("customer_viewer"))
    sign_in(Client(), "dana")

    user = SsoIdentity.objects.get().user
    roles = {m.organisation.slug: m.role for m in user.memberships.all()}
    # customer-one: viewer → admin. customer-sibling has no other admin: dana stays its admin.
    assert roles == {
        "reseller-one": "reseller_admin",
        "customer-one": "customer_admin",
        "customer-sibling": "customer_admin",
    }
    changed = events("membership.changed").get()
    assert (changed.before, changed.after["role"]) == (
        {"role": "customer_viewer"},
        "customer_admin",
    )


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_make_one_account(world, idp, use_sso, monkeypatch):
    """Both find no identity, then both create: the loser's insert fails on the unique username
    and its retry finds the winner's account. SQLite runs the two transactions one after the
    other (``transaction_mode`` IMMEDIATE), so the race exists only on PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises the two sign-ins; the race needs PostgreSQL")
    use_sso(RESELLER_DOMAIN)
    provider = configured_providers()["staff"]
    claims = {
        "iss": idp.url,
        "sub": "sub-dana",
        "email": "dana@reseller-one.example",
        "email_verified": True,
    }
    both_looked = threading.Barrier(2, timeout=10)
    create = services._account_for_new_identity

    def after_both_looked(*args):
        with contextlib.suppress(threading.BrokenBarrierError):  # the retry passes alone
            both_looked.wait(timeout=2)
        return create(*args)

    monkeypatch.setattr(services, "_account_for_new_identity", after_both_looked)
    outcomes = []

    def sign_in_once():
        try:
            outcomes.append(services.sign_in(provider=provider, claims=claims))
        finally:
            connection.close()

    tabs = [threading.Thread(target=sign_in_once) for _ in range(2)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=30)
    assert len(outcomes) == 2 and all(outcome.user is not None for outcome in outcomes)
    assert outcomes[0].user.pk == outcomes[1].user.pk
    assert SsoIdentity.objects.count() == 1
    assert Membership.objects.filter(user=outcomes[0].user).count() == 1


def test_cancelling_at_the_provider_is_a_page_not_a_counted_failure(world, idp, use_sso):
    use_sso(RESELLER_DOMAIN)
    client = Client()
    authorize_url = go_to_provider(client)
    answer = requests.post(authorize_url, data={"cancel": "1"}, allow_redirects=False, timeout=10)
    callback = answer.headers["Location"].removeprefix("http://testserver")
    assert "error=access_denied" in callback
    response = client.get(callback)
    assert response.status_code == 400
    assert "Backup Co staff did not sign you in (access_denied)" in response.content.decode()
    assert events("sso.failed").get().after == {"provider": "staff", "error": "access_denied"}
    assert not AccessAttempt.objects.exists()
