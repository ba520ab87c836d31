"""Undoing a whole import, from the history rows it wrote (change reason `import #N`):
records it created are removed, records it changed get the version before the import
back, exhibitors it took off an agreement are put back. A record someone changed after
the import is kept, and so is one that other records now refer to; each is named.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    FollowUpMove,
    ImportRun,
    InvestmentIntention,
    Visit,
)
from deals.stats import figures_changed
from delegations.models import Delegation, Organization, Registration

from ..sheets import Message, sheet_for_model
from .results import UndoResult
from .writing import HistoryWriter, chunks

logger = logging.getLogger(__name__)

# What an import writes, in the order it writes it.
MODELS: list[type[Model]] = [
    Delegation,
    Organization,
    Registration,
    Exhibitor,
    ExchangeRate,
    Agreement,
    AgreementExhibitor,
    Visit,
    InvestmentIntention,
    CiftisPledge,
]


class UndoRefused(Exception):
    """The undo cannot be done; nothing was changed. `.message_zh`, `.message_en`."""

    def __init__(self, template, **values: Any) -> None:
        self.message = Message(template, **values)
        super().__init__(self.message.en)

    @property
    def message_zh(self) -> str:
        return self.message.zh

    @property
    def message_en(self) -> str:
        return self.message.en


def undo_import(run: ImportRun, *, user) -> UndoResult:
    """Undo the import `run` (status imported) in one transaction, as its user."""
    started = time.monotonic()
    if user is not None and not user.has_perm("deals.undo_importrun"):
        raise UndoRefused(_("Only a reviewer may undo an import."))
    try:
        with transaction.atomic():
            locked = ImportRun.objects.select_for_update().defer("content").get(pk=run.pk)
            if locked.status != ImportRun.Status.IMPORTED:
                raise UndoRefused(
                    _("Only an import that wrote records can be undone; this one is %(status)s."),
                    status=locked.get_status_display(),
                )
            undo = Undo(locked, user=user)
            undo.run()
            figures_changed()
            locked.status = ImportRun.Status.UNDONE
            locked.undone_at = undo.writer.when
            locked.undone_by = user
            locked.undo_report = undo.result.as_dict()
            locked.save(update_fields=["status", "undone_at", "undone_by", "undo_report"])
    except DatabaseError as error:
        raise UndoRefused(
            _("The database refused the undo (%(error)s); nothing was changed."),
            error=str(error).splitlines()[0][:300] if str(error) else type(error).__name__,
        ) from error
    run.refresh_from_db(fields=["status", "undone_at", "undone_by", "undo_report"])
    logger.info(
        "import undone",
        extra={
            "event": "import_undone",
            "outcome": "undone",
            "user": getattr(user, "username", None),
            "run": run.pk,
            "file_name": run.filename,
            "file_sha256": run.sha256,
            "removed": undo.result.removed,
            "restored": undo.result.restored,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return undo.result


class Undo:
    def __init__(self, run: ImportRun, *, user) -> None:
        self.import_run = run
        self.reason = run.change_reason
        self.writer = HistoryWriter(
            user=user, reason=f"undo of import #{run.pk}", when=timezone.now()
        )
        self.result = UndoResult()

    def run(self) -> None:
        # The moves the import recorded go with the stages it set.
        FollowUpMove.objects.filter(import_run=self.import_run).delete()
        rows = {model: self.import_rows(model) for model in MODELS}
        # An agreement changed since the import keeps its exhibitors as they are now.
        agreements = rows[Agreement].get("+", {}) | rows[Agreement].get("~", {})
        self.frozen_agreements = set(self.changed_since(Agreement, agreements))
        links = rows[AgreementExhibitor]
        for kind, found in links.items():
            links[kind] = self.unfrozen_links(found)
        # Changed records first get their old values back: they may then stop referring
        # to records the import created, which can go.
        for model in MODELS:
            self.restore(model, rows[model].get("~", {}))
            self.put_back(model, rows[model].get("-", {}))
        for model in reversed(MODELS):
            self.remove(model, rows[model].get("+", {}))

    def unfrozen_links(self, rows: dict[int, int]) -> dict[int, int]:
        """The import's exhibitor links whose agreement is not kept as it is now."""
        if not self.frozen_agreements or not rows:
            return rows
        history = AgreementExhibitor.history.model
        frozen = set()
        for chunk in chunks([rows[pk] for pk in rows]):
            frozen |= set(
                history.objects.filter(
                    history_id__in=chunk, agreement_id__in=self.frozen_agreements
                ).values_list("id", flat=True)
            )
        return {pk: history_id for pk, history_id in rows.items() if pk not in frozen}

    def import_rows(self, model: type[Model]) -> dict[str, dict[int, int]]:
        """The import's history rows of `model`: by type, object id to history id."""
        history = model.history.model
        found: dict[str, dict[int, int]] = defaultdict(dict)
        rows = history.objects.filter(
            history_change_reason=self.reason, history_date__gte=self.import_run.created_at
        ).values_list("history_type", "id", "history_id")
        for kind, pk, history_id in rows.iterator(chunk_size=5000):
            found[kind][pk] = max(history_id, found[kind].get(pk, 0))
        return found

    def changed_since(self, model: type[Model], rows: dict[int, int]) -> dict[int, Any]:
        """The objects changed after the import's row for them: id to the latest row."""
        history = model.history.model
        later: dict[int, Any] = {}
        ids = list(rows)
        for chunk in chunks(ids):
            first = min(rows[pk] for pk in chunk)
            for row in (
                history.objects.filter(id__in=chunk, history_id__gt=first)
                .select_related("history_user")
                .order_by("history_id")
            ):
                if row.history_id > rows[row.id]:
                    later[row.id] = row
        return later

    # --- keeping and naming ---------------------------------------------------------------

    def label(self, model: type[Model]) -> str:
        sheet = sheet_for_model(model)
        if sheet is not None:
            return str(sheet)
        meta = model._meta
        return f"{meta.verbose_name_plural}"

    def keep(self, model: type[Model], name: str, message: Message) -> None:
        self.result.kept.append(f"{self.label(model)} · {name}: {message.zh} / {message.en}")

    def kept_changed(self, model: type[Model], name: str, row) -> None:
        who = row.history_user.get_username() if row.history_user_id else "—"
        self.keep(
            model,
            name,
            Message(
                _("changed after the import (%(when)s, by %(who)s), so it was kept."),
                when=timezone.localtime(row.history_date).strftime("%Y-%m-%d %H:%M"),
                who=who,
            ),
        )

    @staticmethod
    def name_of(obj: Model) -> str:
        return str(obj)

    def count(self, field: dict[str, int], model: type[Model], number: int) -> None:
        sheet = sheet_for_model(model)
        if sheet is None or not number:
            return
        field[sheet.name_en] = field.get(sheet.name_en, 0) + number

    # --- restoring ------------------------------------------------------------------------

    def restore(self, model: type[Model], rows: dict[int, int]) -> None:
        if not rows:
            return
        history = model.history.model
        later = self.changed_since(model, rows)
        current = {}
        for chunk in chunks(list(rows)):
            current.update(model._base_manager.in_bulk(chunk))
        for pk, row in later.items():
            if pk in current:
                self.kept_changed(model, self.name_of(current[pk]), row)
        wanted = [pk for pk in rows if pk not in later and pk in current]
        before: dict[int, Any] = {}
        for chunk in chunks(wanted):
            last = max(rows[pk] for pk in chunk)
            for version in history.objects.filter(id__in=chunk, history_id__lt=last).order_by(
                "history_id"
            ):
                if version.history_id < rows[version.id]:
                    before[version.id] = version
        tracked = [
            field
            for field in history.tracked_fields
            if not field.primary_key and field.name not in ("created_at", "updated_at")
        ]
        restored, fields = [], set()
        for pk in wanted:
            obj = current[pk]
            version = before.get(pk)
            if version is None:
                self.keep(
                    model,
                    self.name_of(obj),
                    Message(_("no version before the import is recorded, so it was kept.")),
                )
                continue
            for field in tracked:
                value = getattr(version, field.attname)
                if getattr(obj, field.attname) != value:
                    setattr(obj, field.attname, value)
                    fields.add(field.attname)
            restored.append(obj)
        restored = self.with_targets(model, restored)
        if fields:
            self.writer.update(model, restored, fields)
        self.count(self.result.restored, model, len(restored))

    def with_targets(self, model: type[Model], objs: list[Model]) -> list[Model]:
        """The restored objects whose related records all still exist."""
        missing: set[int] = set()
        for field in model._meta.concrete_fields:
            if not field.is_relation:
                continue
            wanted = {getattr(obj, field.attname) for obj in objs} - {None}
            present: set = set()
            for chunk in chunks(list(wanted)):
                present |= set(
                    field.related_model._base_manager.filter(pk__in=chunk).values_list(
                        "pk", flat=True
                    )
                )
            for obj in objs:
                value = getattr(obj, field.attname)
                if value is not None and value not in present and obj.pk not in missing:
                    missing.add(obj.pk)
                    self.keep(
                        model,
                        f"#{obj.pk}",
                        Message(
                            _("its earlier %(field)s no longer exists, so it was kept as it is."),
                            field=field.verbose_name,
                        ),
                    )
        return [obj for obj in objs if obj.pk not in missing]

    def put_back(self, model: type[Model], rows: dict[int, int]) -> None:
        """Records the import removed (exhibitors taken off an agreement) come back."""
        if not rows:
            return
        history = model.history.model
        later = self.changed_since(model, rows)
        versions = []
        for chunk in chunks([pk for pk in rows if pk not in later]):
            versions += list(history.objects.filter(history_id__in=[rows[pk] for pk in chunk]))
        present = set()
        for chunk in chunks([version.id for version in versions]):
            present |= set(model._base_manager.filter(pk__in=chunk).values_list("pk", flat=True))
        objs = [
            model(
                **{
                    field.attname: getattr(version, field.attname)
                    for field in history.tracked_fields
                }
            )
            for version in versions
            if version.id not in present
        ]
        self.writer.create(model, self.with_targets(model, objs))

    # --- removing -------------------------------------------------------------------------

    def remove(self, model: type[Model], rows: dict[int, int]) -> None:
        if not rows:
            return
        later = self.changed_since(model, rows)
        current = {}
        for chunk in chunks(list(rows)):
            current.update(model._base_manager.in_bulk(chunk))
        for pk, row in later.items():
            if pk in current:
                self.kept_changed(model, self.name_of(current[pk]), row)
        wanted = {pk for pk in current if pk not in later}
        for relation, users in self.dependents(model, wanted).items():
            for pk in users:
                wanted.discard(pk)
                self.keep(
                    model,
                    self.name_of(current[pk]),
                    Message(
                        _("%(records)s recorded since refer to it, so it was kept."),
                        records=relation,
                    ),
                )
        objs = [current[pk] for pk in sorted(wanted)]
        self.writer.delete(model, objs)
        self.count(self.result.removed, model, len(objs))

    @staticmethod
    def dependents(model: type[Model], ids: set[int]) -> dict[Any, set[int]]:
        """Of `ids`, those that other records refer to: by the referring records' name."""
        found: dict[Any, set[int]] = defaultdict(set)
        if not ids:
            return found
        relations = [
            (relation.related_model, relation.field)
            for relation in model._meta.related_objects
            if relation.one_to_many or relation.one_to_one
        ]
        relations += [
            (
                field.remote_field.through,
                field.remote_field.through._meta.get_field(field.m2m_field_name()),
            )
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
        for related, field in relations:
            for chunk in chunks(sorted(ids)):
                used = related._base_manager.filter(**{f"{field.name}__in": chunk}).values_list(
                    "pk", field.attname
                )
                for referrer, pk in used:
                    # A sub-delegation removed with its parent does not keep it.
                    if related is model and referrer in ids:
                        continue
                    found[related._meta.verbose_name_plural].add(pk)
        return found
