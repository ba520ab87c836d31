"""Reference data and roles: the expo's exhibition areas and the story's sectors, and
the two staff groups (data entry, reviewers) with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SECTORS = [
    # code, Chinese, English, exhibition area
    ("trade-in-services", "服务贸易", "Trade in services", True),
    ("automobile", "汽车", "Automobile", True),
    ("high-end-equipment", "智能及高端装备", "Intelligent and high-end equipment", True),
    ("consumer-electronics", "消费电子及家电", "Consumer electronics and appliances", True),
    ("consumer-goods", "服装服饰及日用消费品", "Apparel, accessories and consumer goods", True),
    ("food-agriculture", "食品及农产品", "Food and agricultural products", True),
    ("medical-healthcare", "医疗器械及医药保健", "Medical equipment and healthcare products", True),
    ("cross-border-ecommerce", "跨境电商", "Cross-border e-commerce", False),
    ("quality-everyday", "品质生活", "High-quality everyday products", False),
]

DATA_ENTRY = "数据录入 · Data entry"
REVIEWERS = "审核发布 · Reviewers"

# What each group may do per model; reviewers also delete and decide what is public.
RECORDS = [
    ("delegations", "delegation"),
    ("delegations", "organization"),
    ("delegations", "registration"),
    ("deals", "exhibitor"),
    ("deals", "agreement"),
    ("deals", "agreementexhibitor"),
    ("deals", "visit"),
    ("deals", "investmentintention"),
    ("deals", "ciftispledge"),
    ("deals", "sector"),
    ("deals", "exchangerate"),
]
REFERENCE = [("delegations", "fair"), ("delegations", "edition")]


def add_sectors_and_groups(apps, schema_editor):
    Sector = apps.get_model("deals", "Sector")
    for position, (code, zh, en, area) in enumerate(SECTORS):
        Sector.objects.update_or_create(
            code=code,
            defaults={"name_zh": zh, "name_en": en, "is_exhibition_area": area, "position": position},
        )

    # Permissions are normally made after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(models, actions):
        wanted = [
            (app, f"{action}_{model}") for app, model in models for action in actions
        ]
        found = []
        for app, codename in wanted:
            found.append(Permission.objects.get(content_type__app_label=app, codename=codename))
        return found

    data_entry, _ = Group.objects.get_or_create(name=DATA_ENTRY)
    data_entry.permissions.set(
        perms(RECORDS, ["view", "add", "change"]) + perms(REFERENCE, ["view"])
    )
    reviewers, _ = Group.objects.get_or_create(name=REVIEWERS)
    reviewers.permissions.set(
        perms(RECORDS, ["view", "add", "change", "delete"])
        + perms(REFERENCE, ["view", "add", "change"])
        + [
            Permission.objects.get(content_type__app_label="deals", codename="disclose_agreement"),
            Permission.objects.get(content_type__app_label="deals", codename="recompute_usd"),
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0001_initial"),
        ("delegations", "0002_reference_editions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_sectors_and_groups, migrations.RunPython.noop)]
