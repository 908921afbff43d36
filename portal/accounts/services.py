"""Every write to organisations and memberships: one transaction and one audit event each."""

from __future__ import annotations

from axes.utils import reset as reset_attempts
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from portal.accounts import permissions
from portal.accounts.models import (
    ADMIN_ROLE_BY_KIND,
    ROLES_BY_KIND,
    Membership,
    Organisation,
    OrganisationKind,
)
from portal.accounts.permissions import Actor
from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError

ORGANISATION_FIELDS = ["name", "slug", "kind", "parent", "contact_email"]


def unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_organisation(
    *, name: str, kind: str, parent: Organisation | None, contact_email: str = "", slug: str = ""
) -> Organisation:
    """Create an organisation below ``parent`` (the provider has none)."""
    allowed_parents = {
        OrganisationKind.PROVIDER: {None},
        OrganisationKind.RESELLER: {OrganisationKind.PROVIDER},
        OrganisationKind.CUSTOMER: {OrganisationKind.RESELLER, OrganisationKind.PROVIDER},
    }[OrganisationKind(kind)]
    if (parent.kind if parent else None) not in allowed_parents:
        raise ServiceError("parent", f"a {kind} organisation cannot sit below this organisation")
    with transaction.atomic():
        org = Organisation.objects.create(
            name=name,
            slug=slug or unique_slug(name),
            kind=kind,
            parent=parent,
            contact_email=contact_email,
        )
        record_event(
            action="organisation.created",
            organisation=org,
            target=org,
            after=snapshot(org, ORGANISATION_FIELDS),
        )
    return org


def create_client_organisation(
    *, reseller: Organisation, name: str, contact_email: str
) -> Organisation:
    if reseller.kind != OrganisationKind.RESELLER:
        raise ServiceError("parent", "only a reseller has client organisations")
    return create_organisation(
        name=name, kind=OrganisationKind.CUSTOMER, parent=reseller, contact_email=contact_email
    )


def update_organisation(
    *, organisation: Organisation, name: str, contact_email: str
) -> Organisation:
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = snapshot(locked, ["name", "contact_email"])
        locked.name = name
        locked.contact_email = contact_email
        after = snapshot(locked, ["name", "contact_email"])
        if before == after:
            return locked
        locked.save(update_fields=["name", "contact_email", "updated_at"])
        record_event(
            action="organisation.updated",
            organisation=locked,
            target=locked,
            before=before,
            after=after,
        )
    return locked


def add_membership(*, organisation: Organisation, user, role: str) -> Membership:
    if role not in ROLES_BY_KIND[OrganisationKind(organisation.kind)]:
        raise ServiceError(
            "role", f"this role does not exist in a {organisation.kind} organisation"
        )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=organisation, defaults={"role": role}
        )
        if not created:
            if membership.role == role:
                return membership
            before = {"role": membership.role}
            membership.role = role
            membership.save(update_fields=["role"])
            record_event(
                action="membership.changed",
                organisation=organisation,
                target=membership,
                before=before,
                after={"user": user.get_username(), "role": role},
            )
            return membership
        record_event(
            action="membership.created",
            organisation=organisation,
            target=membership,
            after={"user": user.get_username(), "role": role},
        )
    return membership


def refuse_losing_last_admin(membership: Membership, new_role: str | None) -> None:
    """An organisation keeps at least one administrator: its last one cannot leave or step down."""
    admin_role = ADMIN_ROLE_BY_KIND[OrganisationKind(membership.organisation.kind)]
    if membership.role != admin_role or new_role == admin_role:
        return
    others = (
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=admin_role)
        .exclude(pk=membership.pk)
    )
    if not others.exists():
        raise ServiceError(
            "role",
            f"{membership.user.get_username()} is the last {admin_role.label.lower()} of "
            f"{membership.organisation.name}: make someone else one first.",
        )


def change_member_role(*, membership: Membership, role: str, by) -> Membership:
    """Give a member another role of the organisation's kind, within ``by``'s rights.
    Audited as ``membership.role_changed`` with before and after."""
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("organisation", "user")
            .get(pk=membership.pk)
        )
        if not permissions.can_change_member(Actor.for_user(by), locked, role):
            raise ServiceError("role", "You may not give this role here.")
        if locked.role == role:
            return locked
        refuse_losing_last_admin(locked, role)
        before = {"user": locked.user.get_username(), "role": locked.role}
        locked.role = role
        locked.save(update_fields=["role"])
        record_event(
            action="membership.role_changed",
            by=by,
            organisation=locked.organisation,
            target=locked,
            before=before,
            after={"user": locked.user.get_username(), "role": role},
        )
    return locked


def remove_member(*, membership: Membership, by) -> None:
    """Take a person out of an organisation. They keep their account and sessions, but every page
    and API call of this organisation refuses them from the next request (memberships are read per
    request). Audited as ``membership.removed``."""
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("organisation", "user")
            .get(pk=membership.pk)
        )
        if not permissions.can_change_member(Actor.for_user(by), locked):
            raise ServiceError("", "You may not remove this member.")
        refuse_losing_last_admin(locked, None)
        before = {"user": locked.user.get_username(), "role": locked.role}
        organisation = locked.organisation
        locked.delete()
        record_event(
            action="membership.removed",
            by=by,
            organisation=organisation,
            target=locked.user,
            before=before,
        )


def create_person(
    *, username: str, email: str, password: str | None, first_name: str = "", last_name: str = ""
):
    """A new account; with no password it cannot log in until a reset link is used."""
    User = get_user_model()
    with transaction.atomic():
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record_event(
            action="person.created", target=user, after={"username": username, "email": email}
        )
    return user


def clear_lockout(*, username: str = "", ip_address: str = "", by) -> int:
    """Forget the counted sign-in failures of a username or of an IP address (one of them), so
    it may sign in at once; returns how many attempt rows went. Audited as
    ``auth.lockout_cleared``."""
    if bool(username) == bool(ip_address):
        raise ServiceError("", "Name either a username or an IP address to clear.")
    with transaction.atomic():
        removed = reset_attempts(username=username or None, ip=ip_address or None)
        record_event(
            action="auth.lockout_cleared",
            by=by,
            after={"username": username, "ip_address": ip_address, "attempts_removed": removed},
        )
    return removed
