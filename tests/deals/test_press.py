"""The press paragraph written from the computed figures (deals.press)."""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import translation

from deals.press import press_paragraph, press_paragraphs
from deals.stats import (
    BASIS_ATTENDANCE,
    BASIS_NONE,
    BASIS_PREVIOUS,
    BASIS_REGISTRATIONS,
    FIGURE_LABELS,
    Figure,
    Headline,
)
from delegations.models import Delegation, Edition

STORY = {
    "companies_signed": 88,
    "agreements": 207,
    "exhibitors": 108,
    "countries_regions": 32,
    "intended_purchase_usd": Decimal("2660000000.00"),
    "registered_organizations": 3107,
    "participants": 10828,
    "purchaser_share": 0.915,
    "large_importers": 112,
    "organizations_by_kind": {},
    "companies_visited": 320,
    "investment_intentions": 42,
    "ciftis_interest": 43,
    "ciftis_pledges": 7,
    "ciftis_pledge_countries": 6,
    "ciftis_pledges_attended": 0,
    "ciftis_pledge_conversion": 0.0,
}
NOTHING = {key: {} if key == "organizations_by_kind" else 0 for key in STORY}


def headline(values: dict[str, Any], compared: dict[str, tuple[Any, float, str]] | None = None):
    """A Headline of Beijing at CIIE 2019 with these values; `compared` gives some figures
    a previous value, a change and a basis (the others have no comparison)."""
    edition = Edition(
        slug="ciie-2019",
        number=2,
        year=2019,
        name_zh="第二届中国国际进口博览会",
        name_en="2nd China International Import Expo",
        starts_on=datetime.date(2019, 11, 5),
        ends_on=datetime.date(2019, 11, 10),
    )
    delegation = Delegation(
        edition=edition,
        name_zh="北京交易团",
        name_en="Beijing",
        slug="beijing",
        organizer_zh="北京市商务局",
        organizer_en="Beijing Municipal Commerce Bureau",
    )
    compared = compared or {}
    figures = {}
    for key in FIGURE_LABELS:
        if key in compared:
            previous, change, basis = compared[key]
            figures[key] = Figure(key, values[key], previous, change, basis)
        else:
            figures[key] = Figure(key, values[key], None, None, BASIS_NONE)
    return Headline(
        delegation=delegation, edition=edition, previous_delegation=None, figures=figures
    )


def english(value: Headline) -> str:
    with translation.override("en"):
        return press_paragraph(headline=value)


def chinese(value: Headline) -> str:
    with translation.override("zh-hans"):
        return press_paragraph(headline=value)


def test_the_paragraph_tells_the_story_with_the_computed_figures():
    text = english(headline(STORY))

    assert (
        "88 companies from the Beijing delegation to the 2nd China International Import Expo "
        "signed 207 purchase agreements with 108 exhibitors from 32 countries and regions."
    ) in text
    assert "The intended purchase amount is US$2.66 billion." in text
    assert "3,107 organizations with 10,828 participants registered" in text
    assert "91.5% of them are purchasers, and 112 import more than US$10 million a year." in text
    assert "Beijing Municipal Commerce Bureau visited 320 companies; 42 of them" in text
    assert "43 expressed interest in CIFTIS" in text
    assert "7 organizations from 6 countries and regions pledged" in text


def test_the_chinese_paragraph_counts_amounts_in_yi_and_names_the_delegation_once():
    text = chinese(headline(STORY))

    assert "26.6亿美元" in text
    assert "1,000万美元" in text  # the large-importer threshold
    assert "3,107" in text and "10,828" in text and "91.5%" in text
    assert text.startswith(
        "第二届中国国际进口博览会期间，北京交易团88家企业与来自32个国家和地区的108家参展商"
        "签订了207项采购协议。"
    )
    assert "北京交易团共有3,107家企业和机构、10,828人报名" in text
    assert "北京市商务局走访了320家企业，其中42家有意在北京投资，43家表达了参加服贸会的意向" in text
    assert "来自6个国家和地区的7家机构承诺参加下一届服贸会。" in text
    assert "北京交易团交易团" not in text
    assert "US$" not in text


def test_no_change_is_mentioned_without_a_comparison():
    text = english(headline(STORY))

    assert "year on year" not in text
    assert "compared with" not in text
    assert " up " not in text and " down " not in text


def test_a_rise_reads_up_and_states_its_basis():
    compared = {
        "intended_purchase_usd": (Decimal("2000000000"), 0.33, BASIS_PREVIOUS),
        "registered_organizations": (2219, 0.4, BASIS_ATTENDANCE),
        "participants": (5982, 0.81, BASIS_ATTENDANCE),
    }
    text = english(headline(STORY, compared))

    assert "The intended purchase amount is US$2.66 billion, up 33.0% year on year." in text
    assert (
        "up 40.0% and up 81.0% respectively compared with the participation of the previous "
        "edition."
    ) in text


def test_a_fall_reads_down_and_the_basis_may_be_the_registrations():
    compared = {
        "intended_purchase_usd": (Decimal("3000000000"), -0.113333, BASIS_PREVIOUS),
        "registered_organizations": (3200, -0.029063, BASIS_REGISTRATIONS),
        "participants": (10000, 0.0828, BASIS_REGISTRATIONS),
    }
    text = english(headline(STORY, compared))

    assert "US$2.66 billion, down 11.3% year on year." in text
    assert (
        "down 2.9% and up 8.3% respectively compared with the registrations of the previous "
        "edition."
    ) in text
    assert "\u2212" not in text  # words, not signs, in prose


def test_an_unchanged_figure_reads_unchanged():
    compared = {"intended_purchase_usd": (Decimal("2660000000"), 0.0, BASIS_PREVIOUS)}

    assert "US$2.66 billion, unchanged year on year." in english(headline(STORY, compared))


def test_sentences_whose_figures_are_zero_are_left_out():
    only_registrations = NOTHING | {
        "registered_organizations": 10,
        "participants": 25,
        "purchaser_share": 0.5,
    }
    text = english(headline(only_registrations))

    assert text.startswith("10 organizations with 25 participants registered")
    assert "purchase agreements" not in text
    assert "intended purchase amount" not in text
    assert "visited" not in text
    assert "CIFTIS" not in text


def test_each_count_agrees_with_its_own_number():
    ones = STORY | {
        "companies_signed": 1,
        "agreements": 1,
        "exhibitors": 1,
        "countries_regions": 1,
        "registered_organizations": 1,
        "participants": 1,
        "large_importers": 1,
        "companies_visited": 1,
        "investment_intentions": 1,
        "ciftis_pledges": 1,
        "ciftis_pledge_countries": 1,
    }
    text = english(headline(ones))

    assert (
        "1 company from the Beijing delegation to the 2nd China International Import Expo "
        "signed 1 purchase agreement with 1 exhibitor from 1 country or region."
    ) in text
    assert "1 organization with 1 participant registered" in text
    assert "and 1 imports more than US$10 million a year." in text
    assert "visited 1 company; 1 of them intends to invest in Beijing" in text
    assert "1 organization from 1 country or region pledged" in text


def test_pledges_alone_make_a_sentence_of_their_own():
    text = english(headline(NOTHING | {"ciftis_pledges": 7, "ciftis_pledge_countries": 6}))

    assert text == (
        "7 organizations from 6 countries and regions pledged to attend the next CIFTIS."
    )


def test_pledges_that_turned_into_attendance_are_told():
    text = english(
        headline(
            NOTHING
            | {
                "ciftis_pledges": 7,
                "ciftis_pledge_countries": 6,
                "ciftis_pledges_attended": 3,
                "ciftis_pledge_conversion": 0.428571,
            }
        )
    )

    assert text.endswith("pledged to attend the next CIFTIS. 3 of them attended.")
    assert chinese(
        headline(NOTHING | {"ciftis_pledges": 7, "ciftis_pledges_attended": 1})
    ).endswith("其中1家已参会。")


def test_with_nothing_recorded_the_paragraph_says_so():
    assert english(headline(NOTHING)) == (
        "Nothing has been recorded for the Beijing delegation yet."
    )


def test_the_paragraphs_come_in_chinese_then_english_whatever_the_page_language():
    with translation.override("en"):
        paragraphs = press_paragraphs(headline=headline(STORY))
        assert translation.get_language() == "en"

    assert [paragraph.language for paragraph in paragraphs] == ["zh-hans", "en"]
    assert [paragraph.language_name for paragraph in paragraphs] == ["简体中文", "English"]
    assert "26.6亿美元" in paragraphs[0].text
    assert "US$2.66 billion" in paragraphs[1].text
