"""The API's pagination, in a module of its own: DRF reads the setting while it defines
its generic views, before any module that builds on them may be imported."""

import hashlib

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination

from ..paging import KeyedPaginator


def cached_count(queryset) -> int:
    """`queryset.count()`, from the cache while none of the records changed.

    Every page of a list answers its `count`: for the expo's unfiltered lists that is a
    `COUNT(*)` of up to a million rows, most of the answer's time. The count is stored
    under the generation token of the figures, which every change of a record of the
    bureau replaces once it commits (`deals.signals`, and the bulk writes of the import
    themselves), keyed by the list's SQL and parameters: a filter, an order or a staff
    member's scope is a query of its own. The token is read before counting, so a
    count taken across a change is stored under the token that change replaces."""
    from deals.signals import APPS, IGNORED  # deals builds on this app
    from deals.stats import CACHE_FORMAT, cache, current_generation

    model = queryset.model
    if model._meta.app_label not in APPS or model.__name__ in IGNORED:
        return queryset.count()  # not a record whose changes replace the token
    generation = current_generation()
    try:
        sql, params = queryset.query.chain().get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return 0  # a filter that can match nothing (`IN ()`): Django runs no query
    digest = hashlib.sha256(repr((queryset.db, sql, params)).encode()).hexdigest()
    key = f"count:v{CACHE_FORMAT}:{generation}:{digest}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, timeout=settings.EXPO["STATS_CACHE_SECONDS"])
    return count


class CachedCountPaginator(KeyedPaginator):
    """Django's paginator, its count from `cached_count`, and a page after the first
    read by its keys (`keyed_page`)."""

    @cached_property
    def count(self) -> int:
        return cached_count(self.object_list)

    def page(self, number):
        if self.validate_number(number) == 1:
            return Paginator.page(self, number)  # one query, its OFFSET nothing to skip
        return super().page(number)


class ExpoPagination(PageNumberPagination):
    """50 records a page unless `page_size` asks for another number, 500 at most. The
    `count` of the answer is the list's whole count, as ever, read from the cache while
    no record changed."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CachedCountPaginator
