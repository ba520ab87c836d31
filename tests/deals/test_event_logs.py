"""Structured log lines of imports and publications: one per event, with who, which
delegation, which file, what was counted, the outcome and how long it took."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from pythonjsonlogger.json import JsonFormatter

from deals.importer import FileRefused, import_file, undo_import
from deals.services import figures_publish
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    OrganizationFactory,
    RegistrationFactory,
    staff_member,
)
from tests.files import PNG, csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["reference", "delegation", "edition", "buyer", "exhibitors", "amount", "currency"]


@pytest.fixture
def beijing():
    delegation = DelegationFactory()
    gome = OrganizationFactory(name_zh="国美零售", name_en="Gome Retail")
    RegistrationFactory(delegation=delegation, organization=gome)
    ExhibitorFactory(
        organization=OrganizationFactory(name_zh="三星电子", name_en="Samsung", country="KR")
    )
    ExchangeRateFactory()
    return delegation


def agreements_csv(*references: str, amount: str = "1,000") -> bytes:
    rows = [[ref, "北京", "CIIE 2019", "国美零售", "三星电子", amount, "USD"] for ref in references]
    return csv_bytes([HEADER, *rows])


def events(caplog, name: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if getattr(record, "event", None) == name]


def test_an_import_logs_who_what_file_counts_outcome_and_duration(beijing, caplog):
    reviewer = staff_member(REVIEWERS, username="li.na")
    data = agreements_csv("BJ-1", "BJ-2")

    with caplog.at_level(logging.INFO, logger="deals"):
        result = import_file(data, filename="C:\\data\\协议.csv", user=reviewer, dry_run=False)

    (record,) = events(caplog, "import")
    assert record.levelno == logging.INFO
    assert record.outcome == "imported"
    assert record.user == "li.na"
    assert record.delegations == [f"ciie-2019/{beijing.slug}"]
    assert record.run == result.run.pk
    assert record.file_name == "协议.csv"
    assert record.file_sha256 == hashlib.sha256(data).hexdigest()
    assert record.file_bytes == len(data)
    assert record.counts == {"Agreements": {"created": 2, "updated": 0, "unchanged": 0}}
    assert (record.rows_created, record.rows_updated, record.rows_unchanged) == (2, 0, 0)
    assert (record.errors, record.warnings) == (0, 0)
    assert record.dry_run is False
    assert isinstance(record.duration_ms, int) and record.duration_ms >= 0


def test_a_dry_run_logs_that_it_only_checked(beijing, caplog):
    with caplog.at_level(logging.INFO, logger="deals"):
        import_file(agreements_csv("BJ-1"), filename="a.csv", dry_run=True)

    (record,) = events(caplog, "import")
    assert record.outcome == "checked"
    assert record.dry_run is True
    assert record.user is None
    assert record.run is None
    assert record.rows_created == 1


def test_bad_rows_log_a_refusal_with_their_count(beijing, caplog):
    with caplog.at_level(logging.INFO, logger="deals"):
        import_file(agreements_csv("BJ-1", "BJ-2", amount="lots"), filename="a.csv", dry_run=False)

    (record,) = events(caplog, "import")
    assert record.levelno == logging.WARNING
    assert record.outcome == "rows_refused"
    assert record.errors == 2


def test_a_refused_file_logs_a_refusal(db, caplog):
    with caplog.at_level(logging.INFO, logger="deals"), pytest.raises(FileRefused):
        import_file(PNG, filename="picture.png", dry_run=False)

    (record,) = events(caplog, "import")
    assert record.outcome == "file_refused"
    assert record.file_name == "picture.png"
    assert record.counts == {}


def test_an_undo_logs_what_it_removed(beijing, caplog):
    reviewer = staff_member(REVIEWERS, username="li.na")
    result = import_file(agreements_csv("BJ-1"), filename="a.csv", user=reviewer, dry_run=False)

    with caplog.at_level(logging.INFO, logger="deals"):
        undo_import(result.run, user=reviewer)

    (record,) = events(caplog, "import_undone")
    assert record.user == "li.na"
    assert record.run == result.run.pk
    assert record.removed == {"Agreements": 1}


def test_a_publication_logs_who_which_delegation_and_the_figures(beijing, caplog):
    reviewer = staff_member(REVIEWERS, username="li.na")
    import_file(agreements_csv("BJ-1", "BJ-2"), filename="a.csv", dry_run=False)

    with caplog.at_level(logging.INFO, logger="deals"):
        publication = figures_publish(delegation=beijing, user=reviewer)

    (record,) = events(caplog, "publication")
    assert record.outcome == "published"
    assert record.user == "li.na"
    assert record.delegation == f"ciie-2019/{beijing.slug}"
    assert record.publication == publication.pk
    assert record.as_of == publication.as_of.isoformat()
    assert record.agreements == 2
    assert record.companies_signed == 1
    assert record.duration_ms >= 0


def test_a_refused_publication_is_logged(beijing, caplog):
    clerk = staff_member(DATA_ENTRY, username="wang.fang")

    with caplog.at_level(logging.INFO, logger="deals"), pytest.raises(PermissionDenied):
        figures_publish(delegation=beijing, user=clerk)

    (record,) = events(caplog, "publication")
    assert record.levelno == logging.WARNING
    assert (record.outcome, record.user) == ("refused", "wang.fang")


def test_the_production_format_writes_each_event_as_one_json_line(beijing, caplog):
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    formatter = JsonFormatter(**options)
    with caplog.at_level(logging.INFO, logger="deals"):
        import_file(agreements_csv("BJ-1"), filename="协议.csv", dry_run=False)
    (record,) = events(caplog, "import")

    line = formatter.format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO"
    assert entry["logger"] == "deals.importing.engine"
    assert entry["message"] == "import imported"
    assert entry["event"] == "import"
    assert entry["file_name"] == "协议.csv"
    assert entry["counts"] == {"Agreements": {"created": 1, "updated": 0, "unchanged": 0}}
