"""The sectors shipped in 0002 were written without history rows: give each its first
version, so that a staff member's first edit shows what it changed from."""

from django.db import migrations
from django.utils import timezone


def record_initial_versions(apps, schema_editor):
    Sector = apps.get_model("deals", "Sector")
    HistoricalSector = apps.get_model("deals", "HistoricalSector")
    fields = [field.attname for field in Sector._meta.concrete_fields]
    already = set(HistoricalSector.objects.values_list("id", flat=True))
    HistoricalSector.objects.bulk_create(
        HistoricalSector(
            **{field: getattr(row, field) for field in fields},
            history_date=timezone.now(),
            history_type="+",
            history_change_reason="reference data shipped with the product",
        )
        for row in Sector.objects.exclude(pk__in=already)
    )


class Migration(migrations.Migration):
    dependencies = [("deals", "0003_data_entry_removes_exhibitors_of_agreements")]

    operations = [migrations.RunPython(record_initial_versions, migrations.RunPython.noop)]
