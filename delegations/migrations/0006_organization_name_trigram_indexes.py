"""Trigram indexes on the organizations' searched columns, on PostgreSQL only.

Every search of the product is a substring search, `icontains`, which Django writes on
PostgreSQL as `UPPER(column::text) LIKE UPPER('%word%')`: no B-tree index serves it, so
each search read every organization on record (half a million at the scale of the whole
expo). A GIN index of `pg_trgm`'s trigrams on the same expression, `UPPER(column)`, serves
that LIKE as it is written, so the searches keep their query and their results. SQLite
has no such index and still scans; its migrations skip these operations.
"""

from django.db import migrations

# (index name, table, column): each index is on UPPER(column), the expression icontains
# compares.
INDEXES = (
    ("organization_name_zh_trgm", "delegations_organization", "name_zh"),
    ("organization_name_en_trgm", "delegations_organization", "name_en"),
    ("organization_credit_code_trgm", "delegations_organization", "credit_code"),
)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension: the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other indexes may use it.
    for name, _table, _column in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("delegations", "0005_view_all_delegations_permission"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
