"""Filters of the public lists of organizations, shared by the pages and their downloads."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import OrganizationKind


class YesNoSelect(forms.Select):
    """A yes/no/either select whose values read well in an address (`?purchaser=yes`)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("", _("either")), ("yes", _("yes")), ("no", _("no"))])

    def value_from_datadict(self, data, files, name):
        return {"yes": True, "no": False}.get(data.get(name))

    def format_value(self, value):
        return {True: "yes", False: "no"}.get(value, "")


class YesNoFilter(django_filters.BooleanFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YesNoSelect)
        super().__init__(*args, **kwargs)


def country_choices(queryset: QuerySet, field: str = "country") -> list[tuple[str, str]]:
    """The countries and regions present in `queryset`, by name in the active language."""
    codes = queryset.order_by().values_list(field, flat=True).distinct()
    return sorted(((code, countries.name(code)) for code in codes if code), key=lambda c: c[1])


class OrganizationFilterSet(django_filters.FilterSet):
    """The participating organizations of a delegation (`OrganizationQuerySet.taking_part`)."""

    q = django_filters.CharFilter(method="search", label=_("Name contains"))
    kind = django_filters.ChoiceFilter(
        field_name="kind",
        lookup_expr="exact",
        choices=OrganizationKind.choices,
        label=_("Kind"),
        empty_label=_("all kinds"),
    )
    country = django_filters.ChoiceFilter(
        field_name="country",
        lookup_expr="exact",
        label=_("Country or region"),
        empty_label=_("all countries and regions"),
    )
    purchaser = YesNoFilter(field_name="is_purchaser", lookup_expr="exact", label=_("Purchaser"))
    signed = YesNoFilter(
        field_name="has_signed", lookup_expr="exact", label=_("Signed an agreement")
    )
    large_importer = YesNoFilter(
        field_name="is_large_importer", lookup_expr="exact", label=_("Large importer")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["country"].extra["choices"] = country_choices(self.queryset)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = value.split()
        for word in words:
            queryset = queryset.filter(Q(name_zh__icontains=word) | Q(name_en__icontains=word))
        return queryset
