"""Filters of the public lists of agreements, exhibitors and CIFTIS pledges, shared by the
pages and their downloads."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from delegations.filters import YesNoFilter, country_choices

from .models import AgreementExhibitor, AgreementKind, PledgeStatus, Sector


def _search(fields: list[str]):
    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split():
            match = Q()
            for field in fields:
                match |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(match)
        return queryset

    return search


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
    )
    disclosed = YesNoFilter(
        field_name="is_public", lookup_expr="exact", label=_("Amount disclosed")
    )

    search = _search(
        [
            "registration__organization__name_zh",
            "registration__organization__name_en",
            "exhibitors__organization__name_zh",
            "exhibitors__organization__name_en",
        ]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parties = AgreementExhibitor.objects.filter(agreement__in=self.queryset.values("pk"))
        self.filters["country"].extra["choices"] = country_choices(
            parties, "exhibitor__organization__country"
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Searching across the exhibitors joins them: one row per agreement all the same.
        return super().filter_queryset(queryset).distinct()

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
    )

    search = _search(["organization__name_zh", "organization__name_en"])

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
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        lookup_expr="exact",
        choices=PledgeStatus.choices,
        label=_("Status"),
        empty_label=_("all statuses"),
    )

    search = _search(["organization__name_zh", "organization__name_en"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = country_choices(
            self.queryset, "organization__country"
        )
