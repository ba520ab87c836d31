from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # The cache of computed figures lives in the database by default (CACHE_URL): make
    # its table with the schema, so that `migrate` is the whole of setting up. It does
    # nothing for another cache backend or when the table exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("deals", "0005_import_runs")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
