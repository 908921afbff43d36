"""Resetting a member's second factor (a lost phone): by the organisation's admins and by the
provider's support, for the organisation's own members only; audited."""

import pytest
from django.test import Client

from portal.accounts.models import Role
from portal.audit.models import AuditEvent
from portal.mfa.status import is_enrolled
from tests.portal.mfa.authenticator import enrol


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reset(client, organisation, user):
    membership = user.memberships.filter(organisation=organisation).first()
    member = membership.pk if membership else 999_999
    return client.post(f"/o/{organisation.slug}/security/", {"action": "reset", "member": member})


def test_a_customer_admin_resets_a_member(world):
    viewer = world.people[Role.CUSTOMER_VIEWER]
    enrol(viewer)
    lost_phone = signed_in(viewer)  # a session on the lost device: signed in, asked for a code
    assert lost_phone.get("/accounts/sessions/")["Location"].startswith("/accounts/mfa/verify/")
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    page = admin.get(f"/o/{world.customer.slug}/security/")
    assert f"({viewer.username})" in page.content.decode()
    assert reset(admin, world.customer, viewer).status_code == 302
    assert not is_enrolled(viewer)
    event = AuditEvent.objects.get(action="mfa.reset")
    assert event.organisation_id == world.customer.pk
    assert event.actor_user_id == world.people[Role.CUSTOMER_ADMIN].pk
    assert event.object_id == str(viewer.pk)
    assert event.after["sessions_ended"] == 1
    assert lost_phone.get("/accounts/sessions/")["Location"].startswith("/accounts/login/")


def test_support_resets_anyone_a_viewer_nobody(world):
    operator = world.people[Role.OPERATOR]
    enrol(operator)
    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    assert reset(viewer, world.customer, world.people[Role.CUSTOMER_ADMIN]).status_code == 403
    support = signed_in(world.people[Role.SUPPORT])
    assert reset(support, world.provider, operator).status_code == 302
    assert not is_enrolled(operator)
    # Support sees the page of a customer but cannot change its policy.
    assert support.get(f"/o/{world.customer.slug}/security/").status_code == 200
    policy = support.post(f"/o/{world.customer.slug}/security/", {"required": "on"})
    assert policy.status_code == 403


@pytest.mark.parametrize("who", ["stranger", "not_enrolled"])
def test_only_members_with_two_factor_can_be_chosen(world, who):
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    stranger = world.people[Role.RESELLER_ADMIN]  # not a member of the customer
    enrol(stranger)
    target = stranger if who == "stranger" else world.people[Role.CUSTOMER_VIEWER]
    response = reset(admin, world.customer, target)
    assert response.status_code == 422
    assert "Member:" in response.content.decode()
    assert is_enrolled(stranger)
    assert not AuditEvent.objects.filter(action="mfa.reset").exists()
