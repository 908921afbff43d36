"""Seal the TOTP secrets stored in clear before ``portal.mfa.sealing`` existed."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from portal.mfa import sealing

    TotpDevice = apps.get_model("mfa", "TotpDevice")
    for device in TotpDevice.objects.all():
        device.sealed_secret = sealing.seal(device.sealed_secret)
        device.save(update_fields=["sealed_secret"])


def open_all(apps, schema_editor):
    from portal.mfa import sealing

    TotpDevice = apps.get_model("mfa", "TotpDevice")
    for device in TotpDevice.objects.all():
        device.sealed_secret = sealing.open_sealed(device.sealed_secret)
        device.save(update_fields=["sealed_secret"])


class Migration(migrations.Migration):
    dependencies = [("mfa", "0001_initial")]

    operations = [
        migrations.RenameField("totpdevice", "secret", "sealed_secret"),
        migrations.AlterField("totpdevice", "sealed_secret", models.CharField(max_length=255)),
        migrations.RunPython(seal_existing, open_all),
    ]
