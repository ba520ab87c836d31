"""The shape of the queries behind the lists over the whole expo (measured by
bench/national_measure.py): a page is read along an index, not sorted out of every row
on record, and a search finds the organizations first, then their agreements."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.admin import AgreementAdmin, VisitAdmin
from deals.filters import AgreementApiFilterSet
from deals.models import Agreement
from delegations.admin import RegistrationAdmin
from tests.factories import AgreementFactory, ExhibitorFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
@pytest.mark.parametrize(
    "ordering", [("signed_on", "reference"), AgreementAdmin.ordering], ids=["api", "admin"]
)
def test_a_page_of_every_agreement_is_read_along_the_signing_order_index(ordering):
    plan = _plan(Agreement.objects.order_by(*ordering)[:50])
    assert "agreement_signed_order" in plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan


def test_the_admins_of_the_largest_tables_page_by_an_index():
    assert RegistrationAdmin.ordering == ("-pk",)
    assert AgreementAdmin.ordering == ("-signed_on", "-reference")
    # A date hierarchy lists the distinct dates of every row on record on every page.
    assert RegistrationAdmin.date_hierarchy is None
    assert AgreementAdmin.date_hierarchy is None
    assert VisitAdmin.date_hierarchy is None


def test_a_search_finds_agreements_by_buyer_and_exhibitor_without_joining_every_party():
    by_buyer = AgreementFactory(registration__organization__name_en="Secoo Holding")
    by_exhibitor = AgreementFactory()
    by_exhibitor.exhibitors.add(
        ExhibitorFactory(organization=OrganizationFactory(name_en="Burberry Secoo Partner"))
    )
    AgreementFactory()  # neither
    filterset = AgreementApiFilterSet({"q": "secoo"}, queryset=Agreement.objects.all())
    with CaptureQueriesContext(connection) as captured:
        found = set(filterset.qs.values_list("pk", flat=True))
    assert found == {by_buyer.pk, by_exhibitor.pk}
    (sql,) = [query["sql"] for query in captured]
    assert "DISTINCT" not in sql
    # The exhibitors are reached only inside the subquery of the organizations named.
    assert 'JOIN "deals_agreementexhibitor"' not in sql.split("IN (SELECT")[0]
    # One subquery of the agreements found, bought or sold: the database starts from
    # them, not from every agreement tested against two subqueries.
    assert sql.count(" UNION ") == 1
    assert ' OR "deals_agreement"."id" IN' not in sql


def test_the_apis_agreements_of_one_delegation_are_sorted_after_finding_them(client):
    import datetime

    from tests.pages import agreement_in, beijing, district, shanghai

    current = beijing()
    haidian = district(current, "haidian")
    days = [6, 5, 6, 7, 5]
    for n, day in enumerate(days):
        agreement_in(
            current if n % 2 else haidian,
            reference=f"BJ-{n}",
            signed_on=datetime.date(2019, 11, day),
        )
    agreement_in(shanghai(), reference="SH-1", signed_on=datetime.date(2019, 11, 5))

    with CaptureQueriesContext(connection) as captured:
        one = client.get(f"/api/agreements/?delegation={current.pk}").json()
    (sql,) = [q["sql"] for q in captured if q["sql"].startswith('SELECT "deals_agreement"."id"')]
    ordered = client.get(
        f"/api/agreements/?delegation={current.pk}&ordering=signed_on,reference"
    ).json()

    # Ordered by an expression of the date, not the bare column its index would serve.
    assert 'ORDER BY COALESCE("deals_agreement"."signed_on"' in sql
    references = [row["reference"] for row in one["results"]]
    assert references == ["BJ-1", "BJ-4", "BJ-0", "BJ-2", "BJ-3"]
    # Asked for by the date, the bare column: the same order.
    assert [row["reference"] for row in ordered["results"]] == references
