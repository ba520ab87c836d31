"""A text index of the organizations' searched columns, on SQLite only.

The names (Chinese and English) and the credit code are searched by substring
(`icontains`); on PostgreSQL trigram indexes serve that (0006). On SQLite an FTS5 table
with the trigram tokenizer, kept in step by triggers, serves it instead
(`delegations.search`); this fills it from the organizations on record (about five
seconds for half a million). Nothing happens on PostgreSQL, nor on a SQLite without FTS5's
trigram tokenizer, whose searches read every row as before.
"""

from django.db import migrations

from delegations.search import ORGANIZATIONS, create_index, drop_index


def create(apps, schema_editor):
    create_index(schema_editor, ORGANIZATIONS)


def drop(apps, schema_editor):
    drop_index(schema_editor, ORGANIZATIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("delegations", "0006_organization_name_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
