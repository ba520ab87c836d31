"""The API lists' `count`: the whole list's count on every page, from the cache while no
record changed, and right again as soon as a change commits (however it was written)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from deals.stats import figures_changed
from delegations.api.pagination import cached_count
from delegations.models import Registration, RegistrationStatus
from tests.factories import DelegationFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


def _count(path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = APIClient().get(path)
    assert response.status_code == 200
    return response.json()["count"], [query["sql"] for query in captured]


def _counted(queries: list[str]) -> bool:
    return any(sql.startswith("SELECT COUNT(*)") for sql in queries)


def test_the_count_is_read_from_the_cache_until_a_record_changes(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        first = RegistrationFactory()
        RegistrationFactory.create_batch(2, delegation=first.delegation)

    count, queries = _count("/api/participants/")
    assert count == 3
    assert _counted(queries)
    count, queries = _count("/api/participants/?page_size=1&page=2")
    assert count == 3
    assert not _counted(queries)  # another page of the same list: the same count

    with django_capture_on_commit_callbacks(execute=True):
        RegistrationFactory(delegation=first.delegation)
    assert _count("/api/participants/")[0] == 4

    with django_capture_on_commit_callbacks(execute=True):
        first.status = RegistrationStatus.WITHDRAWN
        first.save()
    assert _count("/api/participants/")[0] == 3


def test_a_bulk_write_is_counted_once_it_says_the_records_changed(
    django_capture_on_commit_callbacks,
):
    registration = RegistrationFactory()
    assert _count("/api/participants/")[0] == 1

    # As the spreadsheet import writes: no signal, then figures_changed() itself.
    with django_capture_on_commit_callbacks(execute=True):
        Registration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.WITHDRAWN)
        figures_changed()
    assert _count("/api/participants/")[0] == 0


def test_each_filter_has_a_count_of_its_own():
    one = RegistrationFactory()
    RegistrationFactory.create_batch(
        2, delegation=DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    )

    assert _count(f"/api/participants/?delegation={one.delegation_id}")[0] == 1
    assert _count("/api/participants/")[0] == 3
    assert _count(f"/api/participants/?delegation={one.delegation_id}")[0] == 1


def test_a_list_that_can_match_nothing_counts_none():
    RegistrationFactory()
    assert cached_count(Registration.objects.filter(pk__in=[])) == 0
    assert cached_count(Registration.objects.all()) == 1
