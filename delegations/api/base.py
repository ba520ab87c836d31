"""What every endpoint of the API shares: the public and the staff viewsets, pagination,
permissions, writes through the models' own validation and history, and errors as JSON
that name the field at fault.

Two kinds of endpoint:

- **Public** (`/api/...`): read-only, for anyone. They ignore credentials altogether,
  so that a wrong password cannot be told from a right one by the answer, and they are
  throttled per client address. They read the same querysets and statistics as the
  public pages, under the same disclosure rules.
- **Staff** (`/api/staff/...`): every record, read and written with a token or a
  session, by staff whose group grants Django's model permission for the action
  (viewing included). A write runs the model's `full_clean()` like the admin, and is
  kept in the same history, under the user's name.
"""

from __future__ import annotations

import copy
from typing import Any

from django.core.cache import caches
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from ..concurrency import ConcurrentWritesMixin, is_versioned
from ..scope import NOT_YOURS, is_scoped, out_of_scope_field, scope

# A relation's value outside the user's delegations (or naming no record at all).
NOT_AMONG_YOURS = _("No record {pk_value} is among your delegations' records.")

# The largest key the databases hold (a 64-bit integer).
MAX_KEY = 2**63 - 1

IF_MATCH_DESCRIPTION = _(
    "Optional: the ETag of the record as you read it. When given, the write is refused "
    "with 412 if the record was changed since."
)

# Said in the history of a record changed through the API.
CHANGE_REASON = "API"


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with records already stored.")
    default_code = "conflict"


class FieldPermissionDenied(exceptions.PermissionDenied):
    """A write of a field the user may not change (only reviewers disclose amounts)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__({field: [message]})


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text=_(
            "The field at fault, dotted for nested ones (`exhibitors.0`); null for "
            "the request as a whole."
        ),
    )
    message = serializers.CharField()
    code = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text=_("What went wrong, in a sentence."))
    code = serializers.CharField(help_text=_("A stable machine name of the error."))
    errors = ErrorItemSerializer(many=True, help_text=_("One entry per problem found."))


def _flatten(data: Any, codes: Any, prefix: str | None = None) -> list[dict[str, Any]]:
    """DRF's nested error details as a flat list of {field, message, code}."""
    items: list[dict[str, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            name = None if key in (api_settings.NON_FIELD_ERRORS_KEY, "detail") else str(key)
            field = ".".join(part for part in (prefix, name) if part) or None
            items += _flatten(value, codes.get(key) if isinstance(codes, dict) else codes, field)
    elif isinstance(data, list):
        nested = any(isinstance(value, dict | list) for value in data)
        for index, value in enumerate(data):
            code = codes[index] if isinstance(codes, list) and index < len(codes) else codes
            if nested:
                field = ".".join(part for part in (prefix, str(index)) if part)
                items += _flatten(value, code, field)
            else:
                items += _flatten(value, code, prefix)
    elif data is not None:
        items.append({"field": prefix, "message": str(data), "code": str(codes or "invalid")})
    return items


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Errors as `ErrorSerializer` describes them, whatever raised them: DRF's own, the
    models' validation, a delete refused because other records need this one, a
    uniqueness race lost at the database."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        blocking = sorted(
            {obj._meta.verbose_name_plural for obj in exc.protected_objects}
            if isinstance(exc, ProtectedError)
            else {obj._meta.verbose_name_plural for obj in exc.restricted_objects}
        )
        exc = Conflict(
            gettext("Other records need this one, so it cannot be deleted: %(names)s.")
            % {"names": ", ".join(str(name) for name in blocking)}
        )
    elif isinstance(exc, IntegrityError):
        exc = Conflict(gettext("This would duplicate or break a record already stored."))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        # A service's refusal (e.g. "Only reviewers publish the figures."), said as such.
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    items = _flatten(exc.detail, exc.get_codes())
    if isinstance(exc, exceptions.ValidationError):
        detail = gettext("The request is not valid: see the errors of each field.")
        code = "invalid"
    else:
        detail = items[0]["message"] if items else str(exc.default_detail)
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        if isinstance(exc.detail, dict | list):
            detail = gettext("The request was refused: see the errors.")
    response.data = {"detail": detail, "code": code, "errors": items}
    return response


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------


class ExpoAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the error answers each endpoint can give."""

    def _versioned(self) -> bool:
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        return getattr(self.view, "staff_api", False) and model is not None and is_versioned(model)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in ("PUT", "PATCH", "DELETE") and self._versioned():
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    description=str(IF_MATCH_DESCRIPTION),
                )
            )
        return parameters

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        # 404: no such record, or a page past the end of a list.
        codes = ["404", "429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if getattr(self.view, "staff_api", False):
            codes += ["401", "403"]
            if self.method in ("POST", "PUT", "PATCH", "DELETE"):
                codes.append("409")
            if self.method in ("PUT", "PATCH", "DELETE") and self._versioned():
                codes.append("412")
        codes += getattr(self.view, "extra_error_codes", [])
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer), code, direction=direction
                )
        return responses


# ---------------------------------------------------------------------------------------
# Pagination, throttling, permissions
# ---------------------------------------------------------------------------------------


class ThrottleRates:
    """Rates read from the settings when a request is throttled, not when DRF's module
    was imported, so that a changed setting takes effect (and tests can set it)."""

    cache = caches["throttle"]

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PublicThrottle(ThrottleRates, AnonRateThrottle):
    """Public endpoints, per client address (see `NUM_PROXIES` in the settings: behind a
    proxy the address is read from the header the proxy sets, never from the client's)."""

    scope = "public"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class StaffThrottle(ThrottleRates, UserRateThrottle):
    scope = "staff"


class TokenThrottle(ThrottleRates, ScopedRateThrottle):
    """Requests for a token, per client address."""


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Django's model permissions, reading included: a staff member sees a kind of
    record only with its view permission. An action that changes a record (a move to
    another stage) needs the change permission, whatever its method."""

    CHANGING_ACTIONS = {"move"}

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) in self.CHANGING_ACTIONS:
            if not request.user or not request.user.is_authenticated:
                return False
            model = self._queryset(view).model
            return request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}")
        return super().has_permission(request, view)

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class IsStaff(permissions.BasePermission):
    message = _("Only the bureau's staff may use the staff API.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_active and request.user.is_staff)


# ---------------------------------------------------------------------------------------
# Viewsets
# ---------------------------------------------------------------------------------------


class PublicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A public, read-only endpoint: no credentials read, throttled per address."""

    authentication_classes: tuple = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (PublicThrottle,)
    staff_api = False


class StaffViewSet(ConcurrentWritesMixin, viewsets.ModelViewSet):
    """A staff endpoint over every record of a model. A record's answer carries its
    version (ETag); a write that sends it back in If-Match is refused (412) when someone
    changed the record since."""

    def get_object(self):
        # A key past what the database holds names no record (rather than overflowing
        # the database driver).
        value = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if self.lookup_field == "pk" and not (value.isdigit() and 0 < int(value) <= MAX_KEY):
            raise exceptions.NotFound()
        return super().get_object()

    authentication_classes = (TokenAuthentication, SessionAuthentication)
    permission_classes = (permissions.IsAuthenticated, IsStaff, StaffModelPermissions)
    throttle_classes = (StaffThrottle,)
    staff_api = True

    def get_queryset(self) -> models.QuerySet:
        # The records of the user's delegations only: another delegation's record is
        # not found (404), as a missing one is.
        return scope(super().get_queryset(), self.request.user)

    def perform_destroy(self, instance: models.Model) -> None:
        instance._change_reason = CHANGE_REASON
        with transaction.atomic():
            instance.delete()


# ---------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------


class RecordSerializer(serializers.ModelSerializer):
    """A staff serializer that writes as the admin does: the model's `full_clean()`
    (fields, `clean()`, unique and check constraints) decides what is valid, and the
    save goes into the model's history, under the request's user."""

    # Many-to-many fields written after the record is saved (see `save_relations`).
    many_fields: tuple[str, ...] = ()

    def get_fields(self) -> dict[str, serializers.Field]:
        """A relation to a scoped record (a delegation, a registration) accepts only
        the records of the user's delegations: another one is a 400 naming the field."""
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:  # the schema, made without a request
            return fields
        for field in fields.values():
            relation = getattr(field, "child_relation", field)
            queryset = getattr(relation, "queryset", None)
            if queryset is not None and is_scoped(queryset.model):
                relation.queryset = scope(queryset, user)
                relation.error_messages["does_not_exist"] = NOT_AMONG_YOURS
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        relations = {name: attrs.pop(name) for name in self.many_fields if name in attrs}
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        writable = {field.source for field in self.fields.values() if not field.read_only}
        # As a model form leaves out of the model's validation what it does not edit, and
        # an empty optional value that `clean()` may derive (an agreement's delegation).
        exclude = [
            field.name
            for field in model._meta.fields
            if field.name not in writable
            or (field.name not in attrs and getattr(instance, field.attname) in (None, ""))
        ]
        try:
            instance.full_clean(exclude=exclude)
        except DjangoValidationError as error:
            raise serializers.ValidationError(serializers.as_serializer_error(error)) from None
        request = self.context.get("request")
        outside = out_of_scope_field(request.user, instance) if request is not None else None
        if outside is not None:
            raise serializers.ValidationError({outside: [str(NOT_YOURS)]})
        self.check_relations(instance, relations)
        self._cleaned = instance
        return {**attrs, **relations}

    def check_relations(self, instance: models.Model, relations: dict[str, Any]) -> None:
        """Check the many-to-many values against the cleaned record."""

    def save_relations(self, instance: models.Model, relations: dict[str, Any]) -> None:
        """Write the many-to-many values of the saved record."""

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> models.Model:
        relations = {
            name: validated_data.pop(name) for name in self.many_fields if name in validated_data
        }
        instance = self._cleaned
        instance._change_reason = CHANGE_REASON
        instance.save()
        self.save_relations(instance, relations)
        return instance

    @transaction.atomic
    def update(self, instance: models.Model, validated_data: dict[str, Any]) -> models.Model:
        relations = {
            name: validated_data.pop(name) for name in self.many_fields if name in validated_data
        }
        cleaned = self._cleaned
        cleaned._change_reason = CHANGE_REASON
        cleaned.save()
        # The copy carries the relations prefetched before the change.
        cleaned._prefetched_objects_cache = {}
        self.save_relations(cleaned, relations)
        return cleaned


RESPONSE_DESCRIPTIONS = {
    "200": _("The records asked for."),
    "201": _("Created: the record as stored."),
    "204": _("Deleted."),
    "400": _("Not valid: `errors` names each field or filter at fault and why."),
    "401": _("No credentials, or credentials that are not valid: send a staff token."),
    "403": _("The user's staff group does not permit this (or this field's change)."),
    "404": _("No such record, or no such page of the list."),
    "409": _("Refused because of records already stored (other records need this one)."),
    "412": _("Refused: the record changed after the version If-Match names. Nothing was written."),
    "429": _("Too many requests from this client: wait as Retry-After says."),
}


def describe_everything(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular post-processing: every response says what it means, and every
    path parameter what it names, so that no part of the schema is left undescribed."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and parameter.get("in") == "path":
                    parameter["description"] = str(
                        _("The %(name)s that names the record.") % {"name": parameter["name"]}
                    )
            for code, response in operation.get("responses", {}).items():
                if not response.get("description"):
                    response["description"] = str(RESPONSE_DESCRIPTIONS.get(code, code))
    return result
