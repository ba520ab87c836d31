"""`import_file`: a CSV file or an XLSX workbook in, every sheet checked and written in
one transaction (or rolled back: a dry run, or any bad row), the run recorded."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import PurePath

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deals.models import FollowUpMove, ImportRun
from deals.services import pledges_follow_registrations
from deals.stats import figures_changed
from delegations.models import Registration
from expo_site.planner import refresh_planner_statistics

from ..sheets import (
    SHEETS,
    Bilingual,
    Message,
    Sheet,
    label_key,
    parse_text,
    sheet_named,
    sheet_names,
)
from .agreements import AgreementImport, ExchangeRateImport
from .base import Job, Progress, SheetImport
from .followups import CiftisPledgeImport, InvestmentIntentionImport, VisitImport
from .lookups import Lookups
from .parties import DelegationImport, ExhibitorImport, OrganizationImport, RegistrationImport
from .reading import FileRefused, Table, blank, read_tables
from .results import ImportResult, Problems, SheetCounts
from .runs import begin_run, hold_run, interrupt_run
from .undo import MODELS as WRITTEN

HANDLERS: dict[str, type[SheetImport]] = {
    "Delegations": DelegationImport,
    "Organizations": OrganizationImport,
    "Registrations": RegistrationImport,
    "Exhibitors": ExhibitorImport,
    "Exchange rates": ExchangeRateImport,
    "Agreements": AgreementImport,
    "Visits": VisitImport,
    "Investment intentions": InvestmentIntentionImport,
    "CIFTIS pledges": CiftisPledgeImport,
}
logger = logging.getLogger(__name__)

# Sheets a workbook may carry for its readers, which the import passes over.
NOTE_SHEETS = {label_key(name) for name in ("notes", "readme", "instructions", "说明", "填写说明")}


@dataclass
class Planned:
    sheet: Sheet
    table: Table
    columns: dict[str, int]
    ok: bool


def import_file(
    data: bytes,
    *,
    filename: str,
    user=None,
    dry_run: bool,
    sheet: str | None = None,
    progress: Progress | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Import a CSV file or an XLSX workbook: all of it or nothing.

    `sheet` names the contract sheet of a CSV file or of a one-sheet import (else it is
    read from the file name or the headers; a workbook's sheets are named by theirs).
    With a `user` or a `run`, the run records the file's hash, the counts and the
    problems. FileRefused when the file itself is refused (too large, not a spreadsheet,
    empty); otherwise the result lists every bad row, and nothing is written unless
    there is none and this is not a dry run.
    """
    started = time.monotonic()
    wanted = None
    if sheet:
        try:
            wanted = sheet_named(sheet)
        except KeyError:
            log_import(
                data,
                filename=filename,
                user=user,
                run=run,
                dry_run=dry_run,
                outcome="file_refused",
                started=started,
            )
            raise FileRefused(
                _("There is no sheet “%(name)s”; the sheets are: %(names)s."),
                name=sheet,
                names=sheet_names(),
            ) from None
    if run is not None or user is not None:
        run = start_run(run, data, filename=filename, user=user, sheet=wanted)
    job = Job(
        user=user if user is not None else getattr(run, "user", None),
        run=run,
        dry_run=dry_run,
        progress=progress,
    )
    # Every way the import ends logs it once, with what it knows by then.
    log = functools.partial(
        log_import,
        data,
        filename=filename,
        user=job.user,
        run=run,
        dry_run=dry_run,
        started=started,
        job=job,
    )
    counts: dict[str, SheetCounts] = {}
    failed = finished = False
    try:
        kind, tables = read_tables(data)
        plan = plan_sheets(kind, tables, filename=filename, wanted=wanted, job=job)
        if run is not None and kind == "csv" and len(plan) == 1 and not run.sheet:
            run.sheet = plan[0].sheet.name_en
        counts = {planned.sheet.name_en: SheetCounts() for planned in plan}
        writing = run is not None and not dry_run and not job.errors
        if writing and run.status != ImportRun.Status.IMPORTING:
            begin_run(run)
        try:
            with transaction.atomic():
                if writing:
                    hold_run(run)
                job.lookups = Lookups()
                for planned in plan:
                    if not planned.ok:
                        continue
                    handler = HANDLERS[planned.sheet.name_en](
                        job, planned.sheet, planned.table, planned.columns
                    )
                    handler.run()
                    counts[planned.sheet.name_en] = handler.counts
                if job.errors or dry_run:
                    transaction.set_rollback(True)
                else:
                    record_moves(job)
                    follow_registrations(job)
                    refresh_statistics(counts)
                    # Written in bulk, which sends no signals: refresh the figures here.
                    figures_changed()
                    if run is not None:
                        # With the rows, in their transaction: a run marked imported has
                        # them all, and one whose rows were lost is still "importing".
                        finish_run(run, job, counts, job.errors, status=ImportRun.Status.IMPORTED)
                        finished = True
        except DatabaseError as error:
            failed, finished = True, False
            if run is not None:
                run.imported_at = None  # set with the status that was not committed
            job.errors.add(
                "",
                None,
                None,
                Message(
                    _(
                        "The database failed in the middle of the import (%(error)s). Nothing "
                        "was written. Try again; if it fails again, please report this to the "
                        "administrator."
                    ),
                    error=str(error).splitlines()[0][:300] if str(error) else type(error).__name__,
                ),
            )
    except (KeyboardInterrupt, SystemExit):
        # Stopped (Ctrl-C, or SIGTERM to the command): the transaction has rolled back.
        if run is not None and run.status == ImportRun.Status.IMPORTING:
            interrupt_run(run)
        log(outcome="interrupted")
        raise
    except FileRefused as refused:
        if run is not None:
            refusal = Problems()
            refusal.add("", None, None, refused.message)
            finish_run(run, job, counts, refusal, status=ImportRun.Status.REFUSED)
            refused.run = run
        log(outcome="file_refused")
        raise
    result = ImportResult(
        sheets=counts,
        errors=job.errors.final(),
        warnings=job.warnings.final(),
        dry_run=dry_run,
        run=run,
        error_count=job.errors.count,
        warning_count=job.warnings.count,
    )
    if run is not None and not finished:
        if failed:
            status = ImportRun.Status.FAILED
        elif job.errors:
            status = ImportRun.Status.REFUSED
        elif dry_run:
            status = ImportRun.Status.PREVIEWED
        else:
            status = ImportRun.Status.IMPORTED
        # A failed import keeps the counts of its preview: what it failed to write.
        finish_run(run, job, None if failed else counts, job.errors, status=status)
    if failed:
        outcome = "database_failed"
    elif job.errors:
        outcome = "rows_refused"
    else:
        outcome = "checked" if dry_run else "imported"
    log(outcome=outcome, result=result)
    return result


def log_import(
    data: bytes,
    *,
    filename: str,
    user,
    run: ImportRun | None,
    dry_run: bool,
    outcome: str,
    started: float,
    job: Job | None = None,
    result: ImportResult | None = None,
) -> None:
    """One structured log line per import, whatever its end (docs/operations.md):
    `imported`, `checked` (a dry run without a bad row), `rows_refused` (nothing
    written) or `file_refused`."""
    counts = {name: tally.as_dict() for name, tally in (result.sheets if result else {}).items()}
    logger.log(
        logging.WARNING if outcome.endswith("refused") else logging.INFO,
        "import %s",
        outcome,
        extra={
            "event": "import",
            "outcome": outcome,
            "dry_run": dry_run,
            "user": getattr(user, "username", None),
            "delegations": sorted(job.delegations) if job else [],
            "run": getattr(run, "pk", None),
            "file_name": PurePath(str(filename).replace("\\", "/")).name,
            "file_sha256": run.sha256 if run is not None else hashlib.sha256(data).hexdigest(),
            "file_bytes": len(data),
            "counts": counts,
            "rows_created": sum(tally["created"] for tally in counts.values()),
            "rows_updated": sum(tally["updated"] for tally in counts.values()),
            "rows_unchanged": sum(tally["unchanged"] for tally in counts.values()),
            "errors": result.error_count if result else 1,
            "warnings": result.warning_count if result else 0,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )


# ---------------------------------------------------------------------------------------
# After writing
# ---------------------------------------------------------------------------------------


def refresh_statistics(counts: dict[str, SheetCounts]) -> None:
    """After a large import, PostgreSQL's statistics of the tables it wrote (see
    expo_site.planner): without them the export of a freshly loaded workbook took
    minutes instead of seconds."""
    refresh_planner_statistics(
        WRITTEN, sum(tally.created + tally.updated for tally in counts.values())
    )


# ---------------------------------------------------------------------------------------
# Follow-up
# ---------------------------------------------------------------------------------------


def record_moves(job: Job) -> None:
    """The stage changes the rows made, as dated moves (the day of the import), by the
    importing user, tied to the run so that its undo takes them back."""
    note = str(_("Imported from a spreadsheet."))
    FollowUpMove.objects.bulk_create(
        FollowUpMove(
            **{FollowUpMove.field_for(type(record)): record},
            from_stage=current,
            to_stage=wanted,
            moved_on=timezone.localdate(job.now),
            recorded_by=job.user,
            note=note,
            import_run=job.run,
        )
        for record, current, wanted in job.moves
    )


def follow_registrations(job: Job) -> None:
    """Pledges whose organization the file registers (or records as attending) at the
    pledged edition move on, as they do when a clerk records it in the back office."""
    written = (
        Registration.history.filter(history_date=job.now, history_change_reason=job.reason)
        .exclude(history_type="-")
        .values("id")
    )
    registrations = Registration.objects.filter(pk__in=written)
    pledges_follow_registrations(registrations=registrations, user=job.user, run=job.run)


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------


def start_run(run, data: bytes, *, filename: str, user, sheet: Sheet | None) -> ImportRun:
    """The run that records this import: the one given (the admin keeps one per upload,
    from preview to import), else a new one. Saved before anything is written, so that
    the history rows can carry its number."""
    digest = hashlib.sha256(data).hexdigest()
    name = PurePath(str(filename).replace("\\", "/")).name[:255] or "upload"
    if run is None:
        return ImportRun.objects.create(
            user=user,
            filename=name,
            sha256=digest,
            size=len(data),
            sheet=sheet.name_en if sheet else "",
            status=ImportRun.Status.PREVIEWED,
        )
    run.sha256 = digest
    run.size = len(data)
    run.filename = run.filename or name
    if user is not None and run.user_id is None:
        run.user = user
    if sheet is not None:
        run.sheet = sheet.name_en
    if run.pk is None:
        run.save()
    else:
        run.save(update_fields=["sha256", "size", "filename", "user", "sheet"])
    return run


def finish_run(run: ImportRun, job: Job, counts, errors: Problems, *, status: str) -> None:
    fields = ["errors", "warnings", "status", "sheet"]
    if counts is not None:
        run.counts = {name: tally.as_dict() for name, tally in counts.items()}
        fields.append("counts")
    run.errors = [error.as_dict() for error in errors.final()]
    run.warnings = [warning.as_dict() for warning in job.warnings.final()]
    run.status = status
    if status == ImportRun.Status.IMPORTED:
        run.imported_at = job.now
        fields.append("imported_at")
    run.save(update_fields=fields)


# ---------------------------------------------------------------------------------------
# Which sheet is which, and which column is which
# ---------------------------------------------------------------------------------------


def plan_sheets(
    kind: str, tables: list[Table], *, filename: str, wanted: Sheet | None, job: Job
) -> list[Planned]:
    """The contract sheets of the file in import order, each with its columns found."""
    errors = job.errors
    if not tables:
        raise FileRefused(_("The file is empty: none of its sheets has a cell filled in."))
    if kind == "csv":
        table = tables[0]
        sheet = wanted or sheet_from_filename(filename) or sheet_from_header(table.header)
        if sheet is None:
            errors.add(
                "",
                None,
                None,
                Message(
                    _(
                        "Which sheet is this file? Its name and its headers do not say. Name "
                        "the file after its sheet (Agreements.csv, 采购协议.csv) or choose the "
                        "sheet. The sheets are: %(names)s."
                    ),
                    names=sheet_names(),
                ),
            )
            return []
        return [plan_columns(sheet, table, job)]
    if wanted is not None:
        matching = [table for table in tables if sheet_named_or_none(table.name) is wanted]
        if not matching and len(tables) == 1:
            matching = tables
        if not matching:
            errors.add(
                wanted.name_en,
                None,
                None,
                Message(
                    _("This workbook has no sheet called %(sheet)s; its sheets are: %(names)s."),
                    sheet=wanted.label,
                    names=", ".join(table.name for table in tables),
                ),
            )
            return []
        return [plan_columns(wanted, matching[0], job)]
    found: dict[Sheet, Table] = {}
    for table in tables:
        sheet = sheet_named_or_none(table.name)
        if sheet is None and table.hidden:
            # A hidden sheet holds what the visible ones need (the lists of a
            # template's drop-downs): passed over, with a word.
            job.warnings.add(
                table.name,
                None,
                None,
                Message(
                    _("The hidden sheet “%(name)s” is not one of the contract's; it was ignored."),
                    name=table.name,
                ),
            )
            continue
        if sheet is None:
            if label_key(table.name) not in NOTE_SHEETS:
                errors.add(
                    table.name,
                    None,
                    None,
                    Message(
                        _(
                            "The sheet “%(name)s” is not one of the contract's, so it cannot be "
                            "imported. Rename it to one of: %(names)s."
                        ),
                        name=table.name,
                        names=sheet_names(),
                    ),
                )
            continue
        if sheet in found:
            errors.add(
                sheet.name_en,
                None,
                None,
                Message(
                    _("The sheets “%(first)s” and “%(second)s” are both %(sheet)s: keep one."),
                    first=found[sheet].name,
                    second=table.name,
                    sheet=sheet.label,
                ),
            )
            continue
        found[sheet] = table
    return [plan_columns(sheet, found[sheet], job) for sheet in SHEETS if sheet in found]


def sheet_named_or_none(name: str) -> Sheet | None:
    try:
        return sheet_named(name)
    except KeyError:
        return None


def sheet_from_filename(filename: str) -> Sheet | None:
    stem = PurePath(str(filename).replace("\\", "/")).stem
    return sheet_named_or_none(stem)


def sheet_from_header(header: list) -> Sheet | None:
    """The one sheet whose required columns are all in the header; among several, the
    one that recognises the most columns."""
    keys = [label_key(parse_text(cell)) for cell in header if not blank(cell)]
    scored = []
    for sheet in SHEETS:
        index = sheet.header_index()
        matched = {index[key].key for key in keys if key in index}
        if all(column.key in matched for column in sheet.required_columns):
            scored.append((len(matched), sheet))
    scored.sort(key=lambda item: -item[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        return None
    return scored[0][1]


def plan_columns(sheet: Sheet, table: Table, job: Job) -> Planned:
    """Which column of the table is which column of the sheet. Unknown headers are
    warnings; a missing required column, or one given twice, an error of the sheet."""
    index = sheet.header_index()
    columns: dict[str, int] = {}
    ok = True
    for position, cell in enumerate(table.header):
        if blank(cell):
            continue
        text = parse_text(cell)
        column = index.get(label_key(text))
        if column is None:
            job.warnings.add(
                sheet.name_en,
                table.header_row,
                text,
                Message(
                    _(
                        "The column “%(header)s” is not part of the sheet %(sheet)s; it was "
                        "ignored."
                    ),
                    header=text,
                    sheet=sheet.label,
                ),
            )
            continue
        if column.computed:
            continue
        if column.key in columns:
            ok = False
            job.errors.add(
                sheet.name_en,
                table.header_row,
                f"{column.key} / {column.zh}",
                Message(
                    _("Two columns of the sheet %(sheet)s are %(column)s: keep one."),
                    sheet=sheet.label,
                    column=column.label,
                ),
            )
            continue
        columns[column.key] = position
    for column in sheet.required_columns:
        if column.key not in columns:
            ok = False
            job.errors.add(
                sheet.name_en,
                None,
                f"{column.key} / {column.zh}",
                Message(
                    _("The sheet %(sheet)s has no column %(column)s, which is required."),
                    sheet=sheet.label,
                    column=Bilingual(zh=f"“{column.zh}”", en=f"“{column.key}”"),
                ),
            )
    return Planned(sheet, table, columns, ok)
