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
import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
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
# The end of a declared dimension (`<dimension ref="A1:P100">`, `ref="A1"`), and the
# row and column parts of a row's or a cell's reference (`<row r="7">`, `<c r="B7">`).
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]{0,3}\d*:)?([A-Z]{0,3})(\d*)"')
_ROW_NUMBER = re.compile(rb'\sr="[A-Z]{0,3}(\d+)"')
_COLUMN_LETTERS = re.compile(rb'\sr="([A-Z]{1,3})\d')
REFERENCE_TAIL = 64
# Where a worksheet part declares its dimension: before its rows.
DIMENSION_WITHIN = 64 * 1024
SCAN_CHUNK = 1024 * 1024
# What python-calamine reads of a workbook: its sheets as grids, about 32 bytes a cell.
MAX_CELLS = 20_000_000
# The parts of a workbook that are XML.
XML_PARTS = (".xml", ".rels")


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
    once unpacked (a zip bomb), or whose XML declares a document type (entity expansion,
    external entities), or whose sheets reach further than allowed: all before
    python-calamine reads a byte of it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise damaged() from None
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
    if len(entries) > MAX_ZIP_ENTRIES:
        raise FileRefused(
            _(
                "This workbook is made of %(count)s parts; a spreadsheet has a few dozen, and "
                "at most %(limit)s are read. It is refused. Nothing was imported."
            ),
            count=number_format(len(entries), force_grouping=True),
            limit=number_format(MAX_ZIP_ENTRIES, force_grouping=True),
        )
    if total > limit or swollen:
        raise FileRefused(
            _(
                "This workbook unpacks to %(size)s in %(count)s parts, more than a spreadsheet "
                "of this size can hold; it is refused. Nothing was imported."
            ),
            size=megabytes(total),
            count=len(entries),
        )
    try:
        for entry in entries:
            if entry.filename.lower().endswith(XML_PARTS):
                check_prologue(archive, entry)
        check_extents(archive, entries)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error):
        # A part that does not unpack (a wrong checksum, a truncated stream).
        raise damaged() from None


def damaged() -> FileRefused:
    return FileRefused(
        _("This file looks like an XLSX workbook but cannot be opened: it is damaged.")
    )


class _RootReached(Exception):
    """The prologue of an XML part is over: its first element starts."""


class _StopAtRoot:
    """A parser target that ends the scan at the first element: a document type can only
    be declared before it."""

    def start(self, tag, attrib) -> None:
        raise _RootReached

    def close(self) -> None:
        return None


def check_prologue(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    """Refuse an XML part that declares a document type. python-calamine reads XML with a
    parser that defusedxml does not guard, and a workbook never needs one: a DOCTYPE is
    how entity expansion ("billion laughs") and external entities (a server file read
    into a cell) come in. defusedxml reads the prologue, to the first element only."""
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True)
    with archive.open(entry) as part:
        try:
            while chunk := part.read(SCAN_CHUNK):
                parser.feed(chunk)
            parser.close()
        except _RootReached:
            return
        except DefusedXmlException:
            raise FileRefused(
                _(
                    "This workbook's part “%(part)s” declares a document type (DOCTYPE or "
                    "ENTITY), which spreadsheets never need and attacks on the server use; "
                    "it is refused. Nothing was imported."
                ),
                part=entry.filename,
            ) from None
        except ParseError:
            raise FileRefused(
                _(
                    "This workbook's part “%(part)s” is not well-formed XML: the file is "
                    "damaged. Nothing was imported."
                ),
                part=entry.filename,
            ) from None


@dataclass
class Extent:
    """How far a sheet reaches: its last row and column, as its XML names them."""

    rows: int = 0
    columns: int = 0

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def check_extents(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    """Refuse sheets that reach further than allowed. python-calamine keeps a sheet as one
    dense grid from A1 to its last cell, about 32 bytes a cell: two cells, A1 and
    XFD1048576, make it ask for 512 GB and abort the process. So the declared dimension
    and every row and cell reference are read first, and the grids the workbook's sheets
    would make together are capped."""
    allowed = max_rows()
    cells = 0
    for entry in entries:
        if not entry.filename.startswith("xl/worksheets/") or not entry.filename.endswith(".xml"):
            continue
        extent = extent_of(archive, entry)
        if extent.rows > allowed + 1:
            raise too_many_rows(extent.rows - 1, allowed)
        if extent.columns > MAX_COLUMNS:
            raise too_many_columns(sheet_of_part(archive, entry.filename), extent.columns)
        cells += extent.cells
    if cells > MAX_CELLS:
        raise FileRefused(
            _(
                "The sheets of this workbook span %(count)s cells from their first to their "
                "last; at most %(limit)s are read. Delete the cells far below or to the right "
                "of the data. Nothing was imported."
            ),
            count=number_format(cells, force_grouping=True),
            limit=number_format(MAX_CELLS, force_grouping=True),
        )


def extent_of(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Extent:
    """The last row and column a worksheet part declares (`<dimension ref>`) or names
    (`<row r>`, `<c r>`), read as a stream: the part may be large, its size is checked.
    Each chunk is searched by the regular expressions as a whole (a sheet of 100,000
    rows holds close to a million references), and its few distinct column letters
    converted once."""
    extent = Extent()
    tail = b""
    with archive.open(entry) as part:
        while chunk := part.read(SCAN_CHUNK):
            text = tail + chunk
            if not tail and (declared := _DIMENSION.search(text[:DIMENSION_WITHIN])):
                letters, digits = declared.groups()
                extent.rows = int(digits or 0)
                extent.columns = column_number(letters) if letters else 0
            rows = _ROW_NUMBER.findall(text)
            if rows:
                extent.rows = max(extent.rows, largest_number(rows))
            columns = set(_COLUMN_LETTERS.findall(text))
            if columns:
                extent.columns = max(extent.columns, *map(column_number, columns))
            # A reference cut in two by the chunk boundary is read again whole.
            tail = text[-REFERENCE_TAIL:]
    return extent


def largest_number(numbers: list[bytes]) -> int:
    """The largest of numbers written in digits, without converting every one: among
    the longest, the greatest in byte order is the greatest."""
    longest = max(map(len, numbers))
    return int(max(number for number in numbers if len(number) == longest))


def column_number(letters: bytes) -> int:
    """`A` is 1, `Z` 26, `AA` 27, `XFD` 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def sheet_of_part(archive: zipfile.ZipFile, part: str) -> str:
    """The name a clerk gave the sheet kept in `part`, for the message; else the part."""
    try:
        relations = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return part
    target = part.removeprefix("xl/")
    for relation in re.finditer(r"<Relationship\b[^>]*>", relations):
        tag = relation.group(0)
        if re.search(r'Target="/?(?:xl/)?' + re.escape(target) + '"', tag):
            rid = re.search(r'Id="([^"]+)"', tag)
            if rid is None:
                break
            for sheet in re.finditer(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
                if f'"{rid.group(1)}"' in sheet.group(0):
                    name = re.search(r'name="([^"]*)"', sheet.group(0))
                    return html.unescape(name.group(1)) if name else part
    return part


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
