"""The back office for fairs, editions, delegations, organizations and registrations,
and the pieces every admin of the project shares: the change history, choice labels
that do not query once per row, owners picked among staff, scoped autocompletes."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from deals.currencies import normalize_currency
from deals.models import Agreement, Exhibitor

from .company_admin import CompanyPagesMixin
from .concurrency import ConcurrentEditAdminMixin
from .models import Delegation, Edition, Fair, Organization, Registration
from .paging import KeyedPaginator
from .resources import (
    DelegationResource,
    OrganizationResource,
    RegistrationResource,
    SpreadsheetExportMixin,
)
from .scope import NOT_YOURS, in_scope, is_scoped, out_of_scope_field, scope, sees_all
from .search import IndexedSearchMixin
from .validators import organization_code_warning

# ---------------------------------------------------------------------------------------
# Shared by every admin of the project
# ---------------------------------------------------------------------------------------

# What a choice's label (its __str__) reads, so that a select or an autocomplete showing
# the chosen value costs one query, not one per related row.
LABEL_RELATED = {
    Edition: ("fair",),
    Delegation: ("edition__fair",),
    Registration: ("organization", "delegation__edition__fair"),
    Exhibitor: ("organization", "edition__fair"),
}


def may_disclose(request: HttpRequest) -> bool:
    """Whether the user is a reviewer who decides which agreement amounts are public."""
    return request.user.has_perm("deals.disclose_agreement")


def count_of(model, field: str = "delegation") -> Coalesce:
    """A correlated count of `model` rows pointing at the outer row by `field`: one
    subquery per shown row, where a join and GROUP BY would multiply the counts."""
    rows = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def changelist_link(model, text: str, **lookups) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(lookups), text)


class CurrencyField(forms.CharField):
    """A currency code that also accepts the spellings clerks use (RMB, 人民币, usd)."""

    def __init__(self, *, max_length=None, **kwargs):
        # The model field checks the length of the code; the input takes the alias.
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_currency(value) if value else value


class ScopedAutocompleteSelect(AutocompleteSelect):
    """An autocomplete whose requests carry extra parameters (`delegation`, `edition`)
    that the target admin's `get_search_results` uses to offer only sensible choices."""

    def __init__(self, *args, scope: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.scope = scope

    def get_url(self) -> str:
        return f"{super().get_url()}?{urlencode(self.scope)}"


def scope_autocomplete(form_class, field_name: str, **scope: int) -> None:
    """Make the autocomplete of `field_name` in a freshly built form class send `scope`."""
    field = form_class.base_fields.get(field_name)
    if field is None:  # read-only for this user
        return
    wrapper = field.widget  # the related-links wrapper, around the autocomplete
    widget = getattr(wrapper, "widget", wrapper)
    if not isinstance(widget, AutocompleteSelect):
        return
    scoped = ScopedAutocompleteSelect(
        widget.field,
        widget.admin_site,
        attrs=widget.attrs,
        choices=widget.choices,
        using=widget.db,
        scope=scope,
    )
    if wrapper is widget:
        field.widget = scoped
    else:
        wrapper.widget = scoped


def autocomplete_source(request: HttpRequest) -> str | None:
    """The field (`app_label.model_name.field_name`) an autocomplete request is made for,
    or None when the request is not an autocomplete's."""
    if request.resolver_match is None or request.resolver_match.url_name != "autocomplete":
        return None
    params = request.GET
    return f"{params.get('app_label')}.{params.get('model_name')}.{params.get('field_name')}"


def autocomplete_scope(request: HttpRequest, name: str) -> int | None:
    """The scope parameter `name` an autocomplete request carries, if a valid id."""
    try:
        return int(request.GET.get(name, ""))
    except ValueError:
        return None


class BackOfficeFieldsMixin:
    """Form fields as a clerk needs them, for admins and inlines alike."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            # Leads are followed up by the bureau's staff, never by an outside account.
            kwargs.setdefault(
                "queryset", get_user_model().objects.filter(is_staff=True).order_by("username")
            )
        elif db_field.related_model in LABEL_RELATED and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.related_model._default_manager.select_related(
                *LABEL_RELATED[db_field.related_model]
            )
        if is_scoped(db_field.related_model):
            # A clerk picks among their delegations' records only: any other value
            # posted is "not one of the available choices".
            queryset = kwargs.get("queryset", db_field.related_model._default_manager.all())
            kwargs["queryset"] = scope(queryset, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs.setdefault(
                "queryset", get_user_model().objects.filter(is_staff=True).order_by("username")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "currency":
            kwargs.setdefault("widget", forms.TextInput(attrs={"size": 8}))
            return db_field.formfield(form_class=CurrencyField, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ScopedAdminMixin:
    """The records of the user's delegations only (see `delegations.scope`): the list,
    the pages of a record, the export and the actions all start from `get_queryset`,
    so a record of another delegation is "not found" as a missing one is; a form
    refuses to put a record outside them."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(super().get_queryset(request), request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and in_scope(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and in_scope(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and in_scope(request.user, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not is_scoped(self.model) or sees_all(request.user):
            return form
        user = request.user

        class ScopedForm(form):
            def _post_clean(self) -> None:
                super()._post_clean()
                field = out_of_scope_field(user, self.instance)
                if field is not None:
                    self.add_error(field if field in self.fields else None, NOT_YOURS)

        ScopedForm.__name__ = form.__name__
        return ScopedForm


class HistoryAdmin(
    ConcurrentEditAdminMixin,
    ScopedAdminMixin,
    BackOfficeFieldsMixin,
    IndexedSearchMixin,
    SimpleHistoryAdmin,
):
    """An admin whose records keep every change (who, when, old → new), shown on the
    record's history page, and whose search is served by a text index where one covers
    its fields (`delegations.search`).

    Reverting to an old version from that page is switched off: it saves the old values
    through a bare form, around the rules of the change form (who may make an amount
    public, the inlines), so a clerk could re-publish what a reviewer withdrew. To undo
    a change, edit the record; that is recorded too.
    """

    # Large lists set show_full_result_count = False and show_facets = NEVER: on a table
    # of 100,000s of rows the extra COUNT(*) and a count per filter choice cost more than
    # the page itself.

    # Saved on every change, so it would repeat in every row of the history.
    history_unshown_fields = ("updated_at",)
    list_per_page = 50
    # The list's count comes from the cache while no record changed (a COUNT(*) of a
    # million registrations is most of an unfiltered page on PostgreSQL), and a page of
    # more than one reads its keys first, then the rows of those keys: the plain page
    # builds every matching row with its joins (and annotations, such as the
    # agreements' exhibitor count) before sorting them, a third of the table for one
    # edition (delegations.paging).
    paginator = KeyedPaginator

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if self.list_editable:  # its formset edits the page as a queryset, not a list
            return Paginator(queryset, per_page, orphans, allow_empty_first_page)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_view(self, request, object_id, extra_context=None):
        # The history of a record outside the user's delegations is not found, as the
        # record is not (the library would fall back on its last historical version).
        scoped = not sees_all(request.user) and is_scoped(self.model)
        if scoped and self.get_object(request, unquote(object_id)) is None:
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        names = {field.name for field in self.model._meta.get_fields()}
        unshown = [name for name in self.history_unshown_fields if name in names]
        previous = None
        for current in historical_records:
            if previous is not None:
                delta = previous.diff_against(
                    current, excluded_fields=unshown, foreign_keys_are_objs=foreign_keys_are_objs
                )
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current


class ReferenceAdmin(HistoryAdmin):
    """Reference data reviewers keep, with the same change history as every record."""


class EditionFilter(admin.RelatedFieldListFilter):
    """The edition filter, with each edition's fair read in the same query."""

    def field_choices(self, field, request, model_admin):
        return [(edition.pk, str(edition)) for edition in Edition.objects.select_related("fair")]


# ---------------------------------------------------------------------------------------
# Fairs and editions
# ---------------------------------------------------------------------------------------


@admin.register(Fair)
class FairAdmin(ReferenceAdmin):
    list_display = ("code", "abbreviation", "short_name_zh", "name_zh", "name_en")
    search_fields = ("code", "abbreviation", "short_name_zh", "name_zh", "name_en")


@admin.register(Edition)
class EditionAdmin(ReferenceAdmin):
    list_display = ("__str__", "name_zh", "name_en", "number", "starts_on", "ends_on")
    list_select_related = ("fair",)
    list_filter = ("fair",)
    search_fields = ("name_zh", "name_en", "slug", "fair__abbreviation", "fair__short_name_zh")
    autocomplete_fields = ("fair",)
    date_hierarchy = "starts_on"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The autocomplete shows "CIIE 2019", which reads the fair.
        return super().get_queryset(request).select_related(*self.list_select_related)


# ---------------------------------------------------------------------------------------
# Delegations
# ---------------------------------------------------------------------------------------


class LevelFilter(admin.SimpleListFilter):
    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("top", _("trading delegations")), ("sub", _("sub-delegations"))]

    def queryset(self, request, queryset):
        if self.value() == "top":
            return queryset.filter(parent__isnull=True)
        if self.value() == "sub":
            return queryset.filter(parent__isnull=False)
        return queryset


class SubDelegationForm(forms.ModelForm):
    """A sub-delegation is at its parent's edition: the field is carried, not asked."""

    class Meta:
        model = Delegation
        fields = ("name_zh", "name_en", "slug", "organizer_zh", "edition")
        widgets = {"edition": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Kept in the form rather than excluded, so that the (edition, name) uniqueness
        # is checked there and a duplicate name is a form error, not a database error.
        self.fields["edition"].disabled = True


class SubDelegationFormSet(forms.BaseInlineFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        kwargs["initial"] = {**kwargs.get("initial", {}), "edition": self.instance.edition_id}
        return kwargs


class SubDelegationInline(ConcurrentEditAdminMixin, BackOfficeFieldsMixin, admin.TabularInline):
    model = Delegation
    fk_name = "parent"
    form = SubDelegationForm
    formset = SubDelegationFormSet
    fields = ("name_zh", "name_en", "slug", "organizer_zh", "edition")
    extra = 0
    show_change_link = True
    verbose_name = _("sub-delegation")
    verbose_name_plural = _("sub-delegations")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Each row is titled with the sub-delegation's name, which reads its edition.
        return super().get_queryset(request).select_related(*LABEL_RELATED[Delegation])


# A delegation has thousands of registrations and hundreds of agreements: rendering one
# form per row would make its page slow and heavy, with queries growing with the rows.
# So the two inlines below only add new rows; the existing ones are reached through
# the "all N registrations / agreements" links above them, to the change lists, which
# filter, search and paginate.


class RegistrationInline(BackOfficeFieldsMixin, admin.TabularInline):
    model = Registration
    fields = ("organization", "participants", "is_purchaser", "status", "registered_on")
    autocomplete_fields = ("organization",)
    extra = 1
    can_delete = False
    verbose_name = _("new registration")
    verbose_name_plural = _("new registrations")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).none()


class AgreementInline(BackOfficeFieldsMixin, admin.TabularInline):
    model = Agreement
    fk_name = "delegation"
    fields = (
        "reference",
        "registration",
        "kind",
        "sector",
        "amount",
        "currency",
        "signed_on",
        "status",
        "is_public",
    )
    autocomplete_fields = ("registration", "sector")
    extra = 1
    can_delete = False
    verbose_name = _("new purchase agreement")
    verbose_name_plural = _("new purchase agreements")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).none()

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if may_disclose(request) else (*readonly, "is_public")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            # Offer the buyers registered in this delegation's tree only.
            scope_autocomplete(formset.form, "registration", delegation=obj.pk)
        return formset


@admin.register(Delegation)
class DelegationAdmin(SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [DelegationResource]
    list_display = (
        "name_zh",
        "name_en",
        "edition",
        "parent_name",
        "organizer_zh",
        "registration_count_link",
        "agreement_count_link",
    )
    list_select_related = ("edition__fair", "parent")
    list_filter = (("edition", EditionFilter), LevelFilter, "illustrative")
    search_fields = ("name_zh", "name_en", "slug", "organizer_zh", "organizer_en")
    autocomplete_fields = ("edition", "parent")
    filter_horizontal = ("members",)
    prepopulated_fields = {"slug": ("name_en",)}
    readonly_fields = ("all_registrations", "all_agreements", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "edition",
                    "parent",
                    "name_zh",
                    "name_en",
                    "slug",
                    "organizer_zh",
                    "organizer_en",
                )
            },
        ),
        (_("Records"), {"fields": ("all_registrations", "all_agreements")}),
        (_("Staff"), {"fields": ("members",)}),
        (
            _("Record"),
            {"fields": ("illustrative", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )
    inlines = (SubDelegationInline, RegistrationInline, AgreementInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(
                registration_count=count_of(Registration),
                agreement_count=count_of(Agreement),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("auth.change_user"):
            # Membership grants access to the delegation's records: it is given by whoever
            # manages the staff accounts, never by a member to a colleague of their choice.
            fields += ("members",)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing recorded yet
            return [
                fieldset
                for fieldset in fieldsets
                if "all_registrations" not in fieldset[1]["fields"]
            ]
        return fieldsets

    def get_inlines(self, request, obj=None):
        if obj is None:
            # Rows are added once the delegation exists, so that they are checked
            # against its edition and tree.
            return ()
        if obj.parent_id:
            return (RegistrationInline, AgreementInline)  # no sub-sub-delegations
        return self.inlines

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if autocomplete_source(request) == "delegations.delegation.parent":
            queryset = queryset.filter(parent__isnull=True)  # sub-delegations have none
            edition_id = autocomplete_scope(request, "edition")
            if edition_id is not None:
                queryset = queryset.filter(edition_id=edition_id)
        return queryset, may_have_duplicates

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            # A parent is at the sub-delegation's edition.
            scope_autocomplete(form, "parent", edition=obj.edition_id)
        return form

    @admin.display(description=_("parent delegation"), ordering="parent__name_zh")
    def parent_name(self, obj: Delegation) -> str:
        return obj.parent.name if obj.parent_id else ""

    @admin.display(description=_("registrations"), ordering="registration_count")
    def registration_count_link(self, obj: Delegation) -> str:
        return changelist_link(
            Registration,
            number_format(obj.registration_count, force_grouping=True),
            delegation__id__exact=obj.pk,
        )

    @admin.display(description=_("agreements"), ordering="agreement_count")
    def agreement_count_link(self, obj: Delegation) -> str:
        return changelist_link(
            Agreement,
            number_format(obj.agreement_count, force_grouping=True),
            delegation__id__exact=obj.pk,
        )

    @admin.display(description=_("registrations"))
    def all_registrations(self, obj: Delegation) -> str:
        count = obj.registration_count
        text = ngettext("All %(count)s registration", "All %(count)s registrations", count) % {
            "count": number_format(count, force_grouping=True)
        }
        return changelist_link(Registration, text, delegation__id__exact=obj.pk)

    @admin.display(description=_("purchase agreements"))
    def all_agreements(self, obj: Delegation) -> str:
        count = obj.agreement_count
        text = ngettext(
            "All %(count)s purchase agreement", "All %(count)s purchase agreements", count
        ) % {"count": number_format(count, force_grouping=True)}
        return changelist_link(Agreement, text, delegation__id__exact=obj.pk)


# ---------------------------------------------------------------------------------------
# Organizations
# ---------------------------------------------------------------------------------------


class OrganizationForm(forms.ModelForm):
    def clean_credit_code(self) -> str | None:
        # A code typed in lower case or with spaces around is the same code; none is NULL.
        code = (self.cleaned_data.get("credit_code") or "").strip().upper()
        return code or None


@admin.register(Organization)
class OrganizationAdmin(CompanyPagesMixin, SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [OrganizationResource]
    form = OrganizationForm
    list_display = (
        "name_zh",
        "name_en",
        "credit_code",
        "kind",
        "country",
        "industry",
        "annual_imports_usd",
        "company_page",
    )
    list_filter = ("kind", "country", "illustrative")
    search_fields = ("name_zh", "name_en", "credit_code")
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not obj.credit_code or "credit_code" not in form.changed_data:
            return
        # The embedded organization code's own check is a warning: codes of the transition
        # years do not always pass it, and the code as issued is what is recorded.
        warning = organization_code_warning(obj.credit_code)
        if warning:
            self.message_user(
                request,
                _("Saved, but please check the credit code %(code)s: %(warning)s.")
                % {"code": obj.credit_code, "warning": warning},
                level="WARNING",
            )


# ---------------------------------------------------------------------------------------
# Registrations
# ---------------------------------------------------------------------------------------


@admin.register(Registration)
class RegistrationAdmin(SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [RegistrationResource]
    list_display = (
        "organization",
        "registered_in",
        "participants",
        "is_purchaser",
        "status",
        "registered_on",
    )
    list_select_related = LABEL_RELATED[Registration]
    list_filter = (
        ("delegation__edition", EditionFilter),
        "status",
        "is_purchaser",
        "organization__kind",
        ("registered_on", admin.DateFieldListFilter),
        "illustrative",
    )
    search_fields = ("organization__name_zh", "organization__name_en", "organization__credit_code")
    autocomplete_fields = ("delegation", "organization")
    readonly_fields = ("created_at", "updated_at")
    # No date_hierarchy: its links are the distinct years (then months, days) of every
    # registration on record, a scan of the whole table on each page; the date filter
    # (today, past 7 days, this month, this year) asks nothing of the database.
    # The latest first, by key: the model's order (by delegation, then the organization's
    # name) is a join sorted over every registration on record, a million at the scale
    # of the whole expo; the key's index gives a page at once.
    ordering = ("-pk",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Also what the buyer autocomplete lists: its labels read these. (A queryset
        # that already selects related rows is not given list_select_related too.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if autocomplete_source(request) == "deals.agreement.registration":
            # A buyer is registered and has not withdrawn ...
            queryset = queryset.active()
            delegation_id = autocomplete_scope(request, "delegation")
            if delegation_id is not None:
                # ... in the tree of the delegation the agreement is recorded in.
                top = (
                    Delegation.objects.filter(pk=delegation_id)
                    .values_list("parent_id", flat=True)
                    .first()
                ) or delegation_id
                queryset = queryset.filter(Q(delegation_id=top) | Q(delegation__parent_id=top))
        return queryset, may_have_duplicates

    @admin.display(description=_("registered in"), ordering="delegation")
    def registered_in(self, obj: Registration) -> Delegation:
        return obj.delegation

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        from deals.services import pledges_follow_registrations  # deals builds on this app

        # A pledge to this edition follows the organization's registration at it.
        pledges_follow_registrations(
            registrations=Registration.objects.filter(pk=obj.pk), user=request.user
        )
