"""The shape of the queries behind the lists that grow with the whole expo: each reads
the rows of one delegation tree through the index on the records' delegation, never by
testing every row on record (measured by bench/national_measure.py)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegations.models import Organization
from delegations.views import LIST_ORDER
from tests.factories import DelegationFactory, RegistrationFactory
from tests.pages import beijing, first_cells, get_page, list_rows, url

pytestmark = pytest.mark.django_db


def test_organizations_taking_part_are_found_from_the_trees_registrations():
    delegation = DelegationFactory()
    sub = DelegationFactory(
        parent=delegation, name_zh="朝阳区", name_en="Chaoyang", slug="chaoyang"
    )
    other = DelegationFactory(name_zh="上海", name_en="Shanghai", slug="shanghai")
    mine = [RegistrationFactory(delegation=delegation), RegistrationFactory(delegation=sub)]
    RegistrationFactory(delegation=other)
    with CaptureQueriesContext(connection) as captured:
        count = Organization.objects.taking_part(delegation).count()
    assert count == len(mine)
    (sql,) = [query["sql"] for query in captured]
    # From the tree's registrations (`id IN (SELECT organization_id ... delegation_id IN
    # (tree keys))`), not an EXISTS per organization on record joined to the delegations.
    assert '"delegations_organization"."id" IN (SELECT' in sql
    assert "EXISTS" not in sql
    assert "JOIN" not in sql


def test_the_list_of_organizations_is_sorted_by_name_without_the_index_on_every_name(client):
    delegation = beijing()
    names = ["测试乙", "测试甲", "Alpha", "beta", "Beta"]
    for name in names:
        RegistrationFactory(delegation=delegation, organization__name_zh=name)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(
            url("delegations:organizations", edition="ciie-2019", delegation="beijing")
        )
    assert response.status_code == 200
    (sql,) = [q["sql"] for q in captured if _pages(q["sql"], "delegations_organization")]
    # Ordered by an expression of the name, not the bare column its index would serve.
    assert 'ORDER BY "delegations_organization"."name_zh"' not in sql
    listed = list(
        Organization.objects.taking_part(delegation)
        .order_by(*LIST_ORDER)
        .values_list("name_zh", "pk")
    )
    # The same order as the bare column's, in the database's own collation.
    assert listed == list(
        Organization.objects.taking_part(delegation)
        .order_by("name_zh", "pk")
        .values_list("name_zh", "pk")
    )
    assert len(listed) == len(names)


def _pages(sql: str, table: str) -> bool:
    """Whether `sql` is the query of a page of `table`'s list (its LIMIT, not an
    EXISTS's)."""
    return f'FROM "{table}"' in sql and re.search(r"LIMIT \d+( OFFSET \d+)?$", sql) is not None


def test_a_page_reads_its_keys_first_then_only_its_records_whole(client):
    delegation = beijing()
    for n in range(60):
        RegistrationFactory(
            delegation=delegation,
            participants=n + 1,
            organization__name_zh=f"分页企业{n:03d}",
            organization__name_en=f"Paged {n:03d}",
        )
    address = url(
        "delegations:organizations", "en", "?page=2", edition="ciie-2019", delegation="beijing"
    )

    with CaptureQueriesContext(connection) as captured:
        second = get_page(client, address)

    (keys,) = [q["sql"] for q in captured if _pages(q["sql"], "delegations_organization")]
    # The page's keys, by the order and the filters alone: no column but the key, no
    # annotation computed for the rows it skips (the participants' sum).
    assert keys.startswith('SELECT "delegations_organization"."id" AS "pk" FROM')
    assert "SUM(" not in keys
    # Then the page's ten records whole, by their keys: nothing skipped.
    (records,) = [q["sql"] for q in captured if "SUM(" in q["sql"]]
    assert "OFFSET" not in records
    assert not _pages(records, "delegations_organization")
    # The rows the plain slice of the list gives, in its order, with their annotations.
    expected = Organization.objects.taking_part(delegation).order_by(*LIST_ORDER)[50:60]
    assert first_cells(second) == [organization.name_en for organization in expected]
    assert [organization.participants for organization in expected] == list(range(51, 61))
    cells = [row.one("td", **{"data-column": "participants"}) for row in list_rows(second)]
    assert [cell.text for cell in cells] == [str(n) for n in range(51, 61)]


def test_a_searched_page_reads_its_records_without_searching_again(client):
    from tests.pages import agreement_in

    delegation = beijing()
    for n in range(3):
        agreement_in(
            delegation,
            reference=f"FIND-{n}",
            registration=RegistrationFactory(
                delegation=delegation, organization__name_en=f"Findable {n} Ltd."
            ),
        )
    address = url(
        "deals:agreements", "en", "?q=Findable", edition="ciie-2019", delegation="beijing"
    )

    with CaptureQueriesContext(connection) as captured:
        page = get_page(client, address)

    assert sorted(first_cells(page)) == ["FIND-0", "FIND-1", "FIND-2"]
    (keys,) = [q["sql"] for q in captured if _pages(q["sql"], "deals_agreement")]
    assert "UNION" in keys  # the search finds the page's keys
    (records,) = [
        q["sql"] for q in captured if q["sql"].startswith('SELECT "deals_agreement"."id", ')
    ]
    # The records by their keys alone: the search's subqueries are not run again.
    assert "UNION" not in records
    assert "LIKE" not in records
