"""The public site in a real browser: what a visitor sees, clicks and downloads.

Nothing here touches the database (see `browser` in conftest.py): what the pages should
show comes from `population`, counted when the data was made.
"""

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import translation

from delegations.models import Delegation

from .conftest import DESKTOP, PHONE, Population

pytestmark = pytest.mark.browser

BEIJING_2019 = {"edition": "ciie-2019", "delegation": "beijing"}
LANGUAGES = ["zh-hans", "en"]


def url(name: str, language: str, **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def number_in(text: str, number: int) -> bool:
    """Whether `number` stands in `text` on its own, not as part of a longer number."""
    return re.search(rf"(?<![\d,]){number}(?![\d,])", text) is not None


def count_on(page) -> int:
    """The number of records the list says it matched."""
    element = page.locator("[data-count]").first
    value = element.get_attribute("data-count") or element.inner_text()
    return int(re.sub(r"\D", "", value))


def record_rows(page):
    """The rows of the list's own table (a page may hold summary tables too)."""
    return page.locator("table[data-records] tbody tr")


def assert_page_basics(page, language: str) -> None:
    """Call right after a page has loaded, before anything else took the focus."""
    assert (page.locator("html").get_attribute("lang") or "").lower() == language
    assert page.locator("h1").count() == 1
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    assert "skip-link" in focused[0].split(), f"Tab reached {focused} first"
    assert focused[1] == "#content"
    assert page.locator("#content").count() == 1


def assert_fits_a_phone(page) -> None:
    page.set_viewport_size(PHONE)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"scrolls sideways: {scroll_width}px wide"


@pytest.mark.parametrize("language", LANGUAGES)
def test_home_page_shows_the_headline_figures_in_each_language(
    page, screenshot, population, language
):
    page.goto(url("deals:home", language))

    assert_page_basics(page, language)
    agreements = page.locator("a.figure-link[data-figure=agreements]")
    assert agreements.count() == 1
    assert number_in(agreements.inner_text(), population.agreements)
    assert page.locator("a.figure-link[data-figure=companies_signed]").count() == 1
    assert page.locator(".notice-illustrative").count() == 0
    screenshot(page, f"home-{language}-1280")

    assert_fits_a_phone(page)
    screenshot(page, f"home-{language}-375")


def test_headline_page_of_the_delegation_shows_its_figures(page, screenshot, population):
    page.goto(url("deals:headline", "zh-hans", **BEIJING_2019))

    assert_page_basics(page, "zh-hans")
    agreements = page.locator("a.figure-link[data-figure=agreements]")
    assert number_in(agreements.inner_text(), population.agreements)
    screenshot(page, "headline-zh-hans")


@pytest.fixture
def demo_population(population) -> Population:
    """The same records, marked as the illustrative demo population. Ask for it before
    `page`: once the browser runs, the database may not be touched (conftest.py)."""
    for delegation in Delegation.objects.filter(slug="beijing"):
        delegation.illustrative = True
        delegation.save()
    return population


def test_pages_over_demo_records_say_the_data_is_illustrative(demo_population, page, screenshot):
    page.goto(url("deals:headline", "en", **BEIJING_2019))

    assert page.locator(".notice-illustrative").is_visible()
    page.goto(url("delegations:organizations", "zh-hans", **BEIJING_2019))
    assert page.locator(".notice-illustrative").is_visible()
    screenshot(page, "organizations-zh-hans-illustrative")


def test_a_figure_leads_to_the_records_behind_it(page, screenshot, population):
    page.goto(url("deals:home", "en"))

    page.locator("a.figure-link[data-figure=agreements]").click()

    page.wait_for_url(re.compile(r"/agreements/"))
    assert urlsplit(page.url).path == url("deals:agreements", "en", **BEIJING_2019)
    assert_page_basics(page, "en")
    assert count_on(page) == population.agreements
    assert record_rows(page).count() == population.agreements
    screenshot(page, "agreements-en")


def test_every_list_page_is_labelled_and_skippable(page, screenshot, population):
    for language in LANGUAGES:
        for name in [
            "delegations:organizations",
            "deals:agreements",
            "deals:exhibitors",
            "deals:pledges",
        ]:
            page.goto(url(name, language, **BEIJING_2019))
            assert_page_basics(page, language)
            assert record_rows(page).count() > 0, f"{page.url} lists nothing"
            screenshot(page, f"{name.split(':')[1]}-{language}")


def test_organization_list_filters_by_search_kind_and_purchaser(page, screenshot, population):
    page.goto(url("delegations:organizations", "en", **BEIJING_2019))
    assert count_on(page) == population.registrations
    filters = page.locator("form.filters")

    filters.locator("[name=q]").fill("Xiaomi")
    filters.locator("[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]q=Xiaomi"))

    assert_page_basics(page, "en")
    assert count_on(page) == 1
    assert record_rows(page).count() == 1
    assert "Xiaomi" in record_rows(page).first.inner_text()
    screenshot(page, "organizations-en-search")

    filters.locator("[name=q]").fill("")
    filters.locator("[name=kind]").select_option("state_owned")
    filters.locator("[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]kind=state_owned"))

    assert count_on(page) == population.state_owned
    assert "Beijing Tourism Group" in record_rows(page).first.inner_text()

    filters.locator("[name=kind]").select_option("")
    filters.locator("[name=purchaser]").select_option("no")
    filters.locator("[type=submit]").click()
    page.wait_for_url(re.compile(r"[?&]purchaser=no"))

    assert count_on(page) == 1
    assert "CCPIT Beijing" in record_rows(page).first.inner_text()


def test_organization_list_fits_a_phone(page, screenshot, population):
    page.set_viewport_size(PHONE)
    page.goto(url("delegations:organizations", "zh-hans", **BEIJING_2019))

    assert_page_basics(page, "zh-hans")
    assert_fits_a_phone(page)
    screenshot(page, "organizations-zh-hans-375")


def test_language_switcher_keeps_the_page_and_its_filters(page, screenshot, population):
    english = url("delegations:organizations", "en", **BEIJING_2019)
    chinese = url("delegations:organizations", "zh-hans", **BEIJING_2019)
    page.goto(f"{english}?q=Xiaomi")

    page.locator("nav.language-switcher a[hreflang=zh-hans]").click()

    page.wait_for_url(re.compile(re.escape(chinese) + r"\?"))
    assert urlsplit(page.url).path == chinese
    assert parse_qs(urlsplit(page.url).query) == {"q": ["Xiaomi"]}
    assert_page_basics(page, "zh-hans")
    assert "小米科技有限责任公司" in record_rows(page).first.inner_text()
    screenshot(page, "organizations-zh-hans-search")

    page.locator("nav.language-switcher a[hreflang=en]").click()

    page.wait_for_url(re.compile(re.escape(english) + r"\?"))
    assert parse_qs(urlsplit(page.url).query) == {"q": ["Xiaomi"]}
    assert (page.locator("html").get_attribute("lang") or "").lower() == "en"


def test_organization_list_downloads_as_csv(page, population):
    page.goto(url("delegations:organizations", "en", **BEIJING_2019))

    with page.expect_download() as download_info:
        page.locator("a[data-download=csv]").first.click()

    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    header, records = rows[0], rows[1:]
    assert header
    assert len(records) == population.registrations
    assert any("Xiaomi Technology Co., Ltd." in row for row in records)


def test_headline_figures_download_as_json_with_the_page_numbers(page, population):
    page.set_viewport_size(DESKTOP)
    page.goto(url("deals:headline", "en", **BEIJING_2019))

    href = page.locator("a[data-download=json]").first.get_attribute("href")
    response = page.request.get(href)

    assert response.ok
    figures = json.loads(response.text())
    assert figures["agreements"]["value"] == population.agreements
    assert figures["agreements"]["previous"] == population.agreements_2018


def test_agreement_csv_has_a_row_for_every_listed_agreement(page, population):
    page.goto(url("deals:agreements", "en", **BEIJING_2019))

    href = page.locator("a[data-download=csv]").first.get_attribute("href")
    response = page.request.get(href)

    assert response.ok
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text().lstrip("\ufeff"))))
    assert len(rows) == 1 + population.agreements


# Every element's own text against the background it is drawn on, as the browser
# computes both, by WCAG 2 relative luminance: 4.5:1, or 3:1 for large text (24 px, or
# 18.66 px bold). SVG is left out: the charts' colours are checked in test_charts.py.
LOW_CONTRAST = """() => {
  const rgb = (text) => {
    const parts = (text.match(/rgba?\\(([^)]+)\\)/) || [])[1];
    if (!parts) return null;
    const [r, g, b, a = 1] = parts.split(',').map(Number);
    return {r, g, b, a};
  };
  const luminance = ({r, g, b}) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ground = (element) => {
    for (; element; element = element.parentElement) {
      const colour = rgb(getComputedStyle(element).backgroundColor);
      if (colour && colour.a > 0) return colour;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const found = [];
  for (const element of document.querySelectorAll('body *')) {
    if (element.closest('svg')) continue;
    const text = [...element.childNodes].filter((n) => n.nodeType === 3)
      .map((n) => n.textContent.trim()).join('');
    const box = element.getBoundingClientRect();
    if (!text || box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(element);
    const [a, b] = [luminance(rgb(style.color)), luminance(ground(element))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      found.push(`${element.tagName} "${text.slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
  }
  return found;
}"""


def test_every_text_on_every_page_has_enough_contrast(demo_population, page):
    for language in LANGUAGES:
        for name in [
            "deals:headline",
            "delegations:organizations",
            "deals:agreements",
            "deals:exhibitors",
            "deals:pledges",
        ]:
            page.goto(url(name, language, **BEIJING_2019))
            assert page.evaluate(LOW_CONTRAST) == [], page.url
        page.goto(url("delegations:index", language))
        assert page.evaluate(LOW_CONTRAST) == [], page.url
