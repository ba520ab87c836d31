"""Serializers of sectors, exchange rates, exhibitors, agreements, visits, investment
intentions and CIFTIS pledges, and of the headline figures.

The public agreement serializer prints `deals.disclosure.PublicAgreement` rows, never an
agreement: an undisclosed amount is not on the row to print. None of these queries."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from delegations.api.base import FieldPermissionDenied, RecordSerializer
from delegations.api.serializers import RECORD_FIELDS, CountryField
from delegations.models import Organization

from ..models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    FollowUpMove,
    InvestmentIntention,
    Publication,
    Sector,
    Visit,
)
from ..services import STAGES
from ..stats import BASIS_LABELS, FIGURE_LABELS

# ---------------------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------------------


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["code", "name_zh", "name_en", "is_exhibition_area"]


class NamedOrganizationSerializer(serializers.ModelSerializer):
    country = CountryField(read_only=True)

    class Meta:
        model = Organization
        fields = ["name_zh", "name_en", "country"]


class PublicExhibitorSerializer(serializers.ModelSerializer):
    edition = serializers.CharField(source="edition.slug", read_only=True)
    organization = NamedOrganizationSerializer(read_only=True)
    exhibition_area = serializers.CharField(
        source="exhibition_area.code", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Exhibitor
        fields = ["id", "edition", "organization", "exhibition_area", "booth", "illustrative"]


class PublicPartySerializer(serializers.Serializer):
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    country = serializers.CharField()


class PublicAgreementSerializer(serializers.Serializer):
    """An agreement as the public may see it: `amount`, `currency` and `amount_usd` are
    null unless the buyer agreed to disclose the amount (`disclosed`)."""

    reference = serializers.CharField()
    edition = serializers.CharField()
    delegation = serializers.IntegerField(source="delegation_id")
    delegation_slug = serializers.CharField()
    signed_on = serializers.DateField(allow_null=True)
    kind = serializers.CharField()
    status = serializers.CharField()
    sector = serializers.CharField(allow_null=True)
    buyer_name_zh = serializers.CharField()
    buyer_name_en = serializers.CharField()
    exhibitors = PublicPartySerializer(many=True)
    disclosed = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    currency = serializers.CharField(allow_null=True)
    amount_usd = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    illustrative = serializers.BooleanField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if data["sector"] == "":
            data["sector"] = None
        return data


class PublicPledgeSerializer(serializers.ModelSerializer):
    target_edition = serializers.CharField(source="target_edition.slug", read_only=True)
    organization = NamedOrganizationSerializer(read_only=True)

    class Meta:
        model = CiftisPledge
        fields = [
            "id",
            "target_edition",
            "organization",
            "source_delegation",
            "status",
            "pledged_on",
            "illustrative",
        ]


class FigureSerializer(serializers.Serializer):
    value = serializers.JSONField(
        help_text=_("The figure: a number, a share as a fraction, or a breakdown by key.")
    )
    previous = serializers.JSONField(
        allow_null=True, help_text=_("The previous edition's figure, or null.")
    )
    change = serializers.JSONField(
        allow_null=True, help_text=_("The relative change as a fraction (0.4 for +40%), or null.")
    )
    basis = serializers.ChoiceField(
        choices=list(BASIS_LABELS), help_text=_("What it compares with.")
    )


class PublicationSerializer(serializers.ModelSerializer):
    """A publication of a delegation's figures (its figures: /api/statistics/...)."""

    edition = serializers.CharField(source="delegation.edition.slug", read_only=True)
    delegation_slug = serializers.CharField(source="delegation.slug", read_only=True)

    class Meta:
        model = Publication
        fields = ["id", "delegation", "delegation_slug", "edition", "as_of", "published_at", "note"]


class PublicationInfoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    as_of = serializers.DateField()
    published_at = serializers.DateTimeField()


class NamesSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()


class StatisticsSerializer(serializers.Serializer):
    """The headline figures of a delegation at an edition, sub-delegations included: the
    object `manage.py statistics --json` prints and the public pages show."""

    delegation = NamesSerializer()
    edition = NamesSerializer()
    previous_edition = serializers.CharField(allow_null=True)
    illustrative = serializers.BooleanField()
    publication = PublicationInfoSerializer(
        allow_null=True, help_text=_("Which publication these are; null for live figures.")
    )

    def get_fields(self):
        fields = super().get_fields()
        for key, label in FIGURE_LABELS.items():
            fields[key] = FigureSerializer(help_text=str(label))
        return fields


# ---------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------

FOLLOW_UP_FIELDS = ["owner", "next_action_on", "notes"]


def staff_users():
    return get_user_model().objects.filter(is_staff=True)


class FollowUpMoveSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpMove
        fields = ["id", "from_stage", "to_stage", "moved_on", "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class FollowUpRecordSerializer(RecordSerializer):
    """A record followed up by an owner (a staff member) through stages. Its stage is set
    when the record is made; afterwards it changes only by a move (`POST .../move/`),
    which is dated, checked against what the stage allows and kept."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=staff_users(), allow_null=True, required=False
    )
    moves = FollowUpMoveSerializer(many=True, read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        field = STAGES[self.Meta.model].field
        changed = self.instance is not None and field in attrs
        if changed and attrs[field] != getattr(self.instance, field):
            raise serializers.ValidationError(
                {
                    field: [
                        gettext(
                            "A stage changes by a move: POST it to this record's move/ "
                            "address, with the date it happened."
                        )
                    ]
                }
            )
        return super().validate(attrs)


class MoveSerializer(serializers.Serializer):
    """A move of a followed record to another stage."""

    to = serializers.CharField(help_text=_("The stage it moves to."))
    moved_on = serializers.DateField(
        required=False, help_text=_("The day it happened; today when left out.")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    next_action_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("The next action's date, if any.")
    )


class SectorRecordSerializer(RecordSerializer):
    class Meta:
        model = Sector
        fields = ["id", "code", "name_zh", "name_en", "is_exhibition_area", "position"]
        validators: list = []


class ExchangeRateRecordSerializer(RecordSerializer):
    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "valid_on", "usd_per_unit", "source"]
        validators: list = []


class ExhibitorRecordSerializer(RecordSerializer):
    class Meta:
        model = Exhibitor
        fields = [*RECORD_FIELDS, "edition", "organization", "exhibition_area", "booth"]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []


class AgreementRecordSerializer(FollowUpRecordSerializer):
    """An agreement with every field. Its US$ amount is computed (frozen at the rate of
    the signing day), and only reviewers may set whether its amount is public."""

    many_fields = ("exhibitors",)

    exhibitors = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Exhibitor.objects.all(),
        allow_empty=False,
        help_text=_("The exhibitors party to it, at the agreement's edition."),
    )

    class Meta:
        model = Agreement
        fields = [
            *RECORD_FIELDS,
            "reference",
            "delegation",
            "registration",
            "exhibitors",
            "kind",
            "sector",
            "amount",
            "currency",
            "amount_usd",
            "usd_rate",
            "usd_rate_on",
            "signed_on",
            "status",
            "is_public",
            *FOLLOW_UP_FIELDS,
            "moves",
        ]
        read_only_fields = ["created_at", "updated_at", "amount_usd", "usd_rate", "usd_rate_on"]
        validators: list = []
        extra_kwargs = {"delegation": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        if "is_public" in attrs and not (
            request and request.user.has_perm("deals.disclose_agreement")
        ):
            current = self.instance.is_public if self.instance is not None else False
            if attrs["is_public"] != current:
                raise FieldPermissionDenied(
                    "is_public",
                    gettext("Only reviewers decide whether an agreement's amount is public."),
                )
        if self.instance is None and "exhibitors" not in attrs:
            raise serializers.ValidationError(
                {"exhibitors": [gettext("An agreement has at least one exhibitor.")]}
            )
        return super().validate(attrs)

    def check_relations(self, instance: Agreement, relations: dict[str, Any]) -> None:
        exhibitors = relations.get("exhibitors")
        if exhibitors is None or instance.delegation_id is None:
            return
        edition_id = instance.delegation.edition_id
        elsewhere = [exhibitor.pk for exhibitor in exhibitors if exhibitor.edition_id != edition_id]
        if elsewhere:
            raise serializers.ValidationError(
                {
                    "exhibitors": [
                        gettext("The exhibitor must be at the agreement's edition.")
                        + f" ({', '.join(str(pk) for pk in elsewhere)})"
                    ]
                }
            )

    def save_relations(self, instance: Agreement, relations: dict[str, Any]) -> None:
        if "exhibitors" not in relations:
            return
        wanted = {exhibitor.pk for exhibitor in relations["exhibitors"]}
        # Row by row, not with .set(): each link added or removed is in the history.
        for party in AgreementExhibitor.objects.filter(agreement=instance).exclude(
            exhibitor_id__in=wanted
        ):
            party.delete()
        present = set(
            AgreementExhibitor.objects.filter(agreement=instance).values_list(
                "exhibitor_id", flat=True
            )
        )
        for exhibitor_id in sorted(wanted - present):
            AgreementExhibitor(agreement=instance, exhibitor_id=exhibitor_id).save()


class VisitRecordSerializer(RecordSerializer):
    class Meta:
        model = Visit
        fields = [
            *RECORD_FIELDS,
            "delegation",
            "organization",
            "visited_on",
            "investment_intention",
            "ciftis_interest",
            "notes",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []


class InvestmentIntentionRecordSerializer(FollowUpRecordSerializer):
    class Meta:
        model = InvestmentIntention
        fields = [
            *RECORD_FIELDS,
            "delegation",
            "organization",
            "sector",
            "amount",
            "currency",
            "stage",
            *FOLLOW_UP_FIELDS,
            "moves",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []


class CiftisPledgeRecordSerializer(FollowUpRecordSerializer):
    class Meta:
        model = CiftisPledge
        fields = [
            *RECORD_FIELDS,
            "target_edition",
            "organization",
            "source_delegation",
            "status",
            "pledged_on",
            *FOLLOW_UP_FIELDS,
            "moves",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []
