"""Spreadsheet import: the interface the admin, the command and the seeds use. The
engine lives in `deals.importing`."""

from .importing import (
    FileRefused,
    ImportResult,
    RowError,
    SheetCounts,
    UndoRefused,
    UndoResult,
    begin_run,
    import_file,
    mark_interrupted,
    undo_import,
)

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
