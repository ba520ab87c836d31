"""PostgreSQL's planner statistics after a bulk write: refreshed in the writing
transaction, by the import and by the seed loader, so that what reads the rows back at
once is planned on them and not on the empty tables the migrations left."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.models import Agreement
from delegations.models import Organization
from expo_site import planner
from seeds.demo import OrganizationRow, Population
from seeds.loader import load_seeds

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="planner statistics are PostgreSQL's"
)


def analyzed(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("ANALYZE")]


def estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        (reltuples,) = cursor.fetchone()
    return reltuples


def organizations(count: int) -> list[Organization]:
    return Organization.objects.bulk_create(
        Organization(name_zh=f"统计企业{n:04d}", country="US", kind="foreign_funded")
        for n in range(count)
    )


def test_a_small_write_leaves_the_statistics_to_autovacuum():
    organizations(3)

    with CaptureQueriesContext(connection) as queries:
        done = planner.refresh_planner_statistics([Organization], planner.ANALYZE_AFTER_ROWS - 1)

    assert done is False
    assert analyzed(queries) == []


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's side of it")
def test_sqlite_is_left_alone_whatever_the_rows():
    with CaptureQueriesContext(connection) as queries:
        done = planner.refresh_planner_statistics([Organization], 10**6)

    assert done is False
    assert analyzed(queries) == []


@postgresql_only
def test_a_large_write_is_counted_by_the_planner_inside_its_own_transaction():
    organizations(40)

    done = planner.refresh_planner_statistics([Organization], planner.ANALYZE_AFTER_ROWS)

    assert done is True
    assert estimated_rows("delegations_organization") == 40


@postgresql_only
def test_the_tables_of_many_to_many_fields_are_analyzed_with_their_model():
    with CaptureQueriesContext(connection) as queries:
        planner.refresh_planner_statistics([Agreement, Agreement], planner.ANALYZE_AFTER_ROWS)

    (statement,) = analyzed(queries)
    assert statement == 'ANALYZE "deals_agreement", "deals_agreementexhibitor"'


@postgresql_only
def test_loading_the_seeds_analyzes_what_it_wrote(monkeypatch):
    # The whole seed population is thousands of rows; a few show the wiring.
    monkeypatch.setattr(planner, "ANALYZE_AFTER_ROWS", 2)
    rows = tuple(
        OrganizationRow(f"统计种子{n}", f"Statistics seed {n}", "foreign_funded", "US")
        for n in range(3)
    )
    population = Population(
        exchange_rates=(),
        delegations=(),
        organizations=rows,
        registrations=(),
        exhibitors=(),
        agreements=(),
        visits=(),
        intentions=(),
        pledges=(),
    )

    with CaptureQueriesContext(connection) as queries:
        load_seeds(population)

    (statement,) = analyzed(queries)
    assert '"delegations_organization"' in statement
    assert '"delegations_historicalorganization"' in statement
    assert estimated_rows("delegations_organization") == 3


@postgresql_only
def test_loading_nothing_new_analyzes_nothing(monkeypatch):
    monkeypatch.setattr(planner, "ANALYZE_AFTER_ROWS", 1)
    empty = Population(*([()] * 9))

    with CaptureQueriesContext(connection) as queries:
        load_seeds(empty)

    assert analyzed(queries) == []
