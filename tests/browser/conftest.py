"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

The browser is the system's `chromium`; Playwright's own browser downloads are never used.
Where Chromium (or Playwright) is missing the tests are skipped and the run says so at its
end; with REQUIRE_BROWSER=1 (as CI sets it) a missing browser is an error instead.
BROWSER_SCREENSHOTS names a directory where every visited page is saved as a PNG.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deals.models import AgreementStatus
from deals.services import figures_publish
from delegations.models import OrganizationKind, RegistrationStatus
from tests import factories
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExhibitorFactory,
    OrganizationFactory,
    RegistrationFactory,
)

# The machine's network may be closed: without the background-networking flags Chromium
# keeps dialling update, sync and component servers and floods the log with refusals.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}

# Why the browser tests were skipped in this run, for the closing summary.
_skipped_because: list[str] = []


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if shutil.which("chromium") is None:
        return "no Chromium on PATH (Debian: apt-get install chromium fonts-noto-cjk)"
    return None


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped_because:
        terminalreporter.write_line(
            f"BROWSER TESTS SKIPPED: {_skipped_because[0]}; "
            "set REQUIRE_BROWSER=1 to make that a failure.",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="module", autouse=True)
def chromium_executable() -> str:
    """The system's Chromium; decided before any data is made for the tests."""
    reason = _unavailable()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests cannot run: {reason}, and REQUIRE_BROWSER=1")
        if not _skipped_because:
            _skipped_because.append(reason)
        pytest.skip(reason)
    return shutil.which("chromium")


@pytest.fixture
def browser(chromium_executable) -> Iterator:
    """Chromium, started for one test and closed after it.

    Playwright's sync API keeps an asyncio event loop running in the test's thread while it
    is started. Django then treats that thread as async: the ORM raises
    SynchronousOnlyOperation, and asgiref hands out a second, context-local set of database
    connections there, which lack the test database's serialized contents and stay open
    on PostgreSQL. DJANGO_ALLOW_ASYNC_UNSAFE would silence the first and hide the second,
    so instead nothing touches the database while the browser runs: the data is made by
    fixtures set up before this one (`page` depends on `population`), the pages are
    served by the live server's own thread, and the flush between tests comes after this
    fixture has stopped Playwright. A browser started per test costs about a second.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _site_default_language(_english_by_default, settings) -> None:
    """The browser sees the site as visitors do: Chinese without a prefix, whatever the
    other tests' English default."""
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def page(live_server, django_db_serialized_rollback, population, browser) -> Iterator:
    """A desktop-sized page of a fresh browser context, on the live server.

    The migrations' reference data (fairs, editions, sectors) is restored before each
    test (serialized rollback): the live server needs committed data, so every browser test
    is transactional, and the flush after one would otherwise empty those tables for the
    next.
    """
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(5_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def screenshot() -> Callable:
    """`screenshot(page, name)` saves the whole page to $BROWSER_SCREENSHOTS/<name>.png."""
    directory = os.environ.get("BROWSER_SCREENSHOTS")

    def save(page, name: str) -> None:
        if not directory:
            return
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        filename = re.sub(r"[^\w.-]+", "-", name) + ".png"
        # The checks leave the skip link focused, and shown over the site's name.
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.screenshot(path=path / filename, full_page=True)

    return save


@dataclass(frozen=True)
class Population:
    """What the tests expect to see, counted while the data was made."""

    agreements: int  # Beijing at CIIE 2019, its sub-delegation included, cancelled left out
    agreements_2018: int  # Beijing at CIIE 2018
    registrations: int  # Beijing at CIIE 2019, withdrawn left out
    state_owned: int  # of those registrations, organizations of that kind


@pytest.fixture
def population(transactional_db) -> Population:
    """A small Beijing delegation at CIIE 2018 and 2019, with a district sub-delegation:
    enough for every page to have something to show, small enough to make in a moment."""
    bj_2018 = DelegationFactory(edition=factories.edition("ciie-2018"))
    previous = [
        AgreementFactory(registration=RegistrationFactory(delegation=bj_2018)) for _ in range(2)
    ]

    beijing = DelegationFactory(edition=factories.edition("ciie-2019"))
    haidian = DelegationFactory(
        edition=beijing.edition, parent=beijing, slug="haidian", name_zh="海淀区", name_en="Haidian"
    )
    buyers = [
        RegistrationFactory(
            delegation=beijing,
            participants=participants,
            organization=OrganizationFactory(name_zh=zh, name_en=en, kind=kind),
        )
        for zh, en, kind, participants in [
            ("小米科技有限责任公司", "Xiaomi Technology Co., Ltd.", OrganizationKind.PRIVATE, 12),
            (
                "北京京东世纪贸易有限公司",
                "Beijing Jingdong Century Trading Co., Ltd.",
                OrganizationKind.PRIVATE,
                30,
            ),
            (
                "北京首都旅游集团有限责任公司",
                "Beijing Tourism Group",
                OrganizationKind.STATE_OWNED,
                8,
            ),
            (
                "三星（中国）投资有限公司",
                "Samsung (China) Investment Co., Ltd.",
                OrganizationKind.FOREIGN_FUNDED,
                5,
            ),
        ]
    ]
    RegistrationFactory(
        delegation=beijing,
        is_purchaser=False,
        organization=OrganizationFactory(
            name_zh="北京市贸促会", name_en="CCPIT Beijing", kind=OrganizationKind.GOVERNMENT
        ),
    )
    RegistrationFactory(delegation=beijing, status=RegistrationStatus.WITHDRAWN)
    district_buyer = RegistrationFactory(delegation=haidian)

    exhibitors = [
        ExhibitorFactory(
            edition=beijing.edition,
            organization=OrganizationFactory(
                name_zh=zh, name_en=en, kind=OrganizationKind.FOREIGN, country=country
            ),
        )
        for zh, en, country in [
            ("博柏利", "Burberry", "GB"),
            ("资生堂", "Shiseido", "JP"),
            ("达能", "Danone", "FR"),
        ]
    ]
    for index, buyer in enumerate(buyers):
        AgreementFactory(registration=buyer, exhibitors=[exhibitors[index % len(exhibitors)]])
    AgreementFactory(registration=buyers[0], exhibitors=exhibitors[1:])
    AgreementFactory(registration=district_buyer, exhibitors=[exhibitors[0]])
    AgreementFactory(registration=buyers[1], status=AgreementStatus.CANCELLED)
    CiftisPledgeFactory(source_delegation=beijing)
    figures_publish(delegation=bj_2018, user=None)
    figures_publish(delegation=beijing, user=None)

    return Population(
        agreements=len(buyers) + 2,
        agreements_2018=len(previous),
        registrations=len(buyers) + 2,
        state_owned=1,
    )
