"""Spreadsheet exports: every sheet of the contract with its headers and cells in the form
the importer reads back, formulas escaped, no query per row, and the admin's export of
the filtered change list for staff who may view the model."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from import_export.formats.base_formats import XLSX

from deals.models import AgreementStatus, Sector
from deals.resources import (
    SHEET_RESOURCES,
    AgreementResource,
    CiftisPledgeResource,
    ExchangeRateResource,
    ExhibitorResource,
    InvestmentIntentionResource,
    VisitResource,
)
from deals.sheets import SHEETS
from delegations.models import Delegation, OrganizationKind
from delegations.resources import (
    CSVWithBOM,
    DelegationResource,
    OrganizationResource,
    RegistrationResource,
    cell,
)
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    VisitFactory,
    of_the_organizer,
)

RESOURCES = SHEET_RESOURCES
FORMULA = "=cmd|' /C calc'!A0"
BOM = b"\xef\xbb\xbf"
# The admin export form's formats, in the order the mixin lists them.
CSV_FORMAT, XLSX_FORMAT, JSON_FORMAT = "0", "1", "2"


def csv_rows(data: str | bytes) -> list[dict[str, str]]:
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data.removeprefix("\ufeff"))))


def xlsx_sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def xlsx_export(resource_class, queryset=None) -> bytes:
    return XLSX().export_data(resource_class().export(queryset, force_native_type=True))


def csv_export(resource_class, queryset=None) -> str:
    return CSVWithBOM().export_data(resource_class().export(queryset))


def sub_delegation(name_zh: str = "朝阳区交易分团", slug: str = "chaoyang") -> Delegation:
    parent = DelegationFactory()
    return DelegationFactory(
        name_zh=name_zh, name_en="", slug=slug, parent=parent, edition=parent.edition
    )


# ---------------------------------------------------------------------------------------
# Headers: the contract's
# ---------------------------------------------------------------------------------------


def test_every_sheet_of_the_contract_has_a_resource():
    assert [resource.sheet_name for resource in RESOURCES] == [sheet.name_en for sheet in SHEETS]


@pytest.mark.parametrize("resource_class", RESOURCES, ids=lambda r: r.sheet_name)
def test_headers_are_the_contracts_english_keys_in_its_order(resource_class):
    resource = resource_class()
    sheet = resource.sheet
    assert resource.get_export_headers() == [column.key for column in sheet.columns]
    assert resource._meta.model is sheet.model


@pytest.mark.parametrize("resource_class", RESOURCES, ids=lambda r: r.sheet_name)
def test_the_library_cannot_import_through_a_resource(resource_class):
    with pytest.raises(NotImplementedError):
        resource_class().import_data(None, dry_run=True)


# ---------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "native"),
    [
        (None, None, None),
        ("", "", None),
        (True, "yes", "yes"),
        (False, "no", "no"),
        (12, 12, 12),
        (Decimal("710000000.00"), "710000000.00", Decimal("710000000.00")),
        (Decimal("0.00000001"), "0.00000001", Decimal("0.00000001")),
        (datetime.date(2019, 11, 5), "2019-11-05", datetime.date(2019, 11, 5)),
        ("北京", "北京", "北京"),
        ("=1+1", "'=1+1", "'=1+1"),
        ("-2+3", "'-2+3", "'-2+3"),
    ],
)
def test_cells_keep_numbers_and_dates_typed_and_escape_formulas(value, text, native):
    assert cell(value, native=False) == text
    assert cell(value, native=True) == native


@pytest.mark.django_db
def test_agreement_cells_read_as_the_importer_reads_them():
    sector = Sector.objects.order_by("pk").first()
    ExchangeRateFactory(currency="JPY", valid_on=datetime.date(2019, 11, 1), usd_per_unit="0.0092")
    buyer = RegistrationFactory(organization__credit_code="91110000600037341L")
    exhibitors = [
        ExhibitorFactory(organization__name_zh="乙展商", organization__country="GB"),
        ExhibitorFactory(organization__name_zh="甲展商", organization__country="HK"),
    ]
    AgreementFactory(
        reference="BJ-2019-0001",
        registration=buyer,
        exhibitors=exhibitors,
        sector=sector,
        amount=Decimal("500000000"),
        currency="JPY",
        is_public=True,
    )

    [row] = csv_rows(csv_export(AgreementResource))

    assert row == {
        "reference": "BJ-2019-0001",
        "delegation": "北京",
        "edition": "CIIE 2019",
        "buyer": buyer.organization.name_zh,
        "buyer_credit_code": "91110000600037341L",
        "exhibitors": "乙展商; 甲展商",
        "kind": "purchase",
        "sector": sector.name_zh,
        "amount": "500000000",  # JPY has no decimals
        "currency": "JPY",
        "signed_on": "2019-11-05",
        "status": "signed",
        "public": "yes",
        "amount_usd": "4600000.00",
        "illustrative": "no",
    }


@pytest.mark.django_db
def test_countries_are_exported_as_alpha_2_codes_and_kinds_as_keys():
    OrganizationFactory(
        name_zh="香港贸易有限公司", country="HK", kind=OrganizationKind.HK_MACAO_TAIWAN
    )
    [row] = csv_rows(csv_export(OrganizationResource))
    assert (row["country"], row["kind"]) == ("HK", "hk_macao_taiwan")


@pytest.mark.django_db
def test_a_visit_by_a_sub_delegation_names_the_delegation_and_the_visitor():
    VisitFactory(delegation=sub_delegation())
    VisitFactory(delegation=DelegationFactory(), visited_on=datetime.date(2019, 11, 7))

    rows = csv_rows(csv_export(VisitResource))

    assert sorted((row["delegation"], row["visited_by"]) for row in rows) == [
        ("北京", ""),
        ("北京", "朝阳区交易分团"),
    ]


@pytest.mark.django_db
def test_a_registration_in_a_sub_delegation_names_the_sub_delegation():
    RegistrationFactory(delegation=sub_delegation())
    [row] = csv_rows(csv_export(RegistrationResource))
    assert (row["delegation"], row["edition"]) == ("朝阳区交易分团", "CIIE 2019")


@pytest.mark.django_db
def test_a_sub_delegation_names_its_parent():
    sub_delegation()
    rows = csv_rows(csv_export(DelegationResource))
    assert {(row["name"], row["parent"]) for row in rows} == {
        ("朝阳区交易分团", "北京"),
        ("北京", ""),
    }


@pytest.mark.django_db
def test_a_pledge_names_its_fair_edition_and_source():
    CiftisPledgeFactory(pledged_on=datetime.date(2019, 11, 8))
    [row] = csv_rows(csv_export(CiftisPledgeResource))
    assert (row["fair_edition"], row["source_delegation"], row["source_edition"]) == (
        "CIFTIS 2020",
        "北京",
        "CIIE 2019",
    )
    assert (row["country"], row["status"], row["pledged_on"]) == ("EE", "pledged", "2019-11-08")


@pytest.mark.django_db
def test_formula_text_is_escaped_in_csv_and_xlsx():
    VisitFactory(notes=FORMULA)

    [row] = csv_rows(csv_export(VisitResource))
    assert row["notes"] == "'" + FORMULA

    sheet = xlsx_sheet(xlsx_export(VisitResource))
    notes = sheet["I2"]
    assert sheet["I1"].value == "notes"
    assert notes.value == "'" + FORMULA
    assert notes.data_type == "s"  # text, not a formula


@pytest.mark.django_db
def test_xlsx_keeps_numbers_numbers_dates_dates_and_blanks_blank():
    AgreementFactory(amount=Decimal("710000000"))

    sheet = xlsx_sheet(xlsx_export(AgreementResource))
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, (c.value for c in sheet[2]), strict=True))

    assert values["amount"] == 710000000
    assert isinstance(values["amount"], int | float)
    assert values["signed_on"] == datetime.datetime(2019, 11, 5)
    assert sheet.cell(row=2, column=header.index("signed_on") + 1).is_date
    assert values["sector"] is None
    assert values["buyer_credit_code"] is None
    assert sheet.title == "Agreements"


@pytest.mark.django_db
def test_exported_csv_starts_with_a_bom_and_json_has_none(admin_client):
    AgreementFactory()
    url = reverse("admin:deals_agreement_export")

    as_csv = admin_client.post(url, {"format": CSV_FORMAT, "resource": "0"})
    as_json = admin_client.post(url, {"format": JSON_FORMAT, "resource": "0"})

    assert as_csv.content.startswith(BOM)
    assert csv_rows(as_csv.content)[0]["delegation"] == "北京"
    assert as_csv["Content-Disposition"].startswith('attachment; filename="Agreements-')
    assert json.loads(as_json.content)[0]["edition"] == "CIIE 2019"


# ---------------------------------------------------------------------------------------
# Queries: the same for 3 and 30 rows
# ---------------------------------------------------------------------------------------


def rows_of(resource_class):
    """A function that adds `n` more records of the resource's sheet."""
    numbers = itertools.count()

    def delegations(n):
        for _ in range(n):
            i = next(numbers)
            parent = DelegationFactory(slug=f"city-{i}", name_zh=f"城市{i}", name_en=f"City {i}")
            DelegationFactory(slug=f"district-{i}", name_zh=f"区{i}", name_en="", parent=parent)

    def agreements(n):
        for _ in range(n):
            registration = RegistrationFactory()
            AgreementFactory(
                registration=registration,
                exhibitors=[ExhibitorFactory(), ExhibitorFactory()],
                sector=Sector.objects.order_by("pk").first(),
            )

    def visits(n):
        district = sub_delegation()
        for _ in range(n):
            VisitFactory(delegation=district)

    def rates(n):
        for _ in range(n):
            ExchangeRateFactory(
                valid_on=datetime.date(2019, 1, 1) + datetime.timedelta(next(numbers))
            )

    makers = {
        DelegationResource: delegations,
        OrganizationResource: lambda n: OrganizationFactory.create_batch(n),
        RegistrationResource: lambda n: RegistrationFactory.create_batch(n),
        ExhibitorResource: lambda n: ExhibitorFactory.create_batch(
            n, exhibition_area=Sector.objects.filter(is_exhibition_area=True).first()
        ),
        ExchangeRateResource: rates,
        AgreementResource: agreements,
        VisitResource: visits,
        InvestmentIntentionResource: lambda n: InvestmentIntentionFactory.create_batch(
            n, sector=Sector.objects.order_by("pk").first(), amount=Decimal("1000")
        ),
        CiftisPledgeResource: lambda n: CiftisPledgeFactory.create_batch(n),
    }
    return makers[resource_class]


# One query per sheet; agreements read their exhibitors in one more.
QUERIES = {AgreementResource: 2}


@pytest.mark.django_db
@pytest.mark.parametrize("resource_class", RESOURCES, ids=lambda r: r.sheet_name)
def test_export_costs_the_same_queries_for_3_and_30_rows(resource_class, django_assert_num_queries):
    add = rows_of(resource_class)
    expected = QUERIES.get(resource_class, 1)

    add(3)
    with django_assert_num_queries(expected):
        few = resource_class().export(force_native_type=True)
    add(27)
    with django_assert_num_queries(expected):
        many = resource_class().export(force_native_type=True)

    assert (few.height, many.height) in {(3, 30), (6, 60)}  # delegations come in pairs


# ---------------------------------------------------------------------------------------
# The admin's export
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_exports_only_the_filtered_rows(admin_client):
    AgreementFactory(reference="KEEP-1", status=AgreementStatus.CANCELLED)
    AgreementFactory(reference="KEEP-2", status=AgreementStatus.CANCELLED)
    AgreementFactory(reference="DROP-1", status=AgreementStatus.SIGNED)
    url = reverse("admin:deals_agreement_export") + "?status__exact=cancelled"

    form = admin_client.get(url)
    response = admin_client.post(url, {"format": CSV_FORMAT, "resource": "0"})

    assert form.status_code == 200
    assert sorted(row["reference"] for row in csv_rows(response.content)) == ["KEEP-1", "KEEP-2"]


@pytest.mark.django_db
def test_admin_exports_the_searched_rows_as_xlsx(admin_client):
    AgreementFactory(reference="BJ-A", registration__organization__name_zh="华为技术有限公司")
    AgreementFactory(reference="BJ-B")
    url = reverse("admin:deals_agreement_export") + "?q=华为"

    response = admin_client.post(url, {"format": XLSX_FORMAT, "resource": "0"})

    sheet = xlsx_sheet(response.content)
    assert response["Content-Type"] == XLSX.CONTENT_TYPE
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["BJ-A"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model_name", "make"),
    [
        ("delegations_delegation", lambda: DelegationFactory()),
        ("delegations_organization", lambda: OrganizationFactory()),
        ("delegations_registration", lambda: RegistrationFactory()),
        ("deals_exhibitor", lambda: ExhibitorFactory()),
        ("deals_exchangerate", lambda: ExchangeRateFactory()),
        ("deals_agreement", lambda: AgreementFactory()),
        ("deals_visit", lambda: VisitFactory()),
        ("deals_investmentintention", lambda: InvestmentIntentionFactory()),
        ("deals_ciftispledge", lambda: CiftisPledgeFactory()),
    ],
)
def test_every_change_list_exports_its_sheet(admin_client, model_name, make):
    make()
    changelist = admin_client.get(reverse(f"admin:{model_name}_changelist"))
    response = admin_client.post(
        reverse(f"admin:{model_name}_export"), {"format": XLSX_FORMAT, "resource": "0"}
    )

    assert reverse(f"admin:{model_name}_export") in changelist.content.decode()
    assert reverse("admin:deals_blank_template") in changelist.content.decode()
    assert response.status_code == 200
    sheet = xlsx_sheet(response.content)
    assert sheet.max_row == 2


@pytest.mark.django_db
def test_staff_without_the_view_permission_cannot_export(client):
    AgreementFactory()
    clerk = UserFactory()
    clerk.user_permissions.add(Permission.objects.get(codename="view_visit"))
    client.force_login(clerk)

    page = client.get(reverse("admin:deals_agreement_export"))
    post = client.post(
        reverse("admin:deals_agreement_export"), {"format": CSV_FORMAT, "resource": "0"}
    )

    assert (page.status_code, post.status_code) == (403, 403)
    assert b"BJ-" not in post.content


@pytest.mark.django_db
def test_staff_with_the_view_permission_may_export(client):
    AgreementFactory(reference="BJ-VIEW")
    clerk = of_the_organizer(UserFactory())
    clerk.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    client.force_login(clerk)

    changelist = client.get(reverse("admin:deals_agreement_changelist"))
    response = client.post(
        reverse("admin:deals_agreement_export"), {"format": CSV_FORMAT, "resource": "0"}
    )

    assert reverse("admin:deals_agreement_export") in changelist.content.decode()
    assert [row["reference"] for row in csv_rows(response.content)] == ["BJ-VIEW"]


@pytest.mark.django_db
def test_the_export_form_offers_csv_xlsx_and_json_and_every_column(admin_client):
    response = admin_client.get(reverse("admin:deals_agreement_export"))
    text = response.content.decode()

    assert [label for _, label in response.context["form"].fields["format"].choices] == [
        "---",
        "csv",
        "xlsx",
        "json",
    ]
    assert "buyer_credit_code" in text
    assert 'type="checkbox"' not in text  # no column can be left out


def test_formula_escaping_of_the_library_is_not_switched_on(settings):
    assert not getattr(settings, "IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT", False)
