"""Bulk writes that keep the change history: every record an import (or its undo)
creates, changes or removes gets a history row with the user and the reason.

Creating is the hot path of an import (four rows per agreement: the agreement, its
history row, its exhibitor link and the link's history row). Django's `bulk_create`
compiles every value of every row in Python, and simple-history's
`bulk_create_with_history` first builds a model instance per history row: on 100,000
agreements that was about three quarters of the import's time. `FastInsert` writes the
same rows with the fields' own `get_db_prep_save` (remembered per distinct value) in
multi-row INSERT ... RETURNING statements, and the history rows straight from the
records' values; where the database cannot return ids from a bulk insert it falls back
to `bulk_create_with_history`. Updates use `bulk_update_with_history`. A removal writes
its "-" history rows itself, then deletes without signals (a signalled delete would add
a second history row without the reason, one query per record).
"""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connections, models, router
from django.db.models import Model
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

# Rows per statement where the database allows it (SQLite lowers it to its variable limit).
BATCH = 500
# Primary keys per `IN (...)`: under SQLite's historical limit of 999 variables.
IN_CHUNK = 900
# Fields whose conversion to the database leaves these values as they are, on every
# backend Django ships (what bulk_create would send is the value itself).
PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.ForeignKey,
)
PLAIN_EXCEPT = (models.JSONField,)
PLAIN_TYPES = {str, int, bool, type(None)}


class HistoryWriter:
    """Writes for one import or undo: one user, one reason, one moment."""

    def __init__(self, *, user, reason: str, when: datetime.datetime) -> None:
        self.user = user
        self.reason = reason
        self.when = when
        self._inserters: dict[tuple[type[Model], str], FastInsert] = {}

    def inserter(self, model: type[Model], using: str) -> FastInsert:
        """One per model and writer: what it remembers lives as long as the import."""
        found = self._inserters.get((model, using))
        if found is None:
            found = self._inserters[(model, using)] = FastInsert(model, using)
        return found

    def create(self, model: type[Model], objs: Sequence[Model]) -> list[Model]:
        """Insert `objs` (without ids yet) and a "+" history row for each; the ids are
        set on the objects."""
        if not objs:
            return []
        using = router.db_for_write(model)
        connection = connections[using]
        if connection.features.can_return_rows_from_bulk_insert and all(
            obj.pk is None for obj in objs
        ):
            for obj in objs:
                for field in auto_time_fields(model):
                    if field.auto_now or getattr(obj, field.attname) is None:
                        setattr(obj, field.attname, self.when)
            inserter = self.inserter(model, using)
            ids = inserter.insert(
                [[getattr(obj, attname) for obj in objs] for attname in inserter.attnames],
                returning=True,
            )
            for obj, pk in zip(objs, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = using
            self.history(model, objs, "+", using)
            return list(objs)
        saved = bulk_create_with_history(
            list(objs),
            model,
            batch_size=BATCH,
            default_user=self.user,
            default_change_reason=self.reason,
            default_date=self.when,
        )
        # Where the ids could not be returned, bulk_create_with_history finds the rows
        # again, as new instances in the same order: the callers hold the ones they gave.
        for obj, found in zip(objs, saved, strict=True):
            if obj is not found:
                obj.pk = found.pk
                obj._state.adding = False
        return list(objs)

    def create_values(self, model: type[Model], rows: Sequence[dict[str, Any]]) -> list[Any]:
        """Insert rows given as {attname: value} (no model instance built for each), with
        their "+" history rows; the ids of the new rows. For links and such, where the
        model has no defaults to fill and no validation left to run."""
        if not rows:
            return []
        using = router.db_for_write(model)
        if not connections[using].features.can_return_rows_from_bulk_insert:
            objs = self.create(model, [model(**row) for row in rows])
            return [obj.pk for obj in objs]
        inserter = self.inserter(model, using)
        ids = inserter.insert(
            [[row[name] for row in rows] for name in inserter.attnames], returning=True
        )
        pk = model._meta.pk.attname
        for row, new in zip(rows, ids, strict=True):
            row[pk] = new
        self.history(model, [Values(row) for row in rows], "+", using)
        return ids

    def update(self, model: type[Model], objs: Sequence[Model], fields: set[str]) -> None:
        if not objs:
            return
        fields = set(fields)
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            for obj in objs:
                obj.updated_at = self.when
            fields.add("updated_at")
        bulk_update_with_history(
            list(objs),
            model,
            sorted(fields),
            batch_size=BATCH,
            default_user=self.user,
            default_change_reason=self.reason,
            default_date=self.when,
        )

    def history(self, model: type[Model], objs: Sequence[Model], kind: str, using: str) -> None:
        """A history row of `kind` ("+", "~", "-") for each of `objs`, as simple-history
        writes it, with this writer's user, reason and moment."""
        history = model.history.model
        special = {
            "history_date": self.when,
            "history_change_reason": self.reason,
            "history_type": kind,
            "history_user_id": getattr(self.user, "pk", None),
        }
        inserter = self.inserter(history, using)
        inserter.insert(
            [
                [special[attname]] * len(objs)
                if attname in special
                else [getattr(obj, attname) for obj in objs]
                for attname in inserter.attnames
            ],
            returning=False,
        )

    def delete(self, model: type[Model], objs: Sequence[Model]) -> None:
        """Remove `objs` (which nothing else refers to any more) with a "-" history row
        each."""
        if not objs:
            return
        using = router.db_for_write(model)
        self.history(model, objs, "-", using)
        pk = model._meta.pk.attname
        ids = [getattr(obj, pk) for obj in objs]
        for start in range(0, len(ids), IN_CHUNK):
            # A plain DELETE: the history rows are written above, and the callers have
            # removed or checked whatever refers to these rows.
            model._base_manager.filter(pk__in=ids[start : start + IN_CHUNK])._raw_delete(using)


class Values:
    """A row given as a dict, read as attributes (as the history writer reads them)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__ = values


@cache
def auto_time_fields(model: type[Model]) -> list:
    return [
        field
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]


class FastInsert:
    """Multi-row INSERT of one model's rows given as lists of attribute values (in the
    order of `attnames`: every concrete field but an automatic primary key)."""

    def __init__(self, model: type[Model], using: str) -> None:
        self.model = model
        self.using = using
        connection = connections[using]
        meta = model._meta
        self.fields = [
            field
            for field in meta.concrete_fields
            if not (field.primary_key and field.get_internal_type().endswith("AutoField"))
        ]
        self.attnames = [field.attname for field in self.fields]
        quote = connection.ops.quote_name
        # Statements of the model's own table and column names, quoted by the database
        # backend; every value goes as a parameter.
        self.head = "INSERT INTO {} ({}) VALUES ".format(  # nosec B608
            quote(meta.db_table), ", ".join(quote(field.column) for field in self.fields)
        )
        self.row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.returning = f" RETURNING {quote(meta.pk.column)}"
        # PostgreSQL: one array a column, as Django's own bulk_create sends them, so
        # that the statement stays short (psycopg parses every statement it is given).
        self.unnest = None
        if connection.vendor == "postgresql":
            types = [field.db_type(connection).split("(")[0] for field in self.fields]
            # The fields' own column types; the values go as parameters.
            self.unnest = "SELECT * FROM UNNEST({})".format(  # nosec B608
                ", ".join(f"(%s)::{db_type}[]" for db_type in types)
            )
            self.copy = "COPY {} ({}) FROM STDIN".format(
                quote(meta.db_table), ", ".join(quote(field.column) for field in self.fields)
            )
        # How many rows a statement may carry: SQLite counts its variables, up to the
        # limit it was built with (Django assumes the historical 999).
        self.batch = max(1, min(BATCH, self.variable_limit(connection) // len(self.fields)))
        self.converters = [self.converter(field, connection) for field in self.fields]

    @staticmethod
    def variable_limit(connection) -> int:
        if connection.vendor != "sqlite":
            return 65535  # PostgreSQL's limit of parameters a statement
        connection.ensure_connection()
        try:
            return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, sqlite3.Error):
            return 999

    @staticmethod
    def converter(field, connection):
        """The field's own conversion to the database's value, remembered per distinct
        value (most columns of an import repeat a few). None for the fields whose
        conversion leaves text, whole numbers and booleans as they are."""
        if isinstance(field, PLAIN_FIELDS) and not isinstance(field, PLAIN_EXCEPT):
            return None
        prepare = field.get_db_prep_save
        memo: dict[Any, Any] = {}

        # Keyed on the value alone: a column holds values of one type (where 1 and
        # Decimal("1") meet, they convert alike).
        def convert(value):
            try:
                return memo[value]
            except KeyError:
                converted = memo[value] = prepare(value, connection)
                return converted
            except TypeError:  # unhashable
                return prepare(value, connection)

        return convert

    def insert(self, columns: list[list[Any]], *, returning: bool) -> list[Any]:
        """Insert rows given column by column (in the order of `attnames`)."""
        count = len(columns[0]) if columns else 0
        prepared = []
        for convert, values in zip(self.converters, columns, strict=True):
            if convert is None:
                kinds = {value.__class__ for value in values}
                if kinds <= PLAIN_TYPES:
                    prepared.append(values)
                    continue
                convert = self.prepare_plain(len(prepared))
            prepared.append([convert(value) for value in values])
        connection = connections[self.using]
        ids: list[Any] = []
        with connection.cursor() as cursor:
            if self.unnest is not None:
                if returning:
                    sql = self.head.removesuffix("VALUES ") + self.unnest + self.returning
                    cursor.execute(sql, prepared)
                    return [row[0] for row in cursor.fetchall()]
                raw = cursor.cursor
                if hasattr(raw, "copy"):  # psycopg 3
                    # Rows whose ids nobody needs (history rows): COPY, the cheapest way.
                    with raw.copy(self.copy) as copy:
                        for row in zip(*prepared, strict=True):
                            copy.write_row(row)
                else:
                    cursor.execute(self.head.removesuffix("VALUES ") + self.unnest, prepared)
                return []
            for start in range(0, count, self.batch):
                stop = min(start + self.batch, count)
                params = [
                    value
                    for row in zip(*(column[start:stop] for column in prepared), strict=True)
                    for value in row
                ]
                sql = self.head + ", ".join([self.row] * (stop - start))
                if returning:
                    cursor.execute(sql + self.returning, params)
                    ids += [row[0] for row in cursor.fetchall()]
                else:
                    cursor.execute(sql, params)
        return ids

    def prepare_plain(self, index: int):
        field = self.fields[index]
        connection = connections[self.using]
        return lambda value: field.get_db_prep_save(value, connection)


def chunks(items: Sequence, size: int = IN_CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]
