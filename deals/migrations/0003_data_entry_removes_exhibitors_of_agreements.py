"""Data entry may take an exhibitor off an agreement: that is changing the agreement,
which they may do, not deleting a record of the bureau."""

from django.db import migrations

DATA_ENTRY = "数据录入 · Data entry"


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=DATA_ENTRY).first()
    if group is not None:
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label="deals", codename="delete_agreementexhibitor"
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=DATA_ENTRY).first()
    if group is not None:
        group.permissions.remove(
            Permission.objects.get(
                content_type__app_label="deals", codename="delete_agreementexhibitor"
            )
        )


class Migration(migrations.Migration):
    dependencies = [("deals", "0002_sectors_and_staff_groups")]

    operations = [migrations.RunPython(grant, revoke)]
