"""How long the public pages take, and how many SQL queries they run, on a small and on
a large delegation: the same pages measured after importing `--small` agreements and
again after growing the same delegation to `--rows` agreements.

    .venv/bin/python bench/public_pages.py [--small 2000] [--rows 200000]
    bash .ci/pg-test .venv/bin/python bench/public_pages.py --rows 200000

Run it from the project root. Like `import_agreements.py` it configures Django itself
(DEBUG off) on a new SQLite file, or on the empty PostgreSQL database DATABASE_URL
names. The headline figures are measured with the cache emptied before each request
(cold) and with it filled (warm); lists and downloads do not use the cache. Each
figure is the median of `--repeat` requests through Django's test client, so it
includes the whole request (middleware, view, template) but not a network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup
from bench._setup import BenchError

BASE = f"/en/{_setup.EDITION_SLUG}/{_setup.DELEGATION_SLUG}"
PAGES = [
    ("home, cold cache", "/en/", True),
    ("home, warm cache", "/en/", False),
    ("headline, cold cache", f"{BASE}/", True),
    ("headline, warm cache", f"{BASE}/", False),
    ("figures.json, warm cache", f"{BASE}/figures.json", False),
    ("organizations", f"{BASE}/organizations/", False),
    ("organizations, filtered", f"{BASE}/organizations/?kind=private&purchaser=yes", False),
    ("agreements", f"{BASE}/agreements/", False),
    ("agreements, page 40", f"{BASE}/agreements/?page=40", False),
    ("agreements, searched", f"{BASE}/agreements/?q=Co", False),
    ("exhibitors", f"{BASE}/exhibitors/", False),
    ("pledges", f"{BASE}/pledges/", False),
    ("index of fairs", "/en/fairs/", False),
]
DOWNLOAD = ("agreements.csv, every row", f"{BASE}/agreements.csv")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def import_agreements(population, rows) -> None:
    from deals.importer import import_file

    result = import_file(
        _setup.agreements_csv(population, rows), filename="Agreements.csv", dry_run=False
    )
    if result.errors:
        raise BenchError(f"the import answered with errors: {result.errors[:3]}")


def measure(path: str, *, cold: bool, repeat: int) -> tuple[float, int, int]:
    """Median milliseconds, SQL queries and bytes of a GET of `path`."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if not cold:
        client.get(path)  # fills the cache
    times, queries, size = [], 0, 0
    for _ in range(repeat):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}")
        queries, size = len(captured), len(body)
    return statistics.median(times), queries, size


def measure_all(label: str, repeat: int) -> dict[str, tuple[float, int, int]]:
    say(f"measuring the pages at {label} ...")
    figures = {name: measure(path, cold=cold, repeat=repeat) for name, path, cold in PAGES}
    name, path = DOWNLOAD
    figures[name] = measure(path, cold=False, repeat=1)
    return figures


def counts() -> tuple[int, int]:
    from deals.models import Agreement
    from delegations.models import Registration

    return Agreement.objects.count(), Registration.objects.count()


def report(small: dict, large: dict, sizes: tuple[tuple[int, int], tuple[int, int]]) -> list[str]:
    (small_agreements, small_regs), (large_agreements, large_regs) = sizes
    lines = [
        f"Public pages on {_setup.database_label()}: median of the requests, in ms, and the "
        "SQL queries each ran",
        f"small: {small_agreements:,} agreements, {small_regs:,} registrations; "
        f"large: {large_agreements:,} agreements, {large_regs:,} registrations",
        "",
        f"{'page':32} {'small ms':>9} {'queries':>8} {'large ms':>9} {'queries':>8}",
    ]
    same = True
    for name in small:
        (s_ms, s_q, _), (l_ms, l_q, _) = small[name], large[name]
        lines.append(f"{name:32} {s_ms:9.1f} {s_q:8d} {l_ms:9.1f} {l_q:8d}")
        if not name.startswith("agreements.csv"):
            same &= s_q == l_q
    download_ms, _, download_size = large[DOWNLOAD[0]]
    lines += [
        "",
        f"the large download: {download_size / 1e6:.1f} MB in {download_ms / 1000:.1f} s "
        f"({large_agreements / (download_ms / 1000):,.0f} agreements/s, streamed)",
        "every page ran the same number of queries at both sizes: " + ("yes" if same else "NO"),
    ]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=2_000, help="agreements at first")
    parser.add_argument("--rows", type=int, default=200_000, help="agreements at the end")
    parser.add_argument("--buyers", type=int, default=5_000)
    parser.add_argument("--exhibitors", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=7, help="requests per page")
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="postgres"
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "sqlite",
    )
    args = parser.parse_args(argv)
    if not 0 < args.small < args.rows:
        parser.error("--small must be positive and smaller than --rows")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The test client's host name.
    os.environ["ALLOWED_HOSTS"] = "testserver"
    database_dir = None
    try:
        database_dir = _setup.configure(args.database)
        _setup.migrate()
        say(f"setup: {args.buyers:,} registered buyers, {args.exhibitors:,} exhibitors ...")
        population = _setup.populate(buyers=args.buyers, exhibitors=args.exhibitors, seed=args.seed)
        rows = _setup.agreement_rows(population, args.rows, seed=args.seed)
        say(f"importing {args.small:,} agreements ...")
        import_agreements(population, rows[: args.small])
        _setup.analyze()
        small_size = counts()
        small = measure_all("the small size", args.repeat)
        say(f"importing {args.rows - args.small:,} more agreements ...")
        import_agreements(population, rows[args.small :])
        _setup.analyze()
        large_size = counts()
        large = measure_all("the large size", args.repeat)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    finally:
        if database_dir is not None:
            shutil.rmtree(database_dir, ignore_errors=True)
    print("\n".join(report(small, large, (small_size, large_size))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
