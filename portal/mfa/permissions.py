"""Who may set an organisation's two-factor policy: those who manage a customer organisation
(its admins and its reseller's admins). Other kinds need no policy: their roles require MFA."""

from portal.accounts import permissions
from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor


def can_set_mfa_policy(actor: Actor, organisation: Organisation) -> bool:
    return organisation.is_customer and permissions.can_manage_organisation(actor, organisation)
