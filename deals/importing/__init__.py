"""The spreadsheet import engine: the contract's sheets (`deals.sheets`) read from a CSV
file or an XLSX workbook, checked row by row without a query per row, and written in
bulk with their history in one transaction; and the undo of a whole import."""

from .engine import import_file
from .reading import FileRefused
from .results import ImportResult, RowError, SheetCounts, UndoResult
from .runs import begin_run, mark_interrupted
from .undo import UndoRefused, undo_import

__all__ = [
    "FileRefused",
    "ImportResult",
    "RowError",
    "SheetCounts",
    "UndoRefused",
    "UndoResult",
    "begin_run",
    "import_file",
    "mark_interrupted",
    "undo_import",
]
