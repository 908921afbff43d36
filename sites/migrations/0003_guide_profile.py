"""The guide's service profile: TCP 4401 out, TCP and UDP 4403 for monitoring; the default."""

from django.db import migrations

from sites.description import GUIDE_PROFILE


def create_guide_profile(apps, schema_editor):
    ServiceProfile = apps.get_model("sites", "ServiceProfile")
    data = GUIDE_PROFILE.to_dict()
    ServiceProfile.objects.get_or_create(
        slug="securidata-online-backup",
        defaults={**data, "is_default": True},
    )


class Migration(migrations.Migration):
    dependencies = [("sites", "0002_profiles_instruction_sets_steps")]
    operations = [migrations.RunPython(create_guide_profile, migrations.RunPython.noop)]
