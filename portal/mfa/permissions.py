"""Who may change an organisation's two-factor settings (beside ``portal.accounts.permissions``,
whose rules they build on)."""

from portal.accounts import permissions
from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor


def can_set_mfa_policy(actor: Actor, organisation: Organisation) -> bool:
    """Require MFA of every member: those who manage a customer organisation (its admins, its
    reseller's admins). Other kinds need no policy: their roles require MFA."""
    return organisation.is_customer and permissions.can_manage_organisation(actor, organisation)


def can_reset_mfa(actor: Actor, organisation: Organisation) -> bool:
    """Remove a member's second factor (a lost phone): those who manage the organisation, and
    the provider's support for any organisation."""
    return actor.is_support or permissions.can_manage_organisation(actor, organisation)


def can_see_security(actor: Actor, organisation: Organisation) -> bool:
    """The organisation's security page: its policy, or resetting a member's second factor."""
    return can_set_mfa_policy(actor, organisation) or can_reset_mfa(actor, organisation)
