"""A text index of the agreements' reference, on SQLite only.

The admin's search of agreements reads the reference by substring (`icontains`), besides
the names of the parties (indexed in delegations 0007); on PostgreSQL a trigram index
serves it (0011). On SQLite an FTS5 table with the trigram tokenizer, kept in step by
triggers, serves it instead (`delegations.search`); this fills it from the agreements on
record. Nothing happens on PostgreSQL, nor on a SQLite without FTS5's trigram tokenizer.
"""

from django.db import migrations

from delegations.search import AGREEMENTS, create_index, drop_index


def create(apps, schema_editor):
    create_index(schema_editor, AGREEMENTS)


def drop(apps, schema_editor):
    drop_index(schema_editor, AGREEMENTS)


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0011_agreement_reference_trigram_index"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
