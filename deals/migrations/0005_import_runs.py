"""The history of spreadsheet imports, and who may use it: data entry and reviewers see
and make imports; only reviewers undo one."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.conf import settings
from django.db import migrations, models


DATA_ENTRY = "数据录入 · Data entry"
REVIEWERS = "审核发布 · Reviewers"
GRANTS = {
    DATA_ENTRY: ["view_importrun", "add_importrun"],
    REVIEWERS: ["view_importrun", "add_importrun", "undo_importrun"],
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="deals", codename__in=codenames)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="deals", codename__in=codenames)
            )


class Migration(migrations.Migration):

    dependencies = [
        ('deals', '0004_sector_initial_versions'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ImportRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('filename', models.CharField(max_length=255, verbose_name='file name')),
                ('sha256', models.CharField(db_index=True, max_length=64, verbose_name='SHA-256')),
                ('size', models.PositiveBigIntegerField(verbose_name='size in bytes')),
                ('sheet', models.CharField(blank=True, help_text='Empty for a whole workbook.', max_length=60, verbose_name='sheet')),
                ('status', models.CharField(choices=[('previewed', 'previewed'), ('imported', 'imported'), ('refused', 'refused'), ('undone', 'undone')], default='previewed', max_length=20, verbose_name='status')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='uploaded')),
                ('imported_at', models.DateTimeField(blank=True, null=True, verbose_name='imported')),
                ('counts', models.JSONField(blank=True, default=dict, help_text='Created, updated and unchanged rows per sheet.', verbose_name='counts')),
                ('errors', models.JSONField(blank=True, default=list, verbose_name='errors')),
                ('warnings', models.JSONField(blank=True, default=list, verbose_name='warnings')),
                ('content', models.BinaryField(blank=True, null=True, verbose_name='content')),
                ('token', models.CharField(blank=True, editable=False, max_length=64, verbose_name='confirmation token')),
                ('expires_at', models.DateTimeField(blank=True, null=True, verbose_name='preview expires')),
                ('undone_at', models.DateTimeField(blank=True, null=True, verbose_name='undone')),
                ('undo_report', models.JSONField(blank=True, null=True, verbose_name='undo report')),
                ('undone_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='undone by')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_runs', to=settings.AUTH_USER_MODEL, verbose_name='imported by')),
            ],
            options={
                'verbose_name': 'spreadsheet import',
                'verbose_name_plural': 'spreadsheet imports',
                'ordering': ['-created_at', '-pk'],
                'permissions': [('undo_importrun', 'Can undo an import')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['previewed', 'imported', 'refused', 'undone'])), name='import_run_status_known')],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
