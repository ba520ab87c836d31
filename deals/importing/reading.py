"""Reading an uploaded file into tables of cells, refusing what is not a spreadsheet or
what would exhaust the server, before anything is parsed.

XLSX is read with python-calamine (about ten times faster than openpyxl, and it never
sizes anything after the sheet's declared dimension); CSV with the csv module, in UTF-8
with or without BOM, else GB18030 (what Chinese Excel writes), separated by `,`, `;` or
tab.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from ..sheets import Message

# The widest sheet of the contract has sixteen columns; a clerk may add a few of their own.
MAX_COLUMNS = 200
# A workbook is a zip of a few dozen parts; its XML is rarely more than 30 times the zip.
MAX_ZIP_ENTRIES = 10_000
MAX_UNCOMPRESSED_RATIO = 10  # the whole workbook, against the upload size limit
MAX_ENTRY_RATIO = 200  # one part, against its own compressed size
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_ROWS = 1_000_000

# What a file that is not a spreadsheet starts with, to say what it is.
MAGIC = [
    (b"%PDF", _("a PDF document")),
    (b"\x89PNG", _("a PNG image")),
    (b"\xff\xd8\xff", _("a JPEG image")),
    (b"GIF8", _("a GIF image")),
    (b"\xd0\xcf\x11\xe0", _("an old Excel (.xls) or other Office 97 file")),
    (b"\x1f\x8b", _("a gzip archive")),
    (b"Rar!", _("a RAR archive")),
    (b"7z\xbc\xaf", _("a 7-Zip archive")),
    (b"BM", _("a bitmap image")),
]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*\d*:?([A-Z]+)(\d+)"')


class FileRefused(Exception):
    """The whole file is refused, before or while it is read: nothing was imported.
    `.message_zh` and `.message_en` say why; `.run` is the import run that records it."""

    def __init__(self, template, **values: Any) -> None:
        self.message = Message(template, **values)
        self.run = None
        super().__init__(self.message.en)

    @property
    def message_zh(self) -> str:
        return self.message.zh

    @property
    def message_en(self) -> str:
        return self.message.en


@dataclass
class Table:
    """One sheet of a file: its name in the workbook ("" for CSV), its header row and its
    rows, each with the row number a clerk sees in a spreadsheet program."""

    name: str
    header: list[Any]
    header_row: int
    rows: Iterator[tuple[int, list[Any]]] = field(repr=False)
    total: int | None = None  # data rows, when known before reading them
    hidden: bool = False


def max_bytes() -> int:
    return int(getattr(settings, "EXPO", {}).get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return int(getattr(settings, "EXPO", {}).get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def megabytes(size: int) -> str:
    """A size as people read it: 20.0 MB, 2.0 KB, 1000 bytes."""
    if size >= 1024 * 1024:
        return f"{number_format(size / 1024 / 1024, 1)} MB"
    if size >= 1024:
        return f"{number_format(size / 1024, 1)} KB"
    return f"{size} bytes"


def check_size(data: bytes) -> None:
    limit = max_bytes()
    if len(data) > limit:
        raise FileRefused(
            _("This file is %(size)s; files over %(limit)s are refused. Nothing was imported."),
            size=megabytes(len(data)),
            limit=megabytes(limit),
        )


def read_tables(data: bytes) -> tuple[str, list[Table]]:
    """The kind of file ("xlsx" or "csv") and its tables. The size is checked first,
    then what the file is; FileRefused when it is not a CSV file or an XLSX workbook."""
    check_size(data)
    if not data.strip():
        raise FileRefused(_("The file is empty. Nothing was imported."))
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "xlsx", read_workbook(data)
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise not_a_spreadsheet(what)
    return "csv", [read_csv(data)]


def not_a_spreadsheet(what) -> FileRefused:
    return FileRefused(
        _(
            "This file is not a spreadsheet (it is %(what)s). Upload a CSV file or an XLSX "
            "workbook. Nothing was imported."
        ),
        what=what,
    )


# ---------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------


def check_zip(data: bytes) -> None:
    """Refuse a zip that is not a workbook, or whose content would exhaust the server
    once unpacked (a zip bomb), or whose sheets declare more rows than allowed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(
            _("This file looks like an XLSX workbook but cannot be opened: it is damaged.")
        ) from None
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            what = _("a Word document")
        elif "ppt/presentation.xml" in names:
            what = _("a PowerPoint presentation")
        elif "mimetype" in names or "content.xml" in names:
            what = _("an OpenDocument file; save it as XLSX")
        else:
            what = _("a zip archive")
        raise not_a_spreadsheet(what)
    limit = max_bytes() * MAX_UNCOMPRESSED_RATIO
    total = sum(entry.file_size for entry in entries)
    swollen = [
        entry
        for entry in entries
        if entry.file_size > 1024 * 1024
        and entry.file_size > MAX_ENTRY_RATIO * max(entry.compress_size, 1)
    ]
    if len(entries) > MAX_ZIP_ENTRIES or total > limit or swollen:
        raise FileRefused(
            _(
                "This workbook unpacks to %(size)s in %(count)s parts, more than a spreadsheet "
                "of this size can hold; it is refused. Nothing was imported."
            ),
            size=megabytes(total),
            count=len(entries),
        )
    allowed = max_rows()
    for entry in entries:
        if not entry.filename.startswith("xl/worksheets/") or not entry.filename.endswith(".xml"):
            continue
        with archive.open(entry) as part:
            start = part.read(4096)
        found = _DIMENSION.search(start)
        if found and int(found.group(2)) > allowed + 1:
            raise too_many_rows(int(found.group(2)) - 1, allowed)


def too_many_rows(count: int, allowed: int) -> FileRefused:
    return FileRefused(
        _("A sheet of this file has %(count)s rows; at most %(limit)s are imported at once."),
        count=number_format(count, force_grouping=True),
        limit=number_format(allowed, force_grouping=True),
    )


def read_workbook(data: bytes) -> list[Table]:
    check_zip(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        raise FileRefused(
            _("This XLSX workbook cannot be read (%(error)s). Nothing was imported."),
            error=str(error)[:200],
        ) from None
    tables = []
    for meta in workbook.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue
        hidden = meta.visible != SheetVisibleEnum.Visible
        table = read_worksheet(workbook, meta.name, hidden=hidden)
        if table is not None:
            tables.append(table)
    return tables


def read_worksheet(workbook: CalamineWorkbook, name: str, *, hidden: bool) -> Table | None:
    """The sheet as a table, or None when it has no cell at all."""
    try:
        sheet = workbook.get_sheet_by_name(name)
    except (CalamineError, ValueError, OSError) as error:
        raise FileRefused(
            _("The sheet “%(sheet)s” cannot be read (%(error)s). Nothing was imported."),
            sheet=name,
            error=str(error)[:200],
        ) from None
    if sheet.end is None:
        return None
    last_row = sheet.end[0] + 1
    if last_row > max_rows() + 1:
        raise too_many_rows(last_row - 1, max_rows())
    if sheet.width > MAX_COLUMNS:
        raise too_many_columns(name, sheet.width)
    rows = ((number, cells) for number, cells in enumerate(sheet.iter_rows(), start=1))
    header_row, header = first_filled(rows)
    if header is None:
        return None
    return Table(
        name=name,
        header=header,
        header_row=header_row,
        rows=filled(rows),
        total=max(0, last_row - header_row),
        hidden=hidden,
    )


def too_many_columns(name: str, count: int) -> FileRefused:
    if not name:
        return FileRefused(
            _("This file has %(count)s columns; at most %(limit)s are read."),
            count=count,
            limit=MAX_COLUMNS,
        )
    return FileRefused(
        _("The sheet “%(sheet)s” has %(count)s columns; at most %(limit)s are read."),
        sheet=name,
        count=count,
        limit=MAX_COLUMNS,
    )


def first_filled(rows: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Any] | None]:
    for number, cells in rows:
        if any(not blank(cell) for cell in cells):
            return number, cells
    return 0, None


def filled(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """The rows that hold something; blank rows between them keep their numbers."""
    for number, cells in rows:
        for cell in cells:
            if not blank(cell):
                yield number, cells
                break


def blank(cell: Any) -> bool:
    return cell is None or cell == "" or (isinstance(cell, str) and not cell.strip())


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), UTF-16 with its BOM (Excel's
    "Unicode text"), else GB18030, which Chinese Excel writes."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _CONTROL.search(text):
            break
        return text
    raise not_a_spreadsheet(_("binary data, not text in UTF-8 or GB18030"))


def delimiter_of(text: str) -> str:
    """`,`, `;` or tab: whichever the header line has most of (`,` when none)."""
    line = text.split("\n", 1)[0]
    counts = {delimiter: line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda delimiter: (counts[delimiter], delimiter == ","))
    return best if counts[best] else ","


def read_csv(data: bytes) -> Table:
    text = decode(data)
    if not text.strip():
        raise FileRefused(_("The file is empty. Nothing was imported."))
    delimiter = delimiter_of(text.lstrip("\r\n"))
    allowed = max_rows()
    if text.count("\n") > allowed + 1:
        # More lines than rows allowed: count the rows (quoted cells may span lines).
        count = sum(1 for _ in csv.reader(io.StringIO(text), delimiter=delimiter))
        if count > allowed + 1:
            raise too_many_rows(count - 1, allowed)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = ((number, cells) for number, cells in enumerate(reader, start=1))
    try:
        header_row, header = first_filled(rows)
    except csv.Error as error:
        raise FileRefused(
            _("This CSV file cannot be read (%(error)s)."), error=str(error)[:200]
        ) from None
    if header is None:
        raise FileRefused(_("The file is empty. Nothing was imported."))
    if len(header) > MAX_COLUMNS:
        raise too_many_columns("", len(header))
    return Table(
        name="",
        header=header,
        header_row=header_row,
        rows=checked(filled(rows)),
        total=max(0, text.count("\n") - header_row + (0 if text.endswith("\n") else 1)),
    )


def checked(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    try:
        yield from rows
    except csv.Error as error:
        raise FileRefused(
            _("This CSV file cannot be read (%(error)s)."), error=str(error)[:200]
        ) from None
