"""Endpoints of sectors, exchange rates, exhibitors, agreements, visits, investment
intentions, CIFTIS pledges and of the headline figures. The viewsets only declare; the
public agreements turn into `PublicAgreement` rows before they are printed."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from delegations.api.base import MAX_KEY, IsStaff, PublicThrottle, PublicViewSet, StaffViewSet
from delegations.models import Delegation
from delegations.paging import tree_order
from delegations.scope import scope

from ..disclosure import public_rows
from ..filters import (
    AgreementApiFilterSet,
    AgreementRecordFilterSet,
    ExchangeRateFilterSet,
    ExhibitorApiFilterSet,
    InvestmentIntentionFilterSet,
    PledgeApiFilterSet,
    PublicationFilterSet,
    SectorFilterSet,
    VisitFilterSet,
)
from ..models import (
    Agreement,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    PledgeStatus,
    Publication,
    Sector,
    Visit,
)
from ..services import follow_up_move
from ..stats import cached_headline_figures, published_figures
from . import serializers

# ---------------------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------------------


class SectorViewSet(PublicViewSet):
    """The sectors of trade and the expo's exhibition areas."""

    queryset = Sector.objects.order_by("position", "code")
    serializer_class = serializers.SectorSerializer
    lookup_field = "code"
    filterset_class = SectorFilterSet


class ExhibitorViewSet(PublicViewSet):
    """The exhibitors of each edition. Filter by `delegation` for those party to its
    agreements, as its headline figures count them."""

    queryset = Exhibitor.objects.select_related(
        "edition", "organization", "exhibition_area"
    ).order_by("pk")
    serializer_class = serializers.PublicExhibitorSerializer
    filterset_class = ExhibitorApiFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["organization__name_zh", "organization__name_en", "organization__country"]


class AgreementViewSet(PublicViewSet):
    """The signed and executed agreements (cancelled ones left out), with their amounts
    where the buyer agreed to disclose them, and null amounts where not. No filter or
    ordering reads an undisclosed amount."""

    queryset = Agreement.objects.for_public().order_by("signed_on", "reference")
    serializer_class = serializers.PublicAgreementSerializer
    lookup_field = "reference"
    lookup_value_regex = "[^/]+"
    filterset_class = AgreementApiFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["signed_on", "reference"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.request.query_params.get("delegation") and not self.request.query_params.get(
            OrderingFilter.ordering_param
        ):
            # One delegation tree's agreements, in the same order: found through the index
            # on their delegation and sorted, not by walking the date index across every
            # delegation's (see tree_order).
            queryset = queryset.order_by(*tree_order("signed_on", "reference"))
        return queryset

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else public_rows(agreements=page)

    def get_object(self):
        (row,) = public_rows(agreements=[super().get_object()])
        return row


class PledgeViewSet(PublicViewSet):
    """The pledges to attend a CIFTIS edition, withdrawn ones left out as the figures
    leave them out."""

    queryset = (
        CiftisPledge.objects.exclude(status=PledgeStatus.WITHDRAWN)
        .select_related("organization", "target_edition")
        .order_by("pk")
    )
    serializer_class = serializers.PublicPledgeSerializer
    filterset_class = PledgeApiFilterSet
    filter_backends = [*PublicViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["pledged_on", "organization__name_zh", "organization__name_en"]


class StatisticsView(APIView):
    """The headline figures of a delegation at an edition, its sub-delegations' records
    included, each with the previous edition's figure, the change and its basis, as the
    bureau last published them (or as in the publication `?publication=<id>`): the
    numbers of the public pages. `publication` says which publication they are."""

    authentication_classes: tuple = ()
    permission_classes = (permissions.AllowAny,)
    throttle_classes = (PublicThrottle,)
    staff_api = False

    @extend_schema(
        responses=serializers.StatisticsSerializer,
        parameters=[
            OpenApiParameter("edition", str, OpenApiParameter.PATH, description="ciie-2019"),
            OpenApiParameter("delegation", str, OpenApiParameter.PATH, description="beijing"),
            OpenApiParameter(
                "publication",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="An earlier publication's id (see /api/publications/).",
            ),
        ],
    )
    def get(self, request: Request, edition: str, delegation: str) -> Response:
        found = get_object_or_404(
            Delegation.objects.for_page(), edition__slug=edition, slug=delegation
        )
        wanted = request.query_params.get("publication")
        if wanted is not None and not (wanted.isdigit() and int(wanted) <= MAX_KEY):
            raise NotFound(gettext("No such publication."))
        published = published_figures(
            delegation=found, publication_id=int(wanted) if wanted else None
        )
        if published is None:
            raise NotFound(gettext("The figures of this delegation are not published yet."))
        publication = published.publication
        return Response(
            {
                **published.headline.as_json(),
                "publication": {
                    "id": publication.pk,
                    "as_of": publication.as_of.isoformat(),
                    "published_at": publication.published_at.isoformat(),
                },
            }
        )


class PublicationViewSet(PublicViewSet):
    """Every publication of the figures, latest first: filter by `delegation` (id) or
    `edition` (slug); read one's figures at /api/statistics/{edition}/{delegation}/
    ?publication={id}."""

    queryset = Publication.objects.select_related("delegation__edition").order_by(
        "-published_at", "-pk"
    )
    serializer_class = serializers.PublicationSerializer
    filterset_class = PublicationFilterSet


# ---------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------


class FollowUpViewSetMixin:
    """`POST .../{id}/move/`: move the record to another stage (the change permission is
    needed), as the admin's move page does."""

    @extend_schema(
        request=serializers.MoveSerializer, responses={201: serializers.FollowUpMoveSerializer}
    )
    @action(detail=True, methods=["post"], serializer_class=serializers.MoveSerializer)
    def move(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        data = serializers.MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        extra = {}
        if "next_action_on" in values:
            extra["next_action_on"] = values["next_action_on"]
        move = follow_up_move(
            record=record,
            to=values["to"],
            moved_on=values.get("moved_on"),
            note=values.get("note", ""),
            user=request.user,
            **extra,
        )
        return Response(serializers.FollowUpMoveSerializer(move).data, status=201)


class LiveStatisticsView(APIView):
    """The headline figures as they are now, not yet published: for staff (who may
    view agreements) to check before a reviewer publishes."""

    authentication_classes = StaffViewSet.authentication_classes
    permission_classes = (permissions.IsAuthenticated, IsStaff)
    throttle_classes = StaffViewSet.throttle_classes
    staff_api = True

    @extend_schema(
        responses=serializers.StatisticsSerializer,
        parameters=[
            OpenApiParameter("edition", str, OpenApiParameter.PATH, description="ciie-2019"),
            OpenApiParameter("delegation", str, OpenApiParameter.PATH, description="beijing"),
        ],
    )
    def get(self, request: Request, edition: str, delegation: str) -> Response:
        if not request.user.has_perm("deals.view_agreement"):
            raise PermissionDenied()
        # Live figures of the user's delegations only: a sub-delegation's member does
        # not see its parent's, which count the other sub-delegations' records.
        found = get_object_or_404(
            scope(Delegation.objects.for_page(), request.user),
            edition__slug=edition,
            slug=delegation,
        )
        return Response(
            {**cached_headline_figures(delegation=found).as_json(), "publication": None}
        )


class SectorRecordViewSet(StaffViewSet):
    """The sectors and exhibition areas staff keep."""

    queryset = Sector.objects.order_by("position", "code")
    serializer_class = serializers.SectorRecordSerializer
    filterset_class = SectorFilterSet


class ExchangeRateRecordViewSet(StaffViewSet):
    """Dated exchange rates to US$; an agreement keeps the rate of its signing day."""

    queryset = ExchangeRate.objects.order_by("currency", "-valid_on")
    serializer_class = serializers.ExchangeRateRecordSerializer
    filterset_class = ExchangeRateFilterSet


class ExhibitorRecordViewSet(StaffViewSet):
    """Exhibitors of each edition."""

    queryset = Exhibitor.objects.order_by("pk")
    serializer_class = serializers.ExhibitorRecordSerializer
    filterset_class = ExhibitorApiFilterSet


class AgreementRecordViewSet(FollowUpViewSetMixin, StaffViewSet):
    """Purchase agreements with every field. The US$ amount is computed at the rate of
    the signing day; only reviewers set `is_public`."""

    queryset = Agreement.objects.prefetch_related("exhibitors", "moves").order_by("pk")
    serializer_class = serializers.AgreementRecordSerializer
    filterset_class = AgreementRecordFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["signed_on", "reference", "amount_usd", "created_at", "updated_at"]


class VisitRecordViewSet(StaffViewSet):
    """Company visits (never public)."""

    queryset = Visit.objects.order_by("pk")
    serializer_class = serializers.VisitRecordSerializer
    filterset_class = VisitFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["visited_on", "created_at"]


class InvestmentIntentionRecordViewSet(FollowUpViewSetMixin, StaffViewSet):
    """Investment intentions and their follow-up (never public)."""

    queryset = InvestmentIntention.objects.prefetch_related("moves").order_by("pk")
    serializer_class = serializers.InvestmentIntentionRecordSerializer
    filterset_class = InvestmentIntentionFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["next_action_on", "amount", "created_at"]


class CiftisPledgeRecordViewSet(FollowUpViewSetMixin, StaffViewSet):
    """CIFTIS pledges and their follow-up, withdrawn ones included."""

    queryset = CiftisPledge.objects.prefetch_related("moves").order_by("pk")
    serializer_class = serializers.CiftisPledgeRecordSerializer
    filterset_class = PledgeApiFilterSet
    filter_backends = [*StaffViewSet.filter_backends, OrderingFilter]
    ordering_fields = ["pledged_on", "next_action_on", "created_at"]
