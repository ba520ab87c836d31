"""The generation token of the figures, kept by each process and told of its changes.

A stored public page is served only under the generation the shared cache holds now
(`page_cache`): read on every request, that is a round trip to the cache, which with the
default cache (the database) is most of what a stored page costs beyond a static file.
On PostgreSQL each process instead listens to the channel that every change of the
records notifies once it commits (`LISTEN` / `NOTIFY`, on a connection of its own), and
reads the token again only when told: a notification reaches every process of every
server on the same database. Checking for one is a poll of that connection's socket.

The order keeps it right: the process listens before it reads the token, so a change
committed after that read is told to it; a change sets the new token in the shared cache
before it notifies, so the token read when told is the new one; and the process that
made a change forgets its token at once. A request that started before a change was
told may still get the page of before, as one that read the shared token just before
the change does. Should the connection fail, the process reads the token on every
request again, and listens again some seconds later. On SQLite (no other server, and a
cache read of the database in the process) the token is read on every request.
"""

from __future__ import annotations

import logging
import os
import time

from django.db import connection, connections

logger = logging.getLogger(__name__)

CHANNEL = "expo_figures_changed"
# Seconds before listening again after the connection failed.
RETRY_SECONDS = 5.0


class GenerationWatch:
    def __init__(self) -> None:
        self.listener = None
        self.pid: int | None = None
        self.generation: str | None = None
        self.failed_at = 0.0

    def current(self, read) -> str | None:
        """The generation token: `read()` (the shared cache's) unless this process
        listens and has not been told of a change since it last read it."""
        if not self._listening():
            return read()
        if self._told():
            self.generation = None
        if self.generation is None:
            self.generation = read()
        return self.generation

    def forget(self) -> None:
        """This process changed the records: read the token again."""
        self.generation = None

    def reset(self) -> None:
        """As if the process had just started listening: notifications received so far
        dropped, the token to be read again, a failure forgotten (the tests' fixtures:
        each test's cache starts empty)."""
        if self.listener is not None and self.pid == os.getpid():
            self._told()
        self.generation = None
        self.failed_at = 0.0

    def close(self) -> None:
        if self.listener is not None:
            try:
                self.listener.close()
            except Exception:  # closing a connection that may be gone already
                logger.debug("closing the listening connection failed", exc_info=True)
        self.listener = None
        self.generation = None

    # -- listening -----------------------------------------------------------------------

    def _listening(self) -> bool:
        if self.pid != os.getpid():  # a forked worker: the parent's connection is not its own
            self.listener, self.pid, self.generation = None, os.getpid(), None
        if self.listener is not None:
            return True
        if connection.vendor != "postgresql" or time.monotonic() - self.failed_at < RETRY_SECONDS:
            return False
        import psycopg

        try:
            listener = psycopg.connect(**own_connection_params(), autocommit=True)
            listener.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            logger.warning("could not listen for changes of the figures", exc_info=True)
            self.failed_at = time.monotonic()
            return False
        self.listener, self.generation = listener, None
        return True

    def _told(self) -> bool:
        """Whether a change was notified since the last check (or the connection
        failed, and the token must be read again)."""
        import psycopg

        try:
            told = any(True for _ in self.listener.notifies(timeout=0))
            if self.listener.closed or self.listener.broken:
                raise psycopg.OperationalError("the listening connection was lost")
            return told
        except psycopg.Error:
            logger.warning("the connection listening for changes failed", exc_info=True)
            self.close()
            self.failed_at = time.monotonic()
            return True


watch = GenerationWatch()


def own_connection_params() -> dict:
    """The default database's connection parameters, for a psycopg connection of its own
    (without the cursor class and adapters Django gives its connections)."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return params


def notify_changed() -> None:
    """Tell every process listening that the records changed (after the commit: in
    `figures_changed`'s on-commit callback), and this one at once."""
    watch.forget()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")
