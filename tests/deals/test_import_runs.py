"""Import runs left "importing" by a process that stopped: found and marked interrupted
(deals.importing.runs.mark_interrupted), by the admin's import pages too, while a run that
is still being written is left alone; an interrupted confirmation may be confirmed again."""

from __future__ import annotations

import socket
import subprocess
import threading
from unittest import mock

import pytest
from django.db import connection, transaction
from django.urls import reverse

from deals.importer import mark_interrupted
from deals.importing.runs import hold_run, worker_id
from deals.importing.runs import hold_run as real_hold
from deals.models import ImportRun
from delegations.models import Organization
from tests.deals.test_import_admin import (
    SECOO,
    SHOUGANG,
    confirm,
    organizations_workbook,
    token_on,
    upload,
)
from tests.delegations.test_admin import page_text
from tests.factories import DATA_ENTRY, staff_member


def dead_worker() -> str:
    """The host and id of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}"


def importing_run(*, status: str = ImportRun.Status.IMPORTING, **fields) -> ImportRun:
    return ImportRun.objects.create(
        filename="北京.xlsx", sha256="0" * 64, size=1, status=status, **fields
    )


@pytest.mark.django_db
def test_a_run_whose_process_is_gone_is_marked_interrupted():
    run = importing_run(worker=dead_worker())

    assert mark_interrupted() == 1

    run.refresh_from_db()
    assert run.status == ImportRun.Status.INTERRUPTED
    assert "The import was interrupted" in run.errors[0]["message_en"]
    assert run.errors[0]["message_zh"] != run.errors[0]["message_en"]
    assert mark_interrupted() == 0


@pytest.mark.django_db
def test_runs_in_other_states_are_left_alone():
    others = [status for status in ImportRun.Status if status != ImportRun.Status.IMPORTING]
    worker = dead_worker()
    for status in others:
        importing_run(status=status, worker=worker)

    assert mark_interrupted() == 0
    assert sorted(ImportRun.objects.values_list("status", flat=True)) == sorted(others)


@pytest.mark.django_db
def test_sqlite_leaves_a_run_whose_process_still_runs():
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the run's row lock decides (the next test)")
    run = importing_run(worker=worker_id())

    assert mark_interrupted() == 0

    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTING


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_leaves_a_run_whose_transaction_still_writes():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks; the process decides there (the test above)")
    # Even by a process that looks gone: the lock is what counts.
    run = importing_run(worker=dead_worker())
    holding, release = threading.Event(), threading.Event()

    def import_in_progress() -> None:
        try:
            with transaction.atomic():
                hold_run(run)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=import_in_progress)
    writer.start()
    try:
        assert holding.wait(timeout=30)
        assert mark_interrupted() == 0
    finally:
        release.set()
        writer.join()

    assert mark_interrupted() == 1


@pytest.mark.django_db
def test_the_import_history_marks_a_stopped_run_and_shows_it(client):
    clerk = staff_member(DATA_ENTRY)
    run = importing_run(worker=dead_worker(), user=clerk)
    client.force_login(clerk)

    page = client.get(reverse("admin:deals_importrun_changelist"))

    assert page.status_code == 200
    run.refresh_from_db()
    assert run.status == ImportRun.Status.INTERRUPTED
    assert "interrupted" in page_text(page)


@pytest.mark.django_db
def test_an_interrupted_confirmation_may_be_confirmed_again(client):
    clerk = staff_member(DATA_ENTRY)
    client.force_login(clerk)
    response = upload(client, organizations_workbook(SHOUGANG, SECOO))
    run = ImportRun.objects.get(user=clerk)
    token = token_on(client.get(response.url))
    # What a server killed during the confirmation leaves: the run importing, by a
    # process that is gone, the upload and its token kept, nothing written.
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.IMPORTING, worker=dead_worker()
    )

    page = client.get(response.url)

    text = page_text(page)
    assert "This import was interrupted" in text
    assert "Confirm again to retry" in text
    run.refresh_from_db()
    assert run.status == ImportRun.Status.INTERRUPTED

    response = confirm(client, run, token)

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
    assert Organization.objects.filter(name_zh__in=[SHOUGANG[0], SECOO[0]]).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_admin_confirmation_commits_importing_before_its_transaction_writes(client):
    """Not one transaction with its request: while the import writes, another process
    already sees the run importing, which is what tells a stopped server's run."""
    clerk = staff_member(DATA_ENTRY)
    client.force_login(clerk)
    response = upload(client, organizations_workbook(SHOUGANG, SECOO))
    run = ImportRun.objects.get(user=clerk)
    token = token_on(client.get(response.url))
    seen = []

    def another_process() -> None:
        try:
            seen.append(ImportRun.objects.get(pk=run.pk).status)
        finally:
            connection.close()

    def hold(held: ImportRun) -> None:
        # The import's transaction has begun; what do others see of the run?
        reader = threading.Thread(target=another_process)
        reader.start()
        reader.join()
        real_hold(held)

    with mock.patch("deals.importing.engine.hold_run", side_effect=hold):
        response = confirm(client, run, token)

    assert response.status_code == 302
    assert seen == [ImportRun.Status.IMPORTING]
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
