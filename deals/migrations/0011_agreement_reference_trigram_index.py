"""A trigram index on the agreements' reference, on PostgreSQL only.

The admin's search of agreements reads `UPPER(reference::text) LIKE UPPER('%word%')`
(Django's `icontains`), besides the names of the buyer and the exhibitors (indexed in
delegations 0006, which also creates the `pg_trgm` extension). A GIN index of trigrams
on `UPPER(reference)` serves that LIKE as written; SQLite skips this operation.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "agreement_reference_trgm" ON "deals_agreement" '
        'USING gin ((UPPER("reference"::text)) gin_trgm_ops)'
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('DROP INDEX IF EXISTS "agreement_reference_trgm"')


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0010_agreement_signed_order_index"),
        ("delegations", "0006_organization_name_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
