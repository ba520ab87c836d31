"""Pages of long lists read by their keys: the API's lists and the admin's change lists."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet


def keyed_page(queryset: QuerySet, bottom: int, top: int) -> list:
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
    the plain slice gives, ties of the order included."""
    keys = list(queryset.values_list("pk", flat=True)[bottom:top])
    if not keys:
        return []
    rows = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
    return [rows[key] for key in keys if key in rows]  # a row deleted in between is gone


class KeyedPaginator(Paginator):
    """Django's paginator, each page of a queryset read by `keyed_page`."""

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(keyed_page(self.object_list, bottom, top), number, self)
