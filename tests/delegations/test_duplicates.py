"""Likely duplicate organizations: the same company written another way."""

from __future__ import annotations

import pytest

from delegations.duplicates import DuplicatePair, duplicate_pairs, duplicates_of, name_key
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

CODE = "91110000600037341L"
OTHER_CODE = "91440300708461136T"


def suggested(organization) -> list[int]:
    return [duplicate.organization.pk for duplicate in duplicates_of(organization)]


# ---------------------------------------------------------------------------------------
# The key
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("西门子（中国）有限公司", "西门子中国"),
        ("西门子 (中国) 有限公司", "西门子中国"),
        ("【西门子】中国有限公司", "西门子中国"),
        ("北京首钢集团有限公司", "北京首钢"),
        ("北京首钢股份有限公司", "北京首钢"),
        ("北京首钢有限责任公司", "北京首钢"),
        ("Siemens Co., Ltd.", "siemens"),
        ("SIEMENS LIMITED", "siemens"),
        ("Ｓｉｅｍｅｎｓ　ＡＧ", "siemens"),
        ("Siemens Corp.", "siemens"),
        ("Siemens Group Inc.", "siemens"),
        ("Siemens GmbH", "siemens"),
        ("Siemens LLC", "siemens"),
        ("Coca-Cola Company", "cocacola"),
    ],
)
def test_name_key_drops_case_width_spaces_punctuation_and_company_suffixes(name, key):
    assert name_key(name) == key


def test_name_key_keeps_a_word_that_only_looks_like_a_suffix_inside_a_name():
    assert name_key("Costco Wholesale") == "costcowholesale"
    assert name_key("Tesco") == "tesco"


def test_name_key_of_a_blank_or_one_letter_name_is_empty():
    assert name_key("") == ""
    assert name_key("（）") == ""
    assert name_key("A") == ""


# ---------------------------------------------------------------------------------------
# The duplicates of one organization
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("北京首钢有限公司", ""), ("北京 首钢 有限公司", ""), id="spaces"),
        pytest.param(("西门子（中国）有限公司", ""), ("西门子(中国)有限公司", ""), id="brackets"),
        pytest.param(("北京首钢集团有限公司", ""), ("北京首钢", ""), id="chinese-suffix"),
        pytest.param(("拜耳", "Bayer AG"), ("拜耳医药", "BAYER Co., Ltd."), id="english-suffix"),
        pytest.param(("Ｂａｙｅｒ", ""), ("Bayer", ""), id="full-width"),
        pytest.param(("拜耳股份公司", ""), ("Bayer AG", "拜耳"), id="chinese-in-english-field"),
        pytest.param(("Bayer AG", ""), ("拜耳", "Bayer Limited"), id="english-in-chinese-field"),
    ],
)
def test_duplicates_of_finds_the_same_name_written_another_way(first, second):
    one = OrganizationFactory(name_zh=first[0], name_en=first[1])
    other = OrganizationFactory(name_zh=second[0], name_en=second[1])
    OrganizationFactory(name_zh="北京银行", name_en="Bank of Beijing")

    assert suggested(one) == [other.pk]
    assert suggested(other) == [one.pk]


def test_duplicates_of_suggests_a_record_without_a_credit_code_for_one_with_it():
    coded = OrganizationFactory(name_zh="北京首钢有限公司", name_en="", credit_code=CODE)
    uncoded = OrganizationFactory(name_zh="北京首钢", name_en="")

    assert suggested(coded) == [uncoded.pk]
    assert suggested(uncoded) == [coded.pk]


def test_duplicates_of_never_suggests_two_organizations_with_different_credit_codes():
    one = OrganizationFactory(name_zh="北京首钢有限公司", name_en="", credit_code=CODE)
    other = OrganizationFactory(name_zh="北京首钢", name_en="", credit_code=OTHER_CODE)

    assert suggested(one) == []
    assert suggested(other) == []


def test_duplicates_of_leaves_out_unrelated_names_sharing_letters():
    one = OrganizationFactory(name_zh="北京首钢有限公司", name_en="Shougang Group")
    OrganizationFactory(name_zh="北京首都钢铁贸易有限公司", name_en="Shou Trading")
    OrganizationFactory(name_zh="首钢北京", name_en="")
    OrganizationFactory(name_zh="上海首钢", name_en="Shougang Shanghai")

    assert suggested(one) == []


def test_duplicates_of_says_which_name_key_they_share():
    one = OrganizationFactory(name_zh="拜耳股份公司", name_en="Bayer AG")
    OrganizationFactory(name_zh="Bayer Ltd.", name_en="")

    assert [duplicate.key for duplicate in duplicates_of(one)] == ["bayer"]


def test_duplicates_of_costs_one_query(django_assert_num_queries):
    one = OrganizationFactory(name_zh="北京首钢有限公司", name_en="Shougang Co., Ltd.")
    for n in range(5):
        OrganizationFactory(name_zh=f"北京首钢{n}", name_en=f"Shougang {n}")
    OrganizationFactory(name_zh="首钢", name_en="SHOUGANG")

    with django_assert_num_queries(1):
        found = duplicates_of(one)

    assert len(found) == 1


# ---------------------------------------------------------------------------------------
# Every likely pair
# ---------------------------------------------------------------------------------------


def test_duplicate_pairs_lists_each_likely_pair_once():
    steel = OrganizationFactory(name_zh="北京首钢有限公司", name_en="Shougang Co., Ltd.")
    steel_again = OrganizationFactory(name_zh="首钢 (北京)", name_en="SHOUGANG")
    bayer = OrganizationFactory(name_zh="拜耳", name_en="Bayer AG", credit_code=CODE)
    bayer_again = OrganizationFactory(name_zh="Bayer", name_en="")
    bayer_gmbh = OrganizationFactory(name_zh="Bayer GmbH", name_en="", credit_code=OTHER_CODE)
    OrganizationFactory(name_zh="北京银行", name_en="Bank of Beijing")

    pairs = duplicate_pairs()

    assert sorted((pair.first_id, pair.second_id) for pair in pairs) == sorted(
        [
            (steel.pk, steel_again.pk),
            (bayer.pk, bayer_again.pk),
            # Not the two with codes; the one without a code pairs with either.
            (bayer_again.pk, bayer_gmbh.pk),
        ]
    )


def test_duplicate_pairs_groups_by_key_in_one_pass_over_the_rows():
    rows = [
        (1, "华为公司", "", None),
        (2, "华为有限公司", "", None),
        (3, "华为集团", "", CODE),
        (4, "华为技术", "", OTHER_CODE),
        (5, "中兴公司", "", None),
        (6, "中兴通讯", "ZTE Ltd", None),
    ]

    assert duplicate_pairs(rows) == [
        DuplicatePair(1, 2, "华为"),
        DuplicatePair(1, 3, "华为"),
        DuplicatePair(2, 3, "华为"),
    ]
