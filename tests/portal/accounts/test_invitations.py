"""Invitations: who may invite whom, the mail and its link, accepting, and every way a link is
refused with a clear page (never a 500)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from portal.accounts import permissions
from portal.accounts.invitations import send_invitation
from portal.accounts.models import Invitation, Membership, Role
from portal.accounts.permissions import Actor
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

LINK = re.compile(r"https?://\S+?(/invitations/[^/\s]+/)")
NEW_PASSWORD = "a long and unusual passphrase 42"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def last_link() -> str:
    return LINK.search(mail.outbox[-1].body).group(1)


def invite(world, email="new.person@example.test", role=Role.CUSTOMER_VIEWER, organisation=None):
    client = signed_in(world.people[Role.CUSTOMER_ADMIN])
    organisation = organisation or world.customer
    return client.post(f"/o/{organisation.slug}/members/invite/", {"email": email, "role": role})


# --- who may invite whom ------------------------------------------------------------------------

# (inviter's role, organisation attribute of the world) → roles they may grant there
GRANTS = {
    (Role.CUSTOMER_ADMIN, "customer"): {Role.CUSTOMER_ADMIN, Role.CUSTOMER_VIEWER},
    (Role.CUSTOMER_ADMIN, "sibling_customer"): set(),
    (Role.CUSTOMER_ADMIN, "reseller"): set(),
    (Role.CUSTOMER_VIEWER, "customer"): set(),
    (Role.RESELLER_ADMIN, "reseller"): {Role.RESELLER_ADMIN},
    (Role.RESELLER_ADMIN, "customer"): {Role.CUSTOMER_ADMIN, Role.CUSTOMER_VIEWER},
    (Role.RESELLER_ADMIN, "other_reseller"): set(),
    (Role.RESELLER_ADMIN, "other_customer"): set(),
    (Role.RESELLER_ADMIN, "provider"): set(),
    (Role.SUPPORT, "provider"): set(),
    (Role.SUPPORT, "reseller"): set(),
    (Role.SUPPORT, "customer"): set(),
    (Role.OPERATOR, "provider"): {Role.SUPPORT, Role.OPERATOR},
    (Role.OPERATOR, "reseller"): {Role.RESELLER_ADMIN},
    (Role.OPERATOR, "customer"): set(),
}


@pytest.mark.parametrize(("role", "where"), list(GRANTS))
def test_who_may_grant_which_role_where(world, role, where):
    actor = Actor.for_user(world.people[role])
    granted = set(permissions.grantable_roles(actor, getattr(world, where)))
    assert granted == GRANTS[(role, where)]


def test_a_customer_admin_invites_a_colleague_by_mail(world):
    response = invite(world)
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new.person@example.test", "customer_viewer")
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    assert mail.outbox[-1].to == ["new.person@example.test"]
    assert "Customer One" in mail.outbox[-1].subject
    token = last_link().split("/")[2]
    assert token not in invitation.token_hash  # only the hash is stored
    event = AuditEvent.objects.get(action="invitation.sent")
    assert event.organisation == world.customer
    assert event.after["role"] == "customer_viewer"


def test_nobody_grants_a_role_above_their_own_or_foreign_to_the_organisation(world):
    response = invite(world, role=Role.RESELLER_ADMIN)
    assert response.status_code == 422
    assert not Invitation.objects.exists() and not mail.outbox
    with pytest.raises(Exception, match="may not invite"):
        send_invitation(
            organisation=world.reseller,
            email="x@example.test",
            role=Role.RESELLER_ADMIN,
            by=world.people[Role.CUSTOMER_ADMIN],
        )


def test_nobody_invites_into_an_organisation_they_do_not_administer(world):
    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    data = {"email": "x@example.test", "role": Role.CUSTOMER_VIEWER}
    assert viewer.post(f"/o/{world.customer.slug}/members/invite/", data).status_code == 403
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    assert admin.post(f"/o/{world.sibling_customer.slug}/members/invite/", data).status_code == 404
    support = signed_in(world.people[Role.SUPPORT])
    assert support.post(f"/o/{world.customer.slug}/members/invite/", data).status_code == 403
    assert not Invitation.objects.exists()


def test_a_member_is_not_invited_again(world):
    response = invite(world, email=world.people[Role.CUSTOMER_VIEWER].email)
    assert response.status_code == 422
    assert b"already a member" in response.content


def test_a_pending_invitation_is_resent_not_sent_twice(world):
    invite(world)
    response = invite(world)
    assert response.status_code == 422 and b"resend it instead" in response.content
    assert Invitation.objects.count() == 1


def test_a_reseller_invites_the_first_admin_when_creating_a_client(world):
    client = signed_in(world.people[Role.RESELLER_ADMIN])
    response = client.post(
        f"/o/{world.reseller.slug}/clients/new/",
        {"name": "Brand New Dental", "first_admin_email": "boss@brandnew.test"},
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.organisation.name == "Brand New Dental"
    assert invitation.role == Role.CUSTOMER_ADMIN
    assert mail.outbox[-1].to == ["boss@brandnew.test"]


def test_an_operator_invites_a_resellers_admin_and_provider_staff(world):
    operator = signed_in(world.people[Role.OPERATOR])
    for organisation, role in ((world.reseller, "reseller_admin"), (world.provider, "support")):
        response = operator.post(
            f"/o/{organisation.slug}/members/invite/", {"email": f"{role}@x.test", "role": role}
        )
        assert response.status_code == 302
    assert Invitation.objects.count() == 2


# --- accepting ----------------------------------------------------------------------------------


def test_a_new_person_sets_a_name_and_password_and_is_signed_in(world):
    invite(world)
    link = last_link()
    visitor = Client()
    page = visitor.get(link)
    assert page.status_code == 200
    assert b"Customer One" in page.content and b"Customer viewer" in page.content
    weak = visitor.post(link, {"first_name": "Nia", "new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 422 and b"too short" in weak.content
    response = visitor.post(
        link,
        {
            "first_name": "Nia",
            "last_name": "Jones",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response.url == f"/o/{world.customer.slug}/"
    membership = Membership.objects.get(user__username="new.person@example.test")
    assert (membership.organisation, membership.role) == (world.customer, "customer_viewer")
    assert membership.user.check_password(NEW_PASSWORD)
    assert visitor.get(response.url).status_code == 200  # signed in
    assert AuditEvent.objects.filter(action="invitation.accepted").count() == 1
    # Single use.
    again = Client().get(link)
    assert again.status_code == 410 and b"used already" in again.content


def test_an_existing_account_logs_in_and_gains_the_membership(world):
    person = UserFactory(username="already.here", email="already@example.test")
    invite(world, email="already@example.test", role=Role.CUSTOMER_ADMIN)
    link = last_link()
    anonymous = Client().get(link)
    assert anonymous.status_code == 200 and b"Log in to accept" in anonymous.content
    assert Client().post(link, {}).status_code == 422  # no account is made for them
    response = signed_in(person).post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=person).role == Role.CUSTOMER_ADMIN
    assert person.check_password(PASSWORD)  # their password is untouched


def test_an_invitation_for_one_organisation_never_joins_another(world):
    invite(world)
    link = last_link()
    person = UserFactory(username="joiner")
    # Whatever the request says, the token names the organisation.
    signed_in(person).post(link, {"organisation": world.sibling_customer.pk})
    assert list(Membership.objects.filter(user=person).values_list("organisation", flat=True)) == [
        world.customer.pk
    ]
    # The same link cannot then be used for anyone or anything else.
    other = UserFactory(username="second")
    response = signed_in(other).post(link)
    assert response.status_code == 410
    assert not Membership.objects.filter(user=other).exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda link: link[:-5] + "AAAA/",
        lambda link: link.replace("/invitations/", "/invitations/x"),
        lambda link: "/invitations/not-a-token/",
    ],
)
def test_a_tampered_link_gets_a_clear_400(world, tamper):
    invite(world)
    response = Client().get(tamper(last_link()))
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert Client().post(tamper(last_link()), {}).status_code == 400


def test_an_expired_or_revoked_link_gets_a_clear_410(world):
    invite(world)
    link = last_link()
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = Client().get(link)
    assert response.status_code == 410 and b"expired" in response.content
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    admin.post(f"/o/{world.customer.slug}/members/invitations/{invitation.pk}/revoke/")
    response = Client().get(link)
    assert response.status_code == 410 and b"withdrawn" in response.content
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


def test_resending_draws_a_new_link_and_kills_the_old_one(world):
    invite(world)
    old_link = last_link()
    invitation = Invitation.objects.get()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    response = admin.post(f"/o/{world.customer.slug}/members/invitations/{invitation.pk}/resend/")
    assert response.status_code == 302
    new_link = last_link()
    assert new_link != old_link and len(mail.outbox) == 2
    assert Client().get(old_link).status_code == 400
    assert Client().get(new_link).status_code == 200
    assert AuditEvent.objects.filter(action="invitation.resent").count() == 1


def test_pending_invitations_are_listed_with_resend_and_revoke(world):
    invite(world)
    page = signed_in(world.people[Role.CUSTOMER_ADMIN]).get(f"/o/{world.customer.slug}/members/")
    assert b"new.person@example.test" in page.content
    assert b"Resend" in page.content and b"Revoke" in page.content


def test_another_organisations_invitation_cannot_be_revoked_from_here(world):
    reseller = signed_in(world.people[Role.RESELLER_ADMIN])
    reseller.post(
        f"/o/{world.sibling_customer.slug}/members/invite/",
        {"email": "s@example.test", "role": Role.CUSTOMER_VIEWER},
    )
    invitation = Invitation.objects.get()
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    url = f"/o/{world.customer.slug}/members/invitations/{invitation.pk}/revoke/"
    assert admin.post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.is_pending
