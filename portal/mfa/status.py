"""Whether a person has two-factor authentication on (the members page shows it)."""

from portal.mfa.models import TotpDevice


def is_enrolled(user) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def enrolled_among(user_ids) -> set[int]:
    """Which of ``user_ids`` have two-factor authentication on, in one query (a members list)."""
    return set(
        TotpDevice.objects.filter(user_id__in=user_ids, confirmed_at__isnull=False).values_list(
            "user_id", flat=True
        )
    )
