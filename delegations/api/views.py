"""Endpoints of fairs, editions, delegations, organizations and registrations. The
viewsets only declare: their querysets fetch in a fixed number of queries what their
serializers print."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, QuerySet, When
from django.http import JsonResponse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.filters import OrderingFilter

from ..filters import (
    DelegationFilterSet,
    EditionFilterSet,
    OrganizationRecordFilterSet,
    RegistrationFilterSet,
)
from ..models import Delegation, Edition, Fair, Organization, Registration, RegistrationStatus
from . import serializers
from .base import PublicViewSet, StaffViewSet, TokenThrottle


def large_importer() -> Case:
    return Case(
        When(organization__annual_imports_usd__gt=settings.EXPO["LARGE_IMPORTER_USD"], then=True),
        default=False,
        output_field=BooleanField(),
    )


# ---------------------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------------------


class FairViewSet(PublicViewSet):
    """The fairs: CIIE, CIFTIS, ..."""

    queryset = Fair.objects.order_by("code")
    serializer_class = serializers.FairSerializer
    lookup_field = "code"


class EditionViewSet(PublicViewSet):
    """The editions of the fairs, latest first."""

    queryset = Edition.objects.select_related("fair").order_by("-starts_on")
    serializer_class = serializers.EditionSerializer
    lookup_field = "slug"
    filterset_class = EditionFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["starts_on", "year"]


class DelegationViewSet(PublicViewSet):
    """The trading delegations and their sub-delegations (`parent`) at each edition."""

    queryset = Delegation.objects.select_related("edition").order_by("edition__starts_on", "pk")
    serializer_class = serializers.DelegationSerializer
    filterset_class = DelegationFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["name_zh", "name_en", "slug"]


class ParticipationViewSet(PublicViewSet):
    """The participating organizations: registrations in a delegation, withdrawn ones
    left out, as the public pages list them. Filter by `delegation` for one
    delegation with its sub-delegations, as its headline figures count them."""

    queryset = (
        Registration.objects.exclude(status=RegistrationStatus.WITHDRAWN)
        .select_related("organization", "delegation__edition")
        .annotate(is_large_importer=large_importer())
        .order_by("pk")
    )
    serializer_class = serializers.ParticipationSerializer
    filterset_class = RegistrationFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["participants", "organization__name_zh", "organization__name_en"]


# ---------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------


class FairRecordViewSet(StaffViewSet):
    """Fairs (reference data: reviewers add and correct them)."""

    queryset = Fair.objects.order_by("code")
    serializer_class = serializers.FairRecordSerializer


class EditionRecordViewSet(StaffViewSet):
    """Editions of the fairs (reference data: reviewers add and correct them)."""

    queryset = Edition.objects.order_by("-starts_on")
    serializer_class = serializers.EditionRecordSerializer
    filterset_class = EditionFilterSet


class DelegationRecordViewSet(StaffViewSet):
    """Delegations and sub-delegations (`parent`) at each edition."""

    queryset = Delegation.objects.order_by("pk")
    serializer_class = serializers.DelegationRecordSerializer
    filterset_class = DelegationFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["name_zh", "name_en", "created_at", "updated_at"]


class OrganizationRecordViewSet(StaffViewSet):
    """Every organization on record, with its credit code and yearly imports."""

    queryset = Organization.objects.order_by("pk")
    serializer_class = serializers.OrganizationRecordSerializer
    filterset_class = OrganizationRecordFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["name_zh", "name_en", "annual_imports_usd", "created_at", "updated_at"]


class RegistrationRecordViewSet(StaffViewSet):
    """Registrations of organizations in delegations, withdrawn ones included."""

    queryset: QuerySet = Registration.objects.order_by("pk")
    serializer_class = serializers.RegistrationRecordSerializer
    filterset_class = RegistrationFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["participants", "registered_on", "created_at", "updated_at"]


class TokenView(ObtainAuthToken):
    """A staff member's API token, for their username and password: send it as
    `Authorization: Token <key>`. Throttled per client address, so that passwords
    cannot be guessed at speed, and locked out with the admin's login (django-axes)."""

    throttle_classes = (TokenThrottle,)
    throttle_scope = "token"
    staff_api = False
    extra_error_codes = ["403"]  # for a user who is not staff

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if not user.is_staff:
            raise exceptions.PermissionDenied(gettext("Only the bureau's staff get API tokens."))
        return super().post(request, *args, **kwargs)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # DRF rolls the request's transaction back on every error, and with it the
        # failed login django-axes has just counted: a wrong password, refused, must
        # still count towards the lockout. Nothing else was written.
        if (
            isinstance(exc, exceptions.ValidationError)
            and transaction.get_connection().in_atomic_block
        ):
            transaction.set_rollback(False)
        return response


@csrf_exempt  # it writes nothing, whatever the method
def not_found(request, *args, **kwargs) -> JsonResponse:
    """Any other address under /api/: a 404 in the API's JSON, not the site's HTML page."""
    message = gettext("There is no such address in the API; see /api/docs/.")
    return JsonResponse(
        {
            "detail": message,
            "code": "not_found",
            "errors": [{"field": None, "message": message, "code": "not_found"}],
        },
        status=404,
    )
