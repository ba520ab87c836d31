"""Reference data: the fairs and their editions that ship with the product.

Staff add later editions in the admin; this migration only makes sure a fresh
installation knows the ones the records start from.
"""

import datetime

from django.db import migrations

FAIRS = [
    {
        "code": "ciie",
        "abbreviation": "CIIE",
        "short_name_zh": "进博会",
        "name_zh": "中国国际进口博览会",
        "name_en": "China International Import Expo",
    },
    {
        "code": "ciftis",
        "abbreviation": "CIFTIS",
        "short_name_zh": "服贸会",
        "name_zh": "中国国际服务贸易交易会",
        "name_en": "China International Fair for Trade in Services",
    },
]

ORDINAL_ZH = {1: "首", 2: "第二", 3: "第三", 4: "第四", 5: "第五", 6: "第六", 7: "第七", 8: "第八"}
ORDINAL_EN = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th", 6: "6th", 7: "7th", 8: "8th"}

# (number, year, first day, last day) of each CIIE in Shanghai.
CIIE = [
    (1, 2018, (11, 5), (11, 10)),
    (2, 2019, (11, 5), (11, 10)),
    (3, 2020, (11, 4), (11, 10)),
    (4, 2021, (11, 5), (11, 10)),
    (5, 2022, (11, 5), (11, 10)),
    (6, 2023, (11, 5), (11, 10)),
    (7, 2024, (11, 5), (11, 10)),
    (8, 2025, (11, 5), (11, 10)),
]


def add_reference_data(apps, schema_editor):
    Fair = apps.get_model("delegations", "Fair")
    Edition = apps.get_model("delegations", "Edition")
    fairs = {}
    for values in FAIRS:
        fairs[values["code"]], _ = Fair.objects.update_or_create(
            code=values["code"], defaults=values
        )
    for number, year, (m1, d1), (m2, d2) in CIIE:
        Edition.objects.update_or_create(
            slug=f"ciie-{year}",
            defaults={
                "fair": fairs["ciie"],
                "number": number,
                "year": year,
                "name_zh": f"{ORDINAL_ZH[number]}届中国国际进口博览会",
                "name_en": f"{ORDINAL_EN[number]} China International Import Expo",
                "starts_on": datetime.date(year, m1, d1),
                "ends_on": datetime.date(year, m2, d2),
            },
        )
    # The first fair under the CIFTIS name, the one the story's pledges were made to.
    Edition.objects.update_or_create(
        slug="ciftis-2020",
        defaults={
            "fair": fairs["ciftis"],
            "number": 1,
            "year": 2020,
            "name_zh": "2020年中国国际服务贸易交易会",
            "name_en": "2020 China International Fair for Trade in Services",
            "starts_on": datetime.date(2020, 9, 4),
            "ends_on": datetime.date(2020, 9, 9),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("delegations", "0001_initial")]

    operations = [migrations.RunPython(add_reference_data, migrations.RunPython.noop)]
