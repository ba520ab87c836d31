"""What the product costs on the national dataset (bench/national.py): the headline
figures of one delegation computed from scratch, every public list page and API list,
the admin's change lists for a reviewer, and the public headline page served from the
cache under gunicorn against a static file of the same size.

    .venv/bin/python bench/national_measure.py --scale 0.01 --db DIR/national-0.01.sqlite3
    bash .ci/pg-test .venv/bin/python bench/national_measure.py --scale 0.1

It loads the dataset first where the database does not hold it yet (see national.py),
then measures the delegation Beijing at CIIE 2019 and the lists across the whole expo.
Pages go through Django's test client (the whole request, middleware to template,
without a network); each figure is the median and the 95th percentile of `--repeat`
requests, and the SQL queries of the last one. `--skip-server` leaves out the gunicorn
part; `--only NAME` (repeatable) measures only the groups named.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import national
from bench._setup import BenchError

# Targets of issue 8.
TARGET_STATS_MS = 200  # the headline figures from scratch, on PostgreSQL
TARGET_LIST_P95_MS = 100  # each public list page and API list
TARGET_ADMIN_MS = 300  # each admin change list
TARGET_SERVER_SHARE = 0.5  # cached headline page: half the requests/s of a static file

REVIEWER = "bench-reviewer"
GROUPS = ("stats", "public", "api", "admin", "import", "server")


@dataclass
class Figure:
    group: str
    label: str
    median_ms: float
    p95_ms: float
    queries: int
    target_ms: float | None
    # What the target is compared with: "p95" or "median".
    on: str = "p95"

    @property
    def measured(self) -> float:
        return self.p95_ms if self.on == "p95" else self.median_ms

    @property
    def passed(self) -> bool | None:
        return None if self.target_ms is None else self.measured < self.target_ms


def say(message: str) -> None:
    national.say(message)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at or above `share` of them."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def timed(function: Callable[[], object], repeat: int) -> tuple[list[float], int]:
    """Milliseconds of each of `repeat` calls of `function`, and the SQL queries of the
    last one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return times, queries


def figure(
    group: str, label: str, times: list[float], queries: int, target: float | None, on: str = "p95"
) -> Figure:
    return Figure(
        group, label, statistics.median(times), percentile(times, 0.95), queries, target, on
    )


# --- setup -------------------------------------------------------------------------------


def measured_delegation():
    from delegations.models import Delegation

    slug, edition = national.MEASURED
    return Delegation.objects.select_related("edition__fair").get(slug=slug, edition__slug=edition)


def ensure_publication(delegation) -> None:
    """The public headline page shows published figures: publish them once."""
    from deals.models import Publication
    from deals.services import figures_publish

    if not Publication.objects.filter(delegation=delegation).exists():
        say("publishing the figures of the measured delegation ...")
        figures_publish(delegation=delegation, user=None, note="bench")


def reviewer():
    """A reviewer of the organizer's staff, who sees every delegation's records (the
    permission `delegations.view_all_delegations`): the admin's lists span the expo."""
    from django.contrib.auth.models import Group, Permission, User

    user, created = User.objects.get_or_create(username=REVIEWER, defaults={"is_staff": True})
    if created:
        group = Group.objects.get(name__contains="Reviewers")
        user.groups.add(group)
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="delegations", codename="view_all_delegations"
        )
    )
    if user.is_superuser:
        user.is_superuser = False
        user.save(update_fields=["is_superuser"])
    return user


# --- the groups of measurements -----------------------------------------------------------


def measure_stats(delegation, repeat: int) -> list[Figure]:
    """The headline figures and the headline page's breakdowns, from scratch (no cache)."""
    from deals.stats import agreements_by_sector, exhibitors_by_country, headline_figures

    say("stats: the headline figures from scratch ...")
    out = []
    for label, function, target in (
        ("headline figures (deals.stats.headline_figures)", headline_figures, TARGET_STATS_MS),
        ("agreements by sector", agreements_by_sector, None),
        ("exhibitors by country", exhibitors_by_country, None),
    ):
        # A fresh instance each time: nothing memoized on it between two runs.
        times, queries = timed(lambda f=function: f(delegation=measured_delegation()), repeat)
        out.append(figure("stats", label, times, queries, target, on="median"))
    return out


def get(client, path: str) -> Callable[[], None]:
    def run() -> None:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}")

    return run


def measure_pages(
    group: str, client, pages: list[tuple[str, str]], repeat: int, target: float
) -> list[Figure]:
    out = []
    for label, path in pages:
        say(f"{group}: {label} ...")
        get(client, path)()  # the first request fills caches and connections
        times, queries = timed(get(client, path), repeat)
        out.append(figure(group, f"{label}  {path}", times, queries, target))
    return out


def public_pages(delegation) -> list[tuple[str, str]]:
    base = f"/en/{delegation.edition.slug}/{delegation.slug}"
    return [
        ("home, cached", "/en/"),
        ("headline, cached", f"{base}/"),
        ("figures.json", f"{base}/figures.json"),
        ("organizations", f"{base}/organizations/"),
        ("organizations, filtered", f"{base}/organizations/?kind=private&purchaser=yes"),
        ("organizations, page 40", f"{base}/organizations/?page=40"),
        ("agreements", f"{base}/agreements/"),
        ("agreements, page 40", f"{base}/agreements/?page=40"),
        ("agreements, searched", f"{base}/agreements/?q=000123"),
        ("exhibitors", f"{base}/exhibitors/"),
        ("pledges", f"{base}/pledges/"),
        ("publications", f"{base}/publications/"),
        ("index of fairs", "/en/fairs/"),
        ("edition", f"/en/{delegation.edition.slug}/"),
    ]


def api_lists(delegation) -> list[tuple[str, str]]:
    from deals.models import Agreement
    from delegations.models import Registration

    d = delegation.pk
    # A page in the middle of the list, at most the 100th.
    agreements_page = max(1, min(100, Agreement.objects.count() // 100))
    registrations_page = max(1, min(100, Registration.objects.count() // 100))
    return [
        ("delegations", "/api/delegations/"),
        ("participants, all", "/api/participants/"),
        ("participants, one delegation", f"/api/participants/?delegation={d}"),
        (
            f"participants, page {registrations_page}",
            f"/api/participants/?page={registrations_page}",
        ),
        ("agreements, all", "/api/agreements/"),
        ("agreements, one delegation", f"/api/agreements/?delegation={d}"),
        (f"agreements, page {agreements_page}", f"/api/agreements/?page={agreements_page}"),
        ("agreements, searched", "/api/agreements/?q=000123"),
        ("exhibitors, one edition", f"/api/exhibitors/?edition={delegation.edition.slug}"),
        ("exhibitors, one delegation", f"/api/exhibitors/?delegation={d}"),
        ("pledges", "/api/pledges/"),
        ("publications", "/api/publications/"),
        ("statistics", f"/api/statistics/{delegation.edition.slug}/{delegation.slug}/"),
    ]


def admin_lists(delegation) -> list[tuple[str, str]]:
    e = delegation.edition_id
    return [
        ("registrations", "/admin/delegations/registration/"),
        ("registrations, one edition", f"/admin/delegations/registration/?delegation__edition={e}"),
        ("registrations, searched", "/admin/delegations/registration/?q=000123"),
        ("organizations", "/admin/delegations/organization/"),
        ("organizations, searched", "/admin/delegations/organization/?q=000123"),
        ("delegations", "/admin/delegations/delegation/"),
        ("agreements", "/admin/deals/agreement/"),
        ("agreements, one edition", f"/admin/deals/agreement/?delegation__edition={e}"),
        ("agreements, searched", "/admin/deals/agreement/?q=000123"),
        ("exhibitors", "/admin/deals/exhibitor/"),
        ("visits", "/admin/deals/visit/"),
        ("investment intentions", "/admin/deals/investmentintention/"),
        ("CIFTIS pledges", "/admin/deals/ciftispledge/"),
        ("dashboard (admin index)", "/admin/"),
    ]


# --- the server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"gunicorn did not listen on port {port} within {seconds:.0f} s")


def load_generator(url: str, *, seconds: int, connections: int) -> tuple[float, float]:
    """Requests a second and the mean latency (ms) of a GET of `url` under load, by wrk."""
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install -y wrk)")
    # wrk from PATH, checked just above, with arguments of our own. (A bare nosec:
    # bandit misreads one naming B603 and B607 on this line.)
    out = subprocess.run(  # nosec
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = latency = float("nan")
    errors = ""
    for line in out.splitlines():
        words = line.split()
        if line.startswith("Requests/sec:"):
            rate = float(words[1])
        elif words[:1] == ["Latency"] and len(words) > 1 and words[1][0].isdigit():
            latency = _ms(words[1])
        elif "Non-2xx" in line or "Socket errors" in line:
            errors += line.strip() + "; "
    if errors:
        raise BenchError(f"wrk on {url}: {errors}")
    return rate, latency


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def import_population(delegation):
    """The measured delegation's buyers (registered in it, not withdrawn), its
    edition's exhibitors and the sectors, as an Agreements sheet names them."""
    from deals.models import Exhibitor, Sector
    from delegations.models import Registration, RegistrationStatus

    buyers = list(
        Registration.objects.filter(delegation=delegation)
        .exclude(status=RegistrationStatus.WITHDRAWN)
        .order_by("pk")
        .values_list("organization__name_zh", "organization__name_en", "organization__kind")
    )
    exhibitors = list(
        Exhibitor.objects.filter(edition=delegation.edition)
        .order_by("pk")
        .values_list(
            "pk", "organization__name_zh", "organization__name_en", "organization__country"
        )
    )
    return national._setup.Population(
        delegation_id=delegation.pk,
        buyers=buyers,
        registrations=[],
        exhibitors=[(zh, en, country, "") for _, zh, en, country in exhibitors],
        exhibitor_ids=[pk for pk, *_ in exhibitors],
        sectors=list(Sector.objects.order_by("position").values_list("pk", "name_zh")),
    )


def measure_import(delegation, *, rows: int, seed: int) -> list[str]:
    """An Agreements sheet of `rows` new agreements of the measured delegation, in the
    clerks' format (CSV and XLSX, bench/_setup.py), previewed (a dry run, as a clerk
    sees it first) and imported into the national database, each timed. Every import
    is rolled back afterwards, so that the dataset stays as it was loaded, and the
    planner's statistics are refreshed again (ANALYZE's counts outlive a rollback)."""
    from django.db import transaction

    from deals.importer import import_file
    from deals.models import Agreement

    setup = national._setup
    population = import_population(delegation)
    sheet = setup.agreement_rows(population, rows, seed=seed)
    before = Agreement.objects.count()
    files = {
        "CSV": ("Agreements.csv", setup.agreements_csv(population, sheet)),
        "XLSX": ("Agreements.xlsx", setup.agreements_xlsx(population, sheet)),
    }
    lines = [
        f"import: {rows:,} new agreements of {delegation} into {before:,} on record, "
        f"{len(population.buyers):,} buyers, {len(population.exhibitors):,} exhibitors"
    ]
    for kind, (filename, data) in files.items():
        for dry_run in (True, False):
            step = "preview (dry run)" if dry_run else "import"
            say(f"import: {kind}, {step} of {rows:,} rows ...")
            with transaction.atomic():
                start = time.perf_counter()
                result = import_file(data, filename=filename, dry_run=dry_run)
                seconds = time.perf_counter() - start
                counts = result.sheets.get("Agreements")
                created = counts.created if counts else 0
                if not result.ok or created != rows:
                    shown = "; ".join(str(error) for error in result.errors[:5])
                    raise BenchError(
                        f"the {kind} {step} created {created:,} of {rows:,} rows: {shown}"
                    )
                if not dry_run and Agreement.objects.count() != before + rows:
                    raise BenchError(f"the {kind} import did not store its {rows:,} rows")
                transaction.set_rollback(True)
            lines.append(
                f"  {kind:5} {step:18} {seconds:7.1f} s  {rows / seconds:8,.0f} rows/s  "
                f"({len(data) / 1e6:.1f} MB)"
            )
    setup.analyze()
    return lines


@dataclass
class ServerShare:
    """The cached headline page's requests a second against a static file's."""

    lines: list[str]
    passed: bool


def measure_server(
    delegation, *, static_root: Path, workers: int, seconds: int, connections: int
) -> ServerShare:
    """The cached public headline page and a static file of its size, each under wrk,
    from the same gunicorn. The target compares the page with the file as this server
    gives it: from `STATIC_ROOT`, by WhiteNoise, the site's own static file server
    (docs/operations.md), through the same WSGI handler and the middleware before the
    page cache. The same bytes answered by a bare WSGI function in front of Django
    (no handler, no middleware: the least any Python server can do) are measured too,
    for scale."""
    from django.conf import settings
    from django.test import Client

    path = f"/en/{delegation.edition.slug}/{delegation.slug}/"
    body = Client().get(path).content
    directory = Path(tempfile.mkdtemp(prefix="expo-bench-static-"))
    (directory / "headline.html").write_bytes(body)
    # Beside the collected files, before gunicorn starts: WhiteNoise lists them then.
    (static_root / "bench-headline.html").write_bytes(body)
    port = free_port()
    env = dict(os.environ, BENCH_STATIC_DIR=str(directory), ALLOWED_HOSTS="127.0.0.1")
    env.setdefault("CONN_MAX_AGE", "60")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(national._setup.ROOT),
        "bench.static_wsgi:application",
    ]
    say(
        f"server: gunicorn, {workers} workers, wrk {connections} connections for "
        f"{seconds} s a URL ..."
    )
    # Our own gunicorn command line, nothing read from outside. (A bare nosec: bandit
    # misreads one naming B603 on this line.)
    server = subprocess.Popen(command, env=env, start_new_session=True)  # nosec
    base = f"http://127.0.0.1:{port}"
    urls = {
        "static file, WhiteNoise": f"{base}{settings.STATIC_URL}bench-headline.html",
        "static file, bare WSGI": f"{base}/bench-static/headline.html",
        "headline page, cached": f"{base}{path}",
    }
    try:
        wait_for(port)
        results = {}
        for label, url in urls.items():
            load_generator(url, seconds=2, connections=connections)  # warm every worker
            results[label] = load_generator(url, seconds=seconds, connections=connections)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)
    static_rate = results["static file, WhiteNoise"][0]
    bare_rate = results["static file, bare WSGI"][0]
    page_rate = results["headline page, cached"][0]
    share = page_rate / static_rate
    passed = share >= TARGET_SERVER_SHARE
    lines = [
        f"gunicorn {workers} sync workers, wrk 1 thread {connections} connections, {seconds} s "
        f"each, on loopback; body {len(body):,} bytes",
        *(
            f"  {label:34} {rate:9,.0f} requests/s  mean {ms:6.2f} ms"
            for label, (rate, ms) in results.items()
        ),
        f"  page / static file (WhiteNoise): {share:.0%} (target >= {TARGET_SERVER_SHARE:.0%})  "
        + ("PASS" if passed else "MISS"),
        f"  page / static file (bare WSGI): {page_rate / bare_rate:.0%}",
    ]
    return ServerShare(lines, passed)


# --- the report ---------------------------------------------------------------------------


def table(figures: list[Figure]) -> list[str]:
    lines = [f"{'':64} {'median':>8} {'p95':>8} {'queries':>7}  target"]
    group = None
    for f in figures:
        if f.group != group:
            group = f.group
            lines += ["", f"[{group}]"]
        verdict = ""
        if f.target_ms is not None:
            verdict = f"{f.on} < {f.target_ms:.0f} ms {'PASS' if f.passed else 'MISS'}"
        lines.append(
            f"  {f.label[:62]:62} {f.median_ms:8.1f} {f.p95_ms:8.1f} {f.queries:7d}  {verdict}"
        )
    return lines


def machine_lines() -> list[str]:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [f"CPU: {os.cpu_count()} logical; load average (1, 5, 15 min) {load}"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    national.add_arguments(parser)
    parser.add_argument("--repeat", type=int, default=20, help="requests per page (20)")
    parser.add_argument("--only", action="append", choices=GROUPS, help="measure only these")
    parser.add_argument("--skip-server", action="store_true", help="no gunicorn and wrk")
    # As docs/operations.md advises a deployment: about two workers a core.
    workers = 2 * (os.cpu_count() or 1)
    parser.add_argument(
        "--workers", type=int, default=workers, help=f"gunicorn workers ({workers}: two a core)"
    )
    parser.add_argument("--seconds", type=int, default=10, help="wrk seconds a URL (10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of the imported sheet (100,000)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = national.Plan.of(args.scale, args.seed)
    # The test client's host name; the public API's throttle would stop the benchmark.
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["API_PUBLIC_RATE"] = "1000000/minute"
    os.environ["API_STAFF_RATE"] = "1000000/minute"
    # The test client and wrk speak plain HTTP; with DEBUG off the settings redirect it.
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    groups = set(args.only or GROUPS)
    if args.skip_server:
        groups.discard("server")
    started = time.monotonic()
    # The pages' static files, collected for this run as a deployment collects them
    # (the pages name them by their hashed names): the project's own collection may be
    # missing or stale, and the server part serves a file from here.
    static_root = Path(tempfile.mkdtemp(prefix="expo-bench-static-root-"))
    os.environ["STATIC_ROOT"] = str(static_root)
    server: ServerShare | None = None
    try:
        label = national.configure(args.db)
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
        counts, timings, generated = national.ensure_loaded(plan)
        lines = national.load_report(plan, counts, timings, generated, label)
        lines += machine_lines()
        from django.test import Client

        delegation = measured_delegation()
        ensure_publication(delegation)
        # As the site's WSGI module does once started (expo_site/wsgi.py): what the
        # set-up made (the generated rows too) is kept out of the full collections.
        gc.collect()
        gc.freeze()
        figures: list[Figure] = []
        if "stats" in groups:
            figures += measure_stats(delegation, args.repeat)
        if "public" in groups:
            figures += measure_pages(
                "public", Client(), public_pages(delegation), args.repeat, TARGET_LIST_P95_MS
            )
        if "api" in groups:
            figures += measure_pages(
                "api", Client(), api_lists(delegation), args.repeat, TARGET_LIST_P95_MS
            )
        if "admin" in groups:
            client = Client()
            client.force_login(reviewer())
            figures += measure_pages(
                "admin", client, admin_lists(delegation), args.repeat, TARGET_ADMIN_MS
            )
        lines += [
            "",
            f"Beijing at CIIE 2019 (delegation {delegation.pk}); ms over "
            f"{args.repeat} requests each",
        ]
        lines += table(figures)
        if "import" in groups:
            lines += ["", *measure_import(delegation, rows=args.import_rows, seed=args.seed)]
        if "server" in groups:
            server = measure_server(
                delegation,
                static_root=static_root,
                workers=args.workers,
                seconds=args.seconds,
                connections=args.connections,
            )
            lines += ["", *server.lines]
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
    missed = [f"{f.label.split('  ')[0]} [{f.group}]" for f in figures if f.passed is False]
    if server is not None and not server.passed:
        missed.append("cached page against a static file [server]")
    lines += [
        "",
        f"targets missed: {len(missed)}" + (" (" + "; ".join(missed) + ")" if missed else ""),
        "load average at the end: "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + f"; wall time {time.monotonic() - started:.0f} s",
    ]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps([f.__dict__ for f in figures], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
