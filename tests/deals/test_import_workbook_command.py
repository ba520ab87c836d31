"""import_workbook: a CSV file or an XLSX workbook from the command line, a summary per
sheet, every error listed, a non-zero exit when the file is refused or a row is bad."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from deals.management.commands.import_workbook import Progress
from deals.models import ImportRun
from delegations.models import Organization
from tests.factories import REVIEWERS, staff_member
from tests.files import PNG, csv_bytes, xlsx

pytestmark = pytest.mark.django_db

ORGANIZATIONS = [
    ["名称", "英文名称", "类型", "国家或地区"],
    ["国美零售", "Gome Retail", "民营企业", "中国"],
    ["三星电子", "Samsung", "境外机构", "Korea"],
]


def command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_workbook", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def workbook(tmp_path) -> Path:
    path = tmp_path / "北京.xlsx"
    path.write_bytes(
        xlsx(
            {
                "组织": ORGANIZATIONS,
                "交易团": [["届次", "名称", "英文名称"], ["CIIE 2019", "北京", "Beijing"]],
            }
        )
    )
    return path


def test_the_command_imports_a_workbook_and_ends_with_counts_per_sheet(workbook):
    out, err = command(str(workbook))

    lines = out.splitlines()
    assert lines[0].split() == ["Sheet", "created", "updated", "unchanged"]
    assert lines[2].split() == ["Delegations", "/", "交易团", "1", "0", "0"]
    assert lines[3].split() == ["Organizations", "/", "组织", "2", "0", "0"]
    assert "Imported" in out
    assert Organization.objects.count() == 2
    run = ImportRun.objects.get()
    assert (run.status, run.filename, run.user) == (ImportRun.Status.IMPORTED, "北京.xlsx", None)
    assert err == ""


def test_a_second_run_leaves_everything_unchanged(workbook):
    command(str(workbook))

    out, _ = command(str(workbook))

    assert out.splitlines()[3].split() == ["Organizations", "/", "组织", "0", "0", "2"]
    assert ImportRun.objects.count() == 2


def test_a_dry_run_writes_nothing_but_counts_the_same(workbook):
    out, _ = command(str(workbook), "--dry-run")

    assert out.splitlines()[3].split() == ["Organizations", "/", "组织", "2", "0", "0"]
    assert "Dry run: nothing was written." in out
    assert not Organization.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.PREVIEWED


def test_the_history_records_the_user_given(workbook):
    staff_member(REVIEWERS, username="wang")

    command(str(workbook), "--user", "wang")

    run = ImportRun.objects.get()
    assert run.user.username == "wang"
    assert {row.history_user.username for row in Organization.history.all()} == {"wang"}
    assert {row.history_change_reason for row in Organization.history.all()} == {
        f"import #{run.pk}"
    }


def test_an_unknown_user_is_refused(workbook):
    with pytest.raises(CommandError, match="There is no user “nobody”"):
        command(str(workbook), "--user", "nobody")


def test_the_sheet_of_a_csv_may_be_given(tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(csv_bytes(ORGANIZATIONS, encoding="gb18030"))

    out, _ = command(str(path), "--sheet", "组织")

    assert out.splitlines()[2].split() == ["Organizations", "/", "组织", "2", "0", "0"]


def test_every_bad_row_is_listed_in_both_languages_and_the_command_fails(tmp_path):
    path = tmp_path / "组织.csv"
    rows = [*ORGANIZATIONS, ["坏国家", "", "民营企业", "Atlantis"], ["坏类型", "", "startup", "CN"]]
    path.write_bytes(csv_bytes(rows))
    err = StringIO()

    with pytest.raises(CommandError, match="2 errors: nothing was imported"):
        call_command("import_workbook", str(path), stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("Organizations / 组织, row 4, country / 国家或地区: 国家或地区")
    assert "“Atlantis” is not a country or region" in lines[0]
    assert lines[1].startswith("Organizations / 组织, row 5, kind / 类型: 类型")
    assert not Organization.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.REFUSED


def test_a_refused_file_fails_the_command_saying_why(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(PNG)

    with pytest.raises(CommandError, match="PNG image"):
        command(str(path))


def test_a_missing_file_fails_the_command(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        command(str(tmp_path / "nothing.xlsx"))


def test_a_long_file_in_a_log_gets_plain_progress_lines_and_a_short_one_none():
    log = StringIO()
    progress = Progress(log)

    progress("Agreements", 0, 20_000)
    for done in range(500, 20_001, 500):
        progress("Agreements", done, 20_000)
    progress("Visits", 0, 30)
    progress("Visits", 30, 30)

    lines = log.getvalue().splitlines()
    assert lines[0] == "Agreements / 采购协议: 0 / 20,000 rows"
    assert lines[-1] == "Agreements / 采购协议: 20,000 / 20,000 rows"
    assert len(lines) == 11
    assert "\r" not in log.getvalue()


def test_a_terminal_gets_a_progress_bar():
    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    progress = Progress(screen)

    progress("Agreements", 0, 100)
    progress("Agreements", 100, 100)
    progress.close()

    assert "100/100" in screen.getvalue()
    assert "Agreements / 采购协议" in screen.getvalue()


def test_the_command_exits_non_zero_in_a_shell_when_a_row_is_bad(tmp_path):
    """A real process, on a database file of its own: the exit status a script sees."""
    database = tmp_path / "db.sqlite3"
    good = tmp_path / "组织.csv"
    good.write_bytes(csv_bytes(ORGANIZATIONS))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([*ORGANIZATIONS, ["坏国家", "", "民营企业", "Atlantis"]]))
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "expo_site.settings",
    }
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=settings.BASE_DIR)

    refused = subprocess.run(
        [*manage, "import_workbook", str(bad), "--sheet", "Organizations"],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    imported = subprocess.run(
        [*manage, "import_workbook", str(good)],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )

    assert refused.returncode == 1
    assert "row 4, country / 国家或地区" in refused.stderr
    assert "1 error: nothing was imported" in refused.stderr
    assert imported.returncode == 0, imported.stderr
    assert "Organizations / 组织" in imported.stdout
    assert "\r" not in imported.stderr
