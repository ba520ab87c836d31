"""What every sheet's import shares: the job (who imports, its caches, its problems),
reading rows cell by cell, finding what a row names, validating with the model's own
rules, and writing in bulk with history."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

from delegations.models import Delegation, Edition, OrganizationKind
from delegations.scope import delegation_keys, delegation_within
from delegations.validators import organization_code_warning

from ..services import STAGES, move_problem
from ..sheets import Bilingual, CellError, Column, Message, Sheet
from .lookups import Lookups, OrgRef
from .reading import Table, blank
from .results import Problems, SheetCounts
from .writing import HistoryWriter

# Rows read, checked and written together: the records they name are fetched in one
# query per chunk, under SQLite's limit of 999 variables a statement.
CHUNK = 500
# Distinct values per column whose reading is remembered (most columns repeat a few).
MEMO_LIMIT = 20_000

Progress = Callable[[str, int, int | None], None]


class Job:
    """One import: who runs it, when, its caches, its errors and warnings."""

    def __init__(self, *, user, run, dry_run: bool, progress: Progress | None) -> None:
        self.user = user
        self.run = run
        self.dry_run = dry_run
        self.progress = progress
        self.now = timezone.now()
        self.reason = run.change_reason if run is not None else "import"
        self.writer = HistoryWriter(user=user, reason=self.reason, when=self.now)
        self.may_disclose = user is None or user.has_perm("deals.disclose_agreement")
        # The delegations whose records the importer may write (None: all): the
        # command without a user runs as the operator, unscoped.
        self.scope = delegation_keys(user) if user is not None else None
        self.errors = Problems()
        self.warnings = Problems()
        self.lookups: Lookups | None = None
        # Stage changes of followed records, (record, from, to): written as moves once
        # the sheets are (see engine.record_moves).
        self.moves: list[tuple[Model, str, str]] = []
        # The delegations the rows name, as "edition/delegation" slugs, for the
        # import's log line.
        self.delegations: set[str] = set()


@dataclass(slots=True)
class Row:
    number: int
    values: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


def batched(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SheetImport:
    """Reads one sheet, checks every row, and writes the good ones chunk by chunk (all
    of it rolled back if any row anywhere is bad)."""

    chunk_size = CHUNK
    # A model field's validation error belongs to this column of the sheet.
    field_columns: dict[str, str] = {}

    def __init__(self, job: Job, sheet: Sheet, table: Table, columns: dict[str, int]) -> None:
        self.job = job
        self.lookups: Lookups = job.lookups
        self.writer = job.writer
        self.sheet = sheet
        self.table = table
        self.columns = columns
        self.counts = SheetCounts()
        self.first_rows: dict[Any, int] = {}
        self._memo: dict[str, dict[Any, Any]] = {key: {} for key in columns}
        self._found: dict[tuple, Any] = {}
        self._cleaned_fields: dict[type[Model], list] = {}
        self._templates: dict[type[Model], tuple[list, dict[str, int]]] = {}
        self._done = 0

    # --- running ----------------------------------------------------------------------

    def run(self) -> None:
        self.report_progress()
        for chunk in batched(self.rows(), self.chunk_size):
            good = [row for row in chunk if row.ok]
            if good:
                self.process(good)
            self._done += len(chunk)
            self.report_progress()
        self.finish()

    def process(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After the last chunk."""

    def report_progress(self) -> None:
        if self.job.progress is not None:
            self.job.progress(self.sheet.name_en, self._done, self.table.total)

    def has(self, key: str) -> bool:
        """Whether the file has this column: an absent column changes nothing."""
        return key in self.columns

    # --- reading cells ------------------------------------------------------------------

    def rows(self) -> Iterator[Row]:
        columns = [
            (self.sheet.column(key), index, self._memo[key]) for key, index in self.columns.items()
        ]
        for number, cells in self.table.rows:
            row = Row(number)
            values = row.values
            width = len(cells)
            for column, index, memo in columns:
                raw = cells[index] if index < width else None
                # Text is the common case; other values are kept apart by their type
                # (True, 1 and 1.0 are equal keys).
                key = raw if raw.__class__ is str else (raw.__class__, raw)
                try:
                    value = memo[key]
                except KeyError:
                    value = self.read(column, raw)
                    if len(memo) < MEMO_LIMIT:
                        memo[key] = value
                except TypeError:  # unhashable: never from a file, but harmless
                    value = self.read(column, raw)
                if value is None:
                    if column.required:
                        self.fail(row, column.key, Message(_("required, but the cell is empty.")))
                elif value.__class__ is CellError:
                    self.fail(row, column.key, value.message)
                    value = None
                values[column.key] = value
            yield row

    @staticmethod
    def read(column: Column, raw: Any) -> Any:
        """A cell's value: None when blank, else its column's reading, or the CellError
        that says why it cannot be read."""
        if blank(raw):
            return None
        try:
            return column.parser(raw)
        except CellError as error:
            return error

    # --- problems -------------------------------------------------------------------------

    def column_label(self, key: str | None) -> str | None:
        if key is None:
            return None
        column = self.sheet.column(key)
        return f"{column.key} / {column.zh}"

    def _where(self, key: str | None, message: Message) -> Message:
        if key is None:
            return message
        return Message(
            _("%(column)s: %(reason)s"), column=self.sheet.column(key).label, reason=message
        )

    def fail(self, row: Row, key: str | None, message: Message) -> None:
        row.ok = False
        self.job.errors.add(
            self.sheet.name_en, row.number, self.column_label(key), self._where(key, message)
        )

    def warn(self, row: Row, key: str | None, message: Message) -> None:
        self.job.warnings.add(
            self.sheet.name_en, row.number, self.column_label(key), self._where(key, message)
        )

    def once(self, row: Row, key: Any, column: str) -> bool:
        """Whether `key` is new in this file; the second row with it is an error that
        names the first."""
        first = self.first_rows.setdefault(key, row.number)
        if first != row.number:
            self.fail(
                row,
                column,
                Message(
                    _("row %(first)s already has this record; each record may appear once."),
                    first=first,
                ),
            )
            return False
        return True

    # --- finding what a row names ---------------------------------------------------------

    def edition(self, row: Row, key: str) -> Edition | None:
        text = row.values.get(key)
        if text is None:
            return None
        try:
            found = self._found[("edition", text)]
        except KeyError:
            found = self._found[("edition", text)] = self.lookups.edition(text)
        if found is None:
            self.fail(
                row,
                key,
                Message(
                    _(
                        "“%(value)s” is not a fair edition we know (write e.g. CIIE 2019 or "
                        "第二届进博会)."
                    ),
                    value=text,
                ),
            )
        return found

    def delegation(self, row: Row, key: str, edition: Edition | None) -> Delegation | None:
        text = row.values.get(key)
        if text is None or edition is None:
            return None
        try:
            found = self._found[("delegation", edition.pk, text)]
        except KeyError:
            found = self.lookups.delegations_named(edition, text)
            if self.sheet.name_en != "Delegations":  # which creates delegations as it goes
                self._found[("delegation", edition.pk, text)] = found
        if len(found) == 1:
            if not self.within_scope(row, key, found[0]):
                return None
            self.job.delegations.add(f"{found[0].edition.slug}/{found[0].slug}")
            return found[0]
        if not found:
            self.fail(
                row,
                key,
                Message(
                    _("there is no delegation “%(value)s” at %(edition)s."),
                    value=text,
                    edition=edition,
                ),
            )
        else:
            self.fail(
                row,
                key,
                Message(
                    _("“%(value)s” names more than one delegation at %(edition)s: %(names)s."),
                    value=text,
                    edition=edition,
                    names=", ".join(delegation.name_zh for delegation in found),
                ),
            )
        return None

    def within_scope(self, row: Row, key: str | None, delegation: Delegation) -> bool:
        """Whether the importer may write records of `delegation`; a row error naming
        it when not."""
        if delegation_within(self.job.scope, delegation):
            return True
        self.fail(row, key, self.outside(delegation))
        return False

    @staticmethod
    def outside(delegation: Delegation) -> Message:
        return Message(
            _(
                "%(delegation)s at %(edition)s is not one of your delegations: you may "
                "import only the records of your delegations and their sub-delegations."
            ),
            delegation=delegation.name_zh,
            edition=delegation.edition,
        )

    def sector(self, row: Row, key: str, *, exhibition_area: bool = False):
        text = row.values.get(key)
        if text is None:
            return None
        found = self.lookups.sector(text)
        if found is None or (exhibition_area and not found.is_exhibition_area):
            self.fail(
                row,
                key,
                Message(
                    _("“%(value)s” is not one of the %(list)s the bureau keeps."),
                    value=text,
                    list=_("exhibition areas") if exhibition_area else _("sectors"),
                ),
            )
            return None
        return found

    def organization(
        self,
        row: Row,
        *,
        name_key: str,
        code_key: str = "credit_code",
        country: str | None = None,
        required: bool = True,
    ) -> OrgRef | None:
        """The organization a row names, by its credit code when given, else by its
        Chinese or English name (and country, when the sheet gives one). None when
        there is none (an error when `required`) or when the name is ambiguous."""
        name = row.values.get(name_key)
        code = row.values.get(code_key) if self.has(code_key) else None
        index = self.lookups.organizations
        if code:
            found = index.by_code.get(code)
            if found is None and required:
                self.fail(
                    row,
                    code_key,
                    Message(
                        _(
                            "no organization has the credit code %(code)s: add it to the "
                            "Organizations sheet (组织) first."
                        ),
                        code=code,
                    ),
                )
            return found
        if name is None:
            return None
        candidates = index.named(name)
        if country:
            candidates = [ref for ref in candidates if ref.country == country]
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            self.fail(
                row,
                name_key,
                Message(
                    _(
                        "“%(name)s” names %(count)s organizations: give its credit code in the "
                        "column %(column)s to say which."
                    ),
                    name=name,
                    count=len(candidates),
                    column=self.sheet.column(code_key).label
                    if self.sheet.has_column(code_key)
                    else Bilingual("统一社会信用代码", "credit_code"),
                ),
            )
        elif required:
            self.fail(
                row,
                name_key,
                Message(
                    _(
                        "no organization is called “%(name)s”: add it to the Organizations "
                        "sheet (组织) first."
                    ),
                    name=name,
                ),
            )
        return None

    def code_warning(self, row: Row, key: str) -> None:
        code = row.values.get(key)
        if code and organization_code_warning(code):
            self.warn(
                row,
                key,
                Message(
                    _("%(code)s is accepted, but %(problem)s."),
                    code=code,
                    problem=lambda: organization_code_warning(code),
                ),
            )

    # --- validating and comparing ---------------------------------------------------------

    def validate(self, instance: Model, row: Row, *, clean: bool = True) -> bool:
        """The model's own validation: `full_clean(validate_unique=False,
        validate_constraints=False)` without its queries. Relations come from the
        caches, so their fields are not looked up again (ForeignKey.validate queries);
        clean() runs unless the caller checked what it would query for; uniqueness is
        checked by the callers against their caches, in bulk."""
        try:
            self.clean_fields(instance)
            if clean:
                instance.clean()
        except ValidationError as error:
            self.model_errors(row, error)
            return False
        return True

    def clean_fields(self, instance: Model) -> None:
        """Model.clean_fields() over the fields that are not relations, remembering the
        values each field has accepted: a field's checks (to_python, choices, blank,
        null, validators) depend on the value alone, and most columns repeat a few."""
        model = type(instance)
        fields = self._cleaned_fields.get(model)
        if fields is None:
            fields = self._cleaned_fields[model] = [
                (field, {})
                for field in model._meta.fields
                if not field.is_relation and not field.generated
            ]
        errors = {}
        for model_field, accepted in fields:
            raw = getattr(instance, model_field.attname)
            if model_field.blank and raw in model_field.empty_values:
                continue
            try:
                cleaned = accepted[raw]
            except (KeyError, TypeError):
                try:
                    cleaned = model_field.clean(raw, instance)
                except ValidationError as error:
                    errors[model_field.name] = error.error_list
                    continue
                if len(accepted) < MEMO_LIMIT:
                    with contextlib.suppress(TypeError):
                        accepted[raw] = cleaned
            setattr(instance, model_field.attname, cleaned)
        if errors:
            raise ValidationError(errors)

    def build(self, model: type[Model], values: dict[str, Any]) -> Model:
        """A new instance with the model's defaults and `values` (by attname), made with
        positional arguments, Django's quick way of building an instance."""
        template = self._templates.get(model)
        if template is None:
            fields = model._meta.concrete_fields
            template = self._templates[model] = (
                [field.get_default() for field in fields],
                {field.attname: index for index, field in enumerate(fields)},
            )
        defaults, positions = template
        args = list(defaults)
        for name, value in values.items():
            args[positions[name]] = value
        return model(*args)

    def model_errors(self, row: Row, error: ValidationError) -> None:
        errors = error.error_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error}
        for name, problems in errors.items():
            key = self.field_columns.get(name, name)
            if not self.sheet.has_column(key):
                key = None
            for problem in problems if isinstance(problems, list) else problems.error_list:
                self.fail(row, key, Message(problem.message, **(problem.params or {})))

    def upsert(
        self,
        model: type[Model],
        plans: Iterable[tuple[Row, Model | None, dict[str, Any], dict[str, Any]]],
    ) -> None:
        """Each plan is (row, the record it matched or None, what identifies a new record,
        the row's values): create what is new, update what changed, count what did not,
        every record validated first."""
        creates, updates, fields = [], [], set()
        for row, record, identity, values in plans:
            if record is None:
                record = model(**identity, **values)
                if self.validate(record, row):
                    creates.append(record)
                continue
            if not self.stage_move(row, record, values):
                continue
            changed = self.apply(record, values)
            if not changed:
                self.counts.unchanged += 1
            elif self.validate(record, row):
                updates.append(record)
                fields |= changed
        self.write(model, creates, updates, fields)

    def write(
        self, model: type[Model], creates: list[Model], updates: list[Model], fields: set[str]
    ) -> None:
        self.writer.create(model, creates)
        self.writer.update(model, updates, fields)
        self.counts.created += len(creates)
        self.counts.updated += len(updates)

    def stage_move(self, row: Row, record: Model, values: dict[str, Any]) -> bool:
        """A row that changes the stage of an agreement, an investment intention or a
        pledge moves it, as the move page does: refused (a row error at the stage's
        column) where its stage does not allow it, kept as a move otherwise."""
        stages = STAGES.get(type(record))
        if stages is None or record.pk is None or stages.field not in values:
            return True
        current, wanted = getattr(record, stages.field), values[stages.field]
        if current == wanted:
            return True
        problem = move_problem(type(record), current, wanted)
        if problem is not None:
            self.fail(row, stages.field, problem)
            return False
        self.job.moves.append((record, current, wanted))
        return True

    @staticmethod
    def apply(instance: Model, values: dict[str, Any]) -> set[str]:
        """Set the values that differ from the instance's; the names of those fields."""
        changed = set()
        for name, value in values.items():
            current = getattr(instance, name)
            if isinstance(current, Country):
                current = current.code or ""
            if current != value:
                setattr(instance, name, value)
                changed.add(name)
        return changed

    @staticmethod
    def kind_for(country: str) -> str:
        """The kind of an organization an exhibitor or pledge row creates."""
        if country == "CN":
            return OrganizationKind.PRIVATE
        if country in {"HK", "MO", "TW"}:
            return OrganizationKind.HK_MACAO_TAIWAN
        return OrganizationKind.FOREIGN
