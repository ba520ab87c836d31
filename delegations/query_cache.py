"""Values computed from a query of the bureau's records, cached while none changes.

A list answers more than its page: its whole count, the choices its filters offer.
For the expo's lists each is an aggregate over thousands to a million rows, repeated
on every page a visitor turns, and most of the answer's time. They are stored under the
generation token of the figures, which every change of a record of the bureau replaces
once it commits (`deals.signals`, and the import's bulk writes themselves), keyed by
what is computed and the query's SQL and parameters: a filter, an order or a staff
member's scope is a query of its own. The token is read before computing, so a value
computed across a change is stored under the token that change replaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db.models import QuerySet

T = TypeVar("T")


def cached_result(queryset: QuerySet, kind: str, compute: Callable[[], T], empty: T) -> T:
    """`compute()` (which reads `queryset`), from the cache while none of the records
    changed; `empty` for a query that can match nothing (`IN ()`: Django runs none)."""
    from deals.signals import APPS, IGNORED  # deals builds on this app
    from deals.stats import CACHE_FORMAT, cache, current_generation

    model = queryset.model
    if model._meta.app_label not in APPS or model.__name__ in IGNORED:
        return compute()  # not a record whose changes replace the token
    generation = current_generation()
    try:
        sql, params = queryset.query.chain().get_compiler(queryset.db).as_sql()
    except EmptyResultSet:
        return empty
    digest = hashlib.sha256(repr((queryset.db, sql, params)).encode()).hexdigest()
    key = f"{kind}:v{CACHE_FORMAT}:{generation}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=settings.EXPO["STATS_CACHE_SECONDS"])
    return value


def cached_count(queryset: QuerySet) -> int:
    """`queryset.count()`, from the cache while none of the records changed."""
    return cached_result(queryset, "count", queryset.count, 0)
