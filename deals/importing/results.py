"""What an import answers: per-sheet counts, and every problem with its sheet, row and
column in Chinese and English."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from ..sheets import Message

if TYPE_CHECKING:
    from deals.models import ImportRun

# Problems listed in full; past this, one line says how many more there are.
MAX_LISTED = 1000


@dataclass
class RowError:
    """A problem of the file: its sheet (the English name of a contract sheet, or the
    name of the workbook's sheet), the row number a clerk sees (None for the whole
    sheet or file), the column (None when no column is concerned) and the reason."""

    sheet: str
    row: int | None
    column: str | None
    message_zh: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = " · ".join(
            part
            for part in (self.sheet, f"row {self.row}" if self.row else "", self.column or "")
            if part
        )
        return f"{where}: {self.message_zh} / {self.message_en}"


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ImportResult:
    sheets: dict[str, SheetCounts]
    errors: list[RowError]
    warnings: list[RowError]
    dry_run: bool
    run: ImportRun | None = None
    # All problems found, listed or not.
    error_count: int = 0
    warning_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def written(self) -> bool:
        return self.ok and not self.dry_run


@dataclass
class UndoResult:
    """What an undo did: records removed and restored per sheet, and the records it
    kept because they were changed after the import or are needed by others, named."""

    removed: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "restored": self.restored, "kept": self.kept}


class Problems:
    """Errors or warnings as they are found: all counted, the first MAX_LISTED kept."""

    def __init__(self) -> None:
        self.listed: list[RowError] = []
        self.count = 0

    def add(self, sheet: str, row: int | None, column: str | None, message: Message) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(RowError(sheet, row, column, message.zh, message.en))

    def __bool__(self) -> bool:
        return self.count > 0

    def final(self) -> list[RowError]:
        """The list to show: at most MAX_LISTED lines, the last one saying how many
        more there are when some were left out."""
        if self.count <= len(self.listed):
            return list(self.listed)
        shown = self.listed[: MAX_LISTED - 1]
        more = Message(
            _("… and %(count)s more, not listed. Correct the ones above and import again."),
            count=self.count - len(shown),
        )
        return [*shown, RowError("", None, None, more.zh, more.en)]
