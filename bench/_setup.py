"""What the spreadsheet import benchmark stands on: Django configured for a throwaway
database, the delegation with its registered buyers and the exhibitors that an
Agreements sheet names, the sheet itself in the forms each contender reads, and a way
back to that state between two measurements."""

from __future__ import annotations

import bisect
import csv
import datetime
import io
import os
import random
import secrets
import sys
import tempfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EDITION_SLUG = "ciie-2019"
EDITION_LABEL = "CIIE 2019"
DELEGATION_ZH, DELEGATION_EN, DELEGATION_SLUG = "北京", "Beijing", "beijing"

# US$ per unit from a day on; an agreement converts at the rate in force on its signing day.
RATES = {
    "CNY": [
        (datetime.date(2019, 11, 1), Decimal("0.14200000")),
        (datetime.date(2019, 11, 8), Decimal("0.14250000")),
    ],
    "EUR": [
        (datetime.date(2019, 11, 1), Decimal("1.10500000")),
        (datetime.date(2019, 11, 8), Decimal("1.10300000")),
    ],
}
CURRENCIES = (("USD", 5), ("CNY", 4), ("EUR", 1))
KINDS = (("purchase", 9), ("strategic_cooperation", 1))
STATUSES = (("signed", 8), ("executed", 1), ("cancelled", 1))
SIGNING_DAYS = [datetime.date(2019, 11, 5) + datetime.timedelta(days=n) for n in range(6)]
EXHIBITOR_COUNTRIES = ("DE", "FR", "GB", "IT", "JP", "KR", "US", "AU", "CH", "NL", "HK", "TW")

AGREEMENT_HEADER = (
    "reference",
    "delegation",
    "edition",
    "buyer",
    "exhibitors",
    "kind",
    "sector",
    "amount",
    "currency",
    "signed_on",
    "status",
    "public",
)
# django-import-export's default widgets look records up by primary key.
LIBRARY_HEADER = (
    "reference",
    "delegation",
    "registration",
    "exhibitors",
    "kind",
    "sector",
    "amount",
    "currency",
    "signed_on",
    "status",
    "is_public",
)
CENT = Decimal("0.01")


class BenchError(Exception):
    """The benchmark cannot run as asked (wrong database, database not empty)."""


# --- Django -------------------------------------------------------------------------------


def configure(database: str | None) -> Path | None:
    """Set Django up for the benchmark, before anything imports a model.

    `database` is "sqlite" (a new file in a new temporary directory, returned so that the
    caller removes it), "postgres" (DATABASE_URL, which must name one) or None (the
    DATABASE_URL of the environment as it is: the measuring subprocess)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "expo_site.settings"
    # DEBUG keeps every query in memory: never measure with it on.
    os.environ["DEBUG"] = "0"
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    # The upload limit guards the web form; the benchmark measures speed on bigger files.
    os.environ["EXPO_IMPORT_MAX_BYTES"] = str(2**31)
    directory = None
    if database == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="expo-bench-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
    elif database == "postgres":
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
            raise BenchError(
                "--database postgres needs DATABASE_URL=postgres://... in the environment; "
                "run it as: bash .ci/pg-test .venv/bin/python bench/import_agreements.py"
            )
    import django

    django.setup()
    return directory


def migrate() -> None:
    """Create the schema in the (empty) database."""
    from django.core.management import call_command
    from django.db import connection

    if connection.introspection.table_names():
        raise BenchError(
            "The database already has tables. The benchmark writes and deletes records, so it "
            "runs only on an empty database: on SQLite it makes its own, for PostgreSQL run it "
            "through .ci/pg-test, which starts a throwaway server."
        )
    call_command("migrate", verbosity=0, interactive=False)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return f"PostgreSQL {version}"


def analyze(tables: list[str] | None = None, *, vacuum: bool = False) -> None:
    """Fresh planner statistics on PostgreSQL, so that every contender meets the same
    plans; nothing to do on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    command = "VACUUM ANALYZE" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables or [""]:
            cursor.execute(f"{command} {connection.ops.quote_name(table) if table else ''}")


# --- the records an Agreements sheet names ---------------------------------------------


@dataclass
class Population:
    """What is in the database before an Agreements sheet is imported."""

    delegation_id: int
    buyers: list[tuple[str, str, str]]  # name_zh, name_en, kind
    registrations: list[tuple[int, int, str]]  # pk, participants, status (per buyer)
    exhibitors: list[tuple[str, str, str, str]]  # name_zh, name_en, country, area (zh)
    exhibitor_ids: list[int]
    sectors: list[tuple[int, str]]  # pk, name_zh


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


def populate(*, buyers: int, exhibitors: int, seed: int) -> Population:
    """The delegation Beijing at CIIE 2019, `buyers` organizations registered in it,
    `exhibitors` exhibitors at CIIE 2019 and the exchange rates of RATES."""
    from deals.models import ExchangeRate, Exhibitor, Sector
    from delegations.models import Delegation, Edition, Organization, Registration

    # Seeded test data for repeatable runs, not secrets.
    rng = random.Random(seed)  # nosec B311
    edition = Edition.objects.get(slug=EDITION_SLUG)
    delegation = Delegation.objects.create(
        edition=edition,
        name_zh=DELEGATION_ZH,
        name_en=DELEGATION_EN,
        slug=DELEGATION_SLUG,
        organizer_zh="北京市商务局",
        organizer_en="Beijing Municipal Commerce Bureau",
    )
    sectors = list(Sector.objects.order_by("position").values_list("pk", "name_zh"))
    areas = list(Sector.objects.filter(is_exhibition_area=True).values_list("pk", "name_zh"))

    buyer_names = [
        (
            f"北京采购商{n:05d}有限公司",
            f"Beijing Buyer {n:05d} Co., Ltd.",
            rng.choice(("private", "state_owned", "foreign_funded")),
        )
        for n in range(1, buyers + 1)
    ]
    buyer_orgs = Organization.objects.bulk_create(
        [
            Organization(name_zh=zh, name_en=en, kind=kind, country="CN")
            for zh, en, kind in buyer_names
        ],
        batch_size=1000,
    )
    registrations = Registration.objects.bulk_create(
        [
            Registration(
                delegation=delegation,
                organization=organization,
                participants=rng.randint(1, 6),
                status=rng.choice(("registered", "attended")),
            )
            for organization in buyer_orgs
        ],
        batch_size=1000,
    )

    exhibitor_names = []
    for n in range(1, exhibitors + 1):
        country = rng.choice(EXHIBITOR_COUNTRIES)
        area = rng.choice(areas)
        exhibitor_names.append(
            (f"展商{n:04d}国际有限公司", f"Exhibitor {n:04d} International Ltd.", country, area)
        )
    exhibitor_orgs = Organization.objects.bulk_create(
        [
            Organization(
                name_zh=zh,
                name_en=en,
                country=country,
                kind="hk_macao_taiwan" if country in {"HK", "TW"} else "foreign",
            )
            for zh, en, country, _ in exhibitor_names
        ],
        batch_size=1000,
    )
    exhibitor_rows = Exhibitor.objects.bulk_create(
        [
            Exhibitor(edition=edition, organization=organization, exhibition_area_id=area[0])
            for organization, (_, _, _, area) in zip(exhibitor_orgs, exhibitor_names, strict=True)
        ],
        batch_size=1000,
    )
    ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(currency=currency, valid_on=day, usd_per_unit=rate, source="bench")
            for currency, rates in RATES.items()
            for day, rate in rates
        ]
    )
    analyze()
    return Population(
        delegation_id=delegation.pk,
        buyers=buyer_names,
        registrations=[(r.pk, r.participants, r.status) for r in registrations],
        exhibitors=[(zh, en, country, area[1]) for zh, en, country, area in exhibitor_names],
        exhibitor_ids=[exhibitor.pk for exhibitor in exhibitor_rows],
        sectors=sectors,
    )


def reset() -> None:
    """Back to the state populate() left: no agreements, no links to exhibitors, none of
    their history, no import runs."""
    from django.db import connection

    from deals.models import Agreement, AgreementExhibitor, ImportRun

    models = [
        AgreementExhibitor.history.model,
        AgreementExhibitor,
        Agreement.history.model,
        Agreement,
        ImportRun,
    ]
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        for table in tables:
            # The models' own tables, quoted by the backend.
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # nosec B608
    analyze(tables, vacuum=True)


# --- the sheet ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgreementRow:
    reference: str
    buyer: int  # index into Population.buyers
    exhibitors: tuple[int, ...]  # indexes into Population.exhibitors
    kind: str
    sector: int  # index into Population.sectors
    amount: Decimal
    currency: str
    signed_on: datetime.date
    status: str
    public: bool


def agreement_rows(population: Population, count: int, *, seed: int) -> list[AgreementRow]:
    # Seeded test data for repeatable runs, not secrets.
    rng = random.Random(seed + 1)  # nosec B311
    exhibitors = range(len(population.exhibitors))
    return [
        AgreementRow(
            reference=f"BJ-2019-{n:06d}",
            buyer=rng.randrange(len(population.buyers)),
            exhibitors=tuple(rng.sample(exhibitors, rng.choice((1, 1, 1, 2, 2, 3)))),
            kind=weighted(rng, KINDS),
            sector=rng.randrange(len(population.sectors)),
            amount=Decimal(rng.randrange(1_000_000, 50_000_000_000)) / 100,
            currency=weighted(rng, CURRENCIES),
            signed_on=rng.choice(SIGNING_DAYS),
            status=weighted(rng, STATUSES),
            public=rng.random() < 0.7,
        )
        for n in range(1, count + 1)
    ]


def rate_on(currency: str, day: datetime.date) -> Decimal:
    if currency == "USD":
        return Decimal(1)
    rates = RATES[currency]
    return rates[bisect.bisect_right([valid_on for valid_on, _ in rates], day) - 1][1]


def expected_usd_total(rows: list[AgreementRow]) -> Decimal:
    """The sum of the US$ equivalents the import must store, rounded per agreement."""
    return sum(
        (
            (row.amount * rate_on(row.currency, row.signed_on)).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            for row in rows
        ),
        Decimal(0),
    )


def expected_links(rows: list[AgreementRow]) -> int:
    return sum(len(row.exhibitors) for row in rows)


def _cells(population: Population, row: AgreementRow) -> list:
    """A row as a clerk writes it: names, not keys."""
    return [
        row.reference,
        DELEGATION_EN,
        EDITION_LABEL,
        population.buyers[row.buyer][0],
        ";".join(population.exhibitors[index][1] for index in row.exhibitors),
        row.kind,
        population.sectors[row.sector][1],
        row.amount,
        row.currency,
        row.signed_on,
        "yes" if row.public else "no",
    ]


def agreements_csv(population: Population, rows: list[AgreementRow]) -> bytes:
    """The Agreements sheet as CSV, amounts written `1,234,567.00`, dates `2019-11-05`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AGREEMENT_HEADER)
    for row in rows:
        cells = _cells(population, row)
        cells[7] = f"{row.amount:,.2f}"
        cells[9] = row.signed_on.isoformat()
        cells.insert(10, row.status)
        writer.writerow(cells)
    return out.getvalue().encode("utf-8")


def library_csv(population: Population, rows: list[AgreementRow]) -> bytes:
    """The same rows with the primary keys that django-import-export's default
    ForeignKeyWidget and ManyToManyWidget look up, and amounts and booleans in the forms
    its default DecimalWidget and BooleanWidget read (`1234567.00`, `1`/`0`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LIBRARY_HEADER)
    for row in rows:
        writer.writerow(
            [
                row.reference,
                population.delegation_id,
                population.registrations[row.buyer][0],
                ";".join(str(population.exhibitor_ids[index]) for index in row.exhibitors),
                row.kind,
                population.sectors[row.sector][0],
                f"{row.amount:.2f}",
                row.currency,
                row.signed_on.isoformat(),
                row.status,
                1 if row.public else 0,
            ]
        )
    return out.getvalue().encode("utf-8")


def _agreement_sheet(workbook, population: Population, rows: list[AgreementRow]) -> None:
    """Spreadsheet cells as a spreadsheet holds them: amounts are numbers, days are dates."""
    sheet = workbook.create_sheet("Agreements")
    sheet.append(AGREEMENT_HEADER)
    for row in rows:
        cells = _cells(population, row)
        cells.insert(10, row.status)
        sheet.append(cells)


def _saved(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def agreements_xlsx(population: Population, rows: list[AgreementRow]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _agreement_sheet(workbook, population, rows)
    return _saved(workbook)


def workbook_xlsx(population: Population, rows: list[AgreementRow]) -> tuple[bytes, int]:
    """A whole workbook as the bureau keeps it: Organizations, Registrations, Exhibitors,
    Exchange rates (what the database holds already, so found unchanged) and the
    Agreements sheet. Also the number of data rows in it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Organizations")
    sheet.append(("name", "name_en", "kind", "country"))
    for zh, en, kind in population.buyers:
        sheet.append((zh, en, kind, "CN"))
    sheet = workbook.create_sheet("Registrations")
    sheet.append(("delegation", "edition", "organization", "participants", "purchaser", "status"))
    for (zh, _, _), (_, participants, status) in zip(
        population.buyers, population.registrations, strict=True
    ):
        sheet.append((DELEGATION_EN, EDITION_LABEL, zh, participants, "yes", status))
    sheet = workbook.create_sheet("Exhibitors")
    sheet.append(("edition", "name", "name_en", "country", "exhibition_area"))
    for zh, en, country, area in population.exhibitors:
        sheet.append((EDITION_LABEL, zh, en, country, area))
    sheet = workbook.create_sheet("Exchange rates")
    sheet.append(("currency", "valid_on", "usd_per_unit", "source"))
    rates = [(c, day, rate) for c, found in RATES.items() for day, rate in found]
    for currency, day, rate in rates:
        sheet.append((currency, day, rate, "bench"))
    _agreement_sheet(workbook, population, rows)
    total = 2 * len(population.buyers) + len(population.exhibitors) + len(rates) + len(rows)
    return _saved(workbook), total
