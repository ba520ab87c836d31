"""Import a spreadsheet from the command line: a CSV file or an XLSX workbook with any
of the contract's sheets, all of it or nothing, in one transaction.

    python manage.py import_workbook FILE [--dry-run] [--sheet NAME] [--user USERNAME]

With `--user` the import is that user's: scoped to their delegations (a row of another
delegation is a row error) and to what their role may change, as in the admin. Without
it, the command runs as the operator, who may write every delegation's records.

Ends with what was created, updated and left unchanged per sheet. Every bad row is
listed (sheet, row, column, the reason in Chinese and English) and the command exits
with an error; so does it when the file itself is refused.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.formats import number_format

from deals.importer import FileRefused, import_file, mark_interrupted
from deals.models import ImportRun
from deals.sheets import sheet_named

# Without a terminal, progress is printed as plain lines, and only for files this long.
LONG_FILE_ROWS = 10_000


def grouped(number: int) -> str:
    return number_format(number, force_grouping=True)


def sheet_label(name: str) -> str:
    try:
        return str(sheet_named(name))
    except KeyError:
        return name


class Progress:
    """A progress bar per sheet on a terminal (tqdm, on stderr); plain lines every tenth
    of a long sheet when stderr is a log; nothing for short files in a log."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", None) and stream.isatty())
        self.bar = None
        self.sheet = None
        self.next_line = 0

    def __call__(self, sheet: str, done: int, total: int | None) -> None:
        if sheet != self.sheet:
            self.close()
            self.sheet = sheet
            self.next_line = 0
            if self.tty:
                from tqdm import tqdm

                self.bar = tqdm(
                    total=total, desc=sheet_label(sheet), unit=" rows", file=self.stream
                )
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif total and total >= LONG_FILE_ROWS and done >= self.next_line:
            self.stream.write(f"{sheet_label(sheet)}: {grouped(done)} / {grouped(total)} rows\n")
            self.stream.flush()
            self.next_line = done + total // 10

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def stop_on_sigterm(signum, frame) -> None:
    sys.exit(128 + signum)


class Command(BaseCommand):
    help = (
        "Import a CSV file or an XLSX workbook of the spreadsheet contract (docs/spreadsheets.md): "
        "all of it in one transaction, or nothing when any row is bad."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the CSV file or XLSX workbook")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check everything and say what would be created, updated and left "
            "unchanged, but write nothing",
        )
        parser.add_argument(
            "--sheet",
            help="the sheet of a CSV file, or the one sheet of a workbook to import, in "
            "English or Chinese (default: from the file name, else from the headers; all "
            "the sheets of a workbook)",
        )
        parser.add_argument(
            "--user",
            help="import as this user: the change history records them, and the file may "
            "write only what they may (the records of their delegations; amounts made public "
            "only by a reviewer). Without it the import runs as the operator, unscoped",
        )

    def handle(
        self, *args, file: str, dry_run: bool, sheet: str | None, user: str | None, **options
    ) -> None:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from error
        importer = None
        if user:
            try:
                importer = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"There is no user “{user}”.") from None
        # Runs an earlier process left half-way (killed, the machine stopped) are named so.
        mark_interrupted()
        progress = Progress(self.stderr._out)
        # SIGTERM (a shutdown, a job runner's timeout) stops the import as Ctrl-C does:
        # its transaction rolls back and its run is marked interrupted.
        previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
        try:
            result = import_file(
                data,
                filename=path.name,
                user=importer,
                dry_run=dry_run,
                sheet=sheet,
                progress=progress,
                run=ImportRun(filename=path.name[:255]),
            )
        except FileRefused as refused:
            raise CommandError(
                f"{path.name} was refused: {refused.message_zh}\n{refused.message_en}"
            ) from None
        finally:
            signal.signal(signal.SIGTERM, previous)
            progress.close()

        self.print_counts(result)
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {self.problem(warning)}"))
        for error in result.errors:
            self.stderr.write(self.style.ERROR(self.problem(error)))
        if result.run.status == ImportRun.Status.FAILED:
            raise CommandError(
                f"{path.name}: the database failed during the import, nothing was written "
                f"(import run #{result.run.pk}); run the command again."
            )
        if result.errors:
            noun = "error" if result.error_count == 1 else "errors"
            raise CommandError(
                f"{grouped(result.error_count)} {noun}: nothing was imported "
                f"(import run #{result.run.pk})."
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported (import run #{result.run.pk})."))

    def print_counts(self, result) -> None:
        labels = {name: sheet_label(name) for name in result.sheets}
        width = max([len("Sheet"), *(len(label) for label in labels.values())])
        head = f"{'Sheet':<{width}}  {'created':>9}  {'updated':>9}  {'unchanged':>9}"
        self.stdout.write(head)
        self.stdout.write("-" * len(head))
        for name, counts in result.sheets.items():
            # Chinese characters take two columns of a terminal: pad by display width.
            label = labels[name]
            padding = width - len(label) - sum(1 for char in label if ord(char) > 0x2E7F)
            self.stdout.write(
                f"{label}{' ' * max(padding, 0)}  {grouped(counts.created):>9}  "
                f"{grouped(counts.updated):>9}  {grouped(counts.unchanged):>9}"
            )

    @staticmethod
    def problem(problem) -> str:
        where = [sheet_label(problem.sheet)] if problem.sheet else []
        if problem.row:
            where.append(f"row {problem.row}")
        if problem.column:
            where.append(problem.column)
        place = ", ".join(where)
        text = f"{problem.message_zh} / {problem.message_en}"
        return f"{place}: {text}" if place else text
