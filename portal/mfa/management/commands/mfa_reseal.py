"""Seal every TOTP secret again with the newest key of MFA_SECRET_KEYS (after adding a key)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.mfa import sealing
from portal.mfa.models import TotpDevice


class Command(BaseCommand):
    help = "Seal every stored TOTP secret with the newest key of MFA_SECRET_KEYS."

    def handle(self, *args, **options):
        resealed, unreadable = 0, []
        with transaction.atomic():
            for device in TotpDevice.objects.select_for_update().select_related("user"):
                try:
                    device.sealed_secret = sealing.reseal(device.sealed_secret)
                except sealing.SecretUnreadable:
                    unreadable.append(device.user.get_username())
                    continue
                device.save(update_fields=["sealed_secret"])
                resealed += 1
            if unreadable:  # raising inside the transaction rolls every reseal back
                raise CommandError(
                    "No key opens the authenticator of "
                    + ", ".join(sorted(unreadable))
                    + ": nothing was changed. Put the old key back in MFA_SECRET_KEYS (after the "
                    "new one), or reset those people with `manage.py mfa_reset`."
                )
        self.stdout.write(f"Sealed {resealed} authenticator secret(s) with the newest key.")
