"""Faults during an import: a database error in the middle leaves nothing written, the
run says it failed and the clerk is told; a try afterwards succeeds. Through the admin's
confirmation and the command, on SQLite and on PostgreSQL (run the file under both)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from deals.importer import import_file
from deals.models import Agreement, AgreementExhibitor, ImportRun
from delegations.models import Organization, Registration
from tests.deals.test_import_admin import confirm, token_on, upload
from tests.delegations.test_admin import page_text
from tests.factories import (
    DATA_ENTRY,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    OrganizationFactory,
    staff_member,
)
from tests.files import xlsx

pytestmark = pytest.mark.django_db

AGREEMENTS = 1200  # three batches of 500: the failure comes after two were written
NEW_BUYER = "新采购商"


@pytest.fixture
def beijing():
    """Beijing at CIIE 2019, an exhibitor (Samsung) and the CNY rate of the expo."""
    delegation = DelegationFactory()
    ExhibitorFactory(
        organization=OrganizationFactory(name_zh="三星电子", name_en="Samsung", country="KR")
    )
    ExchangeRateFactory()
    return delegation


def workbook() -> bytes:
    """A new organization, its registration in Beijing, and its agreements: three
    sheets that refer to each other, so that a half-written import would show."""
    return xlsx(
        {
            "组织": [["名称", "类型"], [NEW_BUYER, "民营企业"]],
            "报名": [
                ["交易团", "届次", "组织名称", "参会人数"],
                ["北京", "CIIE 2019", NEW_BUYER, 2],
            ],
            "采购协议": [
                ["协议编号", "交易团", "届次", "采购方", "展商", "金额", "币种"],
                *(
                    [f"BJ-{n:05d}", "北京", "CIIE 2019", NEW_BUYER, "三星电子", 1000 + n, "USD"]
                    for n in range(AGREEMENTS)
                ),
            ],
        }
    )


def written() -> dict[str, int]:
    """What the workbook writes, and the history of it."""
    return {
        "agreements": Agreement.objects.count(),
        "agreement history": Agreement.history.count(),
        "exhibitor links": AgreementExhibitor.objects.count(),
        "organizations": Organization.objects.filter(name_zh=NEW_BUYER).count(),
        "organization history": Organization.history.filter(name_zh=NEW_BUYER).count(),
        "registrations": Registration.objects.filter(organization__name_zh=NEW_BUYER).count(),
        "registration history": Registration.history.count(),
    }


NOTHING = {
    "agreements": 0,
    "agreement history": 0,
    "exhibitor links": 0,
    "organizations": 0,
    "organization history": 0,
    "registrations": 0,
    "registration history": 0,
}
EVERYTHING = {
    "agreements": AGREEMENTS,
    "agreement history": AGREEMENTS,
    "exhibitor links": AGREEMENTS,
    "organizations": 1,
    "organization history": 1,
    "registrations": 1,
    "registration history": 1,
}


@contextmanager
def database_fails(*, on_insert_into: str = "deals_agreement", number: int = 3):
    """The database fails right after the `number`th INSERT into the table: a real
    error of the database (a statement it cannot run), which on PostgreSQL aborts the
    transaction as a full disk or a killed backend would."""
    pattern = re.compile(rf'^\s*INSERT INTO "{on_insert_into}"[\s(]')
    seen = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if pattern.match(sql):
            seen.append(sql)
            if len(seen) == number:
                execute('SELECT * FROM "the disk is full"', None, False, context)
        return result

    with connection.execute_wrapper(wrapper):
        yield seen
    assert len(seen) >= number, "the import wrote fewer statements than the fault waits for"


def test_a_database_error_after_two_batches_leaves_nothing_and_the_run_failed(beijing):
    clerk = staff_member(DATA_ENTRY)

    with database_fails() as inserts:
        result = import_file(workbook(), filename="北京.xlsx", user=clerk, dry_run=False)

    assert len(inserts) == 3
    assert written() == NOTHING
    run = ImportRun.objects.get(pk=result.run.pk)
    assert run.status == ImportRun.Status.FAILED
    assert run.imported_at is None
    [problem] = run.errors
    assert "The database failed in the middle of the import" in problem["message_en"]
    assert "the disk is full" in problem["message_en"]
    assert "Nothing was written" in problem["message_en"]
    assert problem["message_zh"] != problem["message_en"]

    again = import_file(workbook(), filename="北京.xlsx", user=clerk, dry_run=False)

    assert again.ok
    assert written() == EVERYTHING
    assert ImportRun.objects.get(pk=again.run.pk).status == ImportRun.Status.IMPORTED


def test_the_admin_confirmation_tells_the_clerk_and_may_be_tried_again(client, beijing):
    clerk = staff_member(DATA_ENTRY)
    client.force_login(clerk)
    response = upload(client, workbook(), name="北京.xlsx")
    assert response.status_code == 302, page_text(response)
    run = ImportRun.objects.get(user=clerk)
    token = token_on(client.get(response.url))

    with database_fails():
        response = confirm(client, run, token)

    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200
    text = page_text(page)
    assert "the database failed in the middle of the import" in text
    assert "Confirm again to retry" in text
    assert written() == NOTHING
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.counts["Agreements"]["created"] == AGREEMENTS  # the preview's, kept

    response = confirm(client, run, token_on(page))

    assert response.status_code == 302
    assert "Imported." in page_text(client.get(response.url))
    assert written() == EVERYTHING
    run.refresh_from_db()
    assert (run.status, run.content, run.token) == (ImportRun.Status.IMPORTED, None, "")


def test_a_failed_confirmation_cannot_import_twice_at_once(client, beijing):
    """Retrying is a confirmation like the first: locked and marked importing first."""
    clerk = staff_member(DATA_ENTRY)
    client.force_login(clerk)
    response = upload(client, workbook(), name="北京.xlsx")
    run = ImportRun.objects.get(user=clerk)
    token = token_on(client.get(response.url))
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.IMPORTING)

    response = confirm(client, run, token)

    assert response.status_code == 409
    assert written() == NOTHING


def test_the_command_fails_naming_the_file_and_a_second_run_succeeds(beijing, tmp_path):
    path = tmp_path / "北京.xlsx"
    path.write_bytes(workbook())
    err = StringIO()

    with database_fails(), pytest.raises(CommandError) as failed:
        call_command("import_workbook", str(path), stdout=StringIO(), stderr=err)

    assert "北京.xlsx: the database failed during the import, nothing was written" in str(
        failed.value
    )
    assert "the disk is full" in err.getvalue()
    assert written() == NOTHING
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED

    out = StringIO()
    call_command("import_workbook", str(path), stdout=out, stderr=StringIO())

    assert "Imported" in out.getvalue()
    assert written() == EVERYTHING
