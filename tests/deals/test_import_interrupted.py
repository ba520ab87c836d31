"""A server stopped in the middle of an import loses nothing that was committed: real
`manage.py import_workbook` processes, killed while they write, on a SQLite database
file and on PostgreSQL (when the suite runs on it). Afterwards the database holds none
of the killed file's rows, what was imported before is intact, and the next start marks
the run interrupted rather than leaving it "importing" for ever."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.files import csv_bytes, xlsx

BIG = 10_000
BASE = 10
# Progress lines of a long file in a log: "Agreements / 采购协议: 3,000 / 10,000 rows".
PROGRESS = re.compile(r"^Agreements / 采购协议: ([\d,]+) / ")
AGREEMENT_HEADER = ["reference", "delegation", "edition", "buyer", "exhibitors", "amount"]

# Run inside `manage.py shell`: what the database holds, after `mark_interrupted` if
# `mark` (which waits until PostgreSQL has seen the killed process's connection go, if
# `wait`).
CHECK = """
import json, sys, time
from deals.importer import mark_interrupted
from deals.models import Agreement, ImportRun
mark, wait = {mark}, {wait}
statuses = dict(ImportRun.objects.values_list("pk", "status"))
for _ in range(50 if mark else 0):
    marked = mark_interrupted()
    if marked or not wait:
        break
    time.sleep(0.2)
print(json.dumps({{
    "before": {{str(pk): status for pk, status in statuses.items()}},
    "after": {{str(pk): status for pk, status in ImportRun.objects.values_list("pk", "status")}},
    "big": Agreement.objects.filter(reference__startswith="BIG-").count(),
    "big history": Agreement.history.filter(reference__startswith="BIG-").count(),
    "base": sorted(
        (reference, str(amount))
        for reference, amount in Agreement.objects.filter(
            reference__startswith="BASE-"
        ).values_list("reference", "amount")
    ),
}}))
"""


def base_workbook() -> bytes:
    """Beijing, a buyer registered in it, an exhibitor, and ten agreements."""
    return xlsx(
        {
            "交易团": [["届次", "名称", "英文名称"], ["CIIE 2019", "北京", "Beijing"]],
            "组织": [
                ["名称", "英文名称", "类型", "国家或地区"],
                ["国美零售", "Gome Retail", "民营企业", "CN"],
                ["三星电子", "Samsung", "境外机构", "KR"],
            ],
            "报名": [
                ["交易团", "届次", "组织名称", "参会人数"],
                ["北京", "CIIE 2019", "国美零售", 3],
            ],
            "展商": [["届次", "展商名称", "国家或地区"], ["CIIE 2019", "三星电子", "KR"]],
            "采购协议": [
                AGREEMENT_HEADER,
                *(
                    [f"BASE-{n}", "北京", "CIIE 2019", "国美零售", "三星电子", 100 + n]
                    for n in range(BASE)
                ),
            ],
        }
    )


def big_file() -> bytes:
    rows = [
        [f"BIG-{n:05d}", "北京", "CIIE 2019", "国美零售", "三星电子", 1000 + n] for n in range(BIG)
    ]
    return csv_bytes([AGREEMENT_HEADER, *rows])


class Site:
    """manage.py of this checkout on a database of its own."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "expo_site.settings",
        }
        self.manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.manage, *args],
            env=self.env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [*self.manage, *args],
            env=self.env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def check(self, *, mark: bool, wait: bool = False) -> dict:
        done = self.run("shell", "-c", CHECK.format(mark=mark, wait=wait))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    def file(self, name: str, data: bytes) -> str:
        path = self.folder / name
        path.write_bytes(data)
        return str(path)


def stop_while_writing(process: subprocess.Popen, signum: int) -> int:
    """Send `signum` once the import has written at least 3,000 rows (in its open
    transaction); the number it had reached."""
    for line in process.stderr:
        found = PROGRESS.match(line)
        if found and int(found.group(1).replace(",", "")) >= 3000:
            process.send_signal(signum)
            process.stderr.close()
            process.wait(timeout=60)
            return int(found.group(1).replace(",", ""))
    process.wait(timeout=60)
    pytest.fail(f"the import ended (status {process.returncode}) before it was stopped")


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    """A migrated database, SQLite in a file or a fresh PostgreSQL database on the
    server the suite runs on, with the base workbook imported (and committed)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        drop = None
    else:
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            pytest.skip("the suite does not run on PostgreSQL")
        import psycopg

        name = f"interrupted_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dbname="postgres", autocommit=True) as server:
            server.execute(f'CREATE DATABASE "{name}"')
        url = url.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            with psycopg.connect(dbname="postgres", autocommit=True) as server:
                server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    here = Site(url, tmp_path)
    try:
        migrated = here.run("migrate", "-v0")
        assert migrated.returncode == 0, migrated.stderr
        base = here.run("import_workbook", here.file("base.xlsx", base_workbook()))
        assert base.returncode == 0, base.stderr
        yield here
    finally:
        if drop is not None:
            drop()


BASE_ROWS = [[f"BASE-{n}", f"{100 + n}.00"] for n in range(BASE)]


def test_an_import_killed_while_it_writes_leaves_none_of_its_rows(site):
    big = site.file("Agreements.csv", big_file())

    reached = stop_while_writing(site.start("import_workbook", big), signal.SIGKILL)

    assert reached >= 3000
    after_kill = site.check(mark=False)
    # Nothing of the killed file, the earlier import as it was.
    assert (after_kill["big"], after_kill["big history"]) == (0, 0)
    assert sorted(after_kill["base"]) == sorted(map(list, BASE_ROWS))
    killed = max(after_kill["before"], key=int)
    assert after_kill["before"][killed] == "importing"

    # The next start of the command marks it, then imports the file whole.
    again = site.run("import_workbook", big)

    assert again.returncode == 0, again.stderr
    final = site.check(mark=False)
    assert final["after"][killed] == "interrupted"
    assert final["after"][max(final["after"], key=int)] == "imported"
    assert (final["big"], final["big history"]) == (BIG, BIG)
    assert sorted(final["base"]) == sorted(map(list, BASE_ROWS))


def test_a_killed_import_is_marked_interrupted_once_its_process_is_gone(site):
    big = site.file("Agreements.csv", big_file())
    stop_while_writing(site.start("import_workbook", big), signal.SIGKILL)

    state = site.check(mark=True, wait=True)

    killed = max(state["before"], key=int)
    assert (state["before"][killed], state["after"][killed]) == ("importing", "interrupted")
    assert state["big"] == 0


def test_an_import_stopped_by_sigterm_rolls_back_and_says_interrupted(site):
    big = site.file("Agreements.csv", big_file())
    process = site.start("import_workbook", big)

    stop_while_writing(process, signal.SIGTERM)

    assert process.returncode == 128 + signal.SIGTERM
    state = site.check(mark=False)
    stopped = max(state["before"], key=int)
    # Marked by the stopping process itself, before it exited.
    assert state["before"][stopped] == "interrupted"
    assert (state["big"], state["big history"]) == (0, 0)
