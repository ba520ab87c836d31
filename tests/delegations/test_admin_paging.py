"""The admin's change lists of more than one page read a page's keys first, then the
rows of those keys (delegations.paging): the same rows, in the same order, as the plain
page, without building every matching row with its joins before sorting them."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.models import Agreement
from delegations.models import Registration
from tests.delegations.test_admin import admin_url
from tests.factories import (
    REVIEWERS,
    AgreementFactory,
    DelegationFactory,
    RegistrationFactory,
    edition,
    staff_member,
)

pytestmark = pytest.mark.django_db

PER_PAGE = 50


@pytest.fixture
def reviewer_client(client):
    client.force_login(staff_member(REVIEWERS))
    return client


def _listed(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def _queries(client, url: str) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [query["sql"] for query in captured]


def test_each_page_of_an_editions_registrations_is_the_plain_page(reviewer_client):
    earlier = DelegationFactory(edition=edition("ciie-2018"), slug="beijing-2018")
    later = DelegationFactory(edition=edition("ciie-2019"))
    for n in range(2 * PER_PAGE + 10):  # the editions' registrations interleaved
        RegistrationFactory(delegation=earlier if n % 3 else later)
    url = admin_url(Registration) + f"?delegation__edition={earlier.edition_id}"
    expected = list(
        Registration.objects.filter(delegation__edition=earlier.edition_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
    )

    pages = [_listed(reviewer_client.get(f"{url}&p={page}")) for page in (1, 2)]

    assert pages == [expected[:PER_PAGE], expected[PER_PAGE : 2 * PER_PAGE]]
    response = reviewer_client.get(url)
    assert response.context["cl"].result_count == len(expected)
    # The rows are whole, with what the list shows of them.
    assert response.context["cl"].result_list[0].organization.name_zh


def test_a_page_of_agreements_reads_its_keys_then_annotates_only_its_rows(reviewer_client):
    day = datetime.date(2019, 11, 6)
    for n in range(PER_PAGE + 5):
        # Ties of the signing day, ordered on by the reference.
        AgreementFactory(signed_on=day + datetime.timedelta(days=n % 4))
    expected = list(
        Agreement.objects.order_by("-signed_on", "-reference").values_list("pk", flat=True)
    )

    response, queries = _queries(reviewer_client, admin_url(Agreement))

    assert _listed(response) == expected[:PER_PAGE]
    (keys,) = [sql for sql in queries if "LIMIT 50" in sql]
    assert keys.startswith('SELECT "deals_agreement"."id" AS "pk" FROM "deals_agreement" ')
    # The exhibitors counted for the page's rows only, found by their keys.
    (rows,) = [sql for sql in queries if "deals_agreementexhibitor" in sql and "COUNT" in sql]
    assert '"deals_agreement"."id" IN (' in rows
    assert "LIMIT" not in rows
    assert _listed(reviewer_client.get(admin_url(Agreement) + "?p=2")) == expected[PER_PAGE:]


def test_a_list_of_one_page_is_one_query(reviewer_client):
    RegistrationFactory.create_batch(3)

    response, queries = _queries(reviewer_client, admin_url(Registration))

    assert len(_listed(response)) == 3
    assert not [sql for sql in queries if 'SELECT "delegations_registration"."id" AS "pk"' in sql]


def _counted(queries: list[str]) -> bool:
    return any(sql.startswith("SELECT COUNT(*)") for sql in queries)


def test_the_count_is_read_from_the_cache_until_a_record_changes(
    reviewer_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = RegistrationFactory()
        RegistrationFactory.create_batch(2, delegation=first.delegation)
    url = admin_url(Registration)

    response, queries = _queries(reviewer_client, url)
    assert response.context["cl"].result_count == 3 and _counted(queries)
    response, queries = _queries(reviewer_client, url)
    assert response.context["cl"].result_count == 3 and not _counted(queries)

    # Another filter is a count of its own.
    other = f"{url}?delegation__edition={edition('ciie-2018').pk}"
    assert reviewer_client.get(other).context["cl"].result_count == 0

    # Deleted from the admin, as a clerk does: counted again at once.
    with django_capture_on_commit_callbacks(execute=True):
        reviewer_client.post(admin_url(Registration, "delete", first.pk), {"post": "yes"})
    response, queries = _queries(reviewer_client, url)
    assert response.context["cl"].result_count == 2 and _counted(queries)


def test_a_staff_member_of_one_delegation_counts_only_its_records(client):
    mine = DelegationFactory()
    RegistrationFactory.create_batch(2, delegation=mine)
    other = DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    RegistrationFactory.create_batch(3, delegation=other)
    client.force_login(staff_member(REVIEWERS))
    assert client.get(admin_url(Registration)).context["cl"].result_count == 5

    client.force_login(staff_member(REVIEWERS, delegations=[mine]))
    assert client.get(admin_url(Registration)).context["cl"].result_count == 2
