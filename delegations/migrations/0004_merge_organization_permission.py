"""Who may merge two records of the same organization into one: reviewers, not data
entry, since a merge deletes a record and moves everything recorded against it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWERS = "审核发布 · Reviewers"
CODENAME = "merge_organization"


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; the group needs this one now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=REVIEWERS).first()
    if group is not None:
        group.permissions.add(
            Permission.objects.get(content_type__app_label="delegations", codename=CODENAME)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=REVIEWERS).first()
    permission = Permission.objects.filter(
        content_type__app_label="delegations", codename=CODENAME
    ).first()
    if group is not None and permission is not None:
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("delegations", "0003_fair_and_edition_history"),
        ("deals", "0002_sectors_and_staff_groups"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="organization",
            options={
                "ordering": ["name_zh"],
                "permissions": [("merge_organization", "Can merge two organizations into one")],
                "verbose_name": "organization",
                "verbose_name_plural": "organizations",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
