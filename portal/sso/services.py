"""Signing a person in from an identity provider's verified claims: which account they are, and
which memberships their provider's mapping gives them now.

The rules (docs/people.md, "Single sign-on"):

- an account is created at a first sign-in only when the mapping grants a membership, and only for
  an address the provider verified (the username is that address, as for invitations);
- an account that already holds the address is linked only when the provider's configuration
  says ``link_existing_accounts``; else the person is told to sign in with their password;
- the mapping's memberships follow it at every sign-in: added, their role changed, or removed
  when the mapping no longer grants them (never the last administrator of an organisation);
  memberships from invitations are left alone;
- a person whose mapping grants nothing is refused with a page that says so.
"""

import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from portal.accounts.models import ROLES_BY_KIND, Membership, Organisation, OrganisationKind
from portal.accounts.services import add_membership, create_person, refuse_losing_last_admin
from portal.audit.services import record_event
from portal.core.errors import ServiceError
from portal.sso.mapping import granted_roles, verified_email
from portal.sso.models import SsoGrant, SsoIdentity
from portal.sso.providers import Provider

logger = logging.getLogger(__name__)


@dataclass
class Refusal:
    """Why a person verified by the provider does not get in, as shown to them."""

    reason: str  # the audit's word: email_unverified, not_granted, account_exists, ambiguous
    title: str
    explanation: str
    status: int = 403


@dataclass
class Outcome:
    user: object | None = None
    refusal: Refusal | None = None
    roles: dict[str, str] = field(default_factory=dict)  # organisation slug → role, after sync


def _unverified(provider: Provider) -> Refusal:
    return Refusal(
        "email_unverified",
        "Your e-mail address is not verified",
        f"{provider.name} has not confirmed your e-mail address, so the portal cannot tell "
        "which organisation you belong to. Verify it there, then sign in again.",
    )


def _refusal_without_grants(provider: Provider, claims: dict) -> Refusal:
    if claims.get("email") and not verified_email(claims):
        return _unverified(provider)
    return Refusal(
        "not_granted",
        "No access through single sign-on",
        f"You signed in at {provider.name}, but the portal's rules for it give you no "
        "organisation here. Ask your administrator for access, or sign in with a password if "
        "you have one.",
    )


def _usable_grants(provider: Provider, claims: dict) -> dict[Organisation, str]:
    """The mapping's grants whose organisation exists and has that role; others are logged."""
    grants = granted_roles(provider.rules, claims)
    organisations = Organisation.objects.in_bulk(list(grants), field_name="slug")
    usable = {}
    for slug, role in grants.items():
        organisation = organisations.get(slug)
        if organisation is None or role not in ROLES_BY_KIND[OrganisationKind(organisation.kind)]:
            logger.error(
                "OIDC provider %s maps to %s in %r, which is not possible",
                provider.slug,
                role,
                slug,
            )
            continue
        usable[organisation] = role
    return usable


def _account_for_new_identity(
    provider: Provider, claims: dict
) -> tuple[object | None, Refusal | None]:
    """The account a first sign-in lands in: an existing one holding the verified address (when
    linking is allowed), or a new one."""
    email = verified_email(claims)
    if not email:
        return None, _unverified(provider)
    User = get_user_model()
    existing = list(User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))[:2])
    if len(existing) > 1:
        return None, Refusal(
            "ambiguous",
            "More than one account has this address",
            "The portal cannot tell which of its accounts is yours. Ask your administrator.",
            status=409,
        )
    if existing:
        if not provider.link_existing_accounts:
            return None, Refusal(
                "account_exists",
                "Sign in with your password",
                f"An account with {email} already exists here. Single sign-on through "
                f"{provider.name} is not set up to take it over: sign in with your password.",
                status=409,
            )
        return existing[0], None
    user = create_person(
        username=email,
        email=email,
        password=None,  # an unusable password: this person signs in through the provider
        first_name=str(claims.get("given_name", ""))[:150],
        last_name=str(claims.get("family_name", ""))[:150],
    )
    return user, None


def _follow_mapping(identity: SsoIdentity, usable: dict[Organisation, str]) -> None:
    """Make the memberships this identity's mapping manages match ``usable``."""
    user = identity.user
    managed = {
        grant.membership.organisation_id: grant.membership
        for grant in identity.grants.select_related("membership__organisation", "membership__user")
    }
    for organisation, role in usable.items():
        membership = managed.pop(organisation.pk, None)
        if membership is None:
            if Membership.objects.filter(user=user, organisation=organisation).exists():
                continue  # given by an invitation: an administrator's choice, not the mapping's
            membership = add_membership(organisation=organisation, user=user, role=role)
            SsoGrant.objects.create(membership=membership, identity=identity)
        elif membership.role != role:
            try:
                refuse_losing_last_admin(membership, role)
            except ServiceError:
                continue  # the organisation's last administrator stays one
            add_membership(organisation=organisation, user=user, role=role)  # the new role
    for membership in managed.values():  # no longer granted
        try:
            refuse_losing_last_admin(membership, None)
        except ServiceError:
            continue
        membership.delete()
        record_event(
            action="membership.removed",
            by=user,
            organisation=membership.organisation,
            target=user,
            before={"user": user.get_username(), "role": membership.role},
            after={"by": "single sign-on"},
        )


def sign_in(*, provider: Provider, claims: dict) -> Outcome:
    """The account and memberships for a person the provider vouched for (``claims`` come from
    an id_token whose signature, issuer, audience, nonce and expiry were checked)."""
    try:
        return _sign_in(provider, claims)
    except IntegrityError:
        # The same person's first sign-in in two tabs at once: the other made the account and
        # the identity first (unique username, unique issuer and subject); this one now finds them.
        return _sign_in(provider, claims)


def _sign_in(provider: Provider, claims: dict) -> Outcome:
    issuer, subject = claims["iss"], str(claims["sub"])
    usable = _usable_grants(provider, claims)
    with transaction.atomic():
        identity = (
            SsoIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is None:
            if not usable:
                return Outcome(refusal=_refusal_without_grants(provider, claims))
            user, refusal = _account_for_new_identity(provider, claims)
            if refusal is not None:
                return Outcome(refusal=refusal)
            identity = SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        identity.email = verified_email(claims) or identity.email
        identity.last_login_at = timezone.now()
        identity.save(update_fields=["email", "last_login_at"])
        _follow_mapping(identity, usable)
    if not usable:
        return Outcome(refusal=_refusal_without_grants(provider, claims))
    if not identity.user.is_active:
        return Outcome(
            refusal=Refusal(
                "inactive", "This account is switched off", "Ask your administrator.", status=403
            )
        )
    return Outcome(
        user=identity.user, roles={organisation.slug: role for organisation, role in usable.items()}
    )
