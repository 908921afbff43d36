"""Invitations: sending, resending, revoking and accepting them, and reading a link's token.

A link carries a random token; only its SHA-256 is stored, so the database cannot give a link
away. Resending draws a new token (the old link dies) and a new expiry of ``INVITATION_DAYS``.
Every write is one transaction and one audit event (``invitation.sent`` / ``resent`` /
``revoked`` / ``accepted``); the mail goes after the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from portal.accounts import permissions
from portal.accounts.models import Invitation, Membership, Organisation, Role
from portal.accounts.permissions import Actor
from portal.accounts.services import create_client_organisation, create_person
from portal.audit.services import record_event
from portal.core.errors import ServiceError


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def _expiry():
    return timezone.now() + timedelta(days=settings.INVITATION_DAYS)


def invitation_link(token: str, base_url: str = "") -> str:
    return (base_url or settings.PORTAL_URL).rstrip("/") + reverse(
        "invitation-accept", args=[token]
    )


def _mail(invitation: Invitation, token: str, base_url: str) -> None:
    context = {
        "invitation": invitation,
        "link": invitation_link(token, base_url),
        "days": settings.INVITATION_DAYS,
    }
    send_mail(
        subject=f"You are invited to {invitation.organisation.name} on the rollout portal",
        message=render_to_string("accounts/invitation_email.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def send_invitation(
    *, organisation: Organisation, email: str, role: str, by, base_url: str = ""
) -> Invitation:
    """Invite ``email`` to ``organisation`` as ``role``, if ``by`` may grant that role there."""
    if not permissions.can_invite(Actor.for_user(by), organisation, role):
        raise ServiceError("role", "You may not invite anyone with this role here.")
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise ServiceError("email", "This person is already a member of this organisation.")
    pending = Invitation.objects.filter(
        organisation=organisation,
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    if pending.exists():
        raise ServiceError("email", "An invitation to this address is pending: resend it instead.")
    token, token_hash = _new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=by,
            token_hash=token_hash,
            expires_at=_expiry(),
        )
        record_event(
            action="invitation.sent",
            by=by,
            organisation=organisation,
            target=invitation,
            after={"email": email, "role": role, "expires_at": invitation.expires_at.isoformat()},
        )
    _mail(invitation, token, base_url)
    return invitation


def create_client_inviting_its_admin(
    *,
    reseller: Organisation,
    name: str,
    contact_email: str,
    first_admin_email: str,
    by,
    base_url: str = "",
) -> Organisation:
    """A reseller's new client and, with an address, the invitation of its first admin; both or
    neither."""
    with transaction.atomic():
        client = create_client_organisation(
            reseller=reseller, name=name, contact_email=contact_email
        )
        if first_admin_email:
            send_invitation(
                organisation=client,
                email=first_admin_email,
                role=Role.CUSTOMER_ADMIN,
                by=by,
                base_url=base_url,
            )
    return client


def _check_may_handle(invitation: Invitation, by) -> None:
    if not permissions.can_invite(Actor.for_user(by), invitation.organisation, invitation.role):
        raise ServiceError("", "You may not handle this invitation.")
    if not invitation.is_pending:
        raise ServiceError("", "This invitation was already accepted or revoked.")


def resend_invitation(*, invitation: Invitation, by, base_url: str = "") -> Invitation:
    """A new link and a new expiry; the previous link stops working."""
    token, token_hash = _new_token()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _check_may_handle(locked, by)
        before = {"expires_at": locked.expires_at.isoformat()}
        locked.token_hash = token_hash
        locked.expires_at = _expiry()
        locked.save(update_fields=["token_hash", "expires_at"])
        record_event(
            action="invitation.resent",
            by=by,
            organisation=locked.organisation,
            target=locked,
            before=before,
            after={"email": locked.email, "expires_at": locked.expires_at.isoformat()},
        )
    _mail(locked, token, base_url)
    return locked


def revoke_invitation(*, invitation: Invitation, by) -> Invitation:
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        _check_may_handle(locked, by)
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            action="invitation.revoked",
            by=by,
            organisation=locked.organisation,
            target=locked,
            after={"email": locked.email, "role": locked.role},
        )
    return locked


class InvitationRefused(Exception):
    """A link that cannot be used; ``status`` is the HTTP answer (400 unknown, 410 spent)."""

    def __init__(self, status: int, title: str, explanation: str):
        super().__init__(explanation)
        self.status, self.title, self.explanation = status, title, explanation


@dataclass(frozen=True)
class OpenInvitation:
    invitation: Invitation
    existing_account: object | None  # the account already holding the invited e-mail


def open_invitation(token: str) -> OpenInvitation:
    """The pending invitation a link's token names, or ``InvitationRefused`` saying why not."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationRefused(
            400,
            "This invitation link is not valid",
            "The link is incomplete, was changed, or was replaced by a newer invitation. "
            "Ask the person who invited you to send it again.",
        )
    if invitation.revoked_at is not None:
        raise InvitationRefused(
            410, "This invitation was withdrawn", "An administrator revoked this invitation."
        )
    if invitation.accepted_at is not None:
        raise InvitationRefused(
            410,
            "This invitation was used already",
            "Each invitation link works once. If it was you, log in as usual.",
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationRefused(
            410,
            "This invitation has expired",
            "Ask the person who invited you to send it again.",
        )
    account = get_user_model().objects.filter(username__iexact=invitation.email).first()
    account = account or get_user_model().objects.filter(email__iexact=invitation.email).first()
    return OpenInvitation(invitation=invitation, existing_account=account)


def accept_invitation(
    *, token: str, user=None, first_name: str = "", last_name: str = "", password: str = ""
):
    """Spend the link: ``user`` (signed in) gains the membership, or, without one, a new account
    named after the invited e-mail is made with ``password``. Returns the person."""
    with transaction.atomic():
        invitation = open_invitation(token).invitation
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_pending:  # spent by a concurrent request
            raise InvitationRefused(410, "This invitation was used already", "")
        if user is None:
            user = create_person(
                username=invitation.email,
                email=invitation.email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
        elif Membership.objects.filter(user=user, organisation=invitation.organisation).exists():
            raise InvitationRefused(
                409,
                "You are already a member",
                f"You already have a role in {invitation.organisation.name}; "
                "an administrator can change it on the Members page.",
            )
        Membership.objects.create(
            user=user, organisation=invitation.organisation, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        record_event(
            action="invitation.accepted",
            by=user,
            organisation=invitation.organisation,
            target=invitation,
            after={
                "user": user.get_username(),
                "email": invitation.email,
                "role": Role(invitation.role).value,
            },
        )
    return user
