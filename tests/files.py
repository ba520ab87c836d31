"""Real spreadsheet files for tests, written at test time with openpyxl and csv: the
bytes a clerk's Excel or WPS would upload."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

Rows = Sequence[Sequence[Any]]


def xlsx(sheets: dict[str, Rows], *, text_columns: Iterable[str] = ()) -> bytes:
    """A workbook with one sheet per entry (name: rows, the header first). Cells of the
    columns whose header is in `text_columns` are stored as text (Excel's "@" format),
    the way a careful clerk formats a credit-code column."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    text = set(text_columns)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(title=name)
        for row in rows:
            sheet.append(list(row))
        if rows:
            for index, header in enumerate(rows[0], start=1):
                if header in text:
                    for (cell,) in sheet.iter_rows(min_col=index, max_col=index, min_row=2):
                        cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Rows, *, encoding: str = "utf-8", bom: bool = False, delimiter: str = ","
) -> bytes:
    """A CSV file as Excel writes it: `encoding="gb18030"` is what Chinese Excel saves
    as "CSV (逗号分隔)"; `bom=True` is Excel's "CSV UTF-8"."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
