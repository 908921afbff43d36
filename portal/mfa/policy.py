"""Who must use two-factor authentication: the roles in ``MFA_REQUIRED_ROLES`` (by default reseller
admins, support and operators), and every member of an organisation that requires it."""

from django.conf import settings
from django.db.models import Q

from portal.accounts.models import Membership


def mfa_required(user) -> bool:
    return Membership.objects.filter(
        Q(role__in=settings.MFA_REQUIRED_ROLES) | Q(organisation__mfa_policy__required=True),
        user=user,
    ).exists()
