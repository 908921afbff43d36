"""Who may do what: the one place that decides.

Views, templates (through ``request.actor``) and the API ask these functions; nothing else decides.
An ``Actor`` is built once per request from the person's memberships (one query, or none when
the ``actors`` cache holds them: portal.accounts.actor_cache).

The rules:
- customer admin: reads and changes its own organisation and its sites;
- customer viewer: reads its own organisation;
- reseller admin: reads and changes its reseller organisation and every client organisation of it;
- support (provider): reads every organisation, changes nothing but sign-in lockouts;
- operator (provider): reads every organisation, edits service profiles, runs system checks;
- support and operators both see and clear sign-in lockouts (from the provider organisation).

Who may invite whom (and change or remove members, or force their logout) — ``grantable_roles``:
- a customer admin: customer admins and viewers of its own organisation;
- a reseller admin: reseller admins of its reseller; customer admins and viewers of its clients
  (the first admin is invited when the client is created);
- an operator (the provider's administrator): operators and support of the provider, and
  reseller admins of any reseller; support changes nothing, so it invites nobody.
Nobody grants a role that does not exist in the organisation's kind (``ROLES_BY_KIND``), nor
touches a member whose role they could not grant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.accounts.actor_cache import cached_grants
from portal.accounts.models import (
    ROLES_BY_KIND,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
)

PROVIDER_STAFF_ROLES = frozenset({Role.SUPPORT, Role.OPERATOR})


@dataclass(frozen=True)
class MembershipGrant:
    organisation_id: int
    organisation_slug: str
    organisation_name: str
    organisation_kind: str
    role: str


def _load_grants(user) -> tuple[MembershipGrant, ...]:
    rows = Membership.objects.filter(user=user).select_related("organisation")
    return tuple(
        MembershipGrant(
            organisation_id=m.organisation_id,
            organisation_slug=m.organisation.slug,
            organisation_name=m.organisation.name,
            organisation_kind=m.organisation.kind,
            role=m.role,
        )
        for m in rows
    )


@dataclass(frozen=True)
class Actor:
    """A signed-in person and their grants; anonymous when ``user`` is None."""

    user: object | None
    grants: tuple[MembershipGrant, ...] = field(default=())
    # The grants' generation token ("" without a shared cache): what organisations cached in
    # this process are checked against (``actor_cache.cached_organisation``).
    generation: str = ""

    @classmethod
    def for_user(cls, user) -> Actor:
        if user is None or not user.is_authenticated:
            return cls(user=None)
        if not user.is_active:
            return cls(user=user)
        grants, generation = cached_grants(user.pk, lambda: _load_grants(user))
        return cls(user=user, grants=grants, generation=generation)

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def _org_ids(self, *roles: str) -> frozenset[int]:
        return frozenset(g.organisation_id for g in self.grants if g.role in roles)

    @property
    def is_provider_staff(self) -> bool:
        return bool(self.roles() & PROVIDER_STAFF_ROLES)

    @property
    def is_support(self) -> bool:
        return Role.SUPPORT in self.roles()

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self.roles()

    @property
    def reseller_org_ids(self) -> frozenset[int]:
        return self._org_ids(Role.RESELLER_ADMIN)

    @property
    def customer_admin_org_ids(self) -> frozenset[int]:
        return self._org_ids(Role.CUSTOMER_ADMIN)

    @property
    def member_org_ids(self) -> frozenset[int]:
        return frozenset(g.organisation_id for g in self.grants)

    def role_label_for(self, organisation: Organisation) -> str:
        """The role this person acts in for ``organisation``, as shown in the header."""
        for grant in self.grants:
            if grant.organisation_id == organisation.pk:
                return Role(grant.role).label
        if organisation.parent_id in self.reseller_org_ids:
            return Role.RESELLER_ADMIN.label
        if self.is_operator:
            return Role.OPERATOR.label
        if self.is_support:
            return Role.SUPPORT.label
        return ""


def _is_reseller_of(actor: Actor, organisation: Organisation) -> bool:
    return (
        organisation.pk in actor.reseller_org_ids
        or organisation.parent_id in actor.reseller_org_ids
    )


def can_view_organisation(actor: Actor, organisation: Organisation) -> bool:
    if not actor.is_authenticated:
        return False
    return (
        actor.is_provider_staff
        or organisation.pk in actor.member_org_ids
        or _is_reseller_of(actor, organisation)
    )


def can_manage_organisation(actor: Actor, organisation: Organisation) -> bool:
    """Edit the organisation's details and see its members."""
    return organisation.pk in actor.customer_admin_org_ids or _is_reseller_of(actor, organisation)


def can_dismiss_notices(actor: Actor, organisation: Organisation) -> bool:
    """Put away the organisation's notices: its own admins (a customer's or a reseller's), whom
    the notices address; nobody dismisses them on their behalf."""
    return organisation.pk in actor.customer_admin_org_ids | actor.reseller_org_ids


def can_create_client_organisation(actor: Actor, organisation: Organisation) -> bool:
    return (
        organisation.kind == OrganisationKind.RESELLER and organisation.pk in actor.reseller_org_ids
    )


def can_list_clients(actor: Actor, organisation: Organisation) -> bool:
    if organisation.kind == OrganisationKind.CUSTOMER:
        return False
    if organisation.kind == OrganisationKind.PROVIDER:
        return actor.is_provider_staff
    return organisation.pk in actor.reseller_org_ids or actor.is_provider_staff


def can_edit_sites(actor: Actor, organisation: Organisation) -> bool:
    return organisation.kind == OrganisationKind.CUSTOMER and (
        organisation.pk in actor.customer_admin_org_ids
        or organisation.parent_id in actor.reseller_org_ids
    )


def can_run_probes(actor: Actor, organisation: Organisation) -> bool:
    """Start probe runs and see their live tokens. A token proves steps done, so it is for those
    who may change the sites: viewers and provider staff see runs without it."""
    return can_edit_sites(actor, organisation)


def can_edit_sites_below(actor: Actor, organisation: Organisation) -> bool:
    """Bulk actions and imports over the sites an organisation's dashboard lists: a customer admin
    on their organisation, a reseller admin on their reseller organisation or one of its clients."""
    if organisation.kind == OrganisationKind.RESELLER:
        return organisation.pk in actor.reseller_org_ids
    return can_edit_sites(actor, organisation)


def can_read_audit(actor: Actor, organisation: Organisation) -> bool:
    return (
        actor.is_provider_staff
        or organisation.pk in actor.customer_admin_org_ids
        or _is_reseller_of(actor, organisation)
    )


def can_view_service_profiles(actor: Actor, organisation: Organisation) -> bool:
    return organisation.kind == OrganisationKind.PROVIDER and actor.is_provider_staff


def can_edit_service_profiles(actor: Actor, organisation: Organisation) -> bool:
    """Service profiles are the provider's: operators edit them from the provider organisation."""
    return organisation.kind == OrganisationKind.PROVIDER and actor.is_operator


def can_run_system_checks(actor: Actor, organisation: Organisation) -> bool:
    """Health pings of the worker fleet: provider operators, from the provider organisation."""
    return organisation.kind == OrganisationKind.PROVIDER and actor.is_operator


def can_manage_lockouts(actor: Actor, organisation: Organisation) -> bool:
    """See and clear sign-in lockouts: provider support and operators, from the provider."""
    return organisation.kind == OrganisationKind.PROVIDER and actor.is_provider_staff


def grantable_roles(actor: Actor, organisation: Organisation) -> tuple[str, ...]:
    """The roles ``actor`` may give (by invitation or role change) in ``organisation``."""
    if not actor.is_authenticated:
        return ()
    kind = organisation.kind
    if kind == OrganisationKind.CUSTOMER:
        administers = organisation.pk in actor.customer_admin_org_ids or _is_reseller_of(
            actor, organisation
        )
    elif kind == OrganisationKind.RESELLER:
        administers = organisation.pk in actor.reseller_org_ids or actor.is_operator
    else:
        administers = actor.is_operator
    return tuple(ROLES_BY_KIND[OrganisationKind(kind)]) if administers else ()


def can_invite(actor: Actor, organisation: Organisation, role: str) -> bool:
    return role in grantable_roles(actor, organisation)


def can_manage_members(actor: Actor, organisation: Organisation) -> bool:
    """See the Members page: invite, change roles, remove, force logouts."""
    return bool(grantable_roles(actor, organisation))


def can_change_member(actor: Actor, membership: Membership, role: str | None = None) -> bool:
    """Change ``membership`` (to ``role`` when given), remove it or end its person's sessions:
    only where the actor could grant both the member's present role and the new one."""
    granted = grantable_roles(actor, membership.organisation)
    return membership.role in granted and (role is None or role in granted)


def is_read_only(actor: Actor, organisation: Organisation) -> bool:
    """True where the person may look but not change anything (shown as a banner)."""
    return not (
        can_manage_organisation(actor, organisation)
        or can_edit_sites(actor, organisation)
        or can_run_system_checks(actor, organisation)
        or can_edit_service_profiles(actor, organisation)
    )
