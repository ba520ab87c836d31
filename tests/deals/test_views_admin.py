"""The blank spreadsheet template: every sheet of the contract with its headers and, in
their comments, the Chinese header, the required and key marks and the accepted values."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from deals import importer
from deals.sheets import SHEETS
from deals.views_admin import blank_template_workbook, template_columns
from tests.factories import UserFactory


def template_in(language: str) -> openpyxl.Workbook:
    with translation.override(language):
        return openpyxl.load_workbook(io.BytesIO(blank_template_workbook()))


@pytest.fixture(scope="module")
def workbook():
    """The template as the bureau's clerks download it: in Chinese."""
    return template_in("zh-hans")


def test_template_has_every_sheet_in_import_order(workbook):
    assert workbook.sheetnames == [sheet.name_en for sheet in SHEETS]


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda s: s.name_en)
def test_each_sheet_has_the_contracts_headers_and_no_rows(workbook, sheet):
    worksheet = workbook[sheet.name_en]
    headers = [cell.value for cell in worksheet[1]]

    assert headers == [column.key for column in template_columns(sheet)]
    assert worksheet.max_row == 1
    assert worksheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in worksheet[1])


# The required and key marks of a header comment, in the language of the template.
MARKS = {"zh-hans": ("必填", "关键列："), "en": ("required", "key:")}


@pytest.mark.parametrize("language", list(MARKS))
def test_each_header_comment_gives_the_chinese_header_and_the_marks(language):
    workbook = template_in(language)
    required, key = MARKS[language]
    for sheet in SHEETS:
        worksheet = workbook[sheet.name_en]
        for cell, column in zip(worksheet[1], template_columns(sheet), strict=True):
            text = cell.comment.text
            assert column.zh in text
            assert (required in text) is column.required, (sheet.name_en, column.key)
            assert (key in text) is column.is_key, (sheet.name_en, column.key)
        assert sheet.name_zh in worksheet["A1"].comment.text


def test_comments_show_the_accepted_values(workbook):
    agreements = {cell.value: cell.comment.text for cell in workbook["Agreements"][1]}
    assert "strategic_cooperation (战略合作协议)" in agreements["kind"]
    assert "signed (已签约), executed (已执行), cancelled (已取消)" in agreements["status"]
    assert "是/否" in agreements["public"]
    assert "2019年11月5日" in agreements["signed_on"]
    assert "USD" in agreements["currency"]


def test_columns_excel_would_mangle_are_formatted_as_text(workbook):
    worksheet = workbook["Organizations"]
    letter = next(cell.column_letter for cell in worksheet[1] if cell.value == "credit_code")
    assert worksheet.column_dimensions[letter].number_format == "@"
    assert worksheet.column_dimensions[letter].width >= 18


def test_computed_columns_are_left_out(workbook):
    assert "amount_usd" not in [cell.value for cell in workbook["Agreements"][1]]


@pytest.mark.django_db
def test_staff_download_the_template_from_the_admin(client):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:deals_blank_template"))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames[0] == "Delegations"


@pytest.mark.django_db
def test_the_template_is_for_staff_only(client):
    url = reverse("admin:deals_blank_template")
    anonymous = client.get(url)
    client.force_login(UserFactory(is_staff=False, username="outsider"))
    outsider = client.get(url)

    assert anonymous.status_code == outsider.status_code == 302
    assert reverse("admin:login") in outsider["Location"]


@pytest.mark.django_db
def test_the_blank_template_imports_as_nothing_and_without_errors():
    result = importer.import_file(
        blank_template_workbook(), filename="template.xlsx", dry_run=False
    )

    assert result.errors == []
    assert all(
        (counts.created, counts.updated, counts.unchanged) == (0, 0, 0)
        for counts in result.sheets.values()
    )
