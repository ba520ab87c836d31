"""The API's pagination, in a module of its own: DRF reads the setting while it defines
its generic views, before any module that builds on them may be imported."""

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

from ..paging import KeyedPaginator, cached_count

__all__ = ["CachedCountPaginator", "ExpoPagination", "cached_count"]


class CachedCountPaginator(KeyedPaginator):
    """The keyed paginator (its count from `cached_count`), but for the first page: one
    query, whose `OFFSET` skips nothing."""

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
