"""The spreadsheet import engine (deals.importer) with real files: a clerk's messy but
valid workbook, every kind of bad input, all-or-nothing, the history, undo, speed."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from deals.importer import FileRefused, import_file, undo_import
from deals.importing.writing import FastInsert
from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    ImportRun,
    InvestmentIntention,
    Sector,
    Visit,
)
from delegations.models import Delegation, Organization, Registration
from delegations.validators import uscc_check_character
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    AgreementFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    OrganizationFactory,
    RegistrationFactory,
    edition,
    staff_member,
)
from tests.files import PDF, PNG, csv_bytes, xlsx

pytestmark = pytest.mark.django_db

MODELS = [
    Delegation,
    Organization,
    Registration,
    Exhibitor,
    ExchangeRate,
    Agreement,
    AgreementExhibitor,
    Visit,
    InvestmentIntention,
    CiftisPledge,
]


def snapshot() -> dict[str, int]:
    """Rows of every model the import writes, and of their histories."""
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts |= {f"history of {model.__name__}": model.history.count() for model in MODELS}
    return counts


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


def only_error(result):
    assert len(result.errors) == 1, [str(error) for error in result.errors]
    return result.errors[0]


def assert_bilingual(error, *, english: str, chinese: str) -> None:
    """The English reason says `english`; the Chinese one is rendered in Chinese and
    names the column (or sheet) in Chinese."""
    assert english in error.message_en
    assert chinese in error.message_zh
    assert has_chinese(error.message_zh)
    assert error.message_zh != error.message_en


# ---------------------------------------------------------------------------------------
# The clerk's workbook
# ---------------------------------------------------------------------------------------

GOME_CODE = "91110000600037341L"


def clerk_workbook() -> bytes:
    """A workbook as a clerk keeps it: Chinese sheet names and headers, spaces around
    values, `U.K.`, `Hong Kong, China`, `2019年11月5日`, `710,000,000`, 是/否, RMB, a
    full-width `；`, and a column of their own that the contract does not know."""
    return xlsx(
        {
            "交易团": [
                ["届次", "名称", "英文名称", "组织单位", "上级交易团"],
                ["第二届进博会", "北京", "Beijing", "北京市商务局", ""],
                ["CIIE 2019", " 朝阳区 ", "Chaoyang District", "", "北京"],
            ],
            "组织": [
                [
                    "名称",
                    "英文名称",
                    "统一社会信用代码",
                    "类型",
                    "国家或地区",
                    "行业",
                    "年进口额（美元）",
                ],
                [
                    " 国美零售 ",
                    "Gome Retail",
                    GOME_CODE,
                    "民营企业",
                    "中国",
                    "零售",
                    "1,200,000,000",
                ],
                ["寺库", "Secoo", None, "民营企业", None, "跨境电商", None],
                ["三星（中国）投资有限公司", "Samsung China", None, "外资企业", "CN", None, None],
                ["京东", "JD.com", None, "private", "cn", None, "15000000"],
            ],
            "报名": [
                ["交易团", "届次", "组织名称", "参会人数", "是否采购商", "状态", "报名日期"],
                ["北京", "第二届进博会", "国美零售", 3, "是", "已报名", "2019年10月8日"],
                ["Beijing", "CIIE 2019", "Secoo", "2", "否", None, "2019/10/9"],
                ["朝阳区", "CIIE 2019", "京东", 1, "yes", "attended", datetime.date(2019, 10, 10)],
            ],
            "展商": [
                ["届次", "展商名称", "英文名称", "国家或地区", "展区"],
                ["CIIE 2019", "Harrods", None, "U.K.", "服装服饰及日用消费品"],
                ["CIIE 2019", "三星电子", "Samsung Electronics", "Korea", "消费电子及家电"],
                ["CIIE 2019", "崇光百货", "Sogo", "Hong Kong, China", None],
            ],
            "汇率": [
                ["币种", "生效日期", "美元汇率"],
                ["RMB", "2019-11-01", "0.1420"],
            ],
            "采购协议": [
                [
                    "协议编号",
                    "交易团",
                    "届次",
                    "采购方",
                    "展商",
                    "协议类型",
                    "领域",
                    " 金额 ",
                    "币种",
                    "签约日期",
                    "状态",
                    "是否公开",
                    "经办人",
                ],
                [
                    "BJ-2019-001",
                    "北京",
                    "第二届进博会",
                    "国美零售",
                    "三星电子",
                    "战略合作协议",
                    "品质生活",
                    "710,000,000",
                    None,
                    "2019年11月5日",
                    "已签约",
                    "是",
                    "王",
                ],
                [
                    "BJ-2019-002",
                    "Beijing",
                    "CIIE 2019",
                    "Secoo",
                    "Harrods；Sogo",
                    "采购协议",
                    "跨境电商",
                    "200,000,000",
                    "RMB",
                    "5 Nov 2019",
                    None,
                    "否",
                    "李",
                ],
                [
                    "BJ-2019-003",
                    "朝阳区",
                    "CIIE 2019",
                    "JD.com",
                    "Harrods",
                    None,
                    None,
                    1500000.5,
                    "usd",
                    datetime.datetime(2019, 11, 6),
                    "executed",
                    "no",
                    None,
                ],
            ],
            "走访": [
                [
                    "交易团",
                    "届次",
                    "组织名称",
                    "走访日期",
                    "走访单位",
                    "有投资意向",
                    "有意参加服贸会",
                    "备注",
                ],
                [
                    "北京",
                    "CIIE 2019",
                    "Samsung China",
                    "2019/11/6",
                    "朝阳区",
                    "是",
                    "否",
                    "  good talk  ",
                ],
                [
                    "北京",
                    "CIIE 2019",
                    "三星（中国）投资有限公司",
                    "2019-11-07",
                    None,
                    "否",
                    "是",
                    None,
                ],
            ],
            "投资意向": [
                ["交易团", "届次", "组织名称", "领域", "金额", "币种", "阶段"],
                ["北京", "CIIE 2019", "Samsung China", None, "10,000,000", "USD", "洽谈中"],
            ],
            "服贸会参会意向": [
                [
                    "目标展会",
                    "组织名称",
                    "国家或地区",
                    "来源交易团",
                    "来源届次",
                    "状态",
                    "承诺日期",
                ],
                [
                    "CIFTIS 2020",
                    "爱沙尼亚驻华大使馆",
                    "Estonia",
                    "北京",
                    "CIIE 2019",
                    None,
                    "2019-11-07",
                ],
                [
                    "CIFTIS 2020",
                    "印度服务出口促进委员会",
                    "India",
                    "北京",
                    "CIIE 2019",
                    "已承诺",
                    None,
                ],
            ],
        }
    )


def test_the_clerks_workbook_imports_every_sheet_with_its_values_read_right():
    result = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)

    assert result.ok, [str(error) for error in result.errors]
    assert {name: counts.created for name, counts in result.sheets.items()} == {
        "Delegations": 2,
        "Organizations": 4,
        "Registrations": 3,
        "Exhibitors": 3,
        "Exchange rates": 1,
        "Agreements": 3,
        "Visits": 2,
        "Investment intentions": 1,
        "CIFTIS pledges": 2,
    }
    beijing = Delegation.objects.get(name_zh="北京")
    chaoyang = Delegation.objects.get(name_zh="朝阳区")
    assert chaoyang.parent == beijing
    assert beijing.organizer_zh == "北京市商务局"
    gome = Organization.objects.get(credit_code=GOME_CODE)
    assert (gome.name_zh, gome.kind, gome.country.code) == ("国美零售", "private", "CN")
    assert gome.annual_imports_usd == Decimal("1200000000")
    assert Organization.objects.get(name_zh="京东").country.code == "CN"
    secoo = Registration.objects.get(organization__name_zh="寺库")
    assert (secoo.participants, secoo.is_purchaser, secoo.status) == (2, False, "registered")
    assert secoo.registered_on == datetime.date(2019, 10, 9)
    countries = {
        exhibitor.organization.name_zh: exhibitor.organization.country.code
        for exhibitor in Exhibitor.objects.select_related("organization")
    }
    assert countries == {"Harrods": "GB", "三星电子": "KR", "崇光百货": "HK"}
    assert Organization.objects.get(name_zh="崇光百货").kind == "hk_macao_taiwan"

    first = Agreement.objects.get(reference="BJ-2019-001")
    assert (first.kind, first.status, first.is_public) == ("strategic_cooperation", "signed", True)
    assert (first.amount, first.currency, first.amount_usd) == (
        Decimal("710000000"),
        "USD",
        Decimal("710000000"),
    )
    assert first.signed_on == datetime.date(2019, 11, 5)
    assert first.sector.code == "quality-everyday"
    second = Agreement.objects.get(reference="BJ-2019-002")
    assert (second.currency, second.usd_rate, second.amount_usd) == (
        "CNY",
        Decimal("0.142"),
        Decimal("28400000.00"),
    )
    assert sorted(second.exhibitors.values_list("organization__name_zh", flat=True)) == [
        "Harrods",
        "崇光百货",
    ]
    third = Agreement.objects.get(reference="BJ-2019-003")
    assert (third.delegation, third.registration.delegation) == (chaoyang, chaoyang)
    assert (third.amount, third.status, third.signed_on) == (
        Decimal("1500000.5"),
        "executed",
        datetime.date(2019, 11, 6),
    )

    by_chaoyang = Visit.objects.get(visited_on=datetime.date(2019, 11, 6))
    assert by_chaoyang.delegation == chaoyang
    assert (by_chaoyang.investment_intention, by_chaoyang.ciftis_interest) == (True, False)
    assert by_chaoyang.notes == "good talk"
    assert Visit.objects.get(visited_on=datetime.date(2019, 11, 7)).delegation == beijing
    assert InvestmentIntention.objects.get().stage == "negotiating"
    pledge = CiftisPledge.objects.get(organization__name_zh="爱沙尼亚驻华大使馆")
    assert (pledge.organization.country.code, pledge.organization.kind) == ("EE", "foreign")
    assert (pledge.source_delegation, pledge.status) == (beijing, "pledged")


def test_the_clerks_own_column_is_a_warning_that_names_it():
    result = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=True)

    (warning,) = [warning for warning in result.warnings if warning.column == "经办人"]
    assert (warning.sheet, warning.row) == ("Agreements", 1)
    assert "经办人" in warning.message_en
    assert result.ok


def test_importing_the_same_workbook_again_changes_nothing_and_writes_no_history():
    import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)
    before = snapshot()

    again = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)

    assert again.ok
    assert all(counts.created == counts.updated == 0 for counts in again.sheets.values())
    assert sum(counts.unchanged for counts in again.sheets.values()) == 21
    assert snapshot() == before


def test_names_are_kept_as_the_models_keep_them_so_a_re_import_is_unchanged():
    rows = [["名称", "英文名称", "类型"], ["国美  零售", " Gome   Retail ", "民营企业"]]
    import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    again = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert again.sheets["Organizations"].as_dict() == {"created": 0, "updated": 0, "unchanged": 1}
    assert Organization.objects.get().name_en == "Gome Retail"


def test_a_delegation_is_found_again_by_either_of_its_names():
    rows = [["届次", "名称", "英文名称"], ["CIIE 2019", "北京", "Beijing"]]
    import_file(csv_bytes(rows), filename="交易团.csv", dry_run=False)
    by_english = [["届次", "名称", "英文名称"], ["第二届进博会", "Beijing", "Beijing"]]

    again = import_file(csv_bytes(by_english), filename="交易团.csv", dry_run=False)

    assert again.sheets["Delegations"].as_dict() == {"created": 0, "updated": 0, "unchanged": 1}
    assert Delegation.objects.get().slug == "beijing"


def test_an_organization_is_matched_on_its_credit_code_and_renamed():
    OrganizationFactory(name_zh="国美电器", credit_code=GOME_CODE)
    rows = [["名称", "类型", "统一社会信用代码"], ["国美零售", "民营企业", GOME_CODE]]

    result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert result.sheets["Organizations"].as_dict() == {"created": 0, "updated": 1, "unchanged": 0}
    assert Organization.objects.get().name_zh == "国美零售"


def test_a_credit_code_given_to_an_organization_recorded_without_one_is_added():
    OrganizationFactory(name_zh="国美零售", credit_code=None)
    rows = [["名称", "类型", "统一社会信用代码"], ["国美零售", "民营企业", GOME_CODE]]

    result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert result.sheets["Organizations"].updated == 1
    assert Organization.objects.get().credit_code == GOME_CODE


def test_a_registration_names_its_organization_by_credit_code():
    DelegationFactory()
    gome = OrganizationFactory(name_zh="国美零售", credit_code=GOME_CODE)
    OrganizationFactory(name_zh="国美零售", country="HK")
    rows = [
        ["交易团", "届次", "组织名称", "统一社会信用代码", "参会人数"],
        ["北京", "CIIE 2019", "国美零售", GOME_CODE, 2],
    ]

    result = import_file(csv_bytes(rows), filename="报名.csv", dry_run=False)

    assert result.ok
    assert Registration.objects.get().organization == gome


def test_an_organization_counts_once_in_a_delegation_and_its_sub_delegations():
    beijing = DelegationFactory()
    DelegationFactory(parent=beijing, slug="chaoyang", name_zh="朝阳区", name_en="")
    gome = OrganizationFactory(name_zh="国美零售")
    RegistrationFactory(delegation=beijing, organization=gome)
    rows = [["交易团", "届次", "组织名称", "参会人数"], ["朝阳区", "CIIE 2019", "国美零售", 2]]

    result = import_file(csv_bytes(rows), filename="报名.csv", dry_run=False)

    error = only_error(result)
    assert error.column == "organization / 组织名称"
    assert "already registered in 北京" in error.message_en


def test_an_organization_code_that_fails_its_own_check_is_only_a_warning():
    # A valid check character; the organization code 600000000 inside should end in 4.
    code = "91110108600000000B"
    rows = [["名称", "类型", "统一社会信用代码"], ["北京企业", "民营企业", code]]

    result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert result.ok
    (warning,) = result.warnings
    assert (warning.row, warning.column) == (2, "credit_code / 统一社会信用代码")
    assert "600000000" in warning.message_en and "expected 4" in warning.message_en
    assert Organization.objects.get().credit_code == code


def test_a_hidden_sheet_of_drop_down_lists_is_passed_over_with_a_warning(beijing):
    book = xlsx({"采购协议": [AGREEMENT_HEADER, agreement()], "Lists": [["USD"], ["CNY"]]})
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(book))
    workbook["Lists"].sheet_state = "hidden"
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = import_file(buffer.getvalue(), filename="book.xlsx", dry_run=False)

    assert result.ok
    assert [warning.sheet for warning in result.warnings] == ["Lists"]


def test_exchange_rates_are_matched_on_currency_and_day_and_updated():
    ExchangeRateFactory()
    rows = [
        ["币种", "生效日期", "美元汇率", "来源"],
        ["RMB", "2019年11月1日", "0.1430", "PBOC"],
        ["EUR", "2019-11-01", "1.10", ""],
    ]

    result = import_file(csv_bytes(rows), filename="汇率.csv", dry_run=False)

    assert result.sheets["Exchange rates"].as_dict() == {"created": 1, "updated": 1, "unchanged": 0}
    assert ExchangeRate.objects.get(currency="CNY").usd_per_unit == Decimal("0.143")


def test_one_sheet_of_a_workbook_may_be_imported_alone(beijing):
    book = xlsx({"Organizations": [["name", "kind"], ["新公司", "private"]], "Other": [["x"]]})

    result = import_file(book, filename="book.xlsx", sheet="组织", dry_run=False)

    assert result.ok
    assert list(result.sheets) == ["Organizations"]
    assert Organization.objects.filter(name_zh="新公司").exists()


def test_a_sub_delegation_may_name_a_parent_from_further_down_the_sheet():
    rows = [
        ["届次", "名称", "上级交易团"],
        ["CIIE 2019", "朝阳区", "北京"],
        ["CIIE 2019", "北京", ""],
        ["CIIE 2019", "三里屯", "朝阳区"],
    ]

    result = import_file(csv_bytes(rows), filename="交易团.csv", dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (4, "parent / 上级交易团")
    assert "itself a sub-delegation" in error.message_en
    assert not Delegation.objects.exists()
    result = import_file(csv_bytes(rows[:3]), filename="交易团.csv", dry_run=False)
    assert result.ok
    assert Delegation.objects.get(name_zh="朝阳区").parent.name_zh == "北京"
    assert (
        Delegation.objects.get(name_zh="朝阳区").slug != Delegation.objects.get(name_zh="北京").slug
    )


def test_a_visit_by_someone_outside_the_delegation_is_an_error():
    DelegationFactory()
    DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    OrganizationFactory(name_zh="三星")
    rows = [
        ["交易团", "届次", "组织名称", "走访日期", "走访单位"],
        ["北京", "CIIE 2019", "三星", "2019-11-06", "上海"],
    ]

    result = import_file(csv_bytes(rows), filename="走访.csv", dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (2, "visited_by / 走访单位")
    assert "上海 is not a sub-delegation of 北京" in error.message_en


def test_a_pledge_names_its_source_edition_and_comes_after_it():
    DelegationFactory()
    DelegationFactory(edition=edition("ciie-2018"))
    rows = [
        ["目标展会", "组织名称", "国家或地区", "来源交易团", "来源届次"],
        ["CIFTIS 2020", "爱沙尼亚驻华大使馆", "EE", "北京", ""],
        ["CIIE 2018", "牙买加驻华大使馆", "JM", "北京", "CIIE 2019"],
    ]

    result = import_file(csv_bytes(rows), filename="CIFTIS pledges.csv", dry_run=False)

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "source_edition / 来源届次"),
        (3, "fair_edition / 目标展会"),
    ]
    assert "after the one it was made at" in result.errors[1].message_en
    assert not Organization.objects.exists()


def test_a_database_that_cannot_return_ids_from_a_bulk_insert_gets_the_same_import():
    features = type(connection.features)
    with mock.patch.object(features, "can_return_rows_from_bulk_insert", new=False):
        result = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)

    assert result.ok, [str(error) for error in result.errors]
    assert Agreement.objects.get(reference="BJ-2019-002").exhibitors.count() == 2
    assert AgreementExhibitor.history.count() == AgreementExhibitor.objects.count() == 4
    assert Agreement.history.filter(history_change_reason="import").count() == 3


def test_every_record_written_carries_the_importer_and_the_run_in_its_history():
    clerk = staff_member(REVIEWERS, username="wang")

    result = import_file(clerk_workbook(), filename="北京交易团.xlsx", user=clerk, dry_run=False)

    reason = f"import #{result.run.pk}"
    for model in MODELS:
        rows = list(model.history.values_list("history_user__username", "history_change_reason"))
        assert rows, model
        assert set(rows) == {("wang", reason)}, model


def test_a_dry_run_gives_the_counts_of_the_real_run_and_writes_nothing():
    before = snapshot()

    dry = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=True)

    assert snapshot() == before
    real = import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)
    assert dry.sheets == real.sheets
    assert dry.ok and real.ok


def test_a_changed_row_is_updated_with_a_history_row_and_the_rest_left_alone():
    import_file(clerk_workbook(), filename="北京交易团.xlsx", dry_run=False)
    history_before = Agreement.history.count()
    rows = [
        ["协议编号", "交易团", "届次", "采购方", "展商", "金额", "币种", "签约日期"],
        ["BJ-2019-002", "北京", "CIIE 2019", "寺库", "Harrods", "300,000,000", "RMB", "2019-11-05"],
        ["BJ-2019-001", "北京", "CIIE 2019", "国美零售", "三星电子", "710000000", "", "2019-11-05"],
    ]

    result = import_file(csv_bytes(rows), filename="采购协议.csv", dry_run=False)

    assert result.sheets["Agreements"].as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    second = Agreement.objects.get(reference="BJ-2019-002")
    assert (second.amount, second.amount_usd) == (Decimal("300000000"), Decimal("42600000.00"))
    assert list(second.exhibitors.values_list("organization__name_zh", flat=True)) == ["Harrods"]
    assert Agreement.history.count() == history_before + 1
    removed = AgreementExhibitor.history.filter(history_type="-").get()
    assert removed.history_change_reason == "import"


# ---------------------------------------------------------------------------------------
# Bad input: each answers with its sheet, row and column, in both languages, and the
# database is left as it was
# ---------------------------------------------------------------------------------------


@pytest.fixture
def beijing():
    """Beijing at CIIE 2019 with one registered buyer (Gome) and one exhibitor (Samsung),
    and the CNY rate of the expo."""
    delegation = DelegationFactory()
    gome = OrganizationFactory(name_zh="国美零售", name_en="Gome Retail")
    RegistrationFactory(delegation=delegation, organization=gome)
    ExhibitorFactory(
        organization=OrganizationFactory(name_zh="三星电子", name_en="Samsung", country="KR")
    )
    ExchangeRateFactory()
    return delegation


AGREEMENT_HEADER = [
    "reference",
    "delegation",
    "edition",
    "buyer",
    "exhibitors",
    "amount",
    "currency",
]


def agreement(reference: str = "BJ-1", **cells) -> list:
    row = {
        "reference": reference,
        "delegation": "北京",
        "edition": "CIIE 2019",
        "buyer": "国美零售",
        "exhibitors": "三星电子",
        "amount": "1,000",
        "currency": "USD",
    } | cells
    return [row[key] for key in AGREEMENT_HEADER]


def import_agreements(*rows, **options):
    return import_file(
        csv_bytes([AGREEMENT_HEADER, *rows]), filename="agreements.csv", dry_run=False, **options
    )


def test_a_wrong_check_character_is_an_error_of_its_row_and_column():
    before = snapshot()
    rows = [
        ["名称", "类型", "统一社会信用代码"],
        ["国美零售", "民营企业", GOME_CODE],
        ["坏企业", "民营企业", "91440300708461136U"],
    ]

    result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == (
        "Organizations",
        3,
        "credit_code / 统一社会信用代码",
    )
    assert_bilingual(
        error, english="check character is U but should be T", chinese="统一社会信用代码"
    )
    assert snapshot() == before


def test_an_unknown_country_is_an_error_of_its_row_and_column():
    before = snapshot()
    rows = [["名称", "类型", "国家或地区"], ["某公司", "境外机构", "Atlantis"]]

    result = import_file(csv_bytes(rows), filename="Organizations.csv", dry_run=False)

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == (
        "Organizations",
        2,
        "country / 国家或地区",
    )
    assert_bilingual(error, english="“Atlantis” is not a country or region", chinese="国家或地区")
    assert snapshot() == before


def test_a_negative_amount_is_an_error_of_its_row_and_column(beijing):
    before = snapshot()

    result = import_agreements(agreement("BJ-1"), agreement("BJ-2", amount="-5"))

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Agreements", 3, "amount / 金额")
    assert_bilingual(error, english="negative", chinese="金额")
    assert snapshot() == before


def test_an_unknown_currency_is_an_error_and_xxx_and_cnh_are_not_currencies(beijing):
    before = snapshot()

    result = import_agreements(
        agreement("BJ-1", currency="ABC"),
        agreement("BJ-2", currency="XXX"),
        agreement("BJ-3", currency="CNH"),
    )

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "currency / 币种"),
        (3, "currency / 币种"),
        (4, "currency / 币种"),
    ]
    assert_bilingual(
        result.errors[2], english="“CNH” is not an ISO 4217 currency code", chinese="币种"
    )
    assert snapshot() == before


def test_a_buyer_not_registered_in_the_delegation_is_an_error(beijing):
    OrganizationFactory(name_zh="小米")
    before = snapshot()

    result = import_agreements(agreement("BJ-1", buyer="小米"))

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Agreements", 2, "buyer / 采购方")
    assert_bilingual(
        error, english="“小米” is not registered in 北京 at CIIE 2019", chinese="采购方"
    )
    assert snapshot() == before


def test_a_withdrawn_buyer_is_an_error(beijing):
    RegistrationFactory(
        delegation=beijing, organization=OrganizationFactory(name_zh="小米"), status="withdrawn"
    )

    result = import_agreements(agreement("BJ-1", buyer="小米"))

    assert "withdrawn" in only_error(result).message_en


def test_a_buyer_registered_in_a_sub_delegation_may_sign_for_the_delegation(beijing):
    chaoyang = DelegationFactory(parent=beijing, slug="chaoyang", name_zh="朝阳区", name_en="")
    RegistrationFactory(delegation=chaoyang, organization=OrganizationFactory(name_zh="小米"))

    result = import_agreements(agreement("BJ-1", buyer="小米"))

    assert result.ok
    assert Agreement.objects.get().registration.delegation == chaoyang


def test_a_reference_twice_in_one_file_is_an_error_on_the_second_naming_the_first(beijing):
    before = snapshot()

    result = import_agreements(agreement("BJ-1"), agreement("BJ-2"), agreement("BJ-1"))

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Agreements", 4, "reference / 协议编号")
    assert_bilingual(error, english="row 2 already has this record", chinese="协议编号")
    assert snapshot() == before


def test_a_missing_required_column_is_an_error_of_the_sheet_naming_the_column(beijing):
    before = snapshot()
    rows = [
        ["reference", "delegation", "edition", "buyer", "exhibitors"],
        ["BJ-1", "北京", "CIIE 2019", "国美零售", "三星电子"],
    ]

    result = import_file(csv_bytes(rows), filename="Agreements.csv", dry_run=False)

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Agreements", None, "amount / 金额")
    assert_bilingual(error, english="has no column “amount”", chinese="“金额”")
    assert snapshot() == before


def test_an_empty_file_is_refused():
    before = snapshot()

    with pytest.raises(FileRefused) as refused:
        import_file(b"", filename="Agreements.csv", dry_run=False)

    assert "empty" in refused.value.message_en
    assert refused.value.message_zh
    assert snapshot() == before


def test_an_empty_workbook_is_refused():
    with pytest.raises(FileRefused, match="empty"):
        import_file(xlsx({"Sheet1": []}), filename="book.xlsx", dry_run=False)


def test_a_sheet_with_only_its_headers_imports_nothing():
    result = import_file(csv_bytes([AGREEMENT_HEADER]), filename="Agreements.csv", dry_run=False)

    assert result.ok
    assert result.sheets["Agreements"].as_dict() == {"created": 0, "updated": 0, "unchanged": 0}


def test_a_csv_saved_by_chinese_excel_in_gb18030_is_read():
    rows = [
        ["名称", "英文名称", "类型", "国家或地区", "行业"],
        ["北京东来顺集团有限责任公司", "Dong Lai Shun", "国有企业", "中国", "餐饮"],
    ]

    result = import_file(csv_bytes(rows, encoding="gb18030"), filename="组织.csv", dry_run=False)

    assert result.ok, [str(error) for error in result.errors]
    organization = Organization.objects.get()
    assert (organization.name_zh, organization.kind, organization.industry) == (
        "北京东来顺集团有限责任公司",
        "state_owned",
        "餐饮",
    )


@pytest.mark.parametrize(
    ("data", "what"),
    [(PNG, "PNG image"), (PDF, "PDF document"), (bytes(range(256)) * 8, "binary data")],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_saying_what_it_is(data, what):
    before = snapshot()

    with pytest.raises(FileRefused) as refused:
        import_file(data, filename="Agreements.csv", dry_run=False)

    assert what in refused.value.message_en
    assert "CSV file or an XLSX workbook" in refused.value.message_en
    assert refused.value.message_zh
    assert snapshot() == before


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")

    with pytest.raises(FileRefused, match="Word document"):
        import_file(buffer.getvalue(), filename="agreements.xlsx", dry_run=False)


def test_a_workbook_sheet_with_a_wrong_name_is_an_error_listing_the_names():
    before = snapshot()
    book = xlsx({"采购协议": [AGREEMENT_HEADER], "Deals": [["reference"], ["BJ-1"]]})

    result = import_file(book, filename="book.xlsx", dry_run=False)

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Deals", None, None)
    assert_bilingual(
        error, english="The sheet “Deals” is not one of the contract's", chinese="采购协议"
    )
    assert "Agreements / 采购协议" in error.message_en
    assert snapshot() == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.EXPO = {**settings.EXPO, "IMPORT_MAX_BYTES": 1000}
    before = snapshot()

    with (
        mock.patch("deals.importing.reading.read_workbook") as read,
        pytest.raises(FileRefused) as refused,
    ):
        import_file(b"PK\x03\x04" + b"x" * 2044, filename="big.xlsx", dry_run=False)

    read.assert_not_called()
    assert "This file is 2.0 KB; files over 1000 bytes are refused" in refused.value.message_en
    assert refused.value.message_zh
    assert snapshot() == before


# ---------------------------------------------------------------------------------------
# All or nothing
# ---------------------------------------------------------------------------------------


def test_one_bad_row_among_many_good_ones_writes_nothing(beijing):
    before = snapshot()
    rows = [agreement(f"BJ-{number}") for number in range(1, 200)]
    rows.insert(120, agreement("BJ-BAD", amount="lots"))

    result = import_agreements(*rows)

    assert [(error.row, error.column) for error in result.errors] == [(122, "amount / 金额")]
    assert snapshot() == before


def test_every_bad_row_is_listed_not_only_the_first(beijing):
    result = import_agreements(
        agreement("BJ-1", amount="-1"),
        agreement("BJ-2"),
        agreement("BJ-3", currency="XXX", buyer="nobody"),
    )

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "amount / 金额"),
        (4, "currency / 币种"),
    ]


def test_every_row_naming_what_does_not_exist_is_listed(beijing):
    result = import_agreements(
        agreement("BJ-1", buyer="nobody"),
        agreement("BJ-2", exhibitors="nothing"),
        agreement("BJ-3", buyer="nobody"),
    )

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "buyer / 采购方"),
        (3, "exhibitors / 展商"),
        (4, "buyer / 采购方"),
    ]


def test_a_database_error_in_the_middle_of_the_write_leaves_nothing_written(beijing):
    before = snapshot()
    rows = [agreement(f"BJ-{number}") for number in range(1, 50)]
    real_insert = FastInsert.insert

    def insert(inserter, columns, *, returning):
        # The agreements and their history are in; the exhibitor links fail.
        if inserter.model is AgreementExhibitor:
            raise IntegrityError("the disk said no")
        return real_insert(inserter, columns, returning=returning)

    with mock.patch.object(FastInsert, "insert", autospec=True, side_effect=insert):
        result = import_agreements(*rows)

    error = only_error(result)
    assert (error.row, error.column) == (None, None)
    assert "the disk said no" in error.message_en
    assert "Nothing was written" in error.message_en
    assert snapshot() == before


def test_a_database_error_in_a_bulk_update_leaves_nothing_written(beijing):
    AgreementFactory(reference="BJ-1", registration=beijing.registrations.get())
    before = snapshot()

    with mock.patch.object(
        type(Agreement.objects), "bulk_update", side_effect=IntegrityError("locked")
    ):
        result = import_agreements(agreement("BJ-1", amount="5"), agreement("BJ-2"))

    assert "locked" in only_error(result).message_en
    assert snapshot() == before


def test_a_formula_without_a_saved_value_is_an_amount_required(beijing):
    book = xlsx({"Agreements": [AGREEMENT_HEADER, agreement(amount="=1000*2")]})

    result = import_file(book, filename="book.xlsx", dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (2, "amount / 金额")
    assert "required" in error.message_en


def test_an_amount_of_1e400_is_refused(beijing):
    result = import_agreements(agreement(amount="1e400"))

    error = only_error(result)
    assert error.column == "amount / 金额"
    assert "too large" in error.message_en
    assert not Agreement.objects.exists()


def test_more_decimals_than_the_currency_has_are_refused(beijing):
    ExchangeRateFactory(currency="JPY", usd_per_unit=Decimal("0.0092"))

    result = import_agreements(
        agreement("BJ-1", amount="1.005"), agreement("BJ-2", amount="100.5", currency="JPY")
    )

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "amount / 金额"),
        (3, "amount / 金额"),
    ]
    assert "more decimals than JPY has (0)" in result.errors[1].message_en


def test_maybe_is_not_a_yes_or_no():
    rows = [
        ["交易团", "届次", "组织名称", "参会人数", "是否采购商"],
        ["北京", "CIIE 2019", "国美零售", 1, "maybe"],
    ]
    DelegationFactory()
    OrganizationFactory(name_zh="国美零售")

    result = import_file(csv_bytes(rows), filename="报名.csv", dry_run=False)

    error = only_error(result)
    assert (error.sheet, error.row, error.column) == ("Registrations", 2, "purchaser / 是否采购商")
    assert "“maybe” is not yes or no" in error.message_en
    assert not Registration.objects.exists()


def test_a_credit_code_that_arrives_as_a_number_asks_for_a_text_column():
    book = xlsx(
        {
            "组织": [
                ["名称", "类型", "统一社会信用代码"],
                ["数字企业", "民营企业", 911100006000373410],
            ]
        }
    )

    result = import_file(book, filename="book.xlsx", dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (2, "credit_code / 统一社会信用代码")
    assert "arrived as a number" in error.message_en
    assert "Format the column as text" in error.message_en


def test_an_all_digit_credit_code_stored_as_text_is_fine():
    code = "911101086000000475"
    assert code.isdigit() and uscc_check_character(code[:17]) == code[17]
    book = xlsx(
        {"组织": [["名称", "类型", "统一社会信用代码"], ["数字企业", "民营企业", code]]},
        text_columns=["统一社会信用代码"],
    )

    result = import_file(book, filename="book.xlsx", dry_run=False)

    assert result.ok, [str(error) for error in result.errors]
    assert Organization.objects.get().credit_code == code


def test_exhibitors_separated_by_a_full_width_semicolon_are_each_linked(beijing):
    ExhibitorFactory(organization=OrganizationFactory(name_zh="Harrods", country="GB"))
    ExhibitorFactory(organization=OrganizationFactory(name_zh="崇光百货", name_en="Sogo"))

    result = import_agreements(agreement(exhibitors="三星电子；Harrods; Sogo"))

    assert result.ok
    assert sorted(
        Agreement.objects.get().exhibitors.values_list("organization__name_zh", flat=True)
    ) == [
        "Harrods",
        "三星电子",
        "崇光百货",
    ]


def test_an_unknown_exhibitor_is_an_error_naming_it(beijing):
    result = import_agreements(agreement(exhibitors="三星电子；Nobody Ltd"))

    error = only_error(result)
    assert error.column == "exhibitors / 展商"
    assert "“Nobody Ltd” is not an exhibitor at CIIE 2019" in error.message_en


def test_an_ambiguous_organization_name_asks_for_the_credit_code():
    DelegationFactory()
    OrganizationFactory(name_zh="华为", country="CN")
    OrganizationFactory(name_zh="华为", name_en="", country="HK")
    rows = [["交易团", "届次", "组织名称", "参会人数"], ["北京", "CIIE 2019", "华为", 1]]

    result = import_file(csv_bytes(rows), filename="报名.csv", dry_run=False)

    error = only_error(result)
    assert error.column == "organization / 组织名称"
    assert "names 2 organizations" in error.message_en
    assert "credit code" in error.message_en


def test_a_registration_of_an_organization_nowhere_recorded_is_an_error():
    DelegationFactory()
    rows = [["交易团", "届次", "组织名称", "参会人数"], ["北京", "CIIE 2019", "无名公司", 1]]

    result = import_file(csv_bytes(rows), filename="报名.csv", dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (2, "organization / 组织名称")
    assert "no organization is called “无名公司”" in error.message_en


def test_a_row_of_an_unknown_delegation_or_edition_is_an_error(beijing):
    result = import_agreements(
        agreement("BJ-1", delegation="天津"), agreement("BJ-2", edition="CIIE 2099")
    )

    assert [(error.row, error.column) for error in result.errors] == [
        (2, "delegation / 交易团"),
        (3, "edition / 届次"),
    ]


def test_a_data_entry_clerk_may_not_make_an_amount_public(beijing):
    clerk = staff_member(DATA_ENTRY)
    rows = [[*AGREEMENT_HEADER, "public"], [*agreement("BJ-1"), "yes"], [*agreement("BJ-2"), "no"]]

    result = import_file(csv_bytes(rows), filename="agreements.csv", user=clerk, dry_run=False)

    error = only_error(result)
    assert (error.row, error.column) == (2, "public / 是否公开")
    assert "only reviewers decide" in error.message_en


def test_a_row_matches_on_its_natural_key_never_on_an_id_column(beijing):
    other = AgreementFactory(reference="SH-1")
    rows = [["id", *AGREEMENT_HEADER], [other.pk, *agreement("BJ-1", amount="5")]]

    result = import_file(csv_bytes(rows), filename="agreements.csv", dry_run=False)

    assert result.ok
    other.refresh_from_db()
    assert other.amount == Decimal("1000000")
    assert Agreement.objects.get(reference="BJ-1").amount == Decimal("5")
    assert [warning.column for warning in result.warnings] == ["id"]


# ---------------------------------------------------------------------------------------
# Sheets, headers and files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Agreements.csv", "采购协议.csv", "AGREEMENTS.CSV"])
def test_the_sheet_of_a_csv_comes_from_its_file_name(beijing, name):
    rows = [
        ["reference", "delegation", "edition", "buyer", "exhibitors", "amount"],
        agreement()[:6],
    ]

    result = import_file(csv_bytes(rows), filename=name, dry_run=True)

    assert list(result.sheets) == ["Agreements"]


def test_the_sheet_of_a_csv_comes_from_its_headers_when_its_name_says_nothing(beijing):
    result = import_file(
        csv_bytes([AGREEMENT_HEADER, agreement()]), filename="export (3).csv", dry_run=True
    )

    assert list(result.sheets) == ["Agreements"]
    assert result.ok


def test_a_csv_whose_sheet_nothing_tells_asks_which_it_is():
    result = import_file(csv_bytes([["a", "b"], ["1", "2"]]), filename="x.csv", dry_run=True)

    error = only_error(result)
    assert "Which sheet is this file?" in error.message_en


def test_the_sheet_given_wins_over_the_file_name(beijing):
    rows = [["名称", "类型"], ["新公司", "民营企业"]]

    result = import_file(csv_bytes(rows), filename="Agreements.csv", sheet="组织", dry_run=False)

    assert result.ok
    assert list(result.sheets) == ["Organizations"]


@pytest.mark.parametrize(
    "header",
    [
        ["  REFERENCE ", "Delegation", "edition", "Buyer", "exhibitors", "Amount"],
        ["协议编号", "交易团", "届次", "采购方", "展商", "金额"],
        [
            "agreement no",
            "delegation name",
            "fair edition",
            "purchaser",
            "sellers",
            "intended amount",
        ],
    ],
)
def test_headers_match_in_english_chinese_or_by_alias_whatever_their_case(beijing, header):
    result = import_file(
        csv_bytes([header, agreement()[:6]]), filename="x.csv", sheet="Agreements", dry_run=False
    )

    assert result.ok, [str(error) for error in result.errors]
    assert Agreement.objects.get().amount == Decimal("1000")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_may_be_separated_by_comma_semicolon_or_tab(beijing, delimiter):
    data = csv_bytes([AGREEMENT_HEADER, agreement(amount="1000")], delimiter=delimiter, bom=True)

    result = import_file(data, filename="agreements.csv", dry_run=False)

    assert result.ok
    assert Agreement.objects.count() == 1


def test_a_cell_escaped_against_formulas_on_export_is_stored_as_its_text():
    rows = [["名称", "类型", "行业"], ["'=危险公司", "民营企业", "'+cmd"]]

    result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert result.ok
    organization = Organization.objects.get()
    assert (organization.name_zh, organization.industry) == ("=危险公司", "+cmd")


def test_a_workbook_bomb_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", " " * (5 * 1024 * 1024))
    assert len(buffer.getvalue()) < 100_000

    with pytest.raises(FileRefused, match="unpacks to"):
        import_file(buffer.getvalue(), filename="bomb.xlsx", dry_run=False)


def test_a_workbook_declaring_more_rows_than_allowed_is_refused_before_it_is_read(settings):
    settings.EXPO = {**settings.EXPO, "IMPORT_MAX_ROWS": 10}
    book = xlsx({"Agreements": [AGREEMENT_HEADER] + [agreement(f"BJ-{n}") for n in range(20)]})

    with (
        mock.patch("deals.importing.reading.CalamineWorkbook") as calamine,
        pytest.raises(FileRefused, match="20 rows"),
    ):
        import_file(book, filename="book.xlsx", dry_run=True)

    calamine.from_filelike.assert_not_called()


def test_a_csv_of_more_rows_than_allowed_is_refused(settings):
    settings.EXPO = {**settings.EXPO, "IMPORT_MAX_ROWS": 10}
    data = csv_bytes([AGREEMENT_HEADER] + [agreement(f"BJ-{n}") for n in range(11)])

    with pytest.raises(FileRefused, match="11 rows"):
        import_file(data, filename="agreements.csv", dry_run=True)


def test_a_sheet_wider_than_two_hundred_columns_is_refused():
    header = ["名称", "类型", *(f"extra {n}" for n in range(200))]

    with pytest.raises(FileRefused, match="This file has 202 columns; at most 200 are read"):
        import_file(csv_bytes([header]), filename="组织.csv", dry_run=True)


def test_progress_is_reported_per_sheet_as_rows_are_done(beijing):
    seen = []
    rows = [agreement(f"BJ-{number}") for number in range(1200)]

    import_agreements(*rows, progress=lambda sheet, done, total: seen.append((sheet, done)))

    assert seen == [
        ("Agreements", 0),
        ("Agreements", 500),
        ("Agreements", 1000),
        ("Agreements", 1200),
    ]


# ---------------------------------------------------------------------------------------
# Import runs
# ---------------------------------------------------------------------------------------


def test_a_run_records_who_imported_which_file_and_what_came_of_it(beijing):
    clerk = staff_member(REVIEWERS, username="li")
    data = csv_bytes([AGREEMENT_HEADER, agreement("BJ-1"), agreement("BJ-2")])

    result = import_file(data, filename="C:\\Users\\li\\agreements.csv", user=clerk, dry_run=False)

    run = result.run
    run.refresh_from_db()
    assert (run.user, run.filename, run.size, run.sheet) == (
        clerk,
        "agreements.csv",
        len(data),
        "Agreements",
    )
    assert run.sha256 == hashlib.sha256(data).hexdigest()
    assert run.status == ImportRun.Status.IMPORTED
    assert run.counts == {"Agreements": {"created": 2, "updated": 0, "unchanged": 0}}
    assert run.imported_at is not None and run.errors == []


def test_a_run_with_errors_is_refused_and_keeps_them(beijing):
    clerk = staff_member(REVIEWERS)

    result = import_agreements(agreement(amount="-1"), user=clerk)

    run = ImportRun.objects.get(pk=result.run.pk)
    assert run.status == ImportRun.Status.REFUSED
    assert run.errors[0]["column"] == "amount / 金额"
    assert run.errors[0]["row"] == 2
    assert run.errors[0]["message_zh"] and run.errors[0]["message_en"]


def test_a_refused_file_is_recorded_in_its_run():
    clerk = staff_member(REVIEWERS)

    with pytest.raises(FileRefused) as refused:
        import_file(PNG, filename="photo.png", user=clerk, dry_run=True)

    run = refused.value.run
    assert run.status == ImportRun.Status.REFUSED
    assert "PNG image" in run.errors[0]["message_en"]


def test_the_admin_previews_then_imports_with_the_same_run(beijing):
    clerk = staff_member(REVIEWERS)
    data = csv_bytes([AGREEMENT_HEADER, agreement()])

    preview = import_file(data, filename="agreements.csv", user=clerk, dry_run=True)
    assert preview.run.status == ImportRun.Status.PREVIEWED
    assert not Agreement.objects.exists()
    done = import_file(data, filename="agreements.csv", user=clerk, dry_run=False, run=preview.run)

    assert done.run.pk == preview.run.pk
    assert ImportRun.objects.get().status == ImportRun.Status.IMPORTED
    assert Agreement.history.get().history_change_reason == f"import #{preview.run.pk}"


def test_errors_past_a_thousand_are_counted_in_one_last_line(beijing):
    rows = [agreement(f"BJ-{number}", amount="-1") for number in range(1200)]

    result = import_agreements(*rows)

    assert result.error_count == 1200
    assert len(result.errors) == 1000
    last = result.errors[-1]
    assert (last.row, last.column) == (None, None)
    assert "… and 201 more" in last.message_en


# ---------------------------------------------------------------------------------------
# No query per row
# ---------------------------------------------------------------------------------------


def queries_for(rows: int) -> int:
    data = csv_bytes([AGREEMENT_HEADER] + [agreement(f"Q-{rows}-{n}") for n in range(rows)])
    with CaptureQueriesContext(connection) as queries:
        result = import_file(data, filename="agreements.csv", dry_run=False)
    assert result.ok
    return len(queries)


def test_importing_agreements_costs_the_same_queries_for_ten_rows_as_for_thirty(beijing):
    assert queries_for(10) == queries_for(30)


def test_re_importing_unchanged_agreements_costs_the_same_queries_for_ten_as_for_thirty(beijing):
    for rows in (10, 30):
        data = csv_bytes([AGREEMENT_HEADER] + [agreement(f"R-{rows}-{n}") for n in range(rows)])
        import_file(data, filename="agreements.csv", dry_run=False)
    counts = []
    for rows in (10, 30):
        data = csv_bytes([AGREEMENT_HEADER] + [agreement(f"R-{rows}-{n}") for n in range(rows)])
        with CaptureQueriesContext(connection) as queries:
            result = import_file(data, filename="agreements.csv", dry_run=False)
        assert result.sheets["Agreements"].unchanged == rows
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_whole_workbook_costs_the_same_queries_whatever_its_length():
    def workbook(size: int) -> bytes:
        return xlsx(
            {
                "Organizations": [["name", "kind"]]
                + [[f"企业{size}-{n}", "private"] for n in range(size)],
                "Registrations": [["delegation", "edition", "organization", "participants"]]
                + [["北京", "CIIE 2019", f"企业{size}-{n}", 1] for n in range(size)],
                "Exhibitors": [["edition", "name", "country"]]
                + [["CIIE 2019", f"Exhibitor {size}-{n}", "GB"] for n in range(size)],
                "Agreements": [AGREEMENT_HEADER]
                + [
                    agreement(
                        f"W-{size}-{n}", buyer=f"企业{size}-{n}", exhibitors=f"Exhibitor {size}-{n}"
                    )
                    for n in range(size)
                ],
            }
        )

    DelegationFactory()
    counts = []
    for size in (5, 15):
        with CaptureQueriesContext(connection) as queries:
            result = import_file(workbook(size), filename="book.xlsx", dry_run=False)
        assert result.ok, [str(error) for error in result.errors]
        counts.append(len(queries))
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------


def test_undo_removes_what_the_import_created_restores_what_it_changed_and_names_what_it_kept(
    beijing,
):
    reviewer = staff_member(REVIEWERS, username="reviewer")
    kept_early = AgreementFactory(
        reference="OLD-1", registration=beijing.registrations.get(), amount=Decimal("5")
    )
    restored_early = AgreementFactory(
        reference="OLD-2", registration=beijing.registrations.get(), amount=Decimal("6")
    )
    exhibitor_of_old_2 = restored_early.exhibitors.get()
    rows = [
        agreement("NEW-1"),
        agreement("NEW-2"),
        agreement("OLD-1", amount="50"),
        agreement("OLD-2", amount="60"),
    ]
    result = import_agreements(*rows, user=reviewer)
    assert result.sheets["Agreements"].as_dict() == {"created": 2, "updated": 2, "unchanged": 0}
    # Edited after the import, through the ORM (the admin's way): a later history row.
    new_1_id = Agreement.objects.get(reference="NEW-1").pk
    edited_new = Agreement.objects.get(reference="NEW-2")
    edited_new.status = "executed"
    edited_new.save()
    kept_early.refresh_from_db()
    kept_early.status = "cancelled"
    kept_early.save()

    undone = undo_import(result.run, user=reviewer)

    assert not Agreement.objects.filter(reference="NEW-1").exists()
    assert Agreement.objects.filter(reference="NEW-2").exists()
    restored_early.refresh_from_db()
    assert restored_early.amount == Decimal("6")
    kept_early.refresh_from_db()
    assert (kept_early.amount, kept_early.status) == (Decimal("50"), "cancelled")
    assert undone.removed == {"Agreements": 1}
    assert undone.restored == {"Agreements": 1}
    assert len(undone.kept) == 2
    assert any("NEW-2" in line and "changed after the import" in line for line in undone.kept)
    assert any("OLD-1" in line and "changed after the import" in line for line in undone.kept)
    run = ImportRun.objects.get(pk=result.run.pk)
    assert (run.status, run.undone_by) == (ImportRun.Status.UNDONE, reviewer)
    assert run.undo_report["removed"] == {"Agreements": 1}
    # NEW-1's exhibitor link went with it; OLD-2 has its exhibitor of before back, and
    # the one the import gave it is gone; the edited OLD-1 keeps the import's.
    removed_links = AgreementExhibitor.history.filter(
        history_type="-", history_change_reason=f"undo of import #{run.pk}"
    )
    assert sorted(removed_links.values_list("agreement_id", flat=True)) == sorted(
        [new_1_id, restored_early.pk]
    )
    assert list(restored_early.exhibitors.all()) == [exhibitor_of_old_2]
    assert list(kept_early.exhibitors.values_list("organization__name_zh", flat=True)) == [
        "三星电子"
    ]


def test_undo_keeps_an_organization_that_someone_registered_since():
    reviewer = staff_member(REVIEWERS)
    result = import_file(
        csv_bytes([["名称", "类型"], ["新公司", "民营企业"], ["另一家", "民营企业"]]),
        filename="组织.csv",
        user=reviewer,
        dry_run=False,
    )
    RegistrationFactory(organization=Organization.objects.get(name_zh="新公司"))

    undone = undo_import(result.run, user=reviewer)

    assert list(Organization.objects.values_list("name_zh", flat=True)) == ["新公司"]
    assert undone.removed == {"Organizations": 1}
    (kept,) = undone.kept
    assert "新公司" in kept and "refer to it" in kept


def test_undo_puts_back_an_exhibitor_the_import_took_off_an_agreement(beijing):
    reviewer = staff_member(REVIEWERS)
    harrods = ExhibitorFactory(organization=OrganizationFactory(name_zh="Harrods", country="GB"))
    samsung = Exhibitor.objects.get(organization__name_zh="三星电子")
    AgreementFactory(
        reference="BJ-1", registration=beijing.registrations.get(), exhibitors=[samsung, harrods]
    )
    result = import_agreements(agreement("BJ-1", amount="1000000"), user=reviewer)
    assert Agreement.objects.get().exhibitors.count() == 1

    undo_import(result.run, user=reviewer)

    assert set(Agreement.objects.get().exhibitors.all()) == {samsung, harrods}


def test_undo_of_the_whole_clerks_workbook_leaves_the_database_as_it_was():
    reviewer = staff_member(REVIEWERS)
    before = {model.__name__: model.objects.count() for model in MODELS}
    result = import_file(clerk_workbook(), filename="book.xlsx", user=reviewer, dry_run=False)

    undone = undo_import(result.run, user=reviewer)

    assert {model.__name__: model.objects.count() for model in MODELS} == before
    assert undone.kept == []
    assert undone.removed["Agreements"] == 3


def test_data_entry_and_reviewers_see_and_make_imports_and_only_reviewers_undo_them():
    clerk, reviewer = staff_member(DATA_ENTRY), staff_member(REVIEWERS)

    for user in (clerk, reviewer):
        assert user.has_perm("deals.view_importrun") and user.has_perm("deals.add_importrun")
    assert reviewer.has_perm("deals.undo_importrun")
    assert not clerk.has_perm("deals.undo_importrun")


def test_only_an_imported_run_can_be_undone_and_only_by_a_reviewer(beijing):
    from deals.importer import UndoRefused

    reviewer = staff_member(REVIEWERS)
    clerk = staff_member(DATA_ENTRY)
    result = import_agreements(agreement(), user=reviewer)

    with pytest.raises(UndoRefused):
        undo_import(result.run, user=clerk)
    undo_import(result.run, user=reviewer)
    with pytest.raises(UndoRefused, match="undone"):
        undo_import(result.run, user=reviewer)


def test_sectors_are_read_by_name_or_code(beijing):
    rows = [
        [*AGREEMENT_HEADER, "sector"],
        [*agreement("BJ-1"), "跨境电商"],
        [*agreement("BJ-2"), "quality-everyday"],
    ]

    result = import_file(csv_bytes(rows), filename="agreements.csv", dry_run=False)

    assert result.ok
    assert set(Agreement.objects.values_list("sector__code", flat=True)) == {
        "cross-border-ecommerce",
        "quality-everyday",
    }
    assert Sector.objects.count() == 9


def test_the_rate_of_the_signing_day_freezes_the_us_dollar_amount(beijing):
    ExchangeRateFactory(valid_on=datetime.date(2019, 11, 6), usd_per_unit=Decimal("0.15"))
    rows = [
        [*AGREEMENT_HEADER, "signed_on"],
        [*agreement("BJ-1", amount="100", currency="RMB"), "2019-11-07"],
        [*agreement("BJ-2", amount="100", currency="CNY"), ""],
    ]

    result = import_file(csv_bytes(rows), filename="agreements.csv", dry_run=False)

    assert result.ok
    first, second = Agreement.objects.order_by("reference")
    assert (first.usd_rate, first.usd_rate_on, first.amount_usd) == (
        Decimal("0.15"),
        datetime.date(2019, 11, 6),
        Decimal("15.00"),
    )
    # Unsigned: the rate in force on the expo's first day (5 November 2019).
    assert (second.usd_rate, second.usd_rate_on) == (Decimal("0.142"), datetime.date(2019, 11, 1))


def test_an_amount_in_a_currency_without_a_rate_is_an_error(beijing):
    result = import_agreements(agreement(currency="EUR"))

    error = only_error(result)
    assert error.column == "currency / 币种"
    assert "no exchange rate for EUR" in error.message_en
    assert edition().starts_on.isoformat() in error.message_en


def test_a_large_import_refreshes_the_planner_statistics_on_postgresql(beijing):
    rows = [["name", "kind"]] + [[f"企业{n:04d}", "private"] for n in range(1000)]

    with CaptureQueriesContext(connection) as queries:
        result = import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert result.written
    analyzed = [query["sql"] for query in queries if query["sql"].startswith("ANALYZE")]
    if connection.vendor == "postgresql":
        (statement,) = analyzed
        assert '"delegations_organization"' in statement
    else:
        assert analyzed == []


def test_a_small_import_leaves_the_statistics_to_the_database(beijing):
    rows = [["name", "kind"], ["小企业", "private"]]

    with CaptureQueriesContext(connection) as queries:
        import_file(csv_bytes(rows), filename="组织.csv", dry_run=False)

    assert not [query for query in queries if query["sql"].startswith("ANALYZE")]
