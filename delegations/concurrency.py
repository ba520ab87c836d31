"""Optimistic concurrency: two clerks editing the same record do not silently overwrite
each other. A record's version is its `updated_at` (every record model has one, see
`Recorded`); a change form carries the version it was opened at, an API client sends
the ETag it read in `If-Match`; a save whose version is no longer the record's is
refused, and nothing of it is written.

The check and the save are one: `claim()` is an `UPDATE ... WHERE updated_at = <the
version>` in the save's transaction, which holds the record (the row on PostgreSQL, the
database on SQLite) until the save commits, so that of two saves of one version exactly
one wins, whichever comes first.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

# The change form's hidden field that carries the version the form was opened at.
VERSION_FIELD = "loaded_version"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


def is_versioned(model: type[models.Model]) -> bool:
    return any(field.name == "updated_at" for field in model._meta.concrete_fields)


def version_of(record: models.Model) -> str:
    """The record's version: its `updated_at` in microseconds since 1970."""
    updated_at = record.updated_at
    if timezone.is_naive(updated_at):
        updated_at = timezone.make_aware(updated_at, datetime.UTC)
    return str((updated_at - EPOCH) // MICROSECOND)


def parse_version(version: str) -> datetime.datetime | None:
    """The `updated_at` a version names; None when it names none."""
    version = version.strip()
    if not version.isdigit() or len(version) > 19:
        return None
    return EPOCH + int(version) * MICROSECOND


def claim(record: models.Model, version: str) -> bool:
    """Whether the stored record is still at `version`; if it is, it is held until the
    transaction ends (so call this inside the save's transaction)."""
    loaded = parse_version(version)
    if loaded is None:
        return False
    stored = type(record)._base_manager.filter(pk=record.pk, updated_at=loaded)
    return stored.update(updated_at=loaded) == 1


def last_change(record: models.Model) -> tuple[str, datetime.datetime]:
    """Who changed the stored record last (a user, an import, the API) and when."""
    model = type(record)
    latest = None
    history = getattr(model, "history", None)
    if history is not None:
        latest = (
            history.filter(**{model._meta.pk.attname: record.pk})
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
            .first()
        )
    stored = model._base_manager.filter(pk=record.pk).values_list("updated_at", flat=True)
    when = stored.first() or record.updated_at
    if latest is None:
        return gettext("someone"), when
    user = latest.history_user
    who = (user.get_full_name() or user.get_username()) if user is not None else ""
    if latest.history_change_reason and not who:
        who = latest.history_change_reason
    return who or gettext("someone"), when


def conflict_message(record: models.Model, *, reload: str) -> str:
    who, when = last_change(record)
    return gettext(
        "This record was changed by %(who)s at %(when)s after you opened it. %(reload)s "
        "Nothing of yours was saved."
    ) % {
        "who": who,
        "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"),
        "reload": reload,
    }


# ---------------------------------------------------------------------------------------
# The admin's change forms
# ---------------------------------------------------------------------------------------


def versioned_form(
    form_class: type[forms.ModelForm], *, row: bool = False
) -> type[forms.ModelForm]:
    """`form_class` with a hidden field that carries the version the form was opened at,
    and a check, on save, that the record is still at that version. A record's own form
    is checked even when nothing in it changed (saving it writes every field it shows,
    which would put back what the other clerk changed); an inline's `row` only when it
    changed, since only changed rows are saved."""

    class VersionedForm(form_class):
        loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.instance.pk is not None:
                self.fields[VERSION_FIELD].initial = version_of(self.instance)

        def clean(self) -> dict[str, Any]:
            cleaned = super().clean()
            loaded = cleaned.get(VERSION_FIELD)
            # A form posted without a version (a script of old) is not checked.
            saved = not row or self.has_changed()
            if self.instance.pk is not None and loaded and saved:
                self.check_version(loaded)
            return cleaned

        def check_version(self, loaded: str) -> None:
            if not claim(self.instance, loaded):
                reload = gettext(
                    "Your input is shown below: reload the page to see their change, then "
                    "make yours again."
                )
                raise forms.ValidationError(
                    conflict_message(self.instance, reload=reload), code="conflict"
                )

    VersionedForm.__name__ = form_class.__name__
    VersionedForm.__qualname__ = form_class.__qualname__
    return VersionedForm


class ConcurrentEditAdminMixin:
    """For the ModelAdmin (and inline) of a record model: a change form saved after
    someone else saved the same record is refused with a form error that says who and
    when, the clerk's input shown back, nothing written."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self._versioned(super().get_form, request, obj, change=change, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        # An inline's rows: each carries the version of its own record.
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"]:
            kwargs["fields"] = [name for name in kwargs["fields"] if name != VERSION_FIELD]
        formset = super().get_formset(request, obj, **kwargs)
        if is_versioned(self.model):
            formset.form = versioned_form(formset.form, row=True)
        return formset

    def _versioned(self, get_form, request, obj, **kwargs):
        # The version is not a model field: it is added to the form, not asked of the
        # model (the admin asks for the fields of the fieldsets when none are given).
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"]:
            kwargs["fields"] = [name for name in kwargs["fields"] if name != VERSION_FIELD]
        form = get_form(request, obj, **kwargs)
        if obj is None or not is_versioned(self.model):
            return form
        return versioned_form(form)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and not hasattr(self, "parent_model"):
            return fieldsets
        if not is_versioned(self.model) or VERSION_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        if hasattr(self, "parent_model"):
            # An inline shows one row of fields: the hidden one joins it.
            (name, options), *rest = fieldsets
            return [(name, {**options, "fields": [*options["fields"], VERSION_FIELD]}), *rest]
        return [*fieldsets, (None, {"fields": [VERSION_FIELD], "classes": ["hidden"]})]


# ---------------------------------------------------------------------------------------
# The API: ETag and If-Match
# ---------------------------------------------------------------------------------------


def etag_of(record: models.Model) -> str:
    return f'"{version_of(record)}"'


def versions_in(if_match: str) -> list[str] | None:
    """The versions an If-Match header names; None for `*` (any version)."""
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if "*" in tags:
        return None
    return [tag.removeprefix("W/").strip('"') for tag in tags]


PRECONDITION_FAILED = _(
    "This record was changed after the version you sent in If-Match: read it again "
    "(its ETag) and send your change with that version."
)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = PRECONDITION_FAILED
    default_code = "precondition_failed"


class ConcurrentWritesMixin:
    """For a staff viewset: a record's answer carries its version as an ETag, and a PUT,
    PATCH or DELETE that sends `If-Match` is refused with 412 Precondition Failed when
    the record is no longer at that version. Without `If-Match` nothing is checked."""

    record: models.Model | None = None

    def get_object(self):
        self.record = super().get_object()
        return self.record

    def perform_create(self, serializer) -> None:
        super().perform_create(serializer)
        self.record = serializer.instance

    def perform_update(self, serializer) -> None:
        super().perform_update(serializer)
        self.record = serializer.instance

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            self.check_if_match(request)
            return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            self.check_if_match(request)
            response = super().destroy(request, *args, **kwargs)
        self.record = None
        return response

    def check_if_match(self, request) -> None:
        header = request.headers.get("If-Match")
        if header is None or not is_versioned(self.get_queryset().model):
            return
        # Who may not see the record, or names none, hears that first (403, 404).
        record = self.get_object()
        versions = versions_in(header)
        if versions is None or any(claim(record, version) for version in versions):
            return
        who, when = last_change(record)
        raise PreconditionFailed(
            gettext(
                "This record was changed by %(who)s at %(when)s, after the version your "
                "If-Match names. Read it again (its ETag is its version) and send your "
                "change with that version. Nothing was written."
            )
            % {"who": who, "when": timezone.localtime(when).isoformat(timespec="seconds")}
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = self.record
        if record is not None and is_versioned(type(record)) and 200 <= response.status_code < 300:
            response["ETag"] = etag_of(record)
        return response
