"""Reads of two-factor state for an organisation's pages."""

from django.db.models import QuerySet

from portal.accounts.models import Membership, Organisation


def members_with_mfa(organisation: Organisation) -> QuerySet[Membership]:
    """The organisation's members who have two-factor authentication on."""
    return (
        Membership.objects.filter(
            organisation=organisation, user__totp_device__confirmed_at__isnull=False
        )
        .select_related("user")
        .order_by("user__username")
    )
