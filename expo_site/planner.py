"""PostgreSQL's planner statistics, refreshed after writing in bulk.

The planner chooses its plans from each table's statistics (rows, distinct values),
which autovacuum refreshes only after a transaction commits and only some time later.
A bulk write that is read back in its own transaction (a test, an export right after a
load), or right after it commits, is planned from the statistics of the tables as they
were: empty after a first load, or as small as whatever was analyzed last. A join then
planned as a nested loop over "a few" rows reads every row for each row: exporting the
freshly loaded seeds took minutes instead of a second. ANALYZE in the writing
transaction counts its rows, and costs a fraction of the write.
"""

from collections.abc import Iterable

from django.db import connection, models

# Rows a bulk write creates or changes before the statistics are refreshed at once;
# below it, autovacuum's own schedule is soon enough.
ANALYZE_AFTER_ROWS = 1000


def refresh_planner_statistics(written: Iterable[type[models.Model]], rows: int) -> bool:
    """ANALYZE the tables of `written` (with the tables of their many-to-many fields)
    when `rows` reach ANALYZE_AFTER_ROWS, on PostgreSQL. Whether it did."""
    if connection.vendor != "postgresql" or rows < ANALYZE_AFTER_ROWS:
        return False
    tables: dict[str, None] = {}
    for model in written:
        tables[model._meta.db_table] = None
        for field in model._meta.local_many_to_many:
            tables[field.remote_field.through._meta.db_table] = None
    if not tables:
        return False
    names = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        # Quoted table names of our own models, not input.
        cursor.execute(f"ANALYZE {names}")  # nosec
    return True
