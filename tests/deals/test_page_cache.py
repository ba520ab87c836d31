"""The public headline pages served whole from the cache (deals/page_cache.py): the
page every visitor gets, never a staff member's, and never once a record changed."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import DATA_ENTRY, staff_member
from tests.pages import agreement_in, beijing, get_page, publish

pytestmark = pytest.mark.django_db

HEADLINE = "/en/ciie-2019/beijing/"


@pytest.fixture(autouse=True)
def _chinese_by_default(settings):
    """The site as it is deployed: Chinese without a prefix, English under /en/."""
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        current = beijing()
        agreement_in(current)
        agreement_in(current)
        publish(current)
    return current


def shown_agreements(client, address: str = HEADLINE) -> str:
    page = get_page(client, address)
    return page.one("li", id="figure-agreements").one("span", class_="figure__value").text


@pytest.mark.parametrize("address", ["/en/", HEADLINE, "/", "/ciie-2019/beijing/"])
def test_a_visitor_gets_the_stored_page_in_one_query(
    client, published, address, django_assert_num_queries
):
    first = client.get(address)
    with django_assert_num_queries(1):
        again = client.get(address)
    assert again.status_code == 200
    assert again.content == first.content
    # With the headers the middleware gave the page (language, frame options, ...).
    assert dict(again.items()) == dict(first.items())
    assert again["Content-Language"] in ("en", "zh-hans")


def test_a_publication_replaces_the_stored_page_at_once(
    client, published, django_capture_on_commit_callbacks
):
    assert shown_agreements(client) == "2"
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(published)
    # The public reads the published figures: the page stays until the next publication.
    assert shown_agreements(client) == "2"
    with django_capture_on_commit_callbacks(execute=True):
        publish(published)
    assert shown_agreements(client) == "3"


def test_a_change_not_yet_committed_leaves_the_stored_page_alone(
    client, published, django_capture_on_commit_callbacks
):
    assert shown_agreements(client) == "2"
    with django_capture_on_commit_callbacks(execute=False) as uncommitted:
        agreement_in(published)
        publish(published)
    assert uncommitted
    assert shown_agreements(client) == "2"
    for callback in uncommitted:
        callback()
    assert shown_agreements(client) == "3"


def test_staff_never_get_a_stored_page_and_never_store_theirs(
    client, published, django_assert_num_queries
):
    client.force_login(staff_member(DATA_ENTRY))
    staff_page = client.get(HEADLINE).content
    # The staff page offers the preview of the live figures; no visitor may get it.
    assert b"figures=live" in staff_page
    client.logout()
    visitor_page = client.get(HEADLINE).content
    assert b"figures=live" not in visitor_page

    client.force_login(staff_member(DATA_ENTRY))
    assert client.get(HEADLINE).content != visitor_page


@pytest.mark.parametrize("query", ["?figures=live", "?publication=1", "?anything=1"])
def test_an_address_with_a_query_is_never_stored(client, published, query):
    # Else anyone could fill the cache with made-up addresses.
    client.get(HEADLINE + query)
    with CaptureQueriesContext(connection) as again:
        client.get(HEADLINE + query)
    assert len(again) > 1  # the view ran again


def test_the_stored_pages_are_told_apart_by_language(client, published):
    english, chinese = client.get(HEADLINE), client.get("/ciie-2019/beijing/")
    assert client.get(HEADLINE).content == english.content
    assert client.get("/ciie-2019/beijing/").content == chinese.content
    assert english.content != chinese.content
    assert english["Content-Language"] == "en"
    assert client.get(HEADLINE)["Content-Language"] == "en"
