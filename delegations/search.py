"""Substring searches that an index serves on SQLite too.

Every search of the product is a substring search, Django's `icontains`: on SQLite
`column LIKE '%word%' ESCAPE '\\'`, which no B-tree index serves, so each search read
every organization (half a million at the whole expo's scale) or every agreement on
record. PostgreSQL has trigram indexes on the very expressions `icontains` compares
(migrations delegations 0006 and deals 0011). SQLite's FTS5 full-text engine offers the
same on its own terms: a `trigram` tokenizer, whose index finds the rows holding a
string of three characters or more, in a table of its own.

Here each searched table has such a table (`TextIndex`): an external-content FTS5 table
over the searched columns (it stores the index only, and reads nothing back), kept in
step with the table by triggers, so that every way of writing a row (the ORM, bulk
writes, raw SQL, the import) keeps it right. Migrations delegations 0007 and deals 0012
create them, fill them from the rows on record, and do nothing on PostgreSQL, nor on a
SQLite built without FTS5's trigram tokenizer (which then searches as before).

A search keeps its `icontains` and adds, for each word of three characters or more, that
the row is among those the index finds for the word. That condition is implied by the
`LIKE` itself (the index folds case at least as widely as SQLite's `LIKE`, which folds
ASCII letters only, and finds any substring of three characters or more), so it changes
no answer; it lets SQLite start from the few rows the index names instead of reading
them all. A word of one or two characters (such as many a Chinese word) has no trigram:
it is searched as before, by reading every row.

A later migration that rebuilds one of these tables (SQLite's way of altering a column)
drops its triggers with it: such a migration must call `create_triggers` again
(`tests/delegations/test_text_index.py` checks the triggers after every migration).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import IntegerField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.text import smart_split, unescape_string_literal

# Words shorter than this have no trigram: the index cannot find them.
SHORTEST_INDEXED = 3


# The SQL below names only the index tables of this module and their columns (constants,
# quoted), never input; what is searched is a parameter. The bare markers for bandit
# at the ends of lines are where it reads such an f-string as a query built from input.
@dataclass(frozen=True)
class TextIndex:
    """An FTS5 trigram index (`name`) over `columns` of `table`, whose integer primary
    key `id` is the index's rowid."""

    name: str
    table: str
    columns: tuple[str, ...]

    def triggers(self) -> list[str]:
        """The statements that create the triggers keeping the index in step."""
        columns = ", ".join(f'"{column}"' for column in self.columns)
        new = ", ".join(f'new."{column}"' for column in self.columns)
        old = ", ".join(f'old."{column}"' for column in self.columns)
        add = f'INSERT INTO "{self.name}"(rowid, {columns}) VALUES (new."id", {new});'  # nosec
        # An external-content index forgets a row when told the values it indexed.
        remove = (
            f'INSERT INTO "{self.name}"("{self.name}", rowid, {columns}) '  # nosec
            f"VALUES ('delete', old.\"id\", {old});"
        )
        changed = " OR ".join(
            f'old."{column}" IS NOT new."{column}"' for column in ("id", *self.columns)
        )
        return [
            f'CREATE TRIGGER "{self.name}_insert" AFTER INSERT ON "{self.table}" BEGIN {add} END',
            f'CREATE TRIGGER "{self.name}_delete" AFTER DELETE ON "{self.table}" '
            f"BEGIN {remove} END",
            # Only a change of an indexed value costs the index anything.
            f'CREATE TRIGGER "{self.name}_update" AFTER UPDATE ON "{self.table}" '
            f"WHEN {changed} BEGIN {remove} {add} END",
        ]

    def trigger_names(self) -> list[str]:
        return [f"{self.name}_{event}" for event in ("insert", "delete", "update")]

    def rows_matching(self, word: str, columns: tuple[str, ...]) -> RawSQL:
        """The rowids of the rows holding `word` in one of `columns` (in any case), as a
        subquery. The word is one quoted FTS5 string: nothing in it is query syntax."""
        phrase = '"' + word.replace('"', '""') + '"'
        if set(columns) != set(self.columns):
            phrase = "{" + " ".join(columns) + "}: " + phrase
        return RawSQL(  # nosec
            f'SELECT rowid FROM "{self.name}" WHERE "{self.name}" MATCH %s',  # nosec
            [phrase],
            output_field=IntegerField(),
        )


ORGANIZATIONS = TextIndex(
    "delegations_organization_text",
    "delegations_organization",
    ("name_zh", "name_en", "credit_code"),
)
AGREEMENTS = TextIndex("deals_agreement_text", "deals_agreement", ("reference",))
INDEXES = (ORGANIZATIONS, AGREEMENTS)


@functools.cache
def trigram_tokenizer_available() -> bool:
    """Whether the SQLite library Django's backend runs on has FTS5 and its trigram
    tokenizer (SQLite 3.34 or later, built with FTS5)."""
    try:
        with closing(sqlite3.connect(":memory:")) as probe:
            probe.execute(
                "CREATE VIRTUAL TABLE probe USING fts5(text, tokenize='trigram case_sensitive 0')"
            )
    except sqlite3.Error:
        return False
    return True


def indexes_serve(connection) -> bool:
    """Whether `connection`'s database can have the text indexes: SQLite with the trigram
    tokenizer (the migrations create them there)."""
    return connection.vendor == "sqlite" and trigram_tokenizer_available()


def indexes_present(connection) -> bool:
    """Whether the text indexes exist in `connection`'s database, as searches need them:
    a database migrated by a SQLite without the tokenizer has none, even once a SQLite
    with one opens it. Read once a connection, from the database's own catalog, through
    the driver (not a query of the application's); read again after a migration."""
    if not indexes_serve(connection):
        return False
    present = getattr(connection, "_text_indexes_present", None)
    if present is None:
        connection.ensure_connection()
        names = [index.name for index in INDEXES]
        marks = ", ".join("?" * len(names))
        found = connection.connection.execute(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",  # nosec
            names,
        ).fetchone()[0]
        present = connection._text_indexes_present = found == len(names)
    return present


def forget_presence(**kwargs) -> None:
    """After a migration, and on a new connection, look for the indexes again."""
    connection = kwargs.get("connection")
    for wrapper in [connection] if connection is not None else connections.all():
        wrapper._text_indexes_present = None


# ---------------------------------------------------------------------------------------
# The migrations' operations
# ---------------------------------------------------------------------------------------


def create_triggers(schema_editor, index: TextIndex) -> None:
    for statement in index.triggers():
        schema_editor.execute(statement)


def create_index(schema_editor, index: TextIndex) -> None:
    """Create `index`, its triggers, and fill it from the rows on record; on SQLite only,
    where the trigram tokenizer exists."""
    if not indexes_serve(schema_editor.connection):
        return
    columns = ", ".join(f'"{column}"' for column in index.columns)
    schema_editor.execute(
        f'CREATE VIRTUAL TABLE "{index.name}" USING fts5({columns}, '
        f"content='{index.table}', content_rowid='id', columnsize=0, "
        "tokenize='trigram case_sensitive 0')"
    )
    create_triggers(schema_editor, index)
    # Reads every row of the table into the index.
    schema_editor.execute(f'INSERT INTO "{index.name}"("{index.name}") VALUES (\'rebuild\')')  # nosec


@contextmanager
def rebuilt_after_bulk_load(connection) -> Iterator[None]:
    """For a bulk load of many rows in one transaction: the triggers are set aside for
    the load and the indexes rebuilt from every row at its end (at the whole expo's
    scale, 5 s instead of 35 s row by row), before the transaction commits. Only within
    a transaction, so that a load that fails leaves the triggers as they were."""
    if not indexes_serve(connection):
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("rebuilt_after_bulk_load needs a transaction (transaction.atomic)")
    with connection.cursor() as cursor:
        for index in INDEXES:
            for trigger in index.trigger_names():
                cursor.execute(f'DROP TRIGGER "{trigger}"')
    yield
    with connection.cursor() as cursor:
        for index in INDEXES:
            for statement in index.triggers():
                cursor.execute(statement)
            cursor.execute(f'INSERT INTO "{index.name}"("{index.name}") VALUES (\'rebuild\')')  # nosec


def drop_index(schema_editor, index: TextIndex) -> None:
    if not indexes_serve(schema_editor.connection):
        return
    for trigger in index.trigger_names():
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
    schema_editor.execute(f'DROP TABLE IF EXISTS "{index.name}"')


# ---------------------------------------------------------------------------------------
# The searches
# ---------------------------------------------------------------------------------------


def _index_condition(model: type[Model], fields: list[str], word: str) -> Q | None:
    """A condition implied by `word` being in one of `fields` (`icontains`) that a text
    index serves, or None if none does: the fields must be columns of one indexed table,
    reached by the same path."""
    # FTS5 reads a NUL as the end of its query (the admin's autocomplete passes its term
    # unchecked): such a word is searched without the index.
    if len(word) < SHORTEST_INDEXED or "\x00" in word:
        return None
    paths = {tuple(field.split("__")[:-1]) for field in fields}
    if len(paths) != 1:
        return None
    (path,) = paths
    target = model
    try:
        for name in path:
            target = target._meta.get_field(name).related_model
            if target is None:
                return None
        columns = tuple(target._meta.get_field(field.split("__")[-1]).column for field in fields)
    except FieldDoesNotExist:  # a lookup in the path, as in "name__exact"
        return None
    for index in INDEXES:
        if index.table == target._meta.db_table and set(columns) <= set(index.columns):
            key = "__".join((*path, "pk__in"))
            return Q(**{key: index.rows_matching(word, columns)})
    return None


def narrowed_by_index(queryset: QuerySet, fields: list[str], word: str) -> QuerySet:
    """`queryset`, already limited to the rows with `word` in one of `fields`, with the
    text index's condition for it added where an index serves it (the same rows)."""
    if not indexes_present(connections[queryset.db]):
        return queryset
    condition = _index_condition(queryset.model, fields, word)
    return queryset if condition is None else queryset.filter(condition)


def containing_words(queryset: QuerySet, fields: list[str], value: str) -> QuerySet:
    """The rows of `queryset` with every word of `value` in one of `fields` (a substring,
    in any case), found through a text index where one serves."""
    for word in value.split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        queryset = narrowed_by_index(queryset.filter(match), fields, word)
    return queryset


class IndexedSearchMixin:
    """An admin whose search (its `search_fields`, each word or quoted phrase in one of
    them) is served by a text index where one covers every field searched."""

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        fields = [str(field) for field in self.get_search_fields(request)]
        # Only plain fields: "^name" or "=code" search otherwise than icontains.
        if not fields or any(field[0] in "^=@" for field in fields):
            return found, may_have_duplicates
        # The terms as the admin's own search splits them.
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            found = narrowed_by_index(found, fields, bit)
        return found, may_have_duplicates
