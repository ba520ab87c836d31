"""Spreadsheet exports of delegations, organizations and registrations, in the sheets and
headers of the clerks' contract (docs/spreadsheets.md), and what every export shares.

Exports only: files come back in through our own importer (`deals.importer.import_file`),
which reads the contract as data (`deals.sheets`). django-import-export's admin export
is used for what it does well: the filtered change list, written as CSV, XLSX or JSON.
Every cell is written in a form the importer reads back unchanged, so that an export
re-imported changes nothing:

- editions as `CIIE 2019`, delegations, organizations and sectors by their Chinese name,
- yes/no as `yes`/`no`, kinds, statuses and stages by their English keys,
- dates as dates (ISO `2019-11-05` in CSV and JSON), countries as ISO alpha-2 codes,
- amounts as plain decimals with the currency's places, numbers as numbers in XLSX,
- text a spreadsheet program would run as a formula prefixed with `'` (the importer
  drops it again). `IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT` is not used: it strips a
  single `=`, ignores `+ - @`, tab and CR, and turns numbers and blanks into text.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from import_export import resources
from import_export.admin import ExportMixin
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.forms import ExportForm

from deals.currencies import currency_decimals
from deals.formulas import escape_formula
from deals.sheets import Sheet, sheet_named

from .models import Delegation, Edition, Organization, Registration

# Rows read from the database per query while exporting; prefetched relations are read
# once per chunk too, so the number of queries does not grow with the rows of a page.
EXPORT_CHUNK = 2000
BOM = "\ufeff"


def cell(value: Any, *, native: bool) -> Any:
    """A value as written to a cell. `native` for XLSX, whose cells keep their type:
    numbers stay numbers and dates dates. Text that would run as a formula is escaped;
    blanks stay blank."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        # format(..., "f"), not str(): str(Decimal("0.00000001")) is "1E-8".
        return value if native else format(value, "f")
    if isinstance(value, datetime.date):
        return value if native else value.isoformat()
    text = str(value)
    if text == "":
        return None if native else ""
    return escape_formula(text)


def amount_cell(value: Decimal | None, currency: str) -> Decimal | None:
    """An amount with its currency's places (710000000.00 USD, 5000000 JPY), unless that
    would drop digits a record holds."""
    if value is None:
        return None
    places = min(currency_decimals(currency), 2)
    rounded = value.quantize(Decimal(1).scaleb(-places))
    return rounded if rounded == value else value


def edition_name(edition: Edition | None) -> str:
    return str(edition) if edition is not None else ""


def column(key: str, attribute: str | None = None) -> Field:
    """A column of the sheet, headed by the contract's English key. Without `attribute`
    its value comes from the resource's `dehydrate_<name>` method."""
    return Field(attribute=attribute, column_name=key)


class SheetResource(resources.ModelResource):
    """A sheet of the contract, for export only.

    Subclasses name their sheet (`sheet_name`, as in `deals.sheets.SHEETS`), declare one
    `column` per column of the sheet in its order, and say in `for_export` what their
    cells read (`select_related`, `prefetch_related`), so that no row costs a query.
    """

    sheet_name: str = ""

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset

    @property
    def sheet(self) -> Sheet:
        return sheet_named(self.sheet_name)

    # --- export ----------------------------------------------------------------------

    def filter_export(self, queryset, **kwargs):
        return self.for_export(queryset)

    def iter_queryset(self, queryset):
        if not isinstance(queryset, QuerySet):
            yield from queryset
            return
        # Since Django 4.1 iterator() applies prefetch_related to each chunk: no COUNT
        # and no OFFSET pages, as the library's paginated fallback would run.
        yield from queryset.iterator(chunk_size=EXPORT_CHUNK)

    def export_field(self, field, instance, **kwargs):
        name = self.get_field_name(field)
        method = field.get_dehydrate_method(name)
        if not callable(method):
            method = getattr(self, method, None)
        value = method(instance) if method is not None else field.get_value(instance)
        return cell(value, native=bool(kwargs.get("force_native_type")))

    def export(self, queryset=None, **kwargs):
        dataset = super().export(queryset, **kwargs)
        # The sheet's name: an exported XLSX is a workbook of that one sheet.
        dataset.title = self.sheet_name
        return dataset

    def get_user_visible_fields(self):
        return self.get_export_fields()

    # --- no import through the library -------------------------------------------------

    def import_data(self, *args, **kwargs):
        raise NotImplementedError(
            "Spreadsheets are imported with deals.importer.import_file, not through a resource."
        )


class CSVWithBOM(base_formats.CSV):
    """CSV in UTF-8 with a byte order mark, without which Excel reads Chinese as
    mojibake (django-import-export and tablib write none)."""

    def export_data(self, dataset, **kwargs):
        return BOM + super().export_data(dataset, **kwargs)


EXPORT_FORMATS = [CSVWithBOM, base_formats.XLSX, base_formats.JSON]


class SpreadsheetExportMixin(ExportMixin):
    """The admin's export of the filtered change list in the contract's sheet, for staff
    with the view permission of the model (IMPORT_EXPORT_EXPORT_PERMISSION_CODE).
    No library import: imports have their own screens."""

    export_formats = EXPORT_FORMATS
    # Every column, always: a file with columns left out would not import back.
    export_form_class = ExportForm
    import_export_change_list_template = "admin/export/change_list.html"

    def get_export_filename(self, request, queryset, file_format):
        resource = self.get_export_resource_classes(request)[0]
        day = timezone.localdate().isoformat()
        return f"{resource.sheet_name}-{day}.{file_format.get_extension()}"


# ---------------------------------------------------------------------------------------
# The sheets of this app
# ---------------------------------------------------------------------------------------


class DelegationResource(SheetResource):
    sheet_name = "Delegations"

    edition = column("edition")
    name = column("name", "name_zh")
    name_en = column("name_en", "name_en")
    organizer = column("organizer", "organizer_zh")
    organizer_en = column("organizer_en", "organizer_en")
    parent = column("parent")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Delegation
        name = "Delegations"
        fields = (
            "edition",
            "name",
            "name_en",
            "organizer",
            "organizer_en",
            "parent",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("edition__fair", "parent")

    def dehydrate_edition(self, obj: Delegation) -> str:
        return edition_name(obj.edition)

    def dehydrate_parent(self, obj: Delegation) -> str:
        return obj.parent.name_zh if obj.parent_id else ""


class OrganizationResource(SheetResource):
    sheet_name = "Organizations"

    name = column("name", "name_zh")
    name_en = column("name_en", "name_en")
    credit_code = column("credit_code", "credit_code")
    kind = column("kind", "kind")
    country = column("country")
    industry = column("industry", "industry")
    annual_imports_usd = column("annual_imports_usd")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Organization
        name = "Organizations"
        fields = (
            "name",
            "name_en",
            "credit_code",
            "kind",
            "country",
            "industry",
            "annual_imports_usd",
            "illustrative",
        )
        export_order = fields

    def dehydrate_country(self, obj: Organization) -> str:
        return obj.country.code

    def dehydrate_annual_imports_usd(self, obj: Organization) -> Decimal | None:
        return amount_cell(obj.annual_imports_usd, "USD")


class RegistrationResource(SheetResource):
    sheet_name = "Registrations"

    delegation = column("delegation")
    edition = column("edition")
    organization = column("organization", "organization__name_zh")
    credit_code = column("credit_code", "organization__credit_code")
    participants = column("participants", "participants")
    purchaser = column("purchaser", "is_purchaser")
    status = column("status", "status")
    registered_on = column("registered_on", "registered_on")
    illustrative = column("illustrative", "illustrative")

    class Meta:
        model = Registration
        name = "Registrations"
        fields = (
            "delegation",
            "edition",
            "organization",
            "credit_code",
            "participants",
            "purchaser",
            "status",
            "registered_on",
            "illustrative",
        )
        export_order = fields

    def for_export(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("delegation__edition__fair", "organization")

    def dehydrate_delegation(self, obj: Registration) -> str:
        # A registration in a sub-delegation names the sub-delegation: the importer
        # finds it by name at the edition, as it finds any delegation.
        return obj.delegation.name_zh

    def dehydrate_edition(self, obj: Registration) -> str:
        return edition_name(obj.delegation.edition)
