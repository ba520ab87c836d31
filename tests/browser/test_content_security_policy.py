"""The pages satisfy the site's Content-Security-Policy in a real browser: no script,
style or other resource is refused, on the public pages, the back office and the API's
documentation.

Chromium reports each refusal as a `securitypolicyviolation` event and a console
message; a script added before any page script listens for the events.
"""

from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import translation

from deals.models import Agreement
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
      + ` at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""
# Redoc's footer shows its maker's logo from the maker's server, whatever its options:
# the policy refusing it is the policy at work (the page loads nothing from elsewhere),
# and Redoc then leaves the image out.
REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"
PASSWORD = "a-long-enough-browser-password"


@dataclass(frozen=True)
class BackOffice:
    username: str
    agreement: int  # the pk of an agreement, for its change and history pages


@pytest.fixture
def back_office(population) -> BackOffice:
    user = UserFactory(username="csp-admin", is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return BackOffice(username=user.username, agreement=Agreement.objects.first().pk)


def watch(page) -> list[str]:
    """Start collecting the page's policy violations; returns the console's share."""
    page.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return console


def violations(page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__violations || []"), *console]


def public_urls() -> list[str]:
    beijing = {"edition": "ciie-2019", "delegation": "beijing"}
    urls = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            urls += [
                reverse("deals:home"),
                reverse("deals:headline", kwargs=beijing),
                reverse("deals:agreements", kwargs=beijing),
                reverse("deals:exhibitors", kwargs=beijing),
                reverse("deals:pledges", kwargs=beijing),
                reverse("delegations:index"),
            ]
    return urls


def test_public_pages_break_no_rule_of_the_policy(page):
    console = watch(page)

    for url in public_urls():
        page.goto(url)
        page.wait_for_load_state("load")
        assert violations(page, console) == [], f"{url}: {violations(page, console)}"


def test_api_documentation_breaks_no_rule_of_the_policy(page):
    console = watch(page)

    for url, ready in [("/api/docs/", ".swagger-ui .info"), ("/api/redoc/", ".api-content")]:
        page.goto(url)
        page.wait_for_selector(ready, timeout=15_000)
        found = [v for v in violations(page, console) if REDOC_BADGE not in v]
        assert found == [], f"{url}: {found}"


def test_back_office_pages_break_no_rule_of_the_policy(back_office, page):
    console = watch(page)
    page.goto(reverse("admin:login"))
    assert violations(page, console) == []
    page.fill("#id_username", back_office.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{reverse('admin:index')}")

    pk = back_office.agreement
    for url in [
        reverse("admin:index"),
        reverse("admin:deals_agreement_changelist"),
        reverse("admin:deals_agreement_add"),
        reverse("admin:deals_agreement_change", args=[pk]),
        reverse("admin:deals_agreement_history", args=[pk]),
        reverse("admin:deals_agreement_export"),
        reverse("admin:delegations_organization_changelist"),
        reverse("admin:deals_publication_changelist"),
        reverse("admin:deals_importrun_changelist"),
    ]:
        page.goto(url)
        page.wait_for_load_state("load")
        assert violations(page, console) == [], f"{url}: {violations(page, console)}"
