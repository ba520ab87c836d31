"""The public pages of a delegation's results (deals/views.py): the home and headline
pages, the agreement, exhibitor and pledge lists, and their downloads."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from deals.importer import import_file
from deals.models import Agreement, AgreementKind, AgreementStatus, PledgeStatus, Publication
from deals.services import figures_publish
from deals.stats import FIGURE_LABELS, headline_figures
from delegations.models import Delegation, OrganizationKind, RegistrationStatus
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    ExhibitorFactory,
    OrganizationFactory,
    RegistrationFactory,
    SectorFactory,
    VisitFactory,
    staff_member,
)
from tests.pages import (
    BEIJING_2019,
    agreement_in,
    beijing,
    content,
    csv_rows,
    district,
    first_cells,
    get_page,
    json_rows,
    link,
    list_rows,
    parse,
    populate,
    publish,
    record_count,
    shanghai,
    table_rows,
    url,
)

pytestmark = pytest.mark.django_db

COUNT_ONLY = {"companies_visited", "investment_intentions", "ciftis_interest"}
LINKED = [key for key in FIGURE_LABELS if key not in COUNT_ONLY | {"organizations_by_kind"}]


@pytest.fixture(autouse=True)
def _chinese_by_default(settings):
    """The site as it is deployed: Chinese without a prefix, English under /en/."""
    settings.LANGUAGE_CODE = "zh-hans"


def bj(name: str, language: str = "en", query: str = "") -> str:
    return url(name, language, query, **BEIJING_2019)


@pytest.fixture
def delegation() -> Delegation:
    """Beijing at CIIE 2019 with 24 records of every kind, and CIIE 2018 to compare with."""
    previous = beijing(2018)
    for _ in range(3):
        agreement_in(previous)
    current = beijing()
    populate(current, 24)
    publish(current)
    return current


def figures_of(delegation: Delegation) -> dict:
    return headline_figures(delegation=delegation).figures


# ---------------------------------------------------------------------------------------
# The headline page
# ---------------------------------------------------------------------------------------


def test_headline_page_prints_every_figure_of_the_product(client, delegation):
    figures = figures_of(delegation)

    page = get_page(client, bj("deals:headline"))

    for key in FIGURE_LABELS:
        if key == "organizations_by_kind":
            continue
        card = page.one("li", id=f"figure-{key}")
        value = card.one("span", class_="figure__value").text
        expected = figures[key].value
        if key in ("purchaser_share", "ciftis_pledge_conversion"):
            assert value == f"{expected * 100:.1f}%"
        elif key == "intended_purchase_usd":
            assert card.one("span", class_="figure__exact").text == f"US${expected:,.0f}"
        else:
            assert value == f"{expected:,}", key


def test_the_organizations_by_kind_table_lists_every_kind_with_its_count(client, delegation):
    by_kind = figures_of(delegation)["organizations_by_kind"].value

    page = get_page(client, bj("deals:headline"))

    rows = table_rows(page, "kinds-caption")
    assert len(rows) == len(OrganizationKind.values)
    shown = {
        row.one("a")["href"].rsplit("kind=", 1)[1]: int(row.select("td")[0].text) for row in rows
    }
    assert shown == by_kind


@pytest.mark.parametrize("key", LINKED)
def test_a_linked_figure_leads_to_a_list_of_exactly_the_records_it_counts(client, delegation, key):
    figures = figures_of(delegation)
    page = get_page(client, bj("deals:headline"))

    href = link(page, data_figure=key)
    path, _, fragment = href.partition("#")
    target = get_page(client, path)

    if key == "countries_regions":
        assert fragment == "countries"
        assert len(table_rows(target, "countries-caption")) == figures[key].value
    elif key == "ciftis_pledge_countries":
        assert fragment == "countries"
        assert len(table_rows(target, "pledge-countries-caption")) == figures[key].value
    elif key == "intended_purchase_usd":
        assert fragment == "totals"
        assert target.one("h2", id="totals")
    elif key == "ciftis_pledge_conversion":
        assert fragment == "conversion"
        rate = target.one("dl", class_="conversion").select("dd")[-1].text
        assert rate == f"{figures[key].value * 100:.1f}%"
    elif key == "participants":
        download = url("delegations:organizations_download", format="json", **BEIJING_2019)
        rows = json_rows(client.get(download))
        assert sum(row["participants"] for row in rows) == figures[key].value
    elif key == "purchaser_share":
        everyone = record_count(get_page(client, bj("delegations:organizations")))
        assert record_count(target) / everyone == pytest.approx(figures[key].value)
    else:
        assert record_count(target) == figures[key].value, href


def test_count_only_figures_carry_no_link_and_say_so(client, delegation):
    page = get_page(client, bj("deals:headline"))

    for key in COUNT_ONLY:
        card = page.one("li", id=f"figure-{key}")
        assert card.select("a") == []
        assert "count only" in card.text


def test_each_figure_states_its_change_and_basis_against_the_previous_edition(client):
    previous = beijing(2018)
    for _ in range(2):
        agreement_in(previous)
    current = beijing()
    for _ in range(3):
        agreement_in(current)
    publish(current)

    page = get_page(client, bj("deals:headline"))

    card = page.one("li", id="figure-agreements")
    assert card.one("span", class_="figure__change").text == ("+50.0% against the previous edition")
    assert card.one("span", class_="figure__previous").text == "previous: 2"
    assert "Changes compare with the 1st China International Import Expo." in page.text


def test_registrations_compare_with_the_previous_editions_attendance_where_recorded(client):
    previous = beijing(2018)
    RegistrationFactory(delegation=previous, status=RegistrationStatus.ATTENDED)
    RegistrationFactory(delegation=previous, status=RegistrationStatus.ATTENDED)
    RegistrationFactory(delegation=previous)  # registered, never attended
    current = beijing()
    for _ in range(3):
        RegistrationFactory(delegation=current)
    publish(current)

    page = get_page(client, bj("deals:headline"))

    card = page.one("li", id="figure-registered_organizations")
    assert card.one("span", class_="figure__change").text == (
        "+50.0% against the previous edition's attendance"
    )


def test_without_a_previous_edition_the_page_says_there_is_no_comparison(client):
    current = beijing()
    agreement_in(current)
    publish(current)

    page = get_page(client, bj("deals:headline"))

    assert "There is no previous edition with records to compare with." in page.text
    card = page.one("li", id="figure-agreements")
    assert card.one("span", class_="figure__change").text == "no comparison"
    assert "%" not in card.text


def test_the_press_paragraph_is_on_the_page_in_both_languages(client, delegation):
    figures = figures_of(delegation)

    page = get_page(client, bj("deals:headline"))

    chinese, english = page.select("blockquote")
    assert chinese["lang"] == "zh-Hans" and english["lang"] == "en"
    assert english.text.startswith(
        f"{figures['companies_signed'].value} companies from the Beijing delegation to the "
        f"2nd China International Import Expo signed {figures['agreements'].value} purchase "
        f"agreements with {figures['exhibitors'].value} exhibitors"
    )
    assert f"{figures['agreements'].value}项采购协议" in chinese.text


def test_the_charts_are_inline_svg_with_a_title_a_summary_and_a_data_table(client, delegation):
    page = get_page(client, bj("deals:headline"))

    charts = page.select("figure", class_="chart")
    assert [chart.one("figcaption").text for chart in charts] == [
        "Agreements by sector",
        "Exhibitors by country or region",
        "Registered organizations by kind",
        "This edition against the previous one",
    ]
    for chart in charts:
        svg = chart.one("svg")
        assert svg["role"] == "img"
        title_id, desc_id = svg["aria-labelledby"].split()
        assert svg.one("title", id=title_id).text
        assert svg.one("desc", id=desc_id).text
        assert chart.one("table").select("tbody")[0].select("tr")
    assert page.select("script") == []


def test_the_headline_page_links_to_the_other_editions_and_delegations(client, delegation):
    shanghai()

    page = get_page(client, bj("deals:headline"))

    hrefs = {a["href"] for a in page.select("a")}
    assert url("deals:headline", edition="ciie-2018", delegation="beijing") in hrefs
    assert url("deals:headline", edition="ciie-2019", delegation="shanghai") in hrefs


def test_an_unknown_delegation_or_edition_is_not_found(client, delegation):
    assert (
        client.get(url("deals:headline", edition="ciie-2019", delegation="nowhere")).status_code
        == 404
    )
    assert (
        client.get(url("deals:headline", edition="ciie-1999", delegation="beijing")).status_code
        == 404
    )
    assert (
        client.get(url("deals:agreements", edition="ciie-2019", delegation="nowhere")).status_code
        == 404
    )


# ---------------------------------------------------------------------------------------
# The home page
# ---------------------------------------------------------------------------------------


def test_home_page_shows_the_default_delegation_at_its_latest_edition_with_records(client):
    agreement_in(beijing(2018))
    current = beijing(2019)
    agreement_in(current)
    publish(current)
    beijing(2020)  # registered for the next expo, nothing recorded yet

    page = get_page(client, url("deals:home"))

    assert page.one("h1").text == "Beijing delegation"
    assert "2nd China International Import Expo" in page.one("p", class_="eyebrow").text
    assert link(page, data_figure="agreements") == bj("deals:agreements")


def test_home_page_follows_the_default_delegation_setting(client, settings):
    agreement_in(beijing())
    agreement_in(shanghai())
    settings.EXPO = {**settings.EXPO, "DEFAULT_DELEGATION": "shanghai"}

    page = get_page(client, url("deals:home"))

    assert page.one("h1").text == "Shanghai delegation"


def test_home_page_counts_the_records_of_sub_delegations_as_the_delegations(client):
    parent = beijing()
    agreement_in(district(parent))

    page = get_page(client, url("deals:home"))

    assert page.one("h1").text == "Beijing delegation"


def test_home_page_without_records_says_so_and_links_to_the_index(client):
    beijing()

    page = get_page(client, url("deals:home"))

    assert "No delegation has published records yet." in page.text
    assert page.one("main").one("a", href=url("delegations:index"))


# ---------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------


def test_chinese_is_the_default_and_english_lives_under_en(client, delegation):
    chinese = get_page(client, bj("deals:headline", "zh-hans"))
    english = get_page(client, bj("deals:headline", "en"))

    assert bj("deals:headline", "zh-hans") == "/ciie-2019/beijing/"
    assert chinese.one("html")["lang"] == "zh-Hans"
    assert chinese.one("h1").text == "北京交易团"
    assert english.one("html")["lang"] == "en"
    assert english.one("h1").text == "Beijing delegation"


def test_the_language_of_a_public_page_is_its_addresses_not_the_browsers(client, delegation):
    page = get_page(client, bj("deals:headline", "zh-hans"), HTTP_ACCEPT_LANGUAGE="en")

    assert page.one("html")["lang"] == "zh-Hans"


def test_the_language_switcher_links_to_the_same_page_with_its_query(client, delegation):
    page = get_page(client, bj("deals:agreements", "en", "?kind=purchase&page=1"))

    switcher = page.one("nav", class_="language-switcher")
    chinese = switcher.one("a", hreflang="zh-hans")
    assert chinese["href"] == bj("deals:agreements", "zh-hans", "?kind=purchase&page=1")
    assert switcher.one("span", aria_current="true").text == "English"


def test_numbers_and_dates_follow_the_language(client):
    current = beijing()
    agreement_in(current, amount=Decimal("1234567"), is_public=True)

    english = get_page(client, bj("deals:agreements", "en"))
    chinese = get_page(client, bj("deals:agreements", "zh-hans"))

    assert "1,234,567" in list_rows(english)[0].text
    assert "Nov. 6, 2019" in list_rows(english)[0].text
    assert "2019年11月6日" in list_rows(chinese)[0].text


# ---------------------------------------------------------------------------------------
# The illustrative notice
# ---------------------------------------------------------------------------------------


PAGES = [
    "deals:headline",
    "delegations:organizations",
    "deals:agreements",
    "deals:exhibitors",
    "deals:pledges",
]


@pytest.mark.parametrize("name", PAGES)
def test_pages_over_real_records_carry_no_illustrative_notice(client, delegation, name):
    page = get_page(client, bj(name))

    assert page.select(class_="notice-illustrative") == []


@pytest.mark.parametrize("name", PAGES)
def test_pages_over_demo_records_say_the_data_is_illustrative(client, delegation, name):
    Delegation.objects.filter(pk=delegation.pk).update(illustrative=True)

    page = get_page(client, bj(name))

    notice = page.one(class_="notice-illustrative")
    assert "Illustrative data." in notice.text


def test_one_demo_agreement_marks_the_headline_page_illustrative(client):
    current = beijing()
    agreement_in(current)
    agreement_in(current, illustrative=True)
    publish(current)

    page = get_page(client, bj("deals:headline"))

    assert page.one(class_="notice-illustrative")


# ---------------------------------------------------------------------------------------
# Disclosure: no undisclosed amount reaches a page or a file
# ---------------------------------------------------------------------------------------

# Amounts no other record has, written every way a page or file could print them.
SECRET_AMOUNTS = [Decimal("7654321.98"), Decimal("8765432.19")]


def _spellings(amount: Decimal) -> list[str]:
    whole = int(amount)
    return [
        str(amount),
        f"{amount:,}",
        str(whole),
        f"{whole:,}",
        f"{amount / 10**6:.2f}",  # US$7.65 million
        f"{amount / 10**4:.2f}",  # 765.43万
        f"{amount / 10**4:,.2f}",
    ]


@pytest.fixture
def secrets() -> Delegation:
    current = beijing()
    sector = SectorFactory(code="medical", name_en="Medical equipment", name_zh="医疗器械")
    for amount in SECRET_AMOUNTS:
        agreement_in(current, amount=amount, is_public=False, sector=sector)
    agreement_in(current, amount=Decimal("1000000"), is_public=True, sector=sector)
    agreement_in(current, amount=Decimal("2000000"), is_public=True)
    publish(current)
    return current


def _every_public_address() -> list[str]:
    addresses = []
    for language in ("en", "zh-hans"):
        for name in PAGES:
            addresses.append(bj(name, language))
        addresses.append(url("deals:home", language))
        addresses.append(bj("deals:agreements", language, "?disclosed=no"))
        addresses.append(bj("deals:agreements", language, "?sector=medical"))
        for name in [
            "deals:figures_download",
            "deals:totals_download",
            "deals:agreements_download",
            "deals:exhibitors_download",
            "deals:pledges_download",
            "delegations:organizations_download",
        ]:
            for fmt in ("csv", "json"):
                addresses.append(url(name, language, format=fmt, **BEIJING_2019))
    return addresses


def test_no_undisclosed_amount_appears_in_any_page_source_or_download(client, secrets):
    for address in _every_public_address():
        response = client.get(address)
        assert response.status_code == 200, address
        text = content(response).decode()
        for amount in SECRET_AMOUNTS:
            for spelling in _spellings(amount):
                assert spelling not in text, (address, spelling)


def test_an_undisclosed_amount_reads_undisclosed_in_the_list_and_is_empty_in_files(client, secrets):
    page = get_page(client, bj("deals:agreements", query="?disclosed=no"))

    assert record_count(page) == 2
    for row in list_rows(page):
        assert row.text.count("undisclosed") == 2  # the amount and its US$ equivalent

    csv_file = csv_rows(
        client.get(url("deals:agreements_download", format="csv", **BEIJING_2019) + "?disclosed=no")
    )
    header, *rows = csv_file
    amount, amount_usd = header.index("Amount"), header.index("Amount (US$)")
    assert [(row[amount], row[amount_usd]) for row in rows] == [("", ""), ("", "")]

    json_file = json_rows(
        client.get(
            url("deals:agreements_download", format="json", **BEIJING_2019) + "?disclosed=no"
        )
    )
    assert [(row["amount"], row["amount_usd"], row["currency"]) for row in json_file] == [
        (None, None, None),
        (None, None, None),
    ]


def test_a_sector_total_is_withheld_while_fewer_undisclosed_amounts_than_the_threshold_hide_in_it(
    client, secrets
):
    page = get_page(client, bj("deals:agreements"))

    rows = {row.one("th").text: row for row in table_rows(page, "sector-caption")}
    assert "withheld" in rows["Medical equipment"].text
    # A group without undisclosed amounts is published: withholding it would protect
    # nothing, since the headline total is published.
    assert "withheld" not in rows["no sector"].text


def test_a_sector_total_with_enough_undisclosed_amounts_is_published(client, settings, secrets):
    settings.EXPO = {**settings.EXPO, "DISCLOSURE_THRESHOLD": 2}

    page = get_page(client, bj("deals:agreements"))

    rows = {row.one("th").text: row for row in table_rows(page, "sector-caption")}
    total = sum(SECRET_AMOUNTS) + 1_000_000
    assert (
        f"US${total:,.0f}" in rows["Medical equipment"].text
        or f"{total:,.2f}" in rows["Medical equipment"].text
    )


def test_the_totals_download_withholds_as_the_page_does_and_sums_the_rest_disclosed(
    client, secrets
):
    page = get_page(client, bj("deals:agreements"))
    href = page.one("a", data_download_totals="json")["href"]

    response = client.get(href)

    rows = json_rows(response)
    assert href == url("deals:totals_download", format="json", **BEIJING_2019)
    assert {row["partition"] for row in rows} == {"sector", "kind", "country"}
    medical = next(row for row in rows if row["group"] == "medical")
    assert medical["withheld"] is True and medical["total_usd"] is None
    assert medical["undisclosed"] == 2
    assert medical["disclosed_usd"] == 1_000_000
    for row in rows:
        if row["partition"] != "sector":
            assert row["total_usd"] is None and row["withheld"] is None
    csv_file = csv_rows(client.get(url("deals:totals_download", format="csv", **BEIJING_2019)))
    assert csv_file[0][:4] == ["Grouped by", "Grouped by (label)", "Group", "Group (label)"]
    assert len(csv_file) == 1 + len(rows)


def test_the_list_footer_sums_the_disclosed_amounts_only(client, secrets):
    page = get_page(client, bj("deals:agreements", query="?sector=medical"))

    assert "1 of them has a disclosed amount, US$1,000,000; 2 undisclosed." in page.text


def test_no_filter_or_ordering_reads_an_amount(client, secrets):
    everything = first_cells(get_page(client, bj("deals:agreements")))

    for query in (
        "?ordering=amount",
        "?ordering=-amount_usd",
        "?amount=7654321.98",
        "?amount__gt=5000000",
    ):
        assert first_cells(get_page(client, bj("deals:agreements", query=query))) == everything


# ---------------------------------------------------------------------------------------
# The agreement list: filters, search, pagination
# ---------------------------------------------------------------------------------------


@pytest.fixture
def agreements() -> Delegation:
    current = beijing()
    medical = SectorFactory(code="medical", name_en="Medical equipment")
    retail = SectorFactory(code="retail", name_en="Everyday products")
    gb = ExhibitorFactory(
        organization=OrganizationFactory(name_en="Burberry", name_zh="博柏利", country="GB")
    )
    jp = ExhibitorFactory(
        organization=OrganizationFactory(name_en="Shiseido", name_zh="资生堂", country="JP")
    )
    secoo = RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_en="Secoo", name_zh="寺库")
    )
    gome = RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_en="Gome", name_zh="国美")
    )
    agreement_in(
        current,
        reference="A-1",
        registration=secoo,
        exhibitors=[gb, jp],
        kind=AgreementKind.STRATEGIC_COOPERATION,
        sector=retail,
        is_public=True,
    )
    agreement_in(current, reference="A-2", registration=gome, exhibitors=[jp], sector=retail)
    agreement_in(
        current, reference="A-3", registration=gome, exhibitors=[gb], sector=medical, is_public=True
    )
    agreement_in(
        current,
        reference="A-4",
        registration=gome,
        exhibitors=[gb],
        status=AgreementStatus.CANCELLED,
    )
    return current


@pytest.mark.parametrize(
    ("query", "references"),
    [
        ("", ["A-1", "A-2", "A-3"]),
        ("?sector=medical", ["A-3"]),
        ("?kind=strategic_cooperation", ["A-1"]),
        ("?country=JP", ["A-1", "A-2"]),
        ("?disclosed=yes", ["A-1", "A-3"]),
        ("?disclosed=no", ["A-2"]),
        ("?q=secoo", ["A-1"]),
        ("?q=国美", ["A-2", "A-3"]),
        ("?q=burberry", ["A-1", "A-3"]),
        ("?q=gome+shiseido", ["A-2"]),
        ("?country=GB&sector=retail", ["A-1"]),
    ],
)
def test_the_agreement_list_filters_and_searches(client, agreements, query, references):
    page = get_page(client, bj("deals:agreements", query=query))

    assert first_cells(page) == references
    assert record_count(page) == len(references)


def test_a_filter_with_a_value_it_does_not_know_lists_nothing_and_says_why(client, agreements):
    page = get_page(client, bj("deals:agreements", query="?sector=nonsense"))

    assert record_count(page) == 0
    assert page.one("p", class_="field-error").text
    assert "No records match these filters." in page.text


def test_a_download_with_an_unknown_filter_value_is_refused_with_the_reason(client, agreements):
    response = client.get(
        url("deals:agreements_download", format="csv", **BEIJING_2019) + "?kind=loan"
    )

    assert response.status_code == 400
    assert b"kind" in response.content


def test_the_filters_offer_only_the_countries_of_the_delegations_exhibitors(client, agreements):
    page = get_page(client, bj("deals:agreements"))

    options = [o["value"] for o in page.one("select", name="country").select("option")]
    assert options == ["", "JP", "GB"]  # by name: Japan, United Kingdom


def test_a_long_list_is_paginated_and_the_pages_keep_the_filters(client):
    current = beijing()
    for n in range(53):
        agreement_in(current, reference=f"R-{n:03d}", kind=AgreementKind.PURCHASE)
    agreement_in(current, reference="S-000", kind=AgreementKind.STRATEGIC_COOPERATION)

    first = get_page(client, bj("deals:agreements", query="?kind=purchase"))
    nxt = link(first, rel="next")
    second = get_page(client, bj("deals:agreements") + nxt)

    assert record_count(first) == 53
    assert len(list_rows(first)) == 50
    assert nxt == "?kind=purchase&page=2"
    assert first_cells(second) == ["R-050", "R-051", "R-052"]
    assert link(second, rel="prev") == "?kind=purchase&page=1"
    assert "Page 2 of 2" in second.text


def test_a_page_past_the_end_shows_the_last_page(client):
    current = beijing()
    for n in range(51):
        agreement_in(current, reference=f"R-{n:03d}")

    page = get_page(client, bj("deals:agreements", query="?page=99"))

    assert first_cells(page) == ["R-050"]
    assert get_page(client, bj("deals:agreements", query="?page=x")).one(
        "caption", id="records-caption"
    )


def test_a_download_holds_every_page_with_the_filters_applied(client):
    current = beijing()
    for n in range(60):
        agreement_in(current, reference=f"R-{n:03d}", kind=AgreementKind.PURCHASE)
    agreement_in(current, reference="S-000", kind=AgreementKind.STRATEGIC_COOPERATION)

    page = get_page(client, bj("deals:agreements", query="?kind=purchase"))
    href = page.one("a", data_download="csv")["href"]
    rows = csv_rows(client.get(href))

    assert href == url("deals:agreements_download", format="csv", **BEIJING_2019) + "?kind=purchase"
    assert len(rows) == 1 + 60
    assert "S-000" not in {row[0] for row in rows}


def test_the_agreement_csv_has_translated_headers_a_bom_and_escaped_formulas(client):
    current = beijing()
    buyer = RegistrationFactory(
        delegation=current,
        organization=OrganizationFactory(name_zh='=HYPERLINK("x")', name_en="+cmd"),
    )
    agreement_in(current, reference="A-1", registration=buyer, is_public=True)

    english = csv_rows(
        client.get(url("deals:agreements_download", "en", format="csv", **BEIJING_2019))
    )
    chinese = csv_rows(
        client.get(url("deals:agreements_download", "zh-hans", format="csv", **BEIJING_2019))
    )

    assert english[0][:3] == ["Reference", "Signed on", "Buyer"]
    assert chinese[0][:3] == ["协议编号", "签约日期", "采购方"]
    buyer_cell = english[1][2]
    assert buyer_cell.startswith("'")


def test_the_agreement_json_has_stable_keys_and_numbers_as_numbers(client):
    current = beijing()
    agreement_in(current, reference="A-1", amount=Decimal("1500000.50"), is_public=True)

    response = client.get(
        url("deals:agreements_download", "zh-hans", format="json", **BEIJING_2019)
    )

    assert response["Content-Type"] == "application/json"
    assert 'filename="beijing-ciie-2019-agreements.json"' in response["Content-Disposition"]
    (row,) = json_rows(response)
    assert row["reference"] == "A-1"
    assert row["amount"] == 1500000.5
    assert row["signed_on"] == "2019-11-06"
    assert row["disclosed"] is True


# ---------------------------------------------------------------------------------------
# Exhibitors and pledges
# ---------------------------------------------------------------------------------------


def test_the_exhibitor_list_counts_each_exhibitors_agreements_of_the_delegation(client, agreements):
    other = shanghai()
    agreement_in(other, exhibitors=[Agreement.objects.get(reference="A-3").exhibitors.get()])

    page = get_page(client, bj("deals:exhibitors"))

    counts = {row.select("th")[0].text: row.select("td")[-1].text for row in list_rows(page)}
    assert counts == {"Burberry": "2", "Shiseido": "2"}


def test_the_exhibitor_list_groups_by_country_and_filters_by_it(client, agreements):
    page = get_page(client, bj("deals:exhibitors"))
    countries = {
        row.one("th").text: row.one("td").text for row in table_rows(page, "countries-caption")
    }
    japan = get_page(client, bj("deals:exhibitors", query="?country=JP"))

    assert countries == {"United Kingdom": "1", "Japan": "1"}
    assert first_cells(japan) == ["Shiseido"]


def test_the_pledge_page_reports_the_conversion_from_pledged_to_attended(client):
    current = beijing()
    for status in [
        PledgeStatus.PLEDGED,
        PledgeStatus.PLEDGED,
        PledgeStatus.REGISTERED,
        PledgeStatus.ATTENDED,
        PledgeStatus.WITHDRAWN,
    ]:
        CiftisPledgeFactory(source_delegation=current, status=status)

    page = get_page(client, bj("deals:pledges"))

    conversion = dict(
        zip(
            [dt.text for dt in page.one("dl", class_="conversion").select("dt")],
            [dd.text for dd in page.one("dl", class_="conversion").select("dd")],
            strict=True,
        )
    )
    assert conversion == {
        "pledged": "4",
        "registered": "1",
        "attended": "1",
        "attendance rate": "25.0%",
    }
    assert "1 pledge was withdrawn and is not counted." in page.text
    assert record_count(page) == 4


def test_the_pledge_list_filters_by_status_and_country(client):
    current = beijing()
    CiftisPledgeFactory(
        source_delegation=current,
        status=PledgeStatus.ATTENDED,
        organization=OrganizationFactory(name_en="Enterprise Estonia", country="EE"),
    )
    CiftisPledgeFactory(
        source_delegation=current,
        organization=OrganizationFactory(name_en="Embassy of Jamaica", country="JM"),
    )

    attended = get_page(client, bj("deals:pledges", query="?status=attended"))
    jamaica = get_page(client, bj("deals:pledges", query="?country=JM"))

    assert first_cells(attended) == ["Enterprise Estonia"]
    assert first_cells(jamaica) == ["Embassy of Jamaica"]


def test_visits_and_intentions_are_published_as_counts_only(client, delegation):
    visited = VisitFactory(
        delegation=delegation, organization=OrganizationFactory(name_en="Visited Secretly Ltd")
    )

    for address in _every_public_address():
        text = content(client.get(address)).decode()
        assert visited.organization.name_en not in text, address
        assert visited.organization.name_zh not in text, address


# ---------------------------------------------------------------------------------------
# The headline figures' downloads
# ---------------------------------------------------------------------------------------


def test_the_figures_json_is_the_statistics_object(client, delegation):
    out = StringIO()
    call_command("statistics", edition="ciie-2019", delegation="beijing", json=True, stdout=out)

    response = client.get(url("deals:figures_download", format="json", **BEIJING_2019))

    published = json.loads(response.content)
    assert published.pop("publication")["as_of"] == "2019-11-11"
    assert published == json.loads(out.getvalue())


def test_the_figures_csv_has_a_row_for_every_figure_and_kind(client, delegation):
    rows = csv_rows(client.get(url("deals:figures_download", format="csv", **BEIJING_2019)))

    header, *records = rows
    assert header == ["Key", "Figure", "Value", "Previous edition", "Change", "Basis"]
    keys = [row[0] for row in records]
    assert keys == [k for k in FIGURE_LABELS if k != "organizations_by_kind"] + [
        f"organizations_by_kind.{kind}" for kind in OrganizationKind.values
    ]
    agreements = dict(zip(header, records[keys.index("agreements")], strict=True))
    assert agreements["Value"] == str(figures_of(delegation)["agreements"].value)
    assert agreements["Basis"] == "previous_edition"


# ---------------------------------------------------------------------------------------
# Speed: a fixed number of queries whatever the rows; the figures cached
# ---------------------------------------------------------------------------------------

# Every public address of a delegation, with the queries it runs with the cache empty
# and with it filled; each filtered address selects records at both sizes (an empty
# page skips its prefetch). The database cache (settings.CACHES) reads a page's cached
# values in two queries (the generation token, then the values) and writes each missing
# one with a few more; ATOMIC_REQUESTS adds a savepoint and its release. The agreements
# and exhibitors pages also cache their rendered summary (the totals, the countries).
# A list's count and its filters' country choices are cached too (each: the token,
# then the value), downloads' choices included, and the agreements' listed total. A
# page's keys are read first, then its records (delegations.paging.KeyedPaginator).
QUERIES = {
    # The figures come from their publication (one query); the page every visitor gets
    # is rendered once (7 queries, the generation token made, the page looked for and
    # stored in the cache), then served from the cache in one query (deals/page_cache.py).
    "/en/": (21, 1),
    "/en/ciie-2019/beijing/": (21, 1),
    "/en/ciie-2019/beijing/organizations/": (27, 9),
    "/en/ciie-2019/beijing/organizations/?kind=private&purchaser=yes&q=Buyer": (27, 9),
    "/en/ciie-2019/beijing/agreements/": (77, 15),
    "/en/ciie-2019/beijing/agreements/?sector=sector-1&country=JP&q=Buyer": (78, 16),
    "/en/ciie-2019/beijing/agreements/?page=2": (77, 15),
    "/en/ciie-2019/beijing/exhibitors/": (43, 12),
    "/en/ciie-2019/beijing/exhibitors/?country=JP": (43, 12),
    "/en/ciie-2019/beijing/pledges/": (36, 11),
    "/en/ciie-2019/beijing/pledges/?status=pledged": (36, 11),
    "/en/ciie-2019/beijing/figures.csv": (4, 4),
    "/en/ciie-2019/beijing/figures.json": (4, 4),
    "/en/ciie-2019/beijing/agreement-totals.csv": (29, 5),
    "/en/ciie-2019/beijing/organizations.csv": (18, 6),
    "/en/ciie-2019/beijing/agreements.json": (19, 7),
    "/en/ciie-2019/beijing/exhibitors.csv": (19, 7),
    "/en/ciie-2019/beijing/pledges.json": (18, 6),
    # Stored whole like the headline pages.
    "/en/fairs/": (20, 1),
    "/en/ciie-2019/": (19, 1),
}


@pytest.fixture(params=[6, 70], ids=["6 rows", "70 rows"])
def sized(request) -> Delegation:
    """Beijing at CIIE 2019 and 2018 with a few records of every kind, or with more
    than a page of them."""
    populate(beijing(2018), 3, start=500)
    current = beijing()
    populate(current, request.param)
    publish(current)
    shanghai()
    return current


@pytest.mark.parametrize("address", QUERIES)
def test_each_public_address_runs_the_same_queries_whatever_the_rows(
    client, sized, address, django_assert_num_queries
):
    cold, warm = QUERIES[address]
    cache.clear()

    with django_assert_num_queries(cold):
        response = client.get(address)
        content(response)
    with django_assert_num_queries(warm):
        response = client.get(address)
        content(response)
    assert response.status_code == 200


def _shown_agreements(client, address: str) -> str:
    page = get_page(client, address)
    return page.one("li", id="figure-agreements").one("span", class_="figure__value").text


@pytest.fixture
def staff(client):
    """The client of a clerk, who previews the live figures (the cached ones)."""
    client.force_login(staff_member(DATA_ENTRY))
    return client


LIVE = "?figures=live"


def test_the_cached_figures_are_refreshed_once_a_change_of_records_commits(
    staff, django_capture_on_commit_callbacks
):
    client = staff
    current = beijing()
    with django_capture_on_commit_callbacks(execute=True):
        agreement = agreement_in(current)
        agreement_in(current)
    address = bj("deals:headline", query=LIVE)
    assert _shown_agreements(client, address) == "2"

    with django_capture_on_commit_callbacks(execute=False) as uncommitted:
        agreement_in(current)
    # Until the transaction commits, readers see the figures of the committed records.
    assert uncommitted
    assert _shown_agreements(client, address) == "2"
    for callback in uncommitted:
        callback()
    assert _shown_agreements(client, address) == "3"

    with django_capture_on_commit_callbacks(execute=True):
        agreement.status = AgreementStatus.CANCELLED
        agreement.save()
    assert _shown_agreements(client, address) == "2"

    with django_capture_on_commit_callbacks(execute=True):
        Agreement.objects.exclude(pk=agreement.pk).first().delete()
    assert _shown_agreements(client, address) == "1"


def test_relinking_an_agreements_exhibitors_refreshes_the_figures(
    staff, django_capture_on_commit_callbacks
):
    client = staff
    with django_capture_on_commit_callbacks(execute=True):
        agreement = agreement_in(beijing())
    address = bj("deals:headline", query=LIVE)
    get_page(client, address)

    with django_capture_on_commit_callbacks(execute=True):
        agreement.exhibitors.add(ExhibitorFactory(organization__country="JP"))

    page = get_page(client, address)
    assert page.one("li", id="figure-exhibitors").one("span", class_="figure__value").text == "2"


def test_a_spreadsheet_import_refreshes_the_figures(staff, django_capture_on_commit_callbacks):
    client = staff
    current = beijing()
    exhibitor = ExhibitorFactory(organization=OrganizationFactory(name_zh="博柏利", country="GB"))
    buyer = RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_zh="寺库")
    )
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current, registration=buyer, exhibitors=[exhibitor])
    address = bj("deals:headline", query=LIVE)
    assert _shown_agreements(client, address) == "1"

    sheet = (
        "reference,delegation,edition,buyer,exhibitors,amount\n"
        "NEW-1,北京,CIIE 2019,寺库,博柏利,5000\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        result = import_file(sheet, filename="Agreements.csv", dry_run=False)

    assert result.written, result.errors
    assert _shown_agreements(client, address) == "2"


def test_a_dry_run_leaves_the_cached_figures_alone(staff, django_capture_on_commit_callbacks):
    client = staff
    current = beijing()
    buyer = RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_zh="寺库")
    )
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current, registration=buyer)
    address = bj("deals:headline", query=LIVE)
    get_page(client, address)

    sheet = (
        "reference,delegation,edition,buyer,exhibitors,amount\n"
        "NEW-1,北京,CIIE 2019,寺库,Nobody,5000\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        import_file(sheet, filename="Agreements.csv", dry_run=True)

    assert callbacks == []


# ---------------------------------------------------------------------------------------
# Publications: the public reads the figures as published
# ---------------------------------------------------------------------------------------


def test_a_delegation_never_published_shows_no_figures_and_says_so(client):
    current = beijing()
    agreement_in(current)

    page = get_page(client, bj("deals:headline"))

    assert "have not been published yet" in page.one(data_publication="none").text
    assert page.select("li", class_="figure") == []
    assert page.select("blockquote") == []
    assert (
        client.get(url("deals:figures_download", format="json", **BEIJING_2019)).status_code == 404
    )
    # The records themselves are listed as they are.
    assert record_count(get_page(client, bj("deals:agreements"))) == 1


def test_the_page_shows_the_figures_as_published_with_their_date_until_the_next_publication(
    client, django_capture_on_commit_callbacks
):
    current = beijing()
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current)
        publish(current)
        agreement_in(current)  # recorded after the publication

    page = get_page(client, bj("deals:headline"))

    assert _shown_agreements(client, bj("deals:headline")) == "1"
    assert "As of Nov. 11, 2019" in page.one(class_="publication").text
    figures = json.loads(
        client.get(url("deals:figures_download", format="json", **BEIJING_2019)).content
    )
    assert figures["agreements"]["value"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        publish(current)
    assert _shown_agreements(client, bj("deals:headline")) == "2"


def test_an_earlier_publication_stays_readable(client):
    current = beijing()
    agreement_in(current)
    publish(current)
    first = Publication.objects.get()
    agreement_in(current)
    publish(current)

    page = get_page(client, bj("deals:publications"))
    links = [a["href"] for a in page.one("table", data_records=True).select("a")]
    earlier = get_page(client, bj("deals:headline", query=f"?publication={first.pk}"))

    assert len(links) == 2 and links[-1].endswith(f"?publication={first.pk}")
    assert earlier.one("li", id="figure-agreements").one("span", class_="figure__value").text == "1"
    assert earlier.one("a", data_download="json")["href"].endswith(f"?publication={first.pk}")


def test_a_publication_of_another_delegation_or_no_number_is_not_found(client):
    current = beijing()
    other = shanghai()
    agreement_in(other)
    publish(current, other)
    theirs = Publication.objects.get(delegation=other)

    for query in (
        f"?publication={theirs.pk}",
        "?publication=x",
        "?publication=99999999999999999999",
    ):
        assert client.get(bj("deals:headline", query=query)).status_code == 404


def test_staff_preview_the_live_figures_on_a_private_answer(client):
    current = beijing()
    agreement_in(current)
    publish(current)
    agreement_in(current)
    client.force_login(staff_member(DATA_ENTRY))

    response = client.get(bj("deals:headline", query="?figures=live"))

    page = parse(response.content)
    assert page.one(data_publication="live")
    assert page.one("li", id="figure-agreements").one("span", class_="figure__value").text == "2"
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_the_public_cannot_preview_the_live_figures(client):
    current = beijing()
    agreement_in(current)
    publish(current)
    agreement_in(current)

    page = get_page(client, bj("deals:headline", query="?figures=live"))

    assert page.select(data_publication="live") == []
    assert page.one("li", id="figure-agreements").one("span", class_="figure__value").text == "1"


def test_the_home_page_prefers_the_latest_published_edition(client):
    published = beijing(2018)
    agreement_in(published)
    publish(published)
    agreement_in(beijing(2019))  # recorded, not yet published

    page = get_page(client, url("deals:home"))

    assert "1st China International Import Expo" in page.one("p", class_="eyebrow").text


def test_only_reviewers_publish(client):
    current = beijing()
    agreement_in(current)
    with pytest.raises(PermissionDenied):
        figures_publish(delegation=current, user=staff_member(DATA_ENTRY))
    reviewer = staff_member(REVIEWERS)

    publication = figures_publish(delegation=current, user=reviewer)

    assert publication.published_by == reviewer
    assert publication.figures["agreements"]["value"] == 1


def test_the_publish_page_compares_then_publishes_for_reviewers_only(client):
    current = beijing()
    agreement_in(current)
    publish_url = reverse("admin:deals_publication_publish")
    client.force_login(staff_member(DATA_ENTRY))
    assert client.get(publish_url).status_code == 403

    client.force_login(staff_member(REVIEWERS))
    form = {"delegation": current.pk, "as_of": "2019-11-11", "note": "press release"}
    compared = client.post(publish_url, form)
    assert compared.status_code == 200
    assert not Publication.objects.exists()
    rows = {row.key: row for row in compared.context["comparison"]}
    assert rows["agreements"].live == 1 and rows["agreements"].published is None
    shown = parse(compared.content)
    printed = {
        row["data-figure"]: [cell.text for cell in row.select("td")]
        for row in shown.select("tr", data_figure=True)
    }
    assert printed["agreements"] == ["1", "–"]
    assert printed["organizations_by_kind.private"] == ["1", "–"]
    # What was compared is what gets published: no field can be changed any more.
    assert {field["type"] for field in shown.one("form", id="publish-form").select("input")} == {
        "hidden",
        "submit",
    }

    done = client.post(publish_url, {**form, "confirm": "yes"})

    assert done.status_code == 302
    publication = Publication.objects.get()
    assert (publication.as_of.isoformat(), publication.note) == ("2019-11-11", "press release")

    agreement_in(current, amount=Decimal(1_500_000))
    again = {row.key: row for row in client.post(publish_url, form).context["comparison"]}
    assert (again["agreements"].live_shown, again["agreements"].published_shown) == ("2", "1")
    assert again["agreements"].changed and not again["companies_visited"].changed


@pytest.mark.parametrize("role", [DATA_ENTRY, REVIEWERS])
def test_both_staff_roles_read_the_publications_and_neither_changes_one(client, role):
    current = beijing()
    agreement_in(current)
    publication = figures_publish(delegation=current, user=None, note="press release")
    client.force_login(staff_member(role))

    listed = client.get(reverse("admin:deals_publication_changelist"))
    shown = client.get(reverse("admin:deals_publication_change", args=[publication.pk]))
    deleted = client.post(
        reverse("admin:deals_publication_delete", args=[publication.pk]), {"post": "yes"}
    )

    assert listed.status_code == shown.status_code == 200
    assert "press release" in listed.content.decode()
    figures = {
        row["data-figure"]: [cell.text for cell in row.select("td")]
        for row in parse(shown.content).select("tr", data_figure=True)
    }
    assert figures["agreements"] == ["1", "–"]
    assert figures["organizations_by_kind.private"] == ["1", "–"]
    assert (listed.context["publish_url"] is not None) == (role == REVIEWERS)
    assert deleted.status_code == 403
    assert Publication.objects.get() == publication


def test_the_publish_page_offers_today_in_the_browser_date_picker(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    current = beijing()
    client.force_login(staff_member(REVIEWERS))

    page = parse(
        client.get(f"{reverse('admin:deals_publication_publish')}?delegation={current.pk}").content
    )

    as_of = page.one("input", name="as_of")
    assert (as_of["type"], as_of["value"]) == ("date", timezone.localdate().isoformat())
