"""Whether a person has two-factor authentication on (the members page shows it)."""

from portal.mfa.models import TotpDevice


def is_enrolled(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
