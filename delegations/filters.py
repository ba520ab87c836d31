"""Filters of the public lists of organizations, shared by the pages and their downloads."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .models import OrganizationKind, RegistrationStatus
from .query_cache import cached_result
from .search import containing_words


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


class ManyOptionsSelect(forms.Select):
    """A select of many options (the countries and regions: 180 of them at the whole
    expo), written as Django's Select writes it, its options joined here: Django
    renders each option through a template of its own, 11 ms for the 181 countries,
    a sixth of the agreements page's time."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            html = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (str(option["value"]), flatatt(option["attrs"]), option["label"])
                    for option in options
                ),
            )
            parts.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, html)
                if group_name
                else html
            )
        body = format_html_join("", "{}", ((part,) for part in parts))
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), body
        )


def country_choices(queryset: QuerySet, field: str = "country") -> list[tuple[str, str]]:
    """The countries and regions present in `queryset`, by name in the active language.
    The codes are read from the cache while no record changed: on a delegation of
    thousands of organizations, reading them was a quarter of its page's time."""
    present = queryset.order_by().values_list(field, flat=True).distinct()
    codes = cached_result(present, "countries", lambda: list(present), [])
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
        widget=ManyOptionsSelect,
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
        return containing_words(queryset, ["name_zh", "name_en"], value)


# ---------------------------------------------------------------------------------------
# The API's filters. The pages' filtersets above serve one delegation's list, with the
# choices its own records offer; the API's lists span every edition and delegation, so
# their filters name those too and offer fixed choices (no query to build a form).
# ---------------------------------------------------------------------------------------


def tree_filter(field: str = "delegation"):
    """A filter method: the records of a delegation (by key) and of its sub-delegations."""

    def filter_tree(self, queryset: QuerySet, name: str, value) -> QuerySet:
        from .models import Delegation

        return queryset.filter(**{f"{field}__in": Delegation.objects.tree_keys(int(value))})

    return filter_tree


def words_filter(fields: list[str]):
    """A filter method: every word of the value in one of `fields` (`containing_words`)."""

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return containing_words(queryset, fields, value)

    return search


# The largest key the databases hold (a 64-bit integer).
MAX_KEY = 2**63 - 1


class KeyFilter(django_filters.NumberFilter):
    """A record's key: a whole number the database can hold, so that a made-up one is a
    clear error rather than an overflow in the database driver."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_KEY)
        super().__init__(*args, **kwargs)


class CountFilter(django_filters.NumberFilter):
    """A whole number of people, of records, or a year."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**31 - 1)
        super().__init__(*args, **kwargs)


class AmountFilter(django_filters.NumberFilter):
    """An amount as the records hold them: at most 16 digits and 2 decimals."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def all_countries() -> list[tuple[str, str]]:
    return list(countries)


class EditionFilterSet(django_filters.FilterSet):
    fair = django_filters.CharFilter(field_name="fair__code", lookup_expr="exact", label=_("Fair"))
    year = CountFilter(field_name="year", lookup_expr="exact", label=_("Year"))


class DelegationFilterSet(django_filters.FilterSet):
    edition = django_filters.CharFilter(
        field_name="edition__slug", lookup_expr="exact", label=_("Edition")
    )
    parent = KeyFilter(field_name="parent_id", lookup_expr="exact", label=_("Parent delegation"))
    top_level = django_filters.BooleanFilter(
        field_name="parent", lookup_expr="isnull", label=_("Trading delegations only")
    )
    slug = django_filters.CharFilter(field_name="slug", lookup_expr="exact", label=_("Slug"))
    q = django_filters.CharFilter(method="search", label=_("Name contains"))

    search = words_filter(["name_zh", "name_en"])


class OrganizationRecordFilterSet(django_filters.FilterSet):
    """Every organization on record (staff)."""

    kind = django_filters.ChoiceFilter(
        field_name="kind", lookup_expr="exact", choices=OrganizationKind.choices, label=_("Kind")
    )
    country = django_filters.ChoiceFilter(
        field_name="country",
        lookup_expr="exact",
        choices=all_countries,
        label=_("Country or region"),
    )
    credit_code = django_filters.CharFilter(
        field_name="credit_code", lookup_expr="exact", label=_("Unified social credit code")
    )
    q = django_filters.CharFilter(method="search", label=_("Name contains"))
    annual_imports_usd_min = AmountFilter(
        field_name="annual_imports_usd", lookup_expr="gte", label=_("Yearly imports (US$), from")
    )
    annual_imports_usd_max = AmountFilter(
        field_name="annual_imports_usd", lookup_expr="lte", label=_("Yearly imports (US$), to")
    )
    illustrative = django_filters.BooleanFilter(field_name="illustrative", label=_("illustrative"))

    search = words_filter(["name_zh", "name_en"])


class RegistrationFilterSet(django_filters.FilterSet):
    """Registrations: the participating organizations of the public API, every
    registration of the staff API."""

    edition = django_filters.CharFilter(
        field_name="delegation__edition__slug", lookup_expr="exact", label=_("Edition")
    )
    delegation = KeyFilter(method="in_tree", label=_("Delegation, its sub-delegations included"))
    kind = django_filters.ChoiceFilter(
        field_name="organization__kind",
        lookup_expr="exact",
        choices=OrganizationKind.choices,
        label=_("Kind"),
    )
    country = django_filters.ChoiceFilter(
        field_name="organization__country",
        lookup_expr="exact",
        choices=all_countries,
        label=_("Country or region"),
    )
    purchaser = django_filters.BooleanFilter(field_name="is_purchaser", label=_("Purchaser"))
    status = django_filters.ChoiceFilter(
        field_name="status",
        lookup_expr="exact",
        choices=RegistrationStatus.choices,
        label=_("Status"),
    )
    registered_on = django_filters.DateFromToRangeFilter(
        field_name="registered_on", label=_("Registered on")
    )
    participants_min = CountFilter(
        field_name="participants", lookup_expr="gte", label=_("Participants, from")
    )
    participants_max = CountFilter(
        field_name="participants", lookup_expr="lte", label=_("Participants, to")
    )
    q = django_filters.CharFilter(method="search", label=_("Name contains"))

    in_tree = tree_filter()
    search = words_filter(["organization__name_zh", "organization__name_en"])
