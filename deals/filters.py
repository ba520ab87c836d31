"""Filters of the public lists of agreements, exhibitors and CIFTIS pledges, shared by the
pages and their downloads."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from delegations.filters import (
    AmountFilter,
    KeyFilter,
    ManyOptionsSelect,
    YesNoFilter,
    all_countries,
    country_choices,
    tree_filter,
    words_filter,
)
from delegations.search import containing_words

from .models import (
    Agreement,
    AgreementExhibitor,
    AgreementKind,
    AgreementStatus,
    IntentionStage,
    PledgeStatus,
    Sector,
)


def agreements_naming(queryset: QuerySet, value: str, *, codes: bool = False) -> QuerySet:
    """The agreements of `queryset` whose buyer's or one of whose exhibitors' name (and,
    with `codes`, credit code) holds every word of `value`. The organizations named are
    found first, then their agreements through the indexes on the buyer and on the
    exhibitors: a join from every agreement to its exhibitors would test each agreement
    on record once per exhibitor, and need a DISTINCT that costs the list its index
    order. The two are one subquery, a UNION, so that the database can start from the
    few agreements found and look each up by key; `pk IN (bought) OR pk IN (sold)`
    made PostgreSQL walk every agreement on record, testing each against both (at the
    whole expo's scale, 180 ms instead of 10 for a page, 500 ms for a word naming no
    one). The organizations are found through their text index where it serves
    (`delegations.search`)."""
    from delegations.models import Organization

    fields = ["name_zh", "name_en", *(["credit_code"] if codes else [])]
    for word in value.split():
        named = containing_words(Organization.objects.all(), fields, word).values("pk")
        # No ORDER BY in the parts of a UNION (the models' default order is cleared).
        bought = Agreement.objects.filter(registration__organization__in=named).order_by()
        sold = AgreementExhibitor.objects.filter(exhibitor__organization__in=named).order_by()
        queryset = queryset.filter(pk__in=bought.values("pk").union(sold.values("agreement")))
    return queryset


def agreement_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
    """The `q` filter of the agreements' lists: `agreements_naming`."""
    return agreements_naming(queryset, value)


class AgreementFilterSet(django_filters.FilterSet):
    """A delegation's counted agreements. No filter or ordering reads an amount: the
    public may not rank or select agreements by a figure it may not see."""

    q = django_filters.CharFilter(method="search", label=_("Buyer or exhibitor contains"))
    sector = django_filters.ModelChoiceFilter(
        field_name="sector",
        lookup_expr="exact",
        to_field_name="code",
        queryset=Sector.objects.filter(is_exhibition_area=False),
        label=_("Sector"),
        empty_label=_("all sectors"),
    )
    kind = django_filters.ChoiceFilter(
        field_name="kind",
        lookup_expr="exact",
        choices=AgreementKind.choices,
        label=_("Kind"),
        empty_label=_("all kinds"),
    )
    country = django_filters.ChoiceFilter(
        method="exhibitor_country",
        label=_("Exhibitor's country or region"),
        empty_label=_("all countries and regions"),
        widget=ManyOptionsSelect,
    )
    disclosed = YesNoFilter(
        field_name="is_public", lookup_expr="exact", label=_("Amount disclosed")
    )

    search = agreement_search

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parties = AgreementExhibitor.objects.filter(agreement__in=self.queryset.values("pk"))
        self.filters["country"].extra["choices"] = country_choices(
            parties, "exhibitor__organization__country"
        )

    def exhibitor_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        parties = AgreementExhibitor.objects.filter(
            agreement=OuterRef("pk"), exhibitor__organization__country=value
        )
        return queryset.filter(Exists(parties))


class ExhibitorFilterSet(django_filters.FilterSet):
    """The exhibitors party to a delegation's agreements."""

    q = django_filters.CharFilter(method="search", label=_("Name contains"))
    country = django_filters.ChoiceFilter(
        field_name="organization__country",
        lookup_expr="exact",
        label=_("Country or region"),
        empty_label=_("all countries and regions"),
        widget=ManyOptionsSelect,
    )

    search = words_filter(["organization__name_zh", "organization__name_en"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = country_choices(
            self.queryset, "organization__country"
        )


class PledgeFilterSet(django_filters.FilterSet):
    """The CIFTIS pledges made through a delegation."""

    q = django_filters.CharFilter(method="search", label=_("Organization contains"))
    country = django_filters.ChoiceFilter(
        field_name="organization__country",
        lookup_expr="exact",
        label=_("Country or region"),
        empty_label=_("all countries and regions"),
        widget=ManyOptionsSelect,
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        lookup_expr="exact",
        choices=PledgeStatus.choices,
        label=_("Status"),
        empty_label=_("all statuses"),
    )

    search = words_filter(["organization__name_zh", "organization__name_en"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = country_choices(
            self.queryset, "organization__country"
        )


# ---------------------------------------------------------------------------------------
# The API's filters: across every edition and delegation, with fixed choices (see
# delegations.filters).
# ---------------------------------------------------------------------------------------


class SectorFilterSet(django_filters.FilterSet):
    is_exhibition_area = django_filters.BooleanFilter(
        field_name="is_exhibition_area", label=_("Exhibition areas only, or sectors only")
    )


class ExchangeRateFilterSet(django_filters.FilterSet):
    currency = django_filters.CharFilter(
        field_name="currency", lookup_expr="exact", label=_("Currency (ISO 4217)")
    )
    valid_on = django_filters.DateFromToRangeFilter(field_name="valid_on", label=_("Valid from"))


class ExhibitorApiFilterSet(django_filters.FilterSet):
    edition = django_filters.CharFilter(
        field_name="edition__slug", lookup_expr="exact", label=_("Edition")
    )
    delegation = KeyFilter(
        method="party_to",
        label=_("Party to the agreements of this delegation (sub-delegations included)"),
    )
    country = django_filters.ChoiceFilter(
        field_name="organization__country",
        lookup_expr="exact",
        choices=all_countries,
        label=_("Country or region"),
    )
    exhibition_area = django_filters.CharFilter(
        field_name="exhibition_area__code", lookup_expr="exact", label=_("Exhibition area")
    )
    q = django_filters.CharFilter(method="search", label=_("Name contains"))

    search = words_filter(["organization__name_zh", "organization__name_en"])

    def party_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        from delegations.models import Delegation

        agreements = Agreement.objects.counted().filter(
            delegation__in=Delegation.objects.tree_keys(int(value))
        )
        parties = AgreementExhibitor.objects.filter(agreement__in=agreements.values("pk"))
        return queryset.filter(pk__in=parties.values("exhibitor"))


class AgreementApiFilterSet(django_filters.FilterSet):
    """Agreements across editions and delegations. On the public endpoint the amount
    range reads the disclosed US$ amount only (`public_amount_usd`, NULL otherwise), so
    that no undisclosed amount can be found by narrowing a range."""

    edition = django_filters.CharFilter(
        field_name="delegation__edition__slug", lookup_expr="exact", label=_("Edition")
    )
    delegation = KeyFilter(method="in_tree", label=_("Delegation, its sub-delegations included"))
    sector = django_filters.CharFilter(
        field_name="sector__code", lookup_expr="exact", label=_("Sector")
    )
    kind = django_filters.ChoiceFilter(
        field_name="kind", lookup_expr="exact", choices=AgreementKind.choices, label=_("Kind")
    )
    status = django_filters.ChoiceFilter(
        field_name="status", lookup_expr="exact", choices=AgreementStatus.choices, label=_("Status")
    )
    country = django_filters.ChoiceFilter(
        method="exhibitor_country", choices=all_countries, label=_("Exhibitor's country or region")
    )
    disclosed = django_filters.BooleanFilter(field_name="is_public", label=_("Amount disclosed"))
    signed_on = django_filters.DateFromToRangeFilter(field_name="signed_on", label=_("Signed on"))
    amount_usd_min = AmountFilter(
        field_name="public_amount_usd", lookup_expr="gte", label=_("Disclosed amount (US$), from")
    )
    amount_usd_max = AmountFilter(
        field_name="public_amount_usd", lookup_expr="lte", label=_("Disclosed amount (US$), to")
    )
    q = django_filters.CharFilter(method="search", label=_("Buyer or exhibitor contains"))

    in_tree = tree_filter()
    search = agreement_search

    def exhibitor_country(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        parties = AgreementExhibitor.objects.filter(
            agreement=OuterRef("pk"), exhibitor__organization__country=value
        )
        return queryset.filter(Exists(parties))


class AgreementRecordFilterSet(AgreementApiFilterSet):
    """The staff's agreements: the amount range reads the agreement's own US$ amount."""

    amount_usd_min = AmountFilter(
        field_name="amount_usd", lookup_expr="gte", label=_("Amount (US$), from")
    )
    amount_usd_max = AmountFilter(
        field_name="amount_usd", lookup_expr="lte", label=_("Amount (US$), to")
    )
    reference = django_filters.CharFilter(
        field_name="reference", lookup_expr="exact", label=_("Reference")
    )
    illustrative = django_filters.BooleanFilter(field_name="illustrative", label=_("illustrative"))


class PledgeApiFilterSet(django_filters.FilterSet):
    target_edition = django_filters.CharFilter(
        field_name="target_edition__slug", lookup_expr="exact", label=_("Target fair edition")
    )
    delegation = KeyFilter(
        method="in_tree", label=_("Source delegation, its sub-delegations included")
    )
    country = django_filters.ChoiceFilter(
        field_name="organization__country",
        lookup_expr="exact",
        choices=all_countries,
        label=_("Country or region"),
    )
    status = django_filters.ChoiceFilter(
        field_name="status", lookup_expr="exact", choices=PledgeStatus.choices, label=_("Status")
    )
    pledged_on = django_filters.DateFromToRangeFilter(
        field_name="pledged_on", label=_("Pledged on")
    )
    q = django_filters.CharFilter(method="search", label=_("Organization contains"))

    in_tree = tree_filter("source_delegation")
    search = words_filter(["organization__name_zh", "organization__name_en"])


class VisitFilterSet(django_filters.FilterSet):
    edition = django_filters.CharFilter(
        field_name="delegation__edition__slug", lookup_expr="exact", label=_("Edition")
    )
    delegation = KeyFilter(method="in_tree", label=_("Delegation"))
    visited_on = django_filters.DateFromToRangeFilter(
        field_name="visited_on", label=_("Visited on")
    )
    investment_intention = django_filters.BooleanFilter(
        field_name="investment_intention", label=_("investment intention")
    )
    ciftis_interest = django_filters.BooleanFilter(
        field_name="ciftis_interest", label=_("interested in CIFTIS")
    )
    q = django_filters.CharFilter(method="search", label=_("Organization contains"))

    in_tree = tree_filter()
    search = words_filter(["organization__name_zh", "organization__name_en"])


class InvestmentIntentionFilterSet(django_filters.FilterSet):
    edition = django_filters.CharFilter(
        field_name="delegation__edition__slug", lookup_expr="exact", label=_("Edition")
    )
    delegation = KeyFilter(method="in_tree", label=_("Delegation"))
    sector = django_filters.CharFilter(
        field_name="sector__code", lookup_expr="exact", label=_("Sector")
    )
    stage = django_filters.ChoiceFilter(
        field_name="stage", lookup_expr="exact", choices=IntentionStage.choices, label=_("stage")
    )
    amount_min = AmountFilter(
        field_name="amount", lookup_expr="gte", label=_("Intended investment, from")
    )
    amount_max = AmountFilter(
        field_name="amount", lookup_expr="lte", label=_("Intended investment, to")
    )
    next_action_on = django_filters.DateFromToRangeFilter(
        field_name="next_action_on", label=_("Next action on")
    )
    q = django_filters.CharFilter(method="search", label=_("Organization contains"))

    in_tree = tree_filter()
    search = words_filter(["organization__name_zh", "organization__name_en"])


class PublicationFilterSet(django_filters.FilterSet):
    delegation = KeyFilter(field_name="delegation_id", lookup_expr="exact", label=_("Delegation"))
    edition = django_filters.CharFilter(
        field_name="delegation__edition__slug", lookup_expr="exact", label=_("Edition")
    )
    as_of = django_filters.DateFromToRangeFilter(field_name="as_of", label=_("As of"))
