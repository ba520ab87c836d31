"""`/healthz`: whether this process can serve, for load balancers and monitors."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def database_reachable(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health check: the database is unreachable")
        return False
    return True


def unapplied_migrations(alias: str = "default") -> int:
    """How many migrations of the code are not applied to the database."""
    executor = MigrationExecutor(connections[alias])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@require_safe
@never_cache
@transaction.non_atomic_requests  # a request transaction would connect before the check
def healthz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ok", ...}` when the database answers and every migration is
    applied, else 503 naming the check that failed. Nothing else is said (no versions,
    no error text: the address is public), nothing is cached, no cookie is set, and it
    is not throttled: a load balancer asks every few seconds."""
    checks = {"database": "ok", "migrations": "ok"}
    if not database_reachable():
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    else:
        try:
            pending = unapplied_migrations()
        except DatabaseError:
            logger.exception("health check: the migrations could not be read")
            pending = None
        if pending is None:
            checks["migrations"] = "unknown"
        elif pending:
            checks["migrations"] = "unapplied"
            logger.error("health check: %d migrations are not applied", pending)
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
