"""Members: changing roles, removing members, the last-admin rule, and that a removed person
loses the organisation at once, on pages and through API tokens."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from portal.accounts.models import Membership, Role
from portal.api.services import create_token
from portal.audit.models import AuditEvent
from tests.factories import MembershipFactory, TotpDeviceFactory, UserFactory


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def membership_of(world, role) -> Membership:
    return Membership.objects.get(user=world.people[role])


def post(client, organisation, membership, action, data=None):
    return client.post(f"/o/{organisation.slug}/members/{membership.pk}/{action}/", data or {})


def test_the_members_page_shows_last_login_and_mfa(world):
    page = signed_in(world.people[Role.CUSTOMER_ADMIN]).get(f"/o/{world.customer.slug}/members/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "Last login" in content and "MFA" in content
    assert "customer_viewer@example.test" in content


def test_an_admin_changes_a_members_role_and_it_is_audited(world):
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    viewer = membership_of(world, Role.CUSTOMER_VIEWER)
    response = post(admin, world.customer, viewer, "role", {"role": Role.CUSTOMER_ADMIN})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.role == Role.CUSTOMER_ADMIN
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.before["role"] == "customer_viewer" and event.after["role"] == "customer_admin"
    assert event.organisation == world.customer


def test_no_role_foreign_to_the_organisation_or_above_ones_own(world):
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    viewer = membership_of(world, Role.CUSTOMER_VIEWER)
    for role in (Role.RESELLER_ADMIN, Role.OPERATOR, "nonsense"):
        response = post(admin, world.customer, viewer, "role", {"role": role})
        assert response.status_code == 302
        assert {m.level_tag for m in get_messages(response.wsgi_request)} == {"error"}
    viewer.refresh_from_db()
    assert viewer.role == Role.CUSTOMER_VIEWER


def test_a_viewer_changes_nobody(world):
    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    admin = membership_of(world, Role.CUSTOMER_ADMIN)
    assert (
        post(viewer, world.customer, admin, "role", {"role": "customer_viewer"}).status_code == 403
    )
    assert post(viewer, world.customer, admin, "remove").status_code == 403
    assert post(viewer, world.customer, admin, "logout").status_code == 403


def test_another_organisations_member_is_a_404(world):
    other = MembershipFactory(
        user=UserFactory(), organisation=world.sibling_customer, role=Role.CUSTOMER_VIEWER
    )
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    assert post(admin, world.customer, other, "remove").status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_the_last_admin_can_be_neither_demoted_nor_removed(world, action):
    admin_user = world.people[Role.CUSTOMER_ADMIN]
    admin = membership_of(world, Role.CUSTOMER_ADMIN)
    client = signed_in(world.people[Role.RESELLER_ADMIN])
    if action == "demote":
        response = post(client, world.customer, admin, "role", {"role": Role.CUSTOMER_VIEWER})
    else:
        response = post(client, world.customer, admin, "remove")
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("last customer admin" in m for m in messages), messages
    assert Membership.objects.get(user=admin_user).role == Role.CUSTOMER_ADMIN
    # With a second admin, the first may go.
    MembershipFactory(user=UserFactory(), organisation=world.customer, role=Role.CUSTOMER_ADMIN)
    post(client, world.customer, admin, "remove")
    assert not Membership.objects.filter(pk=admin.pk).exists()


def test_a_removed_member_loses_pages_and_api_tokens_at_once(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    their_session = signed_in(person)
    _, secret = create_token(person=person, name="script")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert their_session.get(f"/o/{world.customer.slug}/").status_code == 200
    assert api.get(f"/api/o/{world.customer.slug}/sites/").status_code == 200

    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    response = post(admin, world.customer, membership_of(world, Role.CUSTOMER_VIEWER), "remove")
    assert response.status_code == 302

    # Same session, same token, the very next request: the organisation is gone for them.
    assert their_session.get(f"/o/{world.customer.slug}/").status_code == 404
    assert their_session.get(f"/o/{world.customer.slug}/sites/").status_code == 404
    assert api.get(f"/api/o/{world.customer.slug}/sites/").status_code == 404
    event = AuditEvent.objects.get(action="membership.removed")
    assert event.before == {"user": person.username, "role": "customer_viewer"}


def test_a_reseller_admin_manages_its_clients_members_not_others(world):
    reseller = signed_in(world.people[Role.RESELLER_ADMIN])
    viewer = membership_of(world, Role.CUSTOMER_VIEWER)
    post(reseller, world.customer, viewer, "role", {"role": Role.CUSTOMER_ADMIN})
    viewer.refresh_from_db()
    assert viewer.role == Role.CUSTOMER_ADMIN
    other = MembershipFactory(
        user=UserFactory(), organisation=world.other_customer, role=Role.CUSTOMER_VIEWER
    )
    assert post(reseller, world.other_customer, other, "remove").status_code == 404


def test_support_sees_no_members_page_and_an_operator_manages_resellers(world):
    support = signed_in(world.people[Role.SUPPORT])
    assert support.get(f"/o/{world.reseller.slug}/members/").status_code == 403
    operator = signed_in(world.people[Role.OPERATOR])
    assert operator.get(f"/o/{world.reseller.slug}/members/").status_code == 200
    assert operator.get(f"/o/{world.customer.slug}/members/").status_code == 403


def test_the_mfa_column_says_who_has_a_second_factor_in_one_query(
    world, django_assert_max_num_queries
):
    viewer = world.people[Role.CUSTOMER_VIEWER]
    TotpDeviceFactory(user=viewer, confirmed_at=timezone.now())
    client = signed_in(world.people[Role.CUSTOMER_ADMIN])
    url = f"/o/{world.customer.slug}/members/"
    client.get(url)  # warm the session and the cached grants
    with django_assert_max_num_queries(12) as few:
        page = client.get(url)
    cells = re.findall(r"<td>(On: [^<]+|Off|—)</td>", page.content.decode())
    assert sorted(cells) == ["Off", "On: app"]
    for _ in range(5):  # more members: the same number of queries
        MembershipFactory(organisation=world.customer, role=Role.CUSTOMER_VIEWER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)
