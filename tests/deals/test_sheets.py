"""The spreadsheet contract as data (deals.sheets): its sheets and columns match
IMPORT_FORMAT, and the value parsers accept every form the contract lists and refuse
the rest with a reason in Chinese and English."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from deals.models import AgreementKind, AgreementStatus, IntentionStage, PledgeStatus
from deals.sheets import (
    SHEETS,
    Bilingual,
    CellError,
    Message,
    label_key,
    parse_amount,
    parse_choice,
    parse_country,
    parse_credit_code,
    parse_currency,
    parse_date,
    parse_integer,
    parse_rate,
    parse_text,
    parse_yes_no,
    sheet_named,
)
from delegations.models import OrganizationKind, RegistrationStatus

# ---------------------------------------------------------------------------------------
# The sheets
# ---------------------------------------------------------------------------------------

# The contract (IMPORT_FORMAT.md): sheet, Chinese name, columns with their Chinese
# headers; (req) and (key) as marked there.
CONTRACT = {
    ("Delegations", "交易团"): [
        ("edition", "届次", "req key"),
        ("name", "名称", "req key"),
        ("name_en", "英文名称", ""),
        ("organizer", "组织单位", ""),
        ("parent", "上级交易团", ""),
    ],
    ("Organizations", "组织"): [
        ("name", "名称", "req"),
        ("name_en", "英文名称", ""),
        ("credit_code", "统一社会信用代码", "key"),
        ("kind", "类型", "req"),
        ("country", "国家或地区", ""),
        ("industry", "行业", ""),
        ("annual_imports_usd", "年进口额（美元）", ""),
    ],
    ("Registrations", "报名"): [
        ("delegation", "交易团", "req key"),
        ("edition", "届次", "req key"),
        ("organization", "组织名称", "req key"),
        ("credit_code", "统一社会信用代码", ""),
        ("participants", "参会人数", "req"),
        ("purchaser", "是否采购商", ""),
        ("status", "状态", ""),
        ("registered_on", "报名日期", ""),
    ],
    ("Exhibitors", "展商"): [
        ("edition", "届次", "req key"),
        ("name", "展商名称", "req key"),
        ("name_en", "英文名称", ""),
        ("country", "国家或地区", "req"),
        ("exhibition_area", "展区", ""),
    ],
    ("Agreements", "采购协议"): [
        ("reference", "协议编号", "req key"),
        ("delegation", "交易团", "req"),
        ("edition", "届次", "req"),
        ("buyer", "采购方", "req"),
        ("exhibitors", "展商", "req"),
        ("kind", "协议类型", ""),
        ("sector", "领域", ""),
        ("amount", "金额", "req"),
        ("currency", "币种", ""),
        ("signed_on", "签约日期", ""),
        ("status", "状态", ""),
        ("public", "是否公开", ""),
    ],
    ("Visits", "走访"): [
        ("delegation", "交易团", "req key"),
        ("edition", "届次", "req key"),
        ("organization", "组织名称", "req key"),
        ("visited_on", "走访日期", "req key"),
        ("visited_by", "走访单位", ""),
        ("investment_intention", "有投资意向", ""),
        ("ciftis_interest", "有意参加服贸会", ""),
        ("notes", "备注", ""),
    ],
    ("Investment intentions", "投资意向"): [
        ("delegation", "交易团", "req key"),
        ("edition", "届次", "req key"),
        ("organization", "组织名称", "req key"),
        ("sector", "领域", ""),
        ("amount", "金额", ""),
        ("currency", "币种", ""),
        ("stage", "阶段", ""),
    ],
    ("CIFTIS pledges", "服贸会参会意向"): [
        ("fair_edition", "目标展会", "req key"),
        ("organization", "组织名称", "req key"),
        ("country", "国家或地区", "req"),
        ("source_delegation", "来源交易团", ""),
        ("source_edition", "来源届次", ""),
        ("status", "状态", ""),
        ("pledged_on", "承诺日期", ""),
    ],
}


@pytest.mark.parametrize(("names", "columns"), CONTRACT.items(), ids=lambda value: str(value))
def test_every_sheet_and_column_of_the_contract_is_there_as_marked(names, columns):
    sheet = sheet_named(names[0])

    assert (sheet.name_en, sheet.name_zh) == names
    for key, zh, marks in columns:
        column = sheet.column(key)
        assert column.zh == zh
        assert column.required == ("req" in marks), key
        assert column.is_key == ("key" in marks), key
    extensions = {column.key for column in sheet.columns} - {key for key, _, _ in columns}
    assert all(sheet.column(key).extension for key in extensions)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda sheet: sheet.name_en)
def test_the_documentation_lists_every_column_of_every_sheet(sheet):
    text = (Path(settings.BASE_DIR) / "docs" / "spreadsheets.md").read_text(encoding="utf-8")
    section = text.split(f"### {sheet.name_en} / {sheet.name_zh}", 1)[1].split("###", 1)[0]

    for column in sheet.columns:
        assert f"| `{column.key}`" in section, column.key
        assert f"| {column.zh} |" in section, column.zh
        for alias in column.aliases:
            assert f"`{alias}`" in section, alias


def test_the_sheets_come_in_dependency_order_with_the_exchange_rates_before_agreements():
    assert [sheet.name_en for sheet in SHEETS] == [
        "Delegations",
        "Organizations",
        "Registrations",
        "Exhibitors",
        "Exchange rates",
        "Agreements",
        "Visits",
        "Investment intentions",
        "CIFTIS pledges",
    ]
    assert sheet_named("汇率").extension


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda sheet: sheet.name_en)
def test_no_header_of_a_sheet_names_two_of_its_columns(sheet):
    seen: dict[str, str] = {}
    for column in sheet.columns:
        for header in column.headers:
            key = label_key(header)
            assert seen.setdefault(key, column.key) == column.key, (header, column.key)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda sheet: sheet.name_en)
def test_every_sheet_can_say_whether_a_record_is_illustrative(sheet):
    if sheet.name_en == "Exchange rates":
        return
    assert sheet.column("illustrative").zh == "示例数据"


@pytest.mark.parametrize(
    "name",
    ["Agreements", "agreements", "  AGREEMENTS ", "采购协议", " 采购协议", "Purchase agreements"],
)
def test_a_sheet_is_found_by_its_english_or_chinese_name_whatever_the_case_and_spaces(name):
    assert sheet_named(name).name_en == "Agreements"


def test_an_unknown_sheet_name_is_a_key_error_listing_the_sheets():
    with pytest.raises(KeyError) as error:
        sheet_named("Deals")

    assert "Deals" in str(error.value)
    assert "Agreements / 采购协议" in str(error.value)


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (" Amount ", "amount"),
        ("金额", "amount"),
        ("意向金额", "amount"),
        ("BUYER_CREDIT_CODE", "buyer_credit_code"),
        ("采购方统一社会信用代码", "buyer_credit_code"),
        ("signed on", "signed_on"),
        ("是否公开", "public"),
    ],
)
def test_a_header_matches_by_key_chinese_header_or_alias_ignoring_case_and_spaces(header, key):
    assert sheet_named("Agreements").header_index()[label_key(header)].key == key


def test_full_width_brackets_in_a_chinese_header_match_half_width_ones():
    index = sheet_named("Organizations").header_index()

    assert index[label_key("年进口额(美元)")].key == "annual_imports_usd"
    assert index[label_key("国家/地区")].key == "country"


# ---------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Yes", True),
        ("Y", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("是", True),
        (" 是 ", True),
        (True, True),
        (1.0, True),
        ("no", False),
        ("N", False),
        ("false", False),
        ("0", False),
        ("否", False),
        (False, False),
        (0.0, False),
    ],
)
def test_yes_and_no_are_read_in_every_form_of_the_contract(text, value):
    assert parse_yes_no(text) is value


@pytest.mark.parametrize("text", ["maybe", "2", "是的吧", "x"])
def test_anything_else_is_not_a_silent_no_but_an_error(text):
    with pytest.raises(CellError) as error:
        parse_yes_no(text)

    assert "is not yes or no" in error.value.en
    assert error.value.zh


@pytest.mark.parametrize(
    "value",
    [
        "2019-11-05",
        "2019/11/5",
        "2019.11.5",
        "5 Nov 2019",
        "05-Nov-2019",
        "5 November 2019",
        "Nov 5, 2019",
        "November 5th, 2019",
        "2019年11月5日",
        "２０１９年１１月５日",
        "20191105",
        "2019-11-05 00:00:00",
        datetime.date(2019, 11, 5),
        datetime.datetime(2019, 11, 5, 0, 0),
        43774.0,
    ],
)
def test_dates_are_read_in_every_form_of_the_contract(value):
    assert parse_date(value) == datetime.date(2019, 11, 5)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("05/11/2019", "is not a date"),
        ("next Tuesday", "is not a date"),
        ("2019-02-30", "is not a day of the calendar"),
        (5.5, "is not a date"),
    ],
)
def test_a_date_that_is_not_one_is_refused(value, reason):
    with pytest.raises(CellError, match=reason):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("710000000", Decimal("710000000")),
        ("710,000,000", Decimal("710000000")),
        ("710000000.00", Decimal("710000000")),
        (" 710,000,000.50 ", Decimal("710000000.5")),
        ("７１０，０００", Decimal("710000")),
        (710000000.0, Decimal("710000000")),
        (710000000, Decimal("710000000")),
        ("0", Decimal("0")),
        ("7.1e8", Decimal("710000000")),
    ],
)
def test_amounts_are_read_in_every_form_of_the_contract(value, amount):
    assert parse_amount(value) == amount


@pytest.mark.parametrize(
    ("value", "currency", "reason"),
    [
        ("-5", None, "negative"),
        ("−5", None, "negative"),
        ("(5)", None, "negative"),
        (-5.0, None, "negative"),
        ("1e400", None, "too large"),
        (float("inf"), None, "too large or not a number"),
        (float("nan"), None, "too large or not a number"),
        ("NaN", None, "is not a number"),
        ("Infinity", None, "is not a number"),
        ("10000000000000000", None, "too large"),
        ("1,00,000", None, "is not a number"),
        ("lots", None, "is not a number"),
        ("1.005", "USD", r"more decimals than USD has \(2\)"),
        ("100.5", "JPY", r"more decimals than JPY has \(0\)"),
        ("1.0005", "BHD", r"more decimals than BHD has \(3\)"),
        ("1.005", "BHD", "more than two decimals; amounts are kept to the hundredth"),
    ],
)
def test_an_amount_that_cannot_be_kept_is_refused(value, currency, reason):
    with pytest.raises(CellError, match=reason):
        parse_amount(value, currency)


def test_trailing_zeros_are_not_decimals_of_a_currency():
    assert parse_amount("100.00", "JPY") == Decimal("100")
    assert parse_amount("1.50", "USD") == Decimal("1.5")


def test_whole_numbers_and_rates():
    assert parse_integer("1,200") == 1200
    assert parse_integer(12.0) == 12
    with pytest.raises(CellError, match="not a whole number"):
        parse_integer("2.5")
    assert parse_rate("0.1420") == Decimal("0.142")
    with pytest.raises(CellError, match="more than zero"):
        parse_rate("0")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("GBR", "GB"),
        ("United Kingdom", "GB"),
        ("U.K.", "GB"),
        ("UK", "GB"),
        ("Britain", "GB"),
        ("英国", "GB"),
        ("HK", "HK"),
        ("Hong Kong", "HK"),
        ("Hong Kong, China", "HK"),
        ("hong kong,china", "HK"),
        ("中国香港", "HK"),
        ("香港", "HK"),
        ("Macao", "MO"),
        ("Macau", "MO"),
        ("中国澳门", "MO"),
        ("Taiwan, China", "TW"),
        ("中国台湾", "TW"),
        ("Korea", "KR"),
        ("South Korea", "KR"),
        ("韩国", "KR"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("United States", "US"),
        ("美国", "US"),
        ("China", "CN"),
        ("中国", "CN"),
        ("Côte d'Ivoire", "CI"),
        ("the Netherlands", "NL"),
        ("Czech Republic", "CZ"),
        ("爱沙尼亚", "EE"),
        ("Jamaica", "JM"),
        ("阿塞拜疆", "AZ"),
    ],
)
def test_countries_and_regions_are_read_by_code_and_common_names(text, code):
    assert parse_country(text) == code


def test_an_unknown_country_is_refused_with_examples():
    with pytest.raises(CellError) as error:
        parse_country("Atlantis")

    assert "“Atlantis” is not a country or region we know" in error.value.en


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("USD", "USD"),
        ("usd", "USD"),
        ("RMB", "CNY"),
        ("rmb", "CNY"),
        ("CNY", "CNY"),
        ("EUR", "EUR"),
    ],
)
def test_currencies_are_iso_codes_and_rmb_is_cny(text, code):
    assert parse_currency(text) == code


@pytest.mark.parametrize("text", ["XXX", "CNH", "XTS", "ABC", "dollars"])
def test_codes_that_are_not_currencies_in_use_are_refused(text):
    with pytest.raises(CellError, match="not an ISO 4217 currency code in use"):
        parse_currency(text)


@pytest.mark.parametrize(
    ("choices", "forms"),
    [
        (
            OrganizationKind,
            {
                "government": ["government", "政府机构"],
                "public_institution": ["public_institution", "事业单位"],
                "industry_association": ["industry_association", "行业协会"],
                "state_owned": ["state_owned", "国有企业", "State-owned enterprise"],
                "private": ["private", "民营企业", "PRIVATE"],
                "hk_macao_taiwan": ["hk_macao_taiwan", "港澳台企业"],
                "foreign_funded": ["foreign_funded", "外资企业"],
                "foreign": ["foreign", "境外机构"],
            },
        ),
        (
            RegistrationStatus,
            {
                "registered": ["registered", "已报名"],
                "attended": ["attended", "已参会"],
                "withdrawn": ["withdrawn", "已退出"],
            },
        ),
        (
            AgreementKind,
            {
                "purchase": ["purchase", "采购协议", "purchase agreement"],
                "strategic_cooperation": ["strategic_cooperation", "战略合作协议"],
            },
        ),
        (
            AgreementStatus,
            {
                "signed": ["signed", "已签约"],
                "executed": ["executed", "已执行"],
                "cancelled": ["cancelled", "已取消"],
            },
        ),
        (
            IntentionStage,
            {stage: [stage] for stage in IntentionStage.values},
        ),
        (
            PledgeStatus,
            {status: [status] for status in PledgeStatus.values},
        ),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_kinds_statuses_and_stages_are_read_by_key_or_chinese_label(choices, forms):
    for value, spellings in forms.items():
        for spelling in spellings:
            assert parse_choice(spelling, choices) == value, spelling


def test_an_unknown_kind_is_refused_listing_the_accepted_keys():
    with pytest.raises(CellError) as error:
        parse_choice("startup", OrganizationKind)

    assert "“startup” is not one of: government, public_institution" in error.value.en


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("91440300708461136U", "check character is U but should be T"),
        ("914403007O8461136T", "“O”"),
        ("91440300708461136", "must be 18 characters, not 17"),
        (911101086000000475.0, "arrived as a number"),
    ],
)
def test_a_credit_code_is_checked_and_one_arriving_as_a_number_asks_for_text(value, reason):
    with pytest.raises(CellError, match=reason):
        parse_credit_code(value)


def test_a_valid_credit_code_is_read_upper_case_without_spaces():
    assert parse_credit_code(" 91310115ma1k3btp2b ") == "91310115MA1K3BTP2B"
    # Codes starting with N, Y or A are legitimate when the check holds.
    assert parse_credit_code("911101086000000475") == "911101086000000475"


def test_text_is_stripped_read_as_shown_and_unescaped_from_formula_protection():
    assert parse_text("  Gome  ") == "Gome"
    assert parse_text(2019.0) == "2019"
    assert parse_text("'=SUM(A1)") == "=SUM(A1)"
    assert parse_text("'+1") == "+1"
    assert parse_text("'t Hooft") == "'t Hooft"


def test_a_message_renders_in_chinese_and_in_english_whatever_the_active_language():
    message = Message(
        "%(column)s: %(reason)s", column=Bilingual(zh="金额", en="amount"), reason="x"
    )

    with translation.override("en"):
        assert (message.zh, message.en) == ("金额: x", "amount: x")
