"""An import run's life while it writes, and what a stopped server leaves of it.

A real import marks its run `importing` and commits that before its own transaction
starts; inside the transaction it writes the run again (which locks the run's row on
PostgreSQL, and the whole database on SQLite, until the transaction ends) and commits its
rows together with the run's final status. So a process killed in the middle leaves
none of its rows, and a run still `importing` with nobody writing it: `mark_interrupted`
finds those and says so, on the next import from the command line and whenever the
admin shows imports.
"""

from __future__ import annotations

import os
import socket

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deals.models import ImportRun

from ..sheets import Message

INTERRUPTED = Message(
    _(
        "The import was interrupted: the server stopped while it was writing. Nothing of "
        "this file was written. Confirm it again, or upload it again."
    )
)


def worker_id() -> str:
    """This process, as a run records it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def begin_run(run: ImportRun) -> None:
    """Mark the run importing, by this process, now. Committed at once unless a
    transaction is open around it (then it is part of that transaction)."""
    run.status = ImportRun.Status.IMPORTING
    run.started_at = timezone.now()
    run.worker = worker_id()
    run.save(update_fields=["status", "started_at", "worker"])


def hold_run(run: ImportRun) -> None:
    """The first write of the import's transaction: the run's row, locked until the
    transaction ends (PostgreSQL), or the database's write lock (SQLite)."""
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.IMPORTING)


def interrupted_problem() -> dict:
    return {
        "sheet": "",
        "row": None,
        "column": None,
        "message_zh": INTERRUPTED.zh,
        "message_en": INTERRUPTED.en,
    }


def interrupt_run(run: ImportRun) -> None:
    """Mark a run whose import this process stopped (its transaction rolled back)."""
    run.status = ImportRun.Status.INTERRUPTED
    run.errors = [interrupted_problem()]
    run.save(update_fields=["status", "errors"])


def mark_interrupted() -> int:
    """Mark `interrupted` the runs left `importing` by a process that no longer writes
    them, and return how many. On PostgreSQL a run nobody writes is one whose row no
    transaction holds (a killed process's transaction ends with its connection); on
    SQLite, whose locks are the whole database's, one whose process is gone from this
    host."""
    importing = ImportRun.objects.filter(status=ImportRun.Status.IMPORTING)
    if not importing.exists():
        return 0
    try:
        with transaction.atomic():
            if connection.features.has_select_for_update_skip_locked:
                stale = list(
                    importing.select_for_update(skip_locked=True).values_list("pk", flat=True)
                )
            else:
                here = socket.gethostname()
                stale = [
                    pk
                    for pk, worker in importing.values_list("pk", "worker")
                    if process_gone(worker, here)
                ]
            if not stale:
                return 0
            return importing.filter(pk__in=stale).update(
                status=ImportRun.Status.INTERRUPTED, errors=[interrupted_problem()]
            )
    except DatabaseError:
        # The database is busy (an import holds SQLite's write lock): next time.
        return 0


def process_gone(worker: str, here: str) -> bool:
    """Whether the process `host:pid` has ended. Only processes of this host can be
    told; a run of another host is left for that host (or PostgreSQL's locks) to judge."""
    host, _sep, pid = worker.rpartition(":")
    if host != here or not pid.isdigit():
        return not worker  # a run that never named its process
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False
