"""The permission of the organizer's staff, who see and change every delegation's records.
No group is given it: an administrator grants it to a user or a group in the admin."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("delegations", "0004_merge_organization_permission"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="delegation",
            options={
                "ordering": ["edition__starts_on", "parent_id", "name_zh"],
                "permissions": [
                    ("view_all_delegations", "Can see and change every delegation's records")
                ],
                "verbose_name": "delegation",
                "verbose_name_plural": "delegations",
            },
        ),
    ]
