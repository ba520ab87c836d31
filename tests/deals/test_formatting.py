"""Figures as people read them in each language (deals.formatting)."""

from decimal import Decimal

import pytest
from django.utils import translation

from deals import formatting

MINUS = "\u2212"


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_numbers_are_grouped_by_thousands_in_both_languages(language):
    with translation.override(language):
        assert formatting.number(3107) == "3,107"
        assert formatting.number(10828) == "10,828"
        assert formatting.number(Decimal("2660000000.50"), 2) == "2,660,000,000.50"
        assert formatting.number(None) == "–"


def test_a_share_is_a_percentage_with_one_decimal(english):
    assert formatting.percent(0.915) == "91.5%"
    assert formatting.percent(1) == "100.0%"
    assert formatting.percent(0.0) == "0.0%"
    assert formatting.percent(None) == "–"


def test_decimals_are_rounded_not_cut_off(english):
    assert formatting.percent(0.0828) == "8.3%"
    assert formatting.percent(0.9155) == "91.6%"
    assert formatting.signed_percent(-0.02999) == f"{MINUS}3.0%"
    assert formatting.number(Decimal("2.675"), 2) == "2.68"
    assert formatting.number(1234.5, 0) == "1,235"


def test_a_change_carries_its_sign_and_a_true_minus(english):
    assert formatting.signed_percent(0.33) == "+33.0%"
    assert formatting.signed_percent(0.4) == "+40.0%"
    assert formatting.signed_percent(-0.03) == f"{MINUS}3.0%"
    assert "-" not in formatting.signed_percent(-0.5)


def test_no_change_is_plus_or_minus_zero(english):
    assert formatting.signed_percent(0) == "±0.0%"
    assert formatting.signed_percent(None) == "–"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (2_657_000_000, "US$2.66 billion"),
        (2_000_000_000, "US$2 billion"),
        (Decimal("987654321.55"), "US$987.65 million"),
        (10_000_000, "US$10 million"),
        (1_500_000, "US$1.5 million"),
        (999_999, "US$999,999"),
        (12_345, "US$12,345"),
        (Decimal("12.40"), "US$12"),
        (0, "US$0"),
    ],
)
def test_an_amount_in_english_prose_is_in_millions_and_billions(english, amount, shown):
    assert formatting.usd_compact(amount) == shown


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (2_657_000_000, "26.57亿美元"),
        (2_660_000_000, "26.6亿美元"),
        (Decimal("987654321.55"), "9.88亿美元"),
        (100_000_000, "1亿美元"),
        (10_000_000, "1,000万美元"),
        (1_500_000, "150万美元"),
        (12_345, "1.23万美元"),
        (9_999, "9,999美元"),
        (0, "0美元"),
    ],
)
def test_an_amount_in_chinese_prose_is_in_wan_and_yi(chinese, amount, shown):
    assert formatting.usd_compact(amount) == shown


def test_an_amount_that_rounds_up_to_the_next_unit_is_written_in_that_unit(english):
    assert formatting.usd_compact(999_999_999) == "US$1 billion"
    assert formatting.usd_compact(999_994_999) == "US$999.99 million"
    assert formatting.usd_compact(Decimal("999999.60")) == "US$1 million"
    with translation.override("zh-hans"):
        assert formatting.usd_compact(99_999_999) == "1亿美元"
        assert formatting.usd_compact(Decimal("9999.60")) == "1万美元"


def test_no_amount_is_a_dash(english):
    assert formatting.usd_compact(None) == "–"
    assert formatting.usd(None) == "–"


def test_the_exact_amount_is_in_whole_dollars(english):
    assert formatting.usd(Decimal("2660000000.49")) == "US$2,660,000,000"
