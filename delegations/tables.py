"""The public tables' columns, shared by the page and its CSV and JSON downloads, so that
a download carries exactly what the page shows and nothing else.

A column reads a plain value (text, number, date, yes/no or None) from a row. The page
prints the value, the CSV file writes it under the column's label in the page's
language, and the JSON file under the column's stable key. CSV cells that a spreadsheet
program would run as a formula are escaped (see `deals.formulas`).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, gettext_lazy

from deals.formulas import escape_formula

CSV, JSON = "csv", "json"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    JSON: "application/json",
}


class DownloadFormatConverter:
    """The `download` path converter: the file extension of a download."""

    regex = "csv|json"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class Column:
    """One column of a public table."""

    key: str
    label: str | Promise
    value: Callable[[Any], Any]
    numeric: bool = False
    # What the page shows where the value is None ("undisclosed"); downloads leave the
    # cell empty (JSON: null).
    missing: str | Promise = "–"

    def read(self, row: Any) -> Any:
        return self.value(row)


def name_columns(
    read: Callable[[Any], Any], *, prefix: str = "", label: str | Promise | None = None
) -> list[Column]:
    """An organization's Chinese and English names, the active language's first (it
    heads the row). `read` gives the organization of a row."""
    chinese = Column(
        f"{prefix}name_zh", label or gettext_lazy("Name"), lambda row: read(row).name_zh
    )
    english = Column(
        f"{prefix}name_en", gettext_lazy("English name"), lambda row: read(row).name_en
    )
    if (get_language() or "").startswith("en"):
        chinese = Column(chinese.key, gettext_lazy("Chinese name"), chinese.value)
        english = Column(english.key, label or gettext_lazy("Name"), english.value)
        return [english, chinese]
    return [chinese, english]


@dataclass(frozen=True)
class Cell:
    key: str
    value: Any
    numeric: bool
    missing: str | Promise


def cells(columns: Iterable[Column], row: Any) -> list[Cell]:
    """The cells of `row` for a page's table (the column's key lets the style sheet size
    it)."""
    return [
        Cell(column.key, column.read(row), column.numeric, column.missing) for column in columns
    ]


def json_value(value: Any) -> Any:
    """A value as JSON carries it: money and other decimals as numbers (whole ones as
    integers), dates in ISO 8601, translated text as plain text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    return value


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Promise):
        value = str(value)
    return escape_formula(value)


def _csv_lines(columns: list[Column], rows: Iterable[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    # A byte order mark, so that Excel opens the Chinese text as UTF-8.
    yield "\ufeff"
    writer.writerow([csv_value(str(column.label)) for column in columns])
    yield flush()
    for row in rows:
        writer.writerow([csv_value(column.read(row)) for column in columns])
        yield flush()


def _json_chunks(columns: list[Column], rows: Iterable[Any], meta: dict[str, Any]) -> Iterator[str]:
    head = json.dumps({key: json_value(value) for key, value in meta.items()}, ensure_ascii=False)
    # The rows are streamed: the object is opened here and closed after the last row.
    yield head[:-1] + (", " if meta else "") + '"rows": ['
    separator = ""
    for row in rows:
        record = {column.key: json_value(column.read(row)) for column in columns}
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ", "
    yield "]}"


def download_response(
    *,
    format: str,
    filename: str,
    columns: list[Column],
    rows: Iterable[Any],
    meta: dict[str, Any],
) -> StreamingHttpResponse:
    """A streamed CSV or JSON file of `rows`: the whole table whatever its length, written
    as it is read. `meta` heads the JSON object (what the table is of)."""
    content = _csv_lines(columns, rows) if format == CSV else _json_chunks(columns, rows, meta)
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{format}"'
    return response
