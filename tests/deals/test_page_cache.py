"""The public headline pages served whole from the cache (deals/page_cache.py): the
page every visitor gets, never a staff member's, and never once a record changed."""

import select

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import DATA_ENTRY, DelegationFactory, staff_member
from tests.pages import agreement_in, beijing, get_page, publish, table_rows

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


@pytest.mark.parametrize(
    "address", ["/en/", HEADLINE, "/", "/ciie-2019/beijing/", "/en/fairs/", "/en/ciie-2019/"]
)
def test_a_visitor_gets_the_stored_page_in_one_query(
    client, published, address, django_assert_num_queries
):
    first = client.get(address)
    # The generation token: read from the shared cache on SQLite; on PostgreSQL held by
    # the process, which is told of changes (deals/generation_watch.py).
    with django_assert_num_queries(0 if connection.vendor == "postgresql" else 1):
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


@pytest.mark.parametrize("address", ["/en/fairs/", "/en/ciie-2019/"])
def test_a_new_delegation_is_listed_at_once_on_the_stored_indexes(
    client, published, address, django_capture_on_commit_callbacks
):
    def listed() -> str:
        return get_page(client, address).one("main").text

    assert "Tianjin" not in listed()
    assert "Tianjin" not in listed()  # stored
    with django_capture_on_commit_callbacks(execute=True):
        DelegationFactory(
            edition=published.edition, slug="tianjin", name_zh="天津", name_en="Tianjin"
        )
    assert "Tianjin" in listed()


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


# The list pages' summaries (the agreements' totals, the exhibitors' countries), the same
# for every filter of the list, are rendered once per change of the records.

AGREEMENTS = "/en/ciie-2019/beijing/agreements/"
EXHIBITORS = "/en/ciie-2019/beijing/exhibitors/"


def _agreements_by_sector(client, address: str = AGREEMENTS) -> int:
    page = get_page(client, address)
    return sum(
        int(row.select("td")[0].text.replace(",", "")) for row in table_rows(page, "sector-caption")
    )


def test_the_agreements_totals_are_rendered_again_once_a_change_commits(
    client, published, django_capture_on_commit_callbacks
):
    assert _agreements_by_sector(client) == 2
    with django_capture_on_commit_callbacks(execute=False) as uncommitted:
        agreement_in(published)
    assert _agreements_by_sector(client) == 2
    for callback in uncommitted:
        callback()
    assert _agreements_by_sector(client) == 3
    # A filter of the list leaves the summary, the delegation's totals, as it is.
    assert _agreements_by_sector(client, AGREEMENTS + "?kind=purchase&q=zzz") == 3


def test_the_summaries_are_rendered_in_the_language_of_the_page(client, published):
    for address in (AGREEMENTS, EXHIBITORS):
        chinese = address.removeprefix("/en")
        english_page, chinese_page = client.get(address), client.get(chinese)
        assert client.get(address).content == english_page.content
        summary = "Intended purchases by sector" if address == AGREEMENTS else "by country"
        assert summary.encode() in english_page.content
        assert summary.encode() not in client.get(chinese).content
        assert chinese_page.content == client.get(chinese).content


def test_a_new_generation_set_by_another_process_retires_this_processs_copy(client, published):
    from deals.stats import GENERATION_KEY

    client.get(HEADLINE)
    with CaptureQueriesContext(connection) as hit:
        client.get(HEADLINE)
    assert len(hit) <= 1
    # Another server of the site recorded a change: it replaced the shared token, and
    # on PostgreSQL told every process so.
    cache.set(GENERATION_KEY, "another-process", timeout=None)
    if connection.vendor == "postgresql":
        notify_from_another_connection()
    with CaptureQueriesContext(connection) as after:
        client.get(HEADLINE)
    assert len(after) > 1  # rendered again, not this process's copy


def notify_from_another_connection() -> None:
    """What another process's committed change sends (its own connection, committed)."""
    import psycopg

    from deals.generation_watch import CHANNEL, own_connection_params, watch

    with psycopg.connect(**own_connection_params(), autocommit=True) as other:
        other.execute(f"NOTIFY {CHANNEL}")
    # Until the notification has reached this process (it travels apart from the commit).
    if watch.listener is not None:
        select.select([watch.listener.fileno()], [], [], 5)


postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="LISTEN and NOTIFY are PostgreSQL's"
)


@postgresql_only
def test_the_process_reads_the_token_again_only_when_told(client, published):
    from deals.generation_watch import watch

    client.get(HEADLINE)
    client.get(HEADLINE)
    assert watch.listener is not None
    with CaptureQueriesContext(connection) as quiet:
        for _ in range(3):
            client.get(HEADLINE)
    assert len(quiet) == 0

    notify_from_another_connection()
    with CaptureQueriesContext(connection) as told:
        page = client.get(HEADLINE)
    assert page.status_code == 200
    # The token read again (still the same: the page of the same generation served).
    assert len(told) == 1


@postgresql_only
def test_a_lost_listening_connection_falls_back_to_reading_the_token(client, published):
    from deals.generation_watch import watch

    first = client.get(HEADLINE)
    client.get(HEADLINE)
    watch.listener.pgconn.finish()  # the connection lost, as a restarted server would

    with CaptureQueriesContext(connection) as after:
        again = client.get(HEADLINE)
    assert again.content == first.content
    assert len(after) == 1  # the shared token read, on every request until it listens again
    assert watch.listener is None
    with CaptureQueriesContext(connection) as next_one:
        client.get(HEADLINE)
    assert len(next_one) == 1


def test_an_address_is_resolved_once_then_remembered(client, published, monkeypatch):
    from deals import page_cache

    client.get(HEADLINE)
    resolved = []
    real = page_cache.resolve
    monkeypatch.setattr(
        page_cache, "resolve", lambda *args: resolved.append(args[0]) or real(*args)
    )
    again = client.get(HEADLINE)
    missing = client.get("/en/no-such-page/")
    client.get("/en/no-such-page/")

    assert again.status_code == 200
    assert missing.status_code == 404
    # The stored page's address was remembered; the unknown one resolved once.
    assert resolved == ["/en/no-such-page/"]


def test_the_remembered_addresses_are_bounded(client, published, monkeypatch):
    from deals import page_cache

    monkeypatch.setattr(page_cache, "RESOLVED", 3)
    for n in range(10):
        client.get(f"/en/made-up-{n}/")

    assert len(page_cache._resolved) <= 3
    assert client.get(HEADLINE).status_code == 200
