"""The blank spreadsheet template staff download from the admin: one workbook with every
sheet of the contract, its headers, and in each header's comment the Chinese header,
whether the column is required or a key, and the values it accepts."""

from __future__ import annotations

import io

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .sheets import CHOICE_ALIASES, SHEETS, Column, Sheet, parse_date

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILENAME = "expo-records-template.xlsx"

BOLD = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
KEY_FILL = PatternFill("solid", fgColor="FCE4D6")
# Columns whose text Excel would otherwise change: an all-digit credit code typed into a
# General cell becomes a float and loses its last digits.
TEXT_COLUMNS = frozenset({"credit_code", "buyer_credit_code", "reference", "booth"})
# Columns of names and free text, given room.
WIDE_COLUMNS = frozenset(
    {"name", "name_en", "organization", "buyer", "exhibitors", "notes", "organizer", "source"}
)
COMMENT_AUTHOR = "Expo delegation records"
# Aliases a header comment lists before it says "...".
SHOWN_ALIASES = 6


def choice_help(column: Column) -> str:
    """For a closed list: each key with its Chinese label, `registered (已报名), ...`."""
    choices = getattr(column.parser, "keywords", {}).get("choices")
    if choices is None:
        return ""
    labels = CHOICE_ALIASES.get(choices, {})
    return ", ".join(
        f"{value} ({labels[value][0]})" if labels.get(value) else value for value in choices.values
    )


def header_comment(sheet: Sheet, column: Column, *, first: bool) -> str:
    lines = []
    if first:
        lines += [f"{sheet.name_en} / {sheet.name_zh}", ""]
    lines.append(f"{column.zh} · {column.key}")
    marks = []
    if column.required:
        marks.append(_("required"))
    if column.is_key:
        marks.append(_("key: rows are matched on it, so a re-import changes nothing"))
    if marks:
        lines.append(pgettext("marks separator", "; ").join(marks))
    notes = choice_help(column) or str(column.help or "")
    if notes:
        lines.append(notes)
    aliases = list(column.aliases[:SHOWN_ALIASES])
    if aliases:
        separator = pgettext("list separator", ", ")
        more = f"{separator}…" if len(column.aliases) > SHOWN_ALIASES else ""
        names = separator.join(aliases) + more
        lines.append(_("Also accepted as header: %(names)s") % {"names": names})
    return "\n".join(lines)


def template_columns(sheet: Sheet) -> list[Column]:
    """The columns a clerk fills in: not those the product computes."""
    return [column for column in sheet.columns if not column.computed]


def column_width(column: Column) -> float:
    if column.key in WIDE_COLUMNS:
        return 30
    if column.key in TEXT_COLUMNS:
        return 22
    # A Chinese character is about two Latin ones wide.
    return min(30, max(12, len(column.key) + 4, 2 * len(column.zh) + 4))


def blank_template_workbook() -> bytes:
    """The blank template as XLSX bytes: a sheet per sheet of the contract, in the order
    they are imported, headers in row 1 (bold, frozen), no data rows."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(title=sheet.name_en)
        for index, column in enumerate(template_columns(sheet), start=1):
            cell = worksheet.cell(row=1, column=index, value=column.key)
            cell.font = BOLD
            cell.alignment = Alignment(vertical="top")
            if column.is_key:
                cell.fill = KEY_FILL
            elif column.required:
                cell.fill = REQUIRED_FILL
            comment = Comment(header_comment(sheet, column, first=index == 1), COMMENT_AUTHOR)
            comment.width, comment.height = 320, 160
            cell.comment = comment
            letter = get_column_letter(index)
            dimension = worksheet.column_dimensions[letter]
            dimension.width = column_width(column)
            if column.key in TEXT_COLUMNS:
                dimension.number_format = "@"
            elif column.parser is parse_date:
                dimension.number_format = "yyyy-mm-dd"
        worksheet.freeze_panes = "A2"
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def blank_template(request: HttpRequest) -> HttpResponse:
    """The blank template, for staff (wrapped in the admin site's admin_view)."""
    response = HttpResponse(blank_template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response
