"""Pages of long lists, for the public lists, the API's lists and the admin's change
lists: the count from the cache while no record changed, and each page read by its keys."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property

from .query_cache import cached_count

__all__ = ["KeyedPaginator", "cached_count", "keyable", "keyed_page", "tree_order"]


def keyed_page(queryset: QuerySet, bottom: int, top: int, rows_of: QuerySet | None = None) -> list:
    """`list(queryset[bottom:top])`, in two queries: the page's keys, then its rows.

    With `OFFSET`, the database builds every row before the page and drops it: for the
    100th page of agreements, 5,000 rows each joined to its buyer, organization,
    delegation, edition and sector, to return 50. And where the order is not the walk of
    an index that also serves the filter (the admin's registrations of one edition,
    latest first), the database builds every matching row, with its joined rows, before
    sorting them (a third of a million on SQLite). The page's keys alone are read first,
    along the list's order, from the index, without the joins the order and the filter do
    not need; then the rows of those keys, with their related rows and prefetches, for
    the page only. The rows come back in the order of the keys, so the page is the one
    the plain slice gives, ties of the order included.

    `rows_of`, the list before its filters (with the same related rows, annotations and
    prefetches), reads the rows without the filters' conditions, which the keys met
    already: a search's subqueries, say, found thousands of agreements for the keys and
    would find them again for the rows."""
    keys = list(queryset.values_list("pk", flat=True)[bottom:top])
    if not keys:
        return []
    source = queryset if rows_of is None else rows_of
    rows = {row.pk: row for row in source.order_by().filter(pk__in=keys)}
    return [rows[key] for key in keys if key in rows]  # a row deleted in between is gone


def keyable(object_list) -> bool:
    """Whether `keyed_page` can read a page of `object_list`: a queryset of model
    instances (not of `values()`), which can be filtered (not a `union()`)."""
    return (
        isinstance(object_list, QuerySet)
        and issubclass(object_list._iterable_class, ModelIterable)
        and not object_list.query.combinator
    )


class KeyedPaginator(Paginator):
    """Django's paginator, its count from `cached_count`, each page of a queryset read
    by `keyed_page` (its rows from `rows_of` if given)."""

    def __init__(self, object_list, per_page, *args, rows_of: QuerySet | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.rows_of = rows_of

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return cached_count(self.object_list)

    def page(self, number):
        if not keyable(self.object_list):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = keyed_page(self.object_list, bottom, top, self.rows_of)
        return self._get_page(rows, number, self)


def tree_order(first: str, *then: str) -> tuple[Any, ...]:
    """The order of a list of one delegation tree's records, its first field read as an
    expression (the same value, so the same order) that no index serves.

    Ordered by the bare column, the planner walks that column's index across every
    record on record, of every delegation, testing each for the tree, until it has a
    page: at the whole expo's scale, tens of thousands of other delegations' rows for a
    page of one (organizations by name: 150 ms; agreements by date: 50 ms, 72,000 rows
    read for 50). A tree's records are found by their delegation's index instead, and
    its few thousand sorted (a few ms)."""
    return (Coalesce(first, first), *then)
