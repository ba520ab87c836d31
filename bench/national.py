"""The whole expo at national scale, generated deterministically and loaded in bulk:
40 trading delegations (each with 15 sub-delegations) at three editions of CIIE, about
1,000,000 registrations, 300,000 agreements, 4,000 exhibitors per edition from 180
countries and regions, and visits, investment intentions and CIFTIS pledges in
proportion. `--scale` takes a fraction of that (0.01 is about one city: one delegation
over three editions).

    .venv/bin/python bench/national.py --scale 0.01 --db DIR/national-0.01.sqlite3
    bash .ci/pg-test .venv/bin/python bench/national.py --scale 0.1

The same seed and scale give the same rows, keys included, on every run and on both
databases. The load is timed (rows a second per table and in all): SQLite through
`executemany` in one transaction, PostgreSQL through `COPY ... FROM STDIN` (psycopg 3's
`cursor.copy`). It writes no change history (see bench/README.md). On a database that
already holds the dataset of this scale and seed it loads nothing and says so, so that
the measurements (bench/national_measure.py) can run again on it.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup
from bench._setup import BenchError

# The whole expo (scale 1).
REGISTRATIONS = 1_000_000
AGREEMENTS = 300_000
EXHIBITORS_PER_EDITION = 4_000
EXHIBITOR_COUNTRIES = 180
# In the story's proportions: about 320 visits, 40 intentions and 7 pledges for 3,107
# registered organizations.
VISITS = 100_000
INTENTIONS = 13_000
PLEDGES = 2_300
DELEGATIONS = 40
SUB_DELEGATIONS = 15
EDITIONS = ("ciie-2018", "ciie-2019", "ciie-2020")
# Each edition a little larger than the one before.
EDITION_WEIGHTS = (0.8, 1.0, 1.2)
# The delegation and edition the measurements read: the story's.
MEASURED = ("beijing", "ciie-2019")

# (name, English name, slug); the first ones send the largest delegations.
PLACES = [
    ("北京", "Beijing", "beijing"),
    ("上海", "Shanghai", "shanghai"),
    ("广东", "Guangdong", "guangdong"),
    ("江苏", "Jiangsu", "jiangsu"),
    ("浙江", "Zhejiang", "zhejiang"),
    ("山东", "Shandong", "shandong"),
    ("天津", "Tianjin", "tianjin"),
    ("重庆", "Chongqing", "chongqing"),
    ("河北", "Hebei", "hebei"),
    ("山西", "Shanxi", "shanxi"),
    ("内蒙古", "Inner Mongolia", "inner-mongolia"),
    ("辽宁", "Liaoning", "liaoning"),
    ("吉林", "Jilin", "jilin"),
    ("黑龙江", "Heilongjiang", "heilongjiang"),
    ("安徽", "Anhui", "anhui"),
    ("福建", "Fujian", "fujian"),
    ("江西", "Jiangxi", "jiangxi"),
    ("河南", "Henan", "henan"),
    ("湖北", "Hubei", "hubei"),
    ("湖南", "Hunan", "hunan"),
    ("广西", "Guangxi", "guangxi"),
    ("海南", "Hainan", "hainan"),
    ("四川", "Sichuan", "sichuan"),
    ("贵州", "Guizhou", "guizhou"),
    ("云南", "Yunnan", "yunnan"),
    ("西藏", "Tibet", "tibet"),
    ("陕西", "Shaanxi", "shaanxi"),
    ("甘肃", "Gansu", "gansu"),
    ("青海", "Qinghai", "qinghai"),
    ("宁夏", "Ningxia", "ningxia"),
    ("新疆", "Xinjiang", "xinjiang"),
    ("新疆生产建设兵团", "Xinjiang Production and Construction Corps", "xpcc"),
    ("大连", "Dalian", "dalian"),
    ("青岛", "Qingdao", "qingdao"),
    ("宁波", "Ningbo", "ningbo"),
    ("厦门", "Xiamen", "xiamen"),
    ("深圳", "Shenzhen", "shenzhen"),
    ("苏州", "Suzhou", "suzhou"),
    ("中央企业", "Central State-owned Enterprises", "central-enterprises"),
    ("中央和国家机关", "Central Government Departments", "central-government"),
]
BUYER_KINDS = (
    ("private", 50),
    ("state_owned", 20),
    ("foreign_funded", 12),
    ("hk_macao_taiwan", 4),
    ("government", 4),
    ("public_institution", 5),
    ("industry_association", 5),
)
CURRENCIES = (("USD", 5), ("CNY", 4), ("EUR", 1))
RATES = {"USD": Decimal(1), "CNY": Decimal("0.14200000"), "EUR": Decimal("1.10500000")}
AGREEMENT_STATUSES = (("signed", 8), ("executed", 1), ("cancelled", 1))
PLEDGE_STATUSES = (("pledged", 5), ("registered", 2), ("attended", 2), ("withdrawn", 1))
INTENTION_STAGES = (("expressed", 5), ("negotiating", 3), ("signed", 1), ("landed", 1))
CENT = Decimal("0.01")


def weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


# --- the plan: how many of each, from the scale ----------------------------------------


@dataclass(frozen=True)
class Plan:
    """How many records of each kind a scale makes."""

    scale: float
    seed: int
    delegations: int
    registrations: int
    agreements: int
    exhibitors_per_edition: int
    visits: int
    intentions: int
    pledges: int

    @classmethod
    def of(cls, scale: float, seed: int) -> Plan:
        return cls(
            scale=scale,
            seed=seed,
            # The delegations shrink with the scale, not their size: at 0.01 one city.
            delegations=max(1, min(DELEGATIONS, round(DELEGATIONS * scale))),
            registrations=round(REGISTRATIONS * scale),
            agreements=round(AGREEMENTS * scale),
            # An edition's exhibitors are the expo's, whoever meets them: at least 400.
            exhibitors_per_edition=max(400, round(EXHIBITORS_PER_EDITION * scale)),
            visits=round(VISITS * scale),
            intentions=round(INTENTIONS * scale),
            pledges=round(PLEDGES * scale),
        )


# --- the rows ----------------------------------------------------------------------------


@dataclass
class Dataset:
    """Every generated row, by model label: tuples of database values in the order of
    `columns[label]` (keys chosen here, so that foreign keys need no read back)."""

    rows: dict[str, list[tuple]] = field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, label: str, columns: tuple[str, ...]) -> list[tuple]:
        self.columns[label] = columns
        return self.rows.setdefault(label, [])

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


@dataclass
class _Tree:
    """A trading delegation at an edition, with its sub-delegations' keys."""

    slug: str
    edition: int  # index into EDITIONS
    top: int
    subs: list[int]
    registrations: int
    agreements: int
    # (registration key, delegation key, organization key, is_purchaser) of the tree
    registered: list[tuple[int, int, int, bool]] = field(default_factory=list)


def _shares(total: int, weights: list[float]) -> list[int]:
    """`total` split in proportion to `weights`, the parts adding up to `total`."""
    whole = sum(weights)
    parts = [math.floor(total * w / whole) for w in weights]
    for index in sorted(range(len(weights)), key=lambda i: -weights[i])[: total - sum(parts)]:
        parts[index] += 1
    return parts


def generate(
    plan: Plan,
    *,
    editions: dict[str, tuple[int, datetime.date]],
    areas: list[int],
    sectors: list[int],
    countries: list[str],
    ciftis: list[int],
) -> Dataset:
    """Every row of the dataset. `editions` maps the slugs of EDITIONS to their keys
    and first days, `areas` and `sectors` are the keys of the exhibition areas and of
    the sectors, `countries` the exhibitors' country codes, `ciftis` the keys of the
    CIFTIS editions a pledge made at each CIIE edition is to."""
    from django.db import connection

    # Seeded on purpose: the same dataset on every run (no secret is drawn from it).
    rng = random.Random(plan.seed)  # nosec B311
    data = Dataset()
    # Stored as each database stores an aware datetime: SQLite as naive UTC text.
    offset = "+00:00" if connection.vendor == "postgresql" else ""
    stamp = {slug: f"{day.isoformat()} 02:00:00{offset}" for slug, (_, day) in editions.items()}

    delegations = data.table(
        "delegations.Delegation",
        (
            "id",
            "edition_id",
            "parent_id",
            "name_zh",
            "name_en",
            "slug",
            "organizer_zh",
            "organizer_en",
            "created_at",
            "updated_at",
        ),
    )
    places = PLACES[: plan.delegations]
    place_weights = [
        2.0 if n < 2 else 1.5 if n < 6 else rng.uniform(0.6, 1.4) for n in range(len(places))
    ]
    tree_weights = [
        place_weights[p] * EDITION_WEIGHTS[e] for p in range(len(places)) for e in range(3)
    ]
    registrations_of = _shares(plan.registrations, tree_weights)
    agreements_of = _shares(plan.agreements, tree_weights)
    trees: list[_Tree] = []
    key = 0
    for p, (zh, en, slug) in enumerate(places):
        for e, edition_slug in enumerate(EDITIONS):
            edition_id, _ = editions[edition_slug]
            at = stamp[edition_slug]
            key += 1
            top = key
            delegations.append(
                (
                    top,
                    edition_id,
                    None,
                    zh,
                    en,
                    slug,
                    f"{zh}商务局",
                    f"{en} Commerce Bureau",
                    at,
                    at,
                )
            )
            subs = []
            for s in range(1, SUB_DELEGATIONS + 1):
                key += 1
                subs.append(key)
                delegations.append(
                    (
                        key,
                        edition_id,
                        top,
                        f"{zh}第{s}交易分团",
                        f"{en} sub-delegation {s}",
                        f"{slug}-{s}",
                        "",
                        "",
                        at,
                        at,
                    )
                )
            index = p * 3 + e
            trees.append(_Tree(slug, e, top, subs, registrations_of[index], agreements_of[index]))

    organizations = data.table(
        "delegations.Organization",
        (
            "id",
            "name_zh",
            "name_en",
            "kind",
            "country",
            "industry",
            "annual_imports_usd",
            "created_at",
            "updated_at",
        ),
    )
    org_stamp = stamp[EDITIONS[0]]
    org_key = 0

    # Exhibitors: a pool of organizations from `countries`, each edition's exhibitors drawn
    # from it, so that many exhibit at more than one edition.
    exhibitor_pool = []
    for n in range(1, round(plan.exhibitors_per_edition * 1.5) + 1):
        org_key += 1
        country = countries[n % len(countries)] if n <= len(countries) else rng.choice(countries)
        kind = "hk_macao_taiwan" if country in {"HK", "MO", "TW"} else "foreign"
        organizations.append(
            (
                org_key,
                f"展商{n:06d}国际有限公司",
                f"Exhibitor {n:06d} International Ltd.",
                kind,
                country,
                "",
                None,
                org_stamp,
                org_stamp,
            )
        )
        exhibitor_pool.append(org_key)
    exhibitors = data.table(
        "deals.Exhibitor",
        (
            "id",
            "edition_id",
            "organization_id",
            "exhibition_area_id",
            "booth",
            "created_at",
            "updated_at",
        ),
    )
    exhibitors_at: dict[int, list[tuple[int, int]]] = {}  # edition index: (key, org key)
    for e, edition_slug in enumerate(EDITIONS):
        edition_id, _ = editions[edition_slug]
        chosen = sorted(rng.sample(exhibitor_pool, plan.exhibitors_per_edition))
        at = stamp[edition_slug]
        for org in chosen:
            exhibitors.append(
                (
                    len(exhibitors) + 1,
                    edition_id,
                    org,
                    rng.choice(areas),
                    f"{rng.randint(1, 8)}.{rng.randint(1, 2)}H-{rng.randint(1, 999)}",
                    at,
                    at,
                )
            )
            exhibitors_at.setdefault(e, []).append((len(exhibitors), org))

    # Buyers: each place has a pool of organizations, registered anew at each edition.
    registrations = data.table(
        "delegations.Registration",
        (
            "id",
            "delegation_id",
            "organization_id",
            "participants",
            "is_purchaser",
            "status",
            "registered_on",
            "created_at",
            "updated_at",
        ),
    )
    large = 10_000_000
    for p, (zh, en, _slug) in enumerate(places):
        own = [tree for tree in trees if tree.slug == places[p][2]]
        size = math.ceil(max(tree.registrations for tree in own) * 1.25) + 1
        pool = []
        for n in range(1, size + 1):
            org_key += 1
            kind = weighted(rng, BUYER_KINDS)
            imports = (
                Decimal(rng.randrange(large, 50 * large, 100_000))
                if rng.random() < 0.04
                else Decimal(rng.randrange(10_000, large, 1_000))
            )
            organizations.append(
                (
                    org_key,
                    f"{zh}采购商{n:06d}有限公司",
                    f"{en} Buyer {n:06d} Co., Ltd.",
                    kind,
                    "CN",
                    "",
                    str(imports),
                    org_stamp,
                    org_stamp,
                )
            )
            pool.append(org_key)
        for tree in own:
            edition_slug = EDITIONS[tree.edition]
            day = editions[edition_slug][1]
            at = stamp[edition_slug]
            past = tree.edition < len(EDITIONS) - 1
            statuses = (
                (("attended", 85), ("registered", 10), ("withdrawn", 5))
                if past
                else (("registered", 96), ("withdrawn", 4))
            )
            members = [tree.top, *tree.subs]
            for org in sorted(rng.sample(pool, tree.registrations)):
                delegation = tree.top if rng.random() < 0.4 else rng.choice(members)
                key = len(registrations) + 1
                purchaser = rng.random() < 0.915
                status = weighted(rng, statuses)
                registered_on = (day - datetime.timedelta(days=rng.randint(10, 120))).isoformat()
                registrations.append(
                    (
                        key,
                        delegation,
                        org,
                        rng.randint(1, 6),
                        purchaser,
                        status,
                        registered_on,
                        at,
                        at,
                    )
                )
                if status != "withdrawn":
                    tree.registered.append((key, delegation, org, purchaser))

    agreements = data.table(
        "deals.Agreement",
        (
            "id",
            "reference",
            "delegation_id",
            "registration_id",
            "kind",
            "sector_id",
            "amount",
            "currency",
            "amount_usd",
            "usd_rate",
            "usd_rate_on",
            "signed_on",
            "status",
            "is_public",
            "notes",
            "created_at",
            "updated_at",
        ),
    )
    parties = data.table("deals.AgreementExhibitor", ("id", "agreement_id", "exhibitor_id"))
    for tree in trees:
        edition_slug = EDITIONS[tree.edition]
        start = editions[edition_slug][1]
        at = stamp[edition_slug]
        buyers = [r for r in tree.registered if r[3]] or tree.registered
        met = exhibitors_at[tree.edition]
        year = start.year
        for n in range(1, tree.agreements + 1):
            registration, delegation, _org, _ = rng.choice(buyers)
            currency = weighted(rng, CURRENCIES)
            amount = Decimal(rng.randrange(1_000_000, 5_000_000_000)) / 100
            rate = RATES[currency]
            signed_on = start + datetime.timedelta(days=rng.randrange(6))
            key = len(agreements) + 1
            agreements.append(
                (
                    key,
                    f"{tree.slug.upper()}-{year}-{n:07d}",
                    delegation,
                    registration,
                    "purchase" if rng.random() < 0.9 else "strategic_cooperation",
                    rng.choice(sectors),
                    str(amount),
                    currency,
                    str((amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)),
                    str(rate),
                    start.isoformat(),
                    signed_on.isoformat(),
                    weighted(rng, AGREEMENT_STATUSES),
                    rng.random() < 0.7,
                    "",
                    at,
                    at,
                )
            )
            for exhibitor, _ in rng.sample(met, rng.choice((1, 1, 1, 2, 2, 3))):
                parties.append((len(parties) + 1, key, exhibitor))

    _follow_up(data, rng, plan, trees, editions, stamp, exhibitors_at, ciftis)
    return data


def _follow_up(
    data: Dataset,
    rng: random.Random,
    plan: Plan,
    trees: list[_Tree],
    editions: dict,
    stamp: dict,
    exhibitors_at: dict,
    ciftis: list[int],
) -> None:
    """Visits to exhibitors, and the investment intentions and CIFTIS pledges that
    come of them, in the trees' proportions."""
    weights = [tree.registrations for tree in trees]
    visits = data.table(
        "deals.Visit",
        (
            "id",
            "delegation_id",
            "organization_id",
            "visited_on",
            "investment_intention",
            "ciftis_interest",
            "notes",
            "created_at",
            "updated_at",
        ),
    )
    intentions = data.table(
        "deals.InvestmentIntention",
        (
            "id",
            "delegation_id",
            "organization_id",
            "sector_id",
            "amount",
            "currency",
            "stage",
            "notes",
            "created_at",
            "updated_at",
        ),
    )
    pledges = data.table(
        "deals.CiftisPledge",
        (
            "id",
            "target_edition_id",
            "organization_id",
            "source_delegation_id",
            "status",
            "pledged_on",
            "notes",
            "created_at",
            "updated_at",
        ),
    )
    pledged: set[tuple[int, int]] = set()
    for tree, n_visits, n_intentions, n_pledges in zip(
        trees,
        _shares(plan.visits, weights),
        _shares(plan.intentions, weights),
        _shares(plan.pledges, weights),
        strict=True,
    ):
        edition_slug = EDITIONS[tree.edition]
        start = editions[edition_slug][1]
        at = stamp[edition_slug]
        members = [tree.top, *tree.subs]
        met = exhibitors_at[tree.edition]
        visited = rng.sample(met, min(n_visits, len(met)))
        tree_visits = []
        for _exhibitor, org in visited:
            delegation = tree.top if rng.random() < 0.4 else rng.choice(members)
            tree_visits.append((delegation, org))
            visits.append(
                (
                    len(visits) + 1,
                    delegation,
                    org,
                    (start + datetime.timedelta(days=rng.randrange(6))).isoformat(),
                    False,
                    False,
                    "",
                    at,
                    at,
                )
            )
        # Intentions and pledges come from visited companies, each marked on its visit.
        index_of = {
            org: len(visits) - len(tree_visits) + i for i, (_, org) in enumerate(tree_visits)
        }
        for delegation, org in rng.sample(tree_visits, min(n_intentions, len(tree_visits))):
            row = list(visits[index_of[org]])
            row[4] = True
            visits[index_of[org]] = tuple(row)
            amount = Decimal(rng.randrange(1_000_000, 500_000_000, 10_000))
            intentions.append(
                (
                    len(intentions) + 1,
                    delegation,
                    org,
                    None,
                    str(amount),
                    "USD",
                    weighted(rng, INTENTION_STAGES),
                    "",
                    at,
                    at,
                )
            )
        target = ciftis[tree.edition]
        for delegation, org in rng.sample(tree_visits, min(n_pledges, len(tree_visits))):
            if (target, org) in pledged:
                continue
            pledged.add((target, org))
            row = list(visits[index_of[org]])
            row[5] = True
            visits[index_of[org]] = tuple(row)
            pledges.append(
                (
                    len(pledges) + 1,
                    target,
                    org,
                    delegation,
                    weighted(rng, PLEDGE_STATUSES),
                    (start + datetime.timedelta(days=rng.randrange(6))).isoformat(),
                    "",
                    at,
                    at,
                )
            )


# --- loading ------------------------------------------------------------------------------

# In the order foreign keys need.
LOAD_ORDER = [
    "delegations.Delegation",
    "delegations.Organization",
    "deals.Exhibitor",
    "delegations.Registration",
    "deals.Agreement",
    "deals.AgreementExhibitor",
    "deals.Visit",
    "deals.InvestmentIntention",
    "deals.CiftisPledge",
]


def _full_columns(label: str, columns: tuple[str, ...]) -> tuple[list[str], tuple]:
    """The table's columns: the generated ones, then every other concrete column with
    its default (a boolean False, an empty text, NULL), as a database value."""
    from django.apps import apps

    model = apps.get_model(label)
    names, extra = [], []
    given = set(columns)
    for f in model._meta.concrete_fields:
        if f.attname in given:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise BenchError(f"{label}.{f.attname}: no value generated and no default")
        names.append(f.column)
        extra.append(value)
    own = [
        model._meta.get_field(c.removesuffix("_id")).column
        if c.endswith("_id")
        else model._meta.get_field(c).column
        for c in columns
    ]
    return own + names, tuple(extra)


def _rows(rows: list[tuple], extra: tuple) -> Iterator[tuple]:
    if not extra:
        yield from rows
    else:
        for row in rows:
            yield row + extra


@dataclass
class LoadTiming:
    label: str
    rows: int
    seconds: float


def load(data: Dataset) -> list[LoadTiming]:
    """Write every table of `data` in one transaction: executemany on SQLite, COPY on
    PostgreSQL; then reset the key sequences and refresh the planner's statistics."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from delegations.search import indexes_serve, rebuilt_after_bulk_load

    timings = []
    with transaction.atomic():
        with rebuilt_after_bulk_load(connection):
            for label in LOAD_ORDER:
                model = apps.get_model(label)
                table = connection.ops.quote_name(model._meta.db_table)
                columns, extra = _full_columns(label, data.columns[label])
                rows = data.rows[label]
                start = time.perf_counter()
                # The table and column names are the models' own, quoted; the values are
                # parameters (COPY rows, executemany).
                with connection.cursor() as cursor:
                    names = ", ".join(connection.ops.quote_name(c) for c in columns)
                    if connection.vendor == "postgresql":
                        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                            for row in _rows(rows, extra):
                                copy.write_row(row)
                    else:
                        marks = ", ".join("?" * len(columns))
                        # (A bare nosec: bandit misreads one naming B608 on this line.)
                        insert = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # nosec
                        cursor.connection.executemany(insert, _rows(rows, extra))
                timings.append(LoadTiming(label, len(rows), time.perf_counter() - start))
            # SQLite's text indexes of the searches are filled from the rows loaded on
            # leaving the block, rather than by their triggers row by row
            # (delegations.search).
            start = time.perf_counter()
        if indexes_serve(connection):
            timings.append(LoadTiming("text indexes (rebuilt)", 0, time.perf_counter() - start))
        models = [apps.get_model(label) for label in LOAD_ORDER]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
    _setup.analyze()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return timings


# --- reference rows the dataset stands on ----------------------------------------------


def references(plan: Plan) -> dict:
    """The editions, sectors, exhibition areas, countries and CIFTIS editions the rows
    point at, made where missing (the second CIFTIS, the exchange rates)."""
    from django_countries import countries

    from deals.models import ExchangeRate, Sector
    from delegations.models import Edition, Fair

    editions = {e.slug: (e.pk, e.starts_on) for e in Edition.objects.filter(slug__in=EDITIONS)}
    if len(editions) != len(EDITIONS):
        raise BenchError(f"the editions {EDITIONS} are not all in the database: migrate first")
    ciftis_fair = Fair.objects.get(code="ciftis")
    ciftis_2021, _ = Edition.objects.get_or_create(
        slug="ciftis-2021",
        defaults={
            "fair": ciftis_fair,
            "number": 2,
            "year": 2021,
            "name_zh": "2021年中国国际服务贸易交易会",
            "name_en": "2021 China International Fair for Trade in Services",
            "starts_on": datetime.date(2021, 9, 2),
            "ends_on": datetime.date(2021, 9, 7),
        },
    )
    ciftis_2020 = Edition.objects.get(slug="ciftis-2020")
    for currency, rate in RATES.items():
        if currency != "USD":
            for _, day in editions.values():
                ExchangeRate.objects.get_or_create(
                    currency=currency,
                    valid_on=day,
                    defaults={"usd_per_unit": rate, "source": "bench"},
                )
    codes = [code for code, _ in countries if code != "CN"][:EXHIBITOR_COUNTRIES]
    return {
        "editions": editions,
        "areas": list(Sector.objects.filter(is_exhibition_area=True).values_list("pk", flat=True)),
        "sectors": list(
            Sector.objects.filter(is_exhibition_area=False)
            .order_by("position")
            .values_list("pk", flat=True)
        ),
        "countries": sorted(codes),
        # A pledge made at CIIE 2018 or 2019 is to CIFTIS 2020, one made at CIIE 2020 to 2021.
        "ciftis": [ciftis_2020.pk, ciftis_2020.pk, ciftis_2021.pk],
    }


def loaded_counts() -> dict[str, int]:
    from django.apps import apps

    return {label: apps.get_model(label).objects.count() for label in LOAD_ORDER}


def ensure_loaded(plan: Plan) -> tuple[dict[str, int], list[LoadTiming] | None, float]:
    """The dataset of `plan` in the database: loaded now into an empty one (timings
    returned), or found there already (None). Also the seconds generating took."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    counts = loaded_counts()
    if any(counts.values()):
        expected = plan.registrations
        if counts["delegations.Registration"] != expected:
            raise BenchError(
                f"the database holds {counts['delegations.Registration']:,} registrations, not "
                f"the {expected:,} of scale {plan.scale}: use another --db (or an empty one)"
            )
        return counts, None, 0.0
    say(f"generating the rows of scale {plan.scale} (seed {plan.seed}) ...")
    start = time.perf_counter()
    data = generate(plan, **references(plan))
    generated = time.perf_counter() - start
    say(f"{data.count():,} rows generated in {generated:.1f} s; loading on {connection.vendor} ...")
    timings = load(data)
    return loaded_counts(), timings, generated


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def configure(db: str | None) -> str:
    """Django set up on `db` (an SQLite file, kept) or on the DATABASE_URL of the
    environment (PostgreSQL); the database's label."""
    if db:
        path = Path(db).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    elif not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        raise BenchError(
            "name an SQLite file with --db (kept there for the next run), or run on "
            "PostgreSQL with DATABASE_URL=postgres://... (bash .ci/pg-test ... gives one)"
        )
    _setup.configure(None)
    return _setup.database_label()


def load_report(
    plan: Plan,
    counts: dict[str, int],
    timings: list[LoadTiming] | None,
    generated: float,
    label: str,
) -> list[str]:
    lines = [
        f"National dataset, scale {plan.scale} (seed {plan.seed}) on {label}: "
        f"{plan.delegations} delegations x {len(EDITIONS)} editions, "
        f"{SUB_DELEGATIONS} sub-delegations each",
    ]
    if timings is None:
        lines.append(
            "already loaded: "
            + ", ".join(f"{label.split('.')[1]} {n:,}" for label, n in counts.items())
        )
        return lines
    total_rows = sum(t.rows for t in timings)
    total_seconds = sum(t.seconds for t in timings)
    lines += [
        f"generated in {generated:.1f} s (Python, not part of the load)",
        "",
        f"{'table':28} {'rows':>10} {'seconds':>9} {'rows/s':>10}",
    ]
    for t in timings:
        lines.append(
            f"{t.label:28} {t.rows:10,} {t.seconds:9.2f} "
            + (f"{t.rows / t.seconds:10,.0f}" if t.rows and t.seconds else "")
        )
    lines.append(
        f"{'all':28} {total_rows:10,} {total_seconds:9.2f} {total_rows / total_seconds:10,.0f}"
    )
    return lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale",
        type=float,
        default=0.01,
        help="fraction of the whole expo: 0.01 (one city), 0.1, 1",
    )
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument(
        "--db",
        help="SQLite file to load into (kept; reused when it holds "
        "this scale); without it, the PostgreSQL of DATABASE_URL",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale is a fraction of the whole expo, more than 0 and at most 1")
    plan = Plan.of(args.scale, args.seed)
    try:
        label = configure(args.db)
        counts, timings, generated = ensure_loaded(plan)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    print("\n".join(load_report(plan, counts, timings, generated, label)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
