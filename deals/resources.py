"""Spreadsheet exports of exhibitors, exchange rates, purchase agreements, visits,
investment intentions and CIFTIS pledges, in the sheets and headers of the clerks'
contract. How cells are written, and why only exports go through django-import-export:
`delegations.resources`."""

from __future__ import annotations

from decimal import Decimal

import tablib
from django.db.models import Prefetch, QuerySet

from delegations.resources import (
    DelegationResource,
    OrganizationResource,
    RegistrationResource,
    SheetResource,
    amount_cell,
    column,
    edition_name,
)

from .models import (
    Agreement,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    Visit,
)

EXHIBITOR_SEPARATOR = "; "


class ExhibitorResource(SheetResource):
    sheet_name = "Exhibitors"

    edition = column("edition")
    name = column("name", "organization__name_zh")
    name_en = column("name_en", "organization__name_en")
    credit_code = column("credit_code", "organization__credit_code")
    country = column("country")
    exhibition_area = column("exhibition_area", "exhibition_area__name_zh")
    booth = column("booth", "booth")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Exhibitor
        name = "Exhibitors"
        fields = (
            "edition",
            "name",
            "name_en",
            "credit_code",
            "country",
            "exhibition_area",
            "booth",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("edition__fair", "organization", "exhibition_area")

    def dehydrate_edition(self, obj: Exhibitor) -> str:
        return edition_name(obj.edition)

    def dehydrate_country(self, obj: Exhibitor) -> str:
        return obj.organization.country.code


class ExchangeRateResource(SheetResource):
    sheet_name = "Exchange rates"

    currency = column("currency", "currency")
    valid_on = column("valid_on", "valid_on")
    usd_per_unit = column("usd_per_unit", "usd_per_unit")
    source = column("source", "source")

    class Meta:
        model = ExchangeRate
        name = "Exchange rates"
        fields = ("currency", "valid_on", "usd_per_unit", "source")
        export_order = fields


class AgreementResource(SheetResource):
    sheet_name = "Agreements"

    reference = column("reference", "reference")
    delegation = column("delegation", "delegation__name_zh")
    edition = column("edition")
    buyer = column("buyer", "registration__organization__name_zh")
    buyer_credit_code = column("buyer_credit_code", "registration__organization__credit_code")
    exhibitors = column("exhibitors")
    kind = column("kind", "kind")
    sector = column("sector", "sector__name_zh")
    amount = column("amount")
    currency = column("currency", "currency")
    signed_on = column("signed_on", "signed_on")
    status = column("status", "status")
    public = column("public", "is_public")
    amount_usd = column("amount_usd")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Agreement
        name = "Agreements"
        fields = (
            "reference",
            "delegation",
            "edition",
            "buyer",
            "buyer_credit_code",
            "exhibitors",
            "kind",
            "sector",
            "amount",
            "currency",
            "signed_on",
            "status",
            "public",
            "amount_usd",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        exhibitors = Exhibitor.objects.select_related("organization").order_by(
            "organization__name_zh", "pk"
        )
        return queryset.select_related(
            "delegation__edition__fair", "registration__organization", "sector"
        ).prefetch_related(Prefetch("exhibitors", queryset=exhibitors))

    def dehydrate_edition(self, obj: Agreement) -> str:
        return edition_name(obj.delegation.edition)

    def dehydrate_exhibitors(self, obj: Agreement) -> str:
        return EXHIBITOR_SEPARATOR.join(
            exhibitor.organization.name_zh for exhibitor in obj.exhibitors.all()
        )

    def dehydrate_amount(self, obj: Agreement) -> Decimal | None:
        return amount_cell(obj.amount, obj.currency)

    def dehydrate_amount_usd(self, obj: Agreement) -> Decimal | None:
        return amount_cell(obj.amount_usd, "USD")


class VisitResource(SheetResource):
    sheet_name = "Visits"

    delegation = column("delegation")
    edition = column("edition")
    organization = column("organization", "organization__name_zh")
    credit_code = column("credit_code", "organization__credit_code")
    visited_on = column("visited_on", "visited_on")
    visited_by = column("visited_by")
    investment_intention = column("investment_intention", "investment_intention")
    ciftis_interest = column("ciftis_interest", "ciftis_interest")
    notes = column("notes", "notes")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Visit
        name = "Visits"
        fields = (
            "delegation",
            "edition",
            "organization",
            "credit_code",
            "visited_on",
            "visited_by",
            "investment_intention",
            "ciftis_interest",
            "notes",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related(
            "delegation__edition__fair", "delegation__parent", "organization"
        )

    # The sheet names the trading delegation, and the sub-delegation that visited, if
    # one did, under `visited_by`.
    def dehydrate_delegation(self, obj: Visit) -> str:
        return obj.delegation.top.name_zh

    def dehydrate_edition(self, obj: Visit) -> str:
        return edition_name(obj.delegation.edition)

    def dehydrate_visited_by(self, obj: Visit) -> str:
        return obj.delegation.name_zh if obj.delegation.parent_id else ""


class InvestmentIntentionResource(SheetResource):
    sheet_name = "Investment intentions"

    delegation = column("delegation", "delegation__name_zh")
    edition = column("edition")
    organization = column("organization", "organization__name_zh")
    credit_code = column("credit_code", "organization__credit_code")
    sector = column("sector", "sector__name_zh")
    amount = column("amount")
    currency = column("currency", "currency")
    stage = column("stage", "stage")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = InvestmentIntention
        name = "Investment intentions"
        fields = (
            "delegation",
            "edition",
            "organization",
            "credit_code",
            "sector",
            "amount",
            "currency",
            "stage",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("delegation__edition__fair", "organization", "sector")

    def dehydrate_edition(self, obj: InvestmentIntention) -> str:
        return edition_name(obj.delegation.edition)

    def dehydrate_amount(self, obj: InvestmentIntention) -> Decimal | None:
        return amount_cell(obj.amount, obj.currency)


class CiftisPledgeResource(SheetResource):
    sheet_name = "CIFTIS pledges"

    fair_edition = column("fair_edition")
    organization = column("organization", "organization__name_zh")
    credit_code = column("credit_code", "organization__credit_code")
    country = column("country")
    source_delegation = column("source_delegation", "source_delegation__name_zh")
    source_edition = column("source_edition")
    status = column("status", "status")
    pledged_on = column("pledged_on", "pledged_on")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = CiftisPledge
        name = "CIFTIS pledges"
        fields = (
            "fair_edition",
            "organization",
            "credit_code",
            "country",
            "source_delegation",
            "source_edition",
            "status",
            "pledged_on",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related(
            "target_edition__fair", "organization", "source_delegation__edition__fair"
        )

    def dehydrate_fair_edition(self, obj: CiftisPledge) -> str:
        return edition_name(obj.target_edition)

    def dehydrate_country(self, obj: CiftisPledge) -> str:
        return obj.organization.country.code

    def dehydrate_source_edition(self, obj: CiftisPledge) -> str:
        if obj.source_delegation_id is None:
            return ""
        return edition_name(obj.source_delegation.edition)


# A resource per sheet of the contract, in the order the sheets are imported.
SHEET_RESOURCES: list[type[SheetResource]] = [
    DelegationResource,
    OrganizationResource,
    RegistrationResource,
    ExhibitorResource,
    ExchangeRateResource,
    AgreementResource,
    VisitResource,
    InvestmentIntentionResource,
    CiftisPledgeResource,
]


def export_workbook() -> bytes:
    """Every record as one XLSX workbook of the contract's sheets, which the workbook
    import reads back (into an empty database, it recreates them)."""
    book = tablib.Databook(
        [resource().export(force_native_type=True) for resource in SHEET_RESOURCES]
    )
    return book.export("xlsx")
