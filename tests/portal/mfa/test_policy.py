"""Who must use two-factor authentication: the required roles, and the members of an organisation
that requires it (only its members). They are sent to enrol before any other page."""

import pytest
from django.core.management import call_command
from django.test import Client

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.mfa.policy import mfa_required
from portal.mfa.services import set_mfa_policy
from portal.mfa.status import is_enrolled
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.portal.mfa.authenticator import current_code, enrol

SETUP = "/accounts/mfa/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.mfa
@pytest.mark.parametrize("role", [Role.RESELLER_ADMIN, Role.SUPPORT, Role.OPERATOR])
def test_required_roles_are_sent_to_enrolment(world, role):
    user = world.people[role]
    client = signed_in(user)
    home = f"/o/{user.memberships.get().organisation.slug}/"
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next=%2Fo%2F{home.split('/')[2]}%2F"
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "requires two-factor authentication" in page.content.decode()

    secret = page.context["secret"].replace(" ", "")
    assert client.post(SETUP, {"code": current_code(secret)}).status_code == 200
    assert client.get(home).status_code == 200  # this session proved the app while enrolling


@pytest.mark.mfa
@pytest.mark.parametrize("role", [Role.CUSTOMER_ADMIN, Role.CUSTOMER_VIEWER])
def test_customer_roles_are_not_required_by_default(world, role):
    assert not mfa_required(world.people[role])
    assert signed_in(world.people[role]).get(f"/o/{world.customer.slug}/").status_code == 200


@pytest.mark.django_db
def test_the_required_roles_follow_the_setting(world):
    """Outside tests marked ``mfa`` the setting is empty (tests/conftest.py)."""
    assert not mfa_required(world.people[Role.RESELLER_ADMIN])


def test_an_organisation_requires_it_of_its_members_only(world):
    client = signed_in(world.people[Role.CUSTOMER_ADMIN])
    page = client.post(f"/o/{world.customer.slug}/security/", {"required": "on"})
    assert page.status_code == 302

    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    assert viewer.get(f"/o/{world.customer.slug}/sites/").status_code == 302
    sibling_member = UserFactory()
    MembershipFactory(
        user=sibling_member, organisation=world.sibling_customer, role=Role.CUSTOMER_ADMIN
    )
    assert not mfa_required(sibling_member)
    assert signed_in(sibling_member).get(f"/o/{world.sibling_customer.slug}/").status_code == 200
    assert not mfa_required(world.people[Role.RESELLER_ADMIN])  # manages it, is not a member

    event = AuditEvent.objects.get(action="mfa.policy_changed")
    assert event.organisation_id == world.customer.pk
    assert (event.before, event.after) == ({"required": False}, {"required": True})


def test_only_those_who_manage_a_customer_set_its_policy(world):
    assert (
        signed_in(world.people[Role.CUSTOMER_VIEWER])
        .get(f"/o/{world.customer.slug}/security/")
        .status_code
        == 403
    )
    reseller_admin = signed_in(world.people[Role.RESELLER_ADMIN])
    assert reseller_admin.get(f"/o/{world.customer.slug}/security/").status_code == 200
    own = reseller_admin.get(f"/o/{world.reseller.slug}/security/")  # to reset its staff's
    assert own.status_code == 200
    assert "every member" not in own.content.decode()  # its roles require MFA already
    refused = reseller_admin.post(f"/o/{world.reseller.slug}/security/", {"required": "on"})
    assert refused.status_code == 403


def test_support_resets_a_lost_phone_with_the_command(world, capsys):
    user = world.people[Role.CUSTOMER_ADMIN]
    enrol(user)
    call_command("mfa_reset", user.username)
    assert not is_enrolled(user)
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.organisation_id == world.customer.pk
    assert event.source == "command"
    set_mfa_policy(organisation=world.customer, required=True)
    assert signed_in(user).get(f"/o/{world.customer.slug}/").status_code == 302


def test_a_new_requirement_reaches_sessions_already_signed_in(world):
    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    home = f"/o/{world.customer.slug}/"
    assert viewer.get(home).status_code == 200
    set_mfa_policy(organisation=world.customer, required=True)
    assert viewer.get(home).status_code == 200  # decided at sign-in, for a few minutes
    session = viewer.session
    session["mfa_nothing_needed_until"] = 0  # those minutes have passed
    session.save()
    assert viewer.get(home).status_code == 302


def test_the_last_second_factor_of_a_required_person_cannot_be_switched_off(world):
    user = world.people[Role.CUSTOMER_ADMIN]
    _, codes = enrol(user)
    set_mfa_policy(organisation=world.customer, required=True)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert client.post("/accounts/mfa/verify/", {"code": codes[0]}).status_code == 302
    assert client.get(f"/o/{world.customer.slug}/").status_code == 200
    refused = client.post("/accounts/mfa/disable/", {"confirmation": PASSWORD})
    assert refused.status_code == 422
    assert "this is your last second factor" in refused.content.decode()
    assert is_enrolled(user)
    assert not AuditEvent.objects.filter(action__in=["mfa.disabled", "mfa.failed"]).exists()
    assert client.get(f"/o/{world.customer.slug}/").status_code == 200


@pytest.mark.django_db
def test_the_reset_command_names_an_unknown_person():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No person with the username 'nobody'"):
        call_command("mfa_reset", "nobody")
