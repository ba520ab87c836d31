"""The API lists' `count`: the whole list's count on every page, from the cache while no
record changed, and right again as soon as a change commits (however it was written)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from deals.stats import figures_changed
from delegations.api.pagination import cached_count
from delegations.models import Registration, RegistrationStatus
from tests.factories import DelegationFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


def _count(path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = APIClient().get(path)
    assert response.status_code == 200
    return response.json()["count"], [query["sql"] for query in captured]


def _counted(queries: list[str]) -> bool:
    return any(sql.startswith("SELECT COUNT(*)") for sql in queries)


def test_the_count_is_read_from_the_cache_until_a_record_changes(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        first = RegistrationFactory()
        RegistrationFactory.create_batch(2, delegation=first.delegation)

    count, queries = _count("/api/participants/")
    assert count == 3
    assert _counted(queries)
    count, queries = _count("/api/participants/?page_size=1&page=2")
    assert count == 3
    assert not _counted(queries)  # another page of the same list: the same count

    with django_capture_on_commit_callbacks(execute=True):
        RegistrationFactory(delegation=first.delegation)
    assert _count("/api/participants/")[0] == 4

    with django_capture_on_commit_callbacks(execute=True):
        first.status = RegistrationStatus.WITHDRAWN
        first.save()
    assert _count("/api/participants/")[0] == 3


def test_a_bulk_write_is_counted_once_it_says_the_records_changed(
    django_capture_on_commit_callbacks,
):
    registration = RegistrationFactory()
    assert _count("/api/participants/")[0] == 1

    # As the spreadsheet import writes: no signal, then figures_changed() itself.
    with django_capture_on_commit_callbacks(execute=True):
        Registration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.WITHDRAWN)
        figures_changed()
    assert _count("/api/participants/")[0] == 0


def test_each_filter_has_a_count_of_its_own():
    one = RegistrationFactory()
    RegistrationFactory.create_batch(
        2, delegation=DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    )

    assert _count(f"/api/participants/?delegation={one.delegation_id}")[0] == 1
    assert _count("/api/participants/")[0] == 3
    assert _count(f"/api/participants/?delegation={one.delegation_id}")[0] == 1


def test_a_list_that_can_match_nothing_counts_none():
    RegistrationFactory()
    assert cached_count(Registration.objects.filter(pk__in=[])) == 0
    assert cached_count(Registration.objects.all()) == 1


# ---------------------------------------------------------------------------------------
# A page after the first, fetched by its keys
# ---------------------------------------------------------------------------------------


@pytest.fixture
def records():
    from tests.pages import beijing, populate, publish

    current = beijing()
    populate(current, 14)
    publish(current)


def _with(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


def _pages(client, path: str, size: int) -> tuple[list[dict], list[dict]]:
    """Every page of `path`, `size` rows each, one after the other; and the answers."""
    answers, rows = [], []
    page = 1
    while True:
        response = client.get(_with(path, f"page_size={size}&page={page}"))
        if response.status_code == 404:
            return rows, answers
        assert response.status_code == 200
        answers.append(response.json())
        rows.extend(response.json()["results"])
        page += 1


KEYED_LISTS = [
    "/api/participants/",
    "/api/participants/?ordering=-organization__name_zh",
    "/api/agreements/",
    "/api/agreements/?ordering=-reference",
    "/api/exhibitors/",
    "/api/pledges/",
]


@pytest.mark.parametrize("path", KEYED_LISTS)
def test_the_pages_after_the_first_hold_the_rows_of_the_whole_list_in_its_order(records, path):
    client = APIClient()
    whole = client.get(_with(path, "page_size=500")).json()
    assert whole["count"] > 6  # so that there are pages after the first

    rows, answers = _pages(client, path, 3)

    assert rows == whole["results"]  # the same rows, fields and order
    assert len(answers) == -(-whole["count"] // 3)
    assert all(answer["count"] == whole["count"] for answer in answers)
    second = answers[1]
    assert "page=" not in second["previous"].replace("page_size=", "")  # page 1
    assert "page=3" in second["next"] and "page_size=3" in second["next"]
    assert answers[-1]["next"] is None


def test_a_staff_list_with_prefetches_pages_the_same():
    from tests.api import client_for
    from tests.pages import beijing, populate

    populate(beijing(), 8)
    client = client_for("reviewer")
    whole = client.get("/api/staff/agreements/", {"page_size": 500}).json()

    rows, _ = _pages(client, "/api/staff/agreements/", 2)

    assert rows == whole["results"]
    assert any(row["exhibitors"] for row in rows)  # the prefetched exhibitors came too


def test_a_page_after_the_first_reads_its_keys_and_then_only_its_rows(records):
    client = APIClient()
    client.get("/api/agreements/")  # the count is cached

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/agreements/?page_size=3&page=2")
    assert response.status_code == 200
    queries = [query["sql"] for query in captured]
    (keys,) = [sql for sql in queries if "OFFSET" in sql]
    # The keys alone, along the list's order: none of the joined tables of the rows.
    assert keys.startswith('SELECT "deals_agreement"."id" AS "pk" FROM "deals_agreement" ')
    assert "JOIN" not in keys
    assert 'ORDER BY "deals_agreement"."signed_on" ASC, "deals_agreement"."reference" ASC' in keys
    # The rows and their exhibitors, for the page's three keys only.
    (rows,) = [sql for sql in queries if sql.startswith('SELECT "deals_agreement"."id", ')]
    assert '"deals_agreement"."id" IN (' in rows
    assert "JOIN" in rows and "LIMIT" not in rows


def test_the_first_page_is_one_query():
    from tests.pages import beijing, populate

    populate(beijing(), 3)
    client = APIClient()
    client.get("/api/participants/")

    with CaptureQueriesContext(connection) as captured:
        client.get("/api/participants/?page_size=2")
    pages = [query["sql"] for query in captured if "delegations_registration" in query["sql"]]
    assert len(pages) == 1
    assert "LIMIT 2" in pages[0] and "OFFSET" not in pages[0]


def test_what_cannot_be_read_by_its_keys_is_paged_as_it_is():
    from delegations.paging import KeyedPaginator

    RegistrationFactory.create_batch(5)
    ordered = Registration.objects.order_by("pk")
    keys = list(ordered.values_list("pk", flat=True))

    values = KeyedPaginator(ordered.values("pk"), 2).page(2).object_list
    plain = Registration.objects.order_by()
    union = KeyedPaginator(plain.union(plain.none()).order_by("pk"), 2).page(2)
    rows = KeyedPaginator(ordered, 2).page(2).object_list

    assert [row["pk"] for row in values] == keys[2:4]
    assert [row.pk for row in union] == keys[2:4]
    assert [row.pk for row in rows] == keys[2:4] and isinstance(rows, list)
