"""An export imports back unchanged: for every sheet, in CSV and XLSX, into the same
database (nothing created, nothing updated, no history written) and into an empty one
(the same records again)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from import_export.formats.base_formats import XLSX

from deals import importer
from deals.models import (
    Agreement,
    AgreementExhibitor,
    AgreementKind,
    AgreementStatus,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Sector,
    Visit,
)
from deals.resources import SHEET_RESOURCES, export_workbook
from delegations.models import (
    Delegation,
    Organization,
    OrganizationKind,
    Registration,
    RegistrationStatus,
)
from delegations.resources import CSVWithBOM
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    VisitFactory,
)

FORMULA = "=cmd|' /C calc'!A0"
HISTORY_MODELS = [
    Delegation,
    Organization,
    Registration,
    Exhibitor,
    ExchangeRate,
    AgreementExhibitor,
    Visit,
    InvestmentIntention,
    CiftisPledge,
    Sector,
]
DAY = datetime.date(2019, 11, 5)


def population() -> None:
    """Records of every sheet, with what a round trip could break: Chinese names, text
    that looks like a formula, a sub-delegation, an agreement with two exhibitors, amounts
    in RMB and yen with their rates, a Hong Kong exhibitor, illustrative records."""
    sector = Sector.objects.filter(is_exhibition_area=True).order_by("pk").first()
    beijing = DelegationFactory()
    chaoyang = DelegationFactory(
        name_zh="朝阳区交易分团",
        name_en="Chaoyang District",
        slug="chaoyang",
        parent=beijing,
        organizer_zh="朝阳区商务局",
        organizer_en="",
    )
    ExchangeRateFactory(currency="CNY", valid_on=datetime.date(2019, 11, 1), source="中国人民银行")
    ExchangeRateFactory(
        currency="JPY", valid_on=datetime.date(2019, 10, 31), usd_per_unit=Decimal("0.0092")
    )

    agribusiness = OrganizationFactory(
        name_zh="北京首都农业集团有限公司",
        name_en="Beijing Capital Agribusiness Group",
        credit_code="91110000600037341L",
        kind=OrganizationKind.STATE_OWNED,
        industry="@SUM(A1)",
        annual_imports_usd=Decimal("710000000.00"),
    )
    foods = OrganizationFactory(
        name_zh="朝阳食品有限公司", name_en="", kind=OrganizationKind.PRIVATE, industry="食品"
    )
    british = OrganizationFactory(
        name_zh="英国农业出口有限公司",
        name_en="British Agricultural Exports Ltd",
        kind=OrganizationKind.FOREIGN,
        country="GB",
    )
    hong_kong = OrganizationFactory(
        name_zh="香港贸易发展有限公司",
        name_en="HK Trade Development Ltd",
        kind=OrganizationKind.HK_MACAO_TAIWAN,
        country="HK",
        illustrative=True,
    )
    estonian = OrganizationFactory(
        name_zh="爱沙尼亚数字服务公司", name_en="", kind=OrganizationKind.FOREIGN, country="EE"
    )

    buyer = RegistrationFactory(
        delegation=beijing,
        organization=agribusiness,
        participants=12,
        status=RegistrationStatus.ATTENDED,
        registered_on=datetime.date(2019, 9, 30),
    )
    district_buyer = RegistrationFactory(
        delegation=chaoyang, organization=foods, participants=3, illustrative=True
    )

    gb_exhibitor = ExhibitorFactory(organization=british, exhibition_area=sector, booth="-5.1A")
    hk_exhibitor = ExhibitorFactory(organization=hong_kong, illustrative=True)

    AgreementFactory(
        reference="BJ-2019-0001",
        registration=buyer,
        exhibitors=[gb_exhibitor, hk_exhibitor],
        sector=sector,
        amount=Decimal("710000000.00"),
        is_public=True,
    )
    AgreementFactory(
        reference="BJ-2019-0002",
        registration=district_buyer,
        delegation=chaoyang,
        exhibitors=[hk_exhibitor],
        kind=AgreementKind.STRATEGIC_COOPERATION,
        amount=Decimal("100000000.50"),
        currency="CNY",
        status=AgreementStatus.EXECUTED,
    )
    AgreementFactory(
        reference="BJ-2019-0003",
        registration=buyer,
        exhibitors=[gb_exhibitor],
        amount=Decimal("500000000"),
        currency="JPY",
        signed_on=None,
        status=AgreementStatus.CANCELLED,
        illustrative=True,
    )

    VisitFactory(
        delegation=chaoyang,
        organization=british,
        investment_intention=True,
        notes=FORMULA,
    )
    VisitFactory(
        delegation=beijing,
        organization=agribusiness,
        visited_on=datetime.date(2019, 11, 7),
        ciftis_interest=True,
        notes="第二次走访，带回资料；\n下周再联系",
    )

    InvestmentIntentionFactory(
        delegation=beijing,
        organization=british,
        sector=sector,
        amount=Decimal("5000000.00"),
        currency="EUR",
        stage=IntentionStage.NEGOTIATING,
    )
    InvestmentIntentionFactory(delegation=chaoyang, organization=hong_kong, illustrative=True)

    CiftisPledgeFactory(
        organization=estonian,
        source_delegation=beijing,
        status=PledgeStatus.REGISTERED,
        pledged_on=datetime.date(2019, 11, 8),
    )
    CiftisPledgeFactory(organization=hong_kong, source_delegation=None)


def exported(resource_class, file_format: str) -> tuple[bytes, str]:
    if file_format == "csv":
        dataset = resource_class().export()
        return CSVWithBOM().export_data(dataset).encode(), f"{resource_class.sheet_name}.csv"
    dataset = resource_class().export(force_native_type=True)
    return XLSX().export_data(dataset), f"{resource_class.sheet_name}.xlsx"


def history_counts() -> dict[str, int]:
    return {model.__name__: model.history.count() for model in HISTORY_MODELS}


def snapshot() -> dict[str, list[tuple]]:
    """Every record as the contract shows it: each sheet's exported rows, in a stable order."""
    return {
        resource.sheet_name: sorted(
            tuple(str(value) for value in row) for row in resource().export()
        )
        for resource in SHEET_RESOURCES
    }


def empty_the_database() -> None:
    """Every record a sheet writes, removed in the reverse of the import order; fairs,
    editions and sectors are reference data and stay."""
    AgreementExhibitor.objects.all().delete()
    for model in (Visit, InvestmentIntention, CiftisPledge, Agreement):
        model.objects.all().delete()
    Exhibitor.objects.all().delete()
    Registration.objects.all().delete()
    Delegation.objects.filter(parent__isnull=False).delete()
    Delegation.objects.all().delete()
    Organization.objects.all().delete()
    ExchangeRate.objects.all().delete()


def assert_imported(result) -> None:
    problems = [(e.sheet, e.row, e.column, e.message_en) for e in result.errors]
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("resource_class", SHEET_RESOURCES, ids=lambda r: r.sheet_name)
def test_an_export_imported_into_the_same_database_changes_nothing(resource_class, file_format):
    population()
    data, filename = exported(resource_class, file_format)
    before, history = snapshot(), history_counts()

    result = importer.import_file(
        data, filename=filename, sheet=resource_class.sheet_name, dry_run=False
    )

    assert_imported(result)
    counts = result.sheets[resource_class.sheet_name]
    rows = resource_class._meta.model.objects.count()
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, rows)
    assert history_counts() == history
    assert snapshot() == before


@pytest.mark.django_db
def test_an_exported_workbook_imported_again_changes_nothing():
    population()
    before, history = snapshot(), history_counts()

    result = importer.import_file(export_workbook(), filename="records.xlsx", dry_run=False)

    assert_imported(result)
    assert {name: (c.created, c.updated) for name, c in result.sheets.items()} == {
        resource.sheet_name: (0, 0) for resource in SHEET_RESOURCES
    }
    assert history_counts() == history
    assert snapshot() == before


@pytest.mark.django_db
def test_an_exported_workbook_recreates_every_record_in_an_empty_database():
    population()
    before = snapshot()
    workbook = export_workbook()
    empty_the_database()

    result = importer.import_file(workbook, filename="records.xlsx", dry_run=False)

    assert_imported(result)
    assert snapshot() == before
    assert Visit.objects.get(notes=FORMULA).delegation.parent.name_zh == "北京"


@pytest.mark.django_db
def test_exported_csv_files_recreate_every_record_in_an_empty_database():
    population()
    before = snapshot()
    files = [exported(resource, "csv") for resource in SHEET_RESOURCES]
    empty_the_database()

    for resource, (data, filename) in zip(SHEET_RESOURCES, files, strict=True):
        result = importer.import_file(
            data, filename=filename, sheet=resource.sheet_name, dry_run=False
        )
        assert_imported(result)

    assert snapshot() == before


def download_name(response) -> str:
    return response["Content-Disposition"].split('filename="')[1].rstrip('"')


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["0", "1"], ids=["csv", "xlsx"])
@pytest.mark.parametrize("resource_class", SHEET_RESOURCES, ids=lambda r: r.sheet_name)
def test_a_download_from_the_admin_imports_back_unchanged_without_naming_its_sheet(
    admin_client, resource_class, file_format
):
    population()
    history = history_counts()
    opts = resource_class._meta.model._meta
    response = admin_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_export"),
        {"format": file_format, "resource": "0"},
    )

    result = importer.import_file(response.content, filename=download_name(response), dry_run=False)

    assert_imported(result)
    counts = result.sheets[resource_class.sheet_name]
    rows = resource_class._meta.model.objects.count()
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, rows)
    assert history_counts() == history
