"""Serializers of fairs, editions, delegations, organizations and registrations: the
public ones print what the public pages print, the staff ones every editable field.
None of them queries: the viewsets fetch what they read."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_countries import countries
from rest_framework import serializers

from ..models import Delegation, Edition, Fair, Organization, Registration
from .base import RecordSerializer

COUNTRY_CHOICES = list(countries)


class CountryField(serializers.ChoiceField):
    """An ISO 3166 alpha-2 code (Hong Kong, Macao and Taiwan are regions of China)."""

    def __init__(self, **kwargs):
        super().__init__(choices=COUNTRY_CHOICES, **kwargs)

    def to_representation(self, value):
        return getattr(value, "code", value) or None


# ---------------------------------------------------------------------------------------
# Public
# ---------------------------------------------------------------------------------------


class FairSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fair
        fields = ["id", "code", "abbreviation", "short_name_zh", "name_zh", "name_en"]


class EditionSerializer(serializers.ModelSerializer):
    fair = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Edition
        fields = [
            "id",
            "slug",
            "fair",
            "number",
            "year",
            "name_zh",
            "name_en",
            "starts_on",
            "ends_on",
        ]


class DelegationSerializer(serializers.ModelSerializer):
    edition = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Delegation
        fields = [
            "id",
            "slug",
            "edition",
            "parent",
            "name_zh",
            "name_en",
            "organizer_zh",
            "organizer_en",
            "illustrative",
        ]


class PublicOrganizationSerializer(serializers.ModelSerializer):
    """What the public may know of an organization: its names, kind, country or region
    and industry (not its credit code or its yearly imports)."""

    country = CountryField(read_only=True)

    class Meta:
        model = Organization
        fields = ["name_zh", "name_en", "kind", "country", "industry"]


class ParticipationSerializer(serializers.ModelSerializer):
    """A participating organization: its registration in a delegation."""

    edition = serializers.CharField(source="delegation.edition.slug", read_only=True)
    delegation_slug = serializers.CharField(source="delegation.slug", read_only=True)
    organization = PublicOrganizationSerializer(read_only=True)
    is_large_importer = serializers.BooleanField(
        read_only=True, help_text=_("Imports more than the large-importer threshold a year.")
    )

    class Meta:
        model = Registration
        fields = [
            "id",
            "edition",
            "delegation",
            "delegation_slug",
            "organization",
            "participants",
            "is_purchaser",
            "is_large_importer",
            "status",
            "illustrative",
        ]


# ---------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------

RECORD_FIELDS = ["id", "illustrative", "created_at", "updated_at"]


class FairRecordSerializer(RecordSerializer):
    class Meta:
        model = Fair
        fields = ["id", "code", "abbreviation", "short_name_zh", "name_zh", "name_en"]
        validators: list = []


class EditionRecordSerializer(RecordSerializer):
    class Meta:
        model = Edition
        fields = [
            "id",
            "fair",
            "number",
            "year",
            "slug",
            "name_zh",
            "name_en",
            "starts_on",
            "ends_on",
        ]
        validators: list = []


class DelegationRecordSerializer(RecordSerializer):
    class Meta:
        model = Delegation
        fields = [
            *RECORD_FIELDS,
            "edition",
            "parent",
            "name_zh",
            "name_en",
            "slug",
            "organizer_zh",
            "organizer_en",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []


class OrganizationRecordSerializer(RecordSerializer):
    country = CountryField(required=False)

    class Meta:
        model = Organization
        fields = [
            *RECORD_FIELDS,
            "name_zh",
            "name_en",
            "credit_code",
            "kind",
            "country",
            "industry",
            "annual_imports_usd",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []
        extra_kwargs = {"credit_code": {"allow_null": True, "required": False}}


class RegistrationRecordSerializer(RecordSerializer):
    """A registration; a pledge to its edition follows it (registered, attended)."""

    def save_relations(self, instance: Registration, relations: dict) -> None:
        from deals.services import pledges_follow_registrations  # deals builds on this app

        request = self.context.get("request")
        pledges_follow_registrations(
            registrations=Registration.objects.filter(pk=instance.pk),
            user=request.user if request else None,
        )

    class Meta:
        model = Registration
        fields = [
            *RECORD_FIELDS,
            "delegation",
            "organization",
            "participants",
            "is_purchaser",
            "status",
            "registered_on",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: list = []
