"""The public index of fairs, editions and delegations, and the list of a delegation's
participating organizations (delegations/views.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegations.models import OrganizationKind, RegistrationStatus
from tests.factories import OrganizationFactory, RegistrationFactory
from tests.pages import (
    BEIJING_2019,
    agreement_in,
    beijing,
    csv_rows,
    district,
    first_cells,
    get_page,
    json_rows,
    list_rows,
    record_count,
    shanghai,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese_by_default(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def organizations(language: str = "en", query: str = "") -> str:
    return url("delegations:organizations", language, query, **BEIJING_2019)


# ---------------------------------------------------------------------------------------
# Index and edition pages
# ---------------------------------------------------------------------------------------


def test_the_index_lists_every_fair_its_editions_and_their_delegations(client):
    parent = beijing()
    district(parent, "haidian")
    shanghai()
    beijing(2018)

    page = get_page(client, url("delegations:index"))

    fairs = {h2.text for h2 in page.select("h2")}
    assert fairs == {
        "China International Import Expo",
        "China International Fair for Trade in Services",
    }
    hrefs = [a["href"] for a in page.select("a")]
    for edition, slug in [
        ("ciie-2019", "beijing"),
        ("ciie-2019", "haidian"),
        ("ciie-2019", "shanghai"),
        ("ciie-2018", "beijing"),
    ]:
        assert url("deals:headline", edition=edition, delegation=slug) in hrefs
    # The sub-delegation is listed under its delegation.
    haidian = page.one("a", href=url("deals:headline", edition="ciie-2019", delegation="haidian"))
    assert any(node.tag == "li" and "Beijing" in node.text for node in haidian.ancestors())


def test_the_index_runs_the_same_queries_whatever_the_delegations(
    client, django_assert_num_queries
):
    # Rendered (the cache emptied first: the page every visitor gets is stored whole,
    # deals/page_cache.py), then served from the cache in one query.
    from deals.generation_watch import watch

    beijing()
    cache.clear()
    with django_assert_num_queries(20):
        client.get(url("delegations:index"))
    # The generation token read (on PostgreSQL too: the one the process held was not
    # the one the emptied cache got).
    with django_assert_num_queries(1):
        client.get(url("delegations:index"))
    for year in (2018, 2019, 2020):
        shanghai(year)
        district(beijing(year), f"district-{year}")
    cache.clear()
    watch.reset()  # as a process that starts on the emptied cache
    with django_assert_num_queries(20):
        client.get(url("delegations:index"))


def test_an_edition_page_lists_its_delegations_only(client):
    beijing()
    shanghai()
    beijing(2018)

    page = get_page(client, url("delegations:edition", edition="ciie-2019"))

    assert page.one("h1").text == "2nd China International Import Expo"
    links = {a["href"] for a in page.one("main").select("a")}
    assert url("deals:headline", edition="ciie-2019", delegation="shanghai") in links
    assert url("deals:headline", edition="ciie-2018", delegation="beijing") not in links


def test_an_unknown_edition_is_not_found(client):
    assert client.get(url("delegations:edition", edition="ciie-1999")).status_code == 404


# ---------------------------------------------------------------------------------------
# Participating organizations
# ---------------------------------------------------------------------------------------


@pytest.fixture
def delegation():
    current = beijing()
    xiaomi = RegistrationFactory(
        delegation=current,
        participants=12,
        organization=OrganizationFactory(
            name_zh="小米科技有限责任公司",
            name_en="Xiaomi Technology Co., Ltd.",
            kind=OrganizationKind.PRIVATE,
            annual_imports_usd=Decimal("50000000"),
        ),
    )
    agreement_in(current, registration=xiaomi)
    RegistrationFactory(
        delegation=current,
        participants=3,
        organization=OrganizationFactory(
            name_zh="北京首都旅游集团有限责任公司",
            name_en="Beijing Tourism Group",
            kind=OrganizationKind.STATE_OWNED,
        ),
    )
    RegistrationFactory(
        delegation=current,
        is_purchaser=False,
        organization=OrganizationFactory(
            name_zh="北京市贸促会", name_en="CCPIT Beijing", kind=OrganizationKind.GOVERNMENT
        ),
    )
    RegistrationFactory(
        delegation=district(current, "haidian"),
        organization=OrganizationFactory(
            name_zh="香港贸易发展局北京代表处",
            name_en="HKTDC Beijing",
            kind=OrganizationKind.HK_MACAO_TAIWAN,
            country="HK",
        ),
    )
    RegistrationFactory(
        delegation=current,
        status=RegistrationStatus.WITHDRAWN,
        organization=OrganizationFactory(name_zh="已退出公司", name_en="Withdrawn Ltd"),
    )
    RegistrationFactory(
        delegation=shanghai(),
        organization=OrganizationFactory(name_zh="上海公司", name_en="Shanghai Ltd"),
    )
    return current


def test_the_list_holds_the_delegations_and_sub_delegations_registrations_not_withdrawn(
    client, delegation
):
    page = get_page(client, organizations())

    assert sorted(first_cells(page)) == [
        "Beijing Tourism Group",
        "CCPIT Beijing",
        "HKTDC Beijing",
        "Xiaomi Technology Co., Ltd.",
    ]
    assert record_count(page) == 4


def test_the_reader_sees_names_in_their_language_first(client, delegation):
    english = get_page(client, organizations("en", "?q=xiaomi"))
    chinese = get_page(client, organizations("zh-hans", "?q=xiaomi"))

    assert first_cells(english) == ["Xiaomi Technology Co., Ltd."]
    assert first_cells(chinese) == ["小米科技有限责任公司"]
    assert "小米科技有限责任公司" in list_rows(english)[0].text


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("?q=小米", ["Xiaomi Technology Co., Ltd."]),
        ("?q=beijing+group", ["Beijing Tourism Group"]),
        ("?kind=state_owned", ["Beijing Tourism Group"]),
        ("?country=HK", ["HKTDC Beijing"]),
        ("?purchaser=no", ["CCPIT Beijing"]),
        ("?signed=yes", ["Xiaomi Technology Co., Ltd."]),
        ("?large_importer=yes", ["Xiaomi Technology Co., Ltd."]),
        ("?kind=private&signed=no", []),
    ],
)
def test_the_list_filters_and_searches(client, delegation, query, names):
    page = get_page(client, organizations(query=query))

    assert sorted(first_cells(page)) == names
    assert record_count(page) == len(names)


def test_hong_kong_is_named_as_a_region_of_china(client, delegation):
    english = get_page(client, organizations("en", "?country=HK"))
    chinese = get_page(client, organizations("zh-hans", "?country=HK"))

    assert "Hong Kong, China" in list_rows(english)[0].text
    assert "中国香港" in list_rows(chinese)[0].text


def test_the_country_filter_offers_the_countries_present(client, delegation):
    page = get_page(client, organizations())

    options = [o["value"] for o in page.one("select", name="country").select("option")]
    assert options == ["", "CN", "HK"]


def test_the_count_and_the_countries_are_cached_until_a_change_commits(
    client, delegation, django_capture_on_commit_callbacks
):
    def shown() -> tuple[int, list[str], list[str]]:
        with CaptureQueriesContext(connection) as captured:
            page = get_page(client, organizations())
        options = [o["value"] for o in page.one("select", name="country").select("option")]
        return record_count(page), options, [query["sql"] for query in captured]

    count, options, queries = shown()
    assert (count, options) == (4, ["", "CN", "HK"])
    count, options, queries = shown()
    assert (count, options) == (4, ["", "CN", "HK"])
    # Read from the cache: neither the count nor the countries were queried again.
    assert not [sql for sql in queries if "COUNT(" in sql or "DISTINCT" in sql]

    with django_capture_on_commit_callbacks(execute=True):
        RegistrationFactory(
            delegation=delegation,
            organization=OrganizationFactory(name_zh="三星", name_en="Samsung", country="KR"),
        )
    count, options, _ = shown()
    assert (count, options) == (5, ["", "CN", "HK", "KR"])


def test_a_yes_no_filter_with_another_value_filters_nothing(client, delegation):
    page = get_page(client, organizations(query="?purchaser=maybe"))

    assert record_count(page) == 4


def test_the_downloads_carry_the_listed_organizations_with_the_filters(client, delegation):
    csv_file = csv_rows(
        client.get(
            url("delegations:organizations_download", "zh-hans", format="csv", **BEIJING_2019)
            + "?kind=private"
        )
    )
    json_file = json_rows(
        client.get(url("delegations:organizations_download", format="json", **BEIJING_2019))
    )

    header, *rows = csv_file
    assert header[:2] == ["名称", "英文名称"]
    assert [row[0] for row in rows] == ["小米科技有限责任公司"]
    assert rows[0][header.index("采购商")] == "是"
    xiaomi = next(row for row in json_file if row["name_en"].startswith("Xiaomi"))
    assert xiaomi == {
        "name_en": "Xiaomi Technology Co., Ltd.",
        "name_zh": "小米科技有限责任公司",
        "kind": "private enterprise",
        "country": "China",
        "industry": xiaomi["industry"],
        "participants": 12,
        "purchaser": True,
        "large_importer": True,
        "signed": True,
    }


def test_the_list_is_cut_into_pages_of_fifty(client):
    current = beijing()
    for n in range(51):
        RegistrationFactory(
            delegation=current,
            organization=OrganizationFactory(name_zh=f"企业{n:03d}", name_en=f"Company {n:03d}"),
        )

    first = get_page(client, organizations("zh-hans"))
    second = get_page(client, organizations("zh-hans", "?page=2"))

    assert len(list_rows(first)) == 50
    assert first_cells(second) == ["企业050"]
