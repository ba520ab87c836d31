"""The substring searches over the whole expo: on PostgreSQL each searched column has a
trigram index on the expression Django's `icontains` compares (migrations delegations
0006 and deals 0011), and the searches answer exactly what a substring test of every
record answers, whatever the index (words shorter than a trigram, Chinese, any case)."""

import pytest
from django.db import connection

from deals.filters import AgreementApiFilterSet
from deals.models import Agreement
from delegations.models import Organization
from tests.factories import AgreementFactory, ExhibitorFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only"
)


def _plan_without_scans(queryset) -> str:
    """PostgreSQL's plan of `queryset` with sequential scans priced out: on a test
    database of a few rows a scan is cheapest, so only this shows whether an index can
    serve the query at all. Plain index scans are priced out too, and the order dropped:
    on a few rows the planner would otherwise walk the model's ordering index and filter
    each row, which says nothing of the search. A GIN index serves bitmap scans only,
    and a bitmap scan needs an index that answers the condition itself."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
@pytest.mark.parametrize(
    ("model", "lookup", "index"),
    [
        (Organization, "name_zh__icontains", "organization_name_zh_trgm"),
        (Organization, "name_en__icontains", "organization_name_en_trgm"),
        (Agreement, "reference__icontains", "agreement_reference_trgm"),
    ],
)
def test_a_substring_search_of_a_searched_column_can_use_its_trigram_index(model, lookup, index):
    OrganizationFactory.create_batch(3)
    plan = _plan_without_scans(model.objects.filter(**{lookup: "SeCoo"}))
    assert index in plan


@postgresql_only
def test_the_credit_codes_trigram_index_is_on_what_icontains_compares():
    # The partial unique index on the credit code competes for this query on a few rows;
    # the index's expression is what makes it usable, as the plans above show for names.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'organization_credit_code_trgm'"
        )
        (definition,) = cursor.fetchone()
    assert "gin (upper((credit_code)::text) gin_trgm_ops)" in definition


@pytest.mark.parametrize(
    "words",
    ["secoo", "SECOO hold", "寺库", "库", "o", "00012", "nothing-like-it"],
)
def test_the_agreements_search_answers_what_a_substring_test_of_every_record_answers(words):
    names = [
        ("寺库控股", "Secoo Holding"),
        ("北京寺库商贸", "Beijing Secoo Trading 000123"),
        ("上海书店", "Shanghai Bookshop"),
        ("博柏利", "Burberry Secoo Partner"),
        ("华为", "Huawei 0001234"),
    ]
    organizations = [OrganizationFactory(name_zh=zh, name_en=en) for zh, en in names]
    for number, organization in enumerate(organizations):
        AgreementFactory(registration__organization=organization)
        AgreementFactory().exhibitors.add(ExhibitorFactory(organization=organizations[-1 - number]))
    # Every agreement's parties as recorded (a factory may add parties of its own).
    agreements = {
        agreement.pk: [
            agreement.registration.organization,
            *(exhibitor.organization for exhibitor in agreement.exhibitors.all()),
        ]
        for agreement in Agreement.objects.select_related("registration__organization")
    }

    def named(parties, word: str) -> bool:
        return any(word.casefold() in f"{p.name_zh}\n{p.name_en}".casefold() for p in parties)

    filterset = AgreementApiFilterSet({"q": words}, queryset=Agreement.objects.all())
    found = set(filterset.qs.values_list("pk", flat=True))
    # Each word names the buyer or one of the exhibitors (not necessarily the same one).
    expected = {
        pk for pk, parties in agreements.items() if all(named(parties, w) for w in words.split())
    }
    assert found == expected
    if words != "nothing-like-it":
        assert found
