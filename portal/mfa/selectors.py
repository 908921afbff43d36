"""Reads of two-factor state for an organisation's pages."""

from django.db.models import QuerySet

from portal.accounts.models import Membership, Organisation
from portal.mfa.status import enrolled_filter


def members_with_mfa(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's members who have two-factor authentication on."""
    return (
        Membership.objects.filter(enrolled_filter("user__"), organisation=organisation)
        .distinct()
        .select_related("user")
        .order_by("user__username")
    )
