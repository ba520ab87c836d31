import datetime
from decimal import Decimal

import pytest

from deals.formulas import escape_formula, unescape_formula


@pytest.mark.parametrize(
    "text",
    ["=1+1", "==1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"],
)
def test_text_that_starts_like_a_formula_is_prefixed_with_a_quote(text):
    assert escape_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["hello", "北京", "", "'hello", "1+1", " =1", "O'Brien"])
def test_other_text_is_left_alone(text):
    assert escape_formula(text) == text


@pytest.mark.parametrize(
    "value", [None, 0, -5, 1.5, Decimal("-710000000.00"), datetime.date(2019, 11, 5), True]
)
def test_values_that_are_not_text_are_returned_unchanged(value):
    assert escape_formula(value) is value


@pytest.mark.parametrize(
    "text",
    ["=1+1", "==1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0", "'=1"],
)
def test_escaping_then_unescaping_gives_back_the_text(text):
    assert unescape_formula(escape_formula(text)) == text


def test_unescaping_strips_one_quote_only():
    assert unescape_formula("'=1+1") == "=1+1"
    assert unescape_formula("''=1+1") == "'=1+1"


def test_text_already_quoted_before_a_formula_gets_one_more_quote():
    assert escape_formula("'=1") == "''=1"


@pytest.mark.parametrize("text", ["'hello", "'", "'1", "hello", "", "'北京"])
def test_a_quote_before_ordinary_text_is_kept(text):
    assert unescape_formula(text) == text


@pytest.mark.parametrize("value", [None, 42, Decimal("1.5"), datetime.date(2019, 11, 5)])
def test_unescaping_leaves_values_that_are_not_text_alone(value):
    assert unescape_formula(value) is value
