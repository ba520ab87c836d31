"""The back office for what a delegation does at an edition: sectors and exchange rates,
exhibitors, purchase agreements, company visits, investment intentions, CIFTIS pledges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from delegations.admin import (
    LABEL_RELATED,
    BackOfficeFieldsMixin,
    EditionFilter,
    HistoryAdmin,
    ScopedAdminMixin,
    autocomplete_scope,
    autocomplete_source,
    count_of,
    may_disclose,
    scope_autocomplete,
)
from delegations.models import Delegation
from delegations.resources import SpreadsheetExportMixin
from delegations.scope import scope

from .filters import agreements_naming
from .models import (
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
from .resources import (
    AgreementResource,
    CiftisPledgeResource,
    ExchangeRateResource,
    ExhibitorResource,
    InvestmentIntentionResource,
    VisitResource,
)
from .services import STAGES, Stages, figures_publish, follow_up_move
from .stats import headline_figures, headline_from_json
from .views import figure_cards, kind_rows

# Actions over a whole selection ("select all 20,000") work through it in slices, so
# that memory stays flat; each slice is one UPDATE and one INSERT into the history.
BATCH = 500
# How many agreements without a rate an action names before it says "and N more".
NAMED = 20

ORGANIZATION_SEARCH = (
    "organization__name_zh",
    "organization__name_en",
    "organization__credit_code",
)


# ---------------------------------------------------------------------------------------
# Reference lists
# ---------------------------------------------------------------------------------------


@admin.register(Sector)
class SectorAdmin(HistoryAdmin):
    list_display = ("name_zh", "name_en", "code", "is_exhibition_area", "position")
    list_filter = ("is_exhibition_area",)
    search_fields = ("name_zh", "name_en", "code")
    prepopulated_fields = {"code": ("name_en",)}


@admin.register(ExchangeRate)
class ExchangeRateAdmin(SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [ExchangeRateResource]
    list_display = ("currency", "valid_on", "usd_per_unit", "source")
    # A few dozen currencies: listing the ones in use is cheap on this small table.
    list_filter = ("currency",)
    search_fields = ("currency", "source")
    date_hierarchy = "valid_on"


# ---------------------------------------------------------------------------------------
# Exhibitors
# ---------------------------------------------------------------------------------------


@admin.register(Exhibitor)
class ExhibitorAdmin(SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [ExhibitorResource]
    list_display = ("organization", "country", "edition", "exhibition_area", "booth")
    list_select_related = (*LABEL_RELATED[Exhibitor], "exhibition_area")
    list_filter = (
        ("edition", EditionFilter),
        "exhibition_area",
        "organization__country",
        "illustrative",
    )
    search_fields = (*ORGANIZATION_SEARCH, "booth")
    autocomplete_fields = ("edition", "organization", "exhibition_area")
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Also what the exhibitor autocomplete lists: its labels read these. (A queryset
        # that already selects related rows is not given list_select_related too.)
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = autocomplete_source(request)
        edition_id = autocomplete_scope(request, "edition")
        if source == "deals.agreementexhibitor.exhibitor" and edition_id is not None:
            # An agreement's exhibitors exhibit at its edition.
            queryset = queryset.filter(edition_id=edition_id)
        return queryset, may_have_duplicates

    @admin.display(description=_("country or region"), ordering="organization__country")
    def country(self, obj: Exhibitor) -> str:
        return obj.organization.country.name


# ---------------------------------------------------------------------------------------
# Follow-up: moving agreements, intentions and pledges through their stages
# ---------------------------------------------------------------------------------------


def date_input() -> forms.DateInput:
    """The browser's date picker, which reads and writes ISO dates only: the value must
    not be written in the language's format (2019年11月11日), or the picker shows none."""
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class MoveForm(forms.Form):
    to = forms.ChoiceField(label=_("move to"))
    moved_on = forms.DateField(label=_("moved on"), widget=date_input())
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_action_on = forms.DateField(
        label=_("next action on"),
        required=False,
        widget=date_input(),
        help_text=_("Left empty, the next action is cleared; a final stage clears it anyway."),
    )

    def __init__(self, *args, stages: Stages, current: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(to, stages.labels[to]) for to in stages.allowed(current)]


class FollowUpMoveInline(admin.TabularInline):
    """The record's moves, newest first: recorded through the move page only."""

    model = FollowUpMove
    extra = 0
    can_delete = False
    fields = ("moved_on", "from_label", "to_label", "note", "recorded_by", "recorded_at")
    readonly_fields = fields
    ordering = ("-moved_on", "-recorded_at")
    verbose_name_plural = _("moves")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("recorded_by")

    @admin.display(description=_("from"))
    def from_label(self, move: FollowUpMove) -> str:
        return move.from_label

    @admin.display(description=_("to"))
    def to_label(self, move: FollowUpMove) -> str:
        return move.to_label

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # The moves are the record's history: whoever may view the record sees them.
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FollowUpAdminMixin:
    """A followed record's stage changes on a move page of its own (dated, checked
    against what the stage allows, kept with who recorded it), not in the change form,
    where the stage is set only when the record is first entered."""

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly = (*readonly, STAGES[self.model].field)
        return readonly

    def get_inlines(self, request, obj):
        inlines = tuple(super().get_inlines(request, obj))
        return (*inlines, FollowUpMoveInline) if obj is not None else inlines

    def url_name(self, page: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{page}"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/move/",
                self.admin_site.admin_view(self.move_view),
                name=self.url_name("move"),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "move_url": reverse(f"admin:{self.url_name('move')}", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def move_view(self, request: HttpRequest, object_id: str):
        record = self.get_object(request, object_id)
        if record is None:
            raise Http404
        if not self.has_change_permission(request, record):
            raise PermissionDenied
        stages = STAGES[self.model]
        current = getattr(record, stages.field)
        initial = {"moved_on": timezone.localdate(), "next_action_on": record.next_action_on}
        form = MoveForm(request.POST or None, initial=initial, stages=stages, current=current)
        if request.method == "POST" and form.is_valid():
            try:
                follow_up_move(
                    record=record,
                    to=form.cleaned_data["to"],
                    moved_on=form.cleaned_data["moved_on"],
                    note=form.cleaned_data["note"],
                    next_action_on=form.cleaned_data["next_action_on"],
                    user=request.user,
                )
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                self.message_user(
                    request,
                    gettext("%(record)s is now %(stage)s.")
                    % {"record": record, "stage": stages.labels[form.cleaned_data["to"]]},
                    level="SUCCESS",
                )
                return redirect(reverse(f"admin:{self.url_name('change')}", args=[record.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Move %(record)s") % {"record": record},
            "opts": self.model._meta,
            "original": record,
            "form": form,
            "current": stages.labels[current],
            "final": stages.is_final(current),
            "moves": FollowUpMove.objects.of(record).select_related("recorded_by")[:50],
        }
        return TemplateResponse(request, "admin/deals/move.html", context)


# ---------------------------------------------------------------------------------------
# Purchase agreements
# ---------------------------------------------------------------------------------------


class AgreementExhibitorFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        agreement = self.instance
        # Once the agreement exists its own check runs on each row (AgreementExhibitor.clean);
        # a new one has no id yet, so the rows are checked against it here.
        if agreement.pk or agreement.delegation_id is None:
            return
        edition_id = agreement.delegation.edition_id
        for form in self.forms:
            exhibitor = getattr(form, "cleaned_data", {}).get("exhibitor")
            if exhibitor is not None and exhibitor.edition_id != edition_id:
                form.add_error("exhibitor", _("The exhibitor must be at the agreement's edition."))


class AgreementExhibitorInline(BackOfficeFieldsMixin, admin.TabularInline):
    """The exhibitors party to an agreement: a few per agreement, so all are shown.
    Adding or removing one is kept in AgreementExhibitor's own history, shown on the
    agreement's history page."""

    model = AgreementExhibitor
    formset = AgreementExhibitorFormSet
    autocomplete_fields = ("exhibitor",)
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            scope_autocomplete(formset.form, "exhibitor", edition=obj.delegation.edition_id)
        return formset


@admin.register(Agreement)
class AgreementAdmin(FollowUpAdminMixin, SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [AgreementResource]
    list_display = (
        "reference",
        "buyer",
        "delegation",
        "kind",
        "sector",
        "amount_with_currency",
        "amount_in_usd",
        "exhibitor_count",
        "signed_on",
        "status",
        "is_public",
    )
    list_select_related = ("registration__organization", "delegation__edition__fair", "sector")
    list_filter = (
        ("delegation__edition", EditionFilter),
        "status",
        "kind",
        "is_public",
        "sector",
        ("signed_on", admin.DateFieldListFilter),
        "illustrative",
    )
    # The reference here; the buyer's and the exhibitors' names and credit codes in
    # get_search_results, which finds the organizations first.
    search_fields = ("reference",)
    search_help_text = _("Reference, or the name or credit code of the buyer or an exhibitor.")
    autocomplete_fields = ("delegation", "registration", "sector")
    # No date_hierarchy: its links are the distinct dates of every agreement on record,
    # a scan of the whole table on each page; the date filter asks nothing of it.
    # Latest first, read backwards along the index on (signed_on, reference) that also
    # serves the public API's order; the model's ("-signed_on", "reference") would sort
    # every agreement on record.
    ordering = ("-signed_on", "-reference")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("amount_usd", "usd_rate", "usd_rate_on", "created_at", "updated_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "reference",
                    "delegation",
                    "registration",
                    "kind",
                    "sector",
                    "signed_on",
                    "status",
                )
            },
        ),
        (_("Amount"), {"fields": ("amount", "currency", "amount_usd", "usd_rate", "usd_rate_on")}),
        (_("Disclosure"), {"fields": ("is_public",)}),
        (_("Follow-up"), {"fields": ("owner", "next_action_on", "notes")}),
        (
            _("Record"),
            {"fields": ("illustrative", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )
    inlines = (AgreementExhibitorInline,)
    actions = ("make_public", "make_undisclosed", "recompute_usd")
    object_history_template = "admin/deals/agreement/object_history.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(exhibitor_count=count_of(AgreementExhibitor, "agreement"))
        )

    def get_search_results(self, request, queryset, search_term):
        by_reference, duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term.split():
            return by_reference, duplicates
        return by_reference | agreements_naming(queryset, search_term, codes=True), duplicates

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if may_disclose(request) else (*readonly, "is_public")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        delegation = form.base_fields.get("delegation")
        if delegation is not None:
            # Agreement.clean() takes the buyer's delegation when none is picked.
            delegation.required = False
        if obj is not None:
            scope_autocomplete(form, "registration", delegation=obj.delegation_id)
        return form

    def save_model(self, request, obj, form, change) -> None:
        if not change and not may_disclose(request):
            obj.is_public = False  # only reviewers disclose, whatever the request carried
        super().save_model(request, obj, form, change)

    def history_view(self, request, object_id, extra_context=None):
        parties = (
            AgreementExhibitor.history.filter(agreement_id=object_id)
            .select_related("history_user", "exhibitor__organization")
            .order_by("-history_date", "-history_id")
        )
        context = {"party_history": parties[:200], **(extra_context or {})}
        return super().history_view(request, object_id, context)

    @admin.display(description=_("buyer"), ordering="registration__organization__name_zh")
    def buyer(self, obj: Agreement) -> str:
        return str(obj.registration.organization)

    @admin.display(description=_("intended purchase amount"), ordering="amount")
    def amount_with_currency(self, obj: Agreement) -> str:
        return f"{number_format(obj.amount, force_grouping=True)} {obj.currency}"

    @admin.display(description=_("amount (US$)"), ordering="amount_usd")
    def amount_in_usd(self, obj: Agreement) -> str:
        return number_format(obj.amount_usd, force_grouping=True)

    @admin.display(description=_("exhibitors"), ordering="exhibitor_count")
    def exhibitor_count(self, obj: Agreement) -> int:
        return obj.exhibitor_count

    # --- actions -------------------------------------------------------------------

    def has_disclose_permission(self, request: HttpRequest) -> bool:
        return may_disclose(request)

    def has_recompute_usd_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("deals.recompute_usd")

    @admin.action(description=_("Make the amounts public"), permissions=["disclose"])
    def make_public(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._disclose(request, queryset, public=True)

    @admin.action(description=_("Make the amounts undisclosed"), permissions=["disclose"])
    def make_undisclosed(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._disclose(request, queryset, public=False)

    def _disclose(self, request: HttpRequest, queryset: QuerySet, *, public: bool) -> None:
        pks = list(queryset.exclude(is_public=public).values_list("pk", flat=True))
        reason = gettext("Made public") if public else gettext("Made undisclosed")
        for start in range(0, len(pks), BATCH):
            batch = list(Agreement.objects.filter(pk__in=pks[start : start + BATCH]))
            now = timezone.now()
            for agreement in batch:
                agreement.is_public = public
                agreement.updated_at = now
            # QuerySet.update() would leave no history; this records each row, by whom.
            bulk_update_with_history(
                batch,
                Agreement,
                ["is_public", "updated_at"],
                default_user=request.user,
                default_change_reason=reason,
            )
        if public:
            message = ngettext(
                "%(count)d agreement's amount is now public.",
                "%(count)d agreements' amounts are now public.",
                len(pks),
            )
        else:
            message = ngettext(
                "%(count)d agreement's amount is now undisclosed.",
                "%(count)d agreements' amounts are now undisclosed.",
                len(pks),
            )
        self.message_user(request, message % {"count": len(pks)}, level="SUCCESS")

    @admin.action(
        description=_("Recompute the US$ amounts at the current rates"),
        permissions=["recompute_usd"],
    )
    def recompute_usd(self, request: HttpRequest, queryset: QuerySet) -> None:
        pks = list(queryset.values_list("pk", flat=True))
        changed, without_rate = 0, []
        reason = gettext("US$ recomputed at the current rates")
        for start in range(0, len(pks), BATCH):
            batch = Agreement.objects.filter(pk__in=pks[start : start + BATCH]).select_related(
                "delegation__edition"
            )
            now = timezone.now()
            to_save = []
            for agreement in batch:
                before = (agreement.amount_usd, agreement.usd_rate, agreement.usd_rate_on)
                try:
                    agreement.freeze_usd()
                except ValidationError:
                    without_rate.append(agreement.reference)
                    continue
                if (agreement.amount_usd, agreement.usd_rate, agreement.usd_rate_on) != before:
                    agreement.updated_at = now
                    to_save.append(agreement)
            bulk_update_with_history(
                to_save,
                Agreement,
                ["amount_usd", "usd_rate", "usd_rate_on", "updated_at"],
                default_user=request.user,
                default_change_reason=reason,
            )
            changed += len(to_save)
        self.message_user(
            request,
            ngettext(
                "%(changed)d of %(count)d agreement got a new US$ amount.",
                "%(changed)d of %(count)d agreements got a new US$ amount.",
                len(pks),
            )
            % {"changed": changed, "count": len(pks)},
            level="SUCCESS",
        )
        if without_rate:
            named = ", ".join(sorted(without_rate)[:NAMED])
            if len(without_rate) > NAMED:
                named += ", …"
            self.message_user(
                request,
                ngettext(
                    "%(count)d agreement has no exchange rate and was left as it was: %(named)s.",
                    "%(count)d agreements have no exchange rate and were left as they were: "
                    "%(named)s.",
                    len(without_rate),
                )
                % {"count": len(without_rate), "named": named},
                level="WARNING",
            )


# ---------------------------------------------------------------------------------------
# Visits, investment intentions, CIFTIS pledges
# ---------------------------------------------------------------------------------------


@admin.register(Visit)
class VisitAdmin(SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [VisitResource]
    list_display = (
        "organization",
        "delegation",
        "visited_on",
        "investment_intention",
        "ciftis_interest",
    )
    list_select_related = ("organization", "delegation__edition__fair")
    list_filter = (
        ("delegation__edition", EditionFilter),
        "investment_intention",
        "ciftis_interest",
        ("visited_on", admin.DateFieldListFilter),
        "illustrative",
    )
    search_fields = ORGANIZATION_SEARCH
    autocomplete_fields = ("delegation", "organization")
    readonly_fields = ("created_at", "updated_at")
    # No date_hierarchy, as for registrations and agreements: it scanned every visit.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


@admin.register(InvestmentIntention)
class InvestmentIntentionAdmin(FollowUpAdminMixin, SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [InvestmentIntentionResource]
    list_display = (
        "organization",
        "delegation",
        "sector",
        "amount",
        "currency",
        "stage",
        "owner",
        "next_action_on",
    )
    list_select_related = ("organization", "delegation__edition__fair", "sector", "owner")
    list_filter = (("delegation__edition", EditionFilter), "stage", "sector", "illustrative")
    search_fields = ORGANIZATION_SEARCH
    autocomplete_fields = ("delegation", "organization", "sector")
    readonly_fields = ("created_at", "updated_at")


@admin.register(CiftisPledge)
class CiftisPledgeAdmin(FollowUpAdminMixin, SpreadsheetExportMixin, HistoryAdmin):
    resource_classes = [CiftisPledgeResource]
    list_display = (
        "organization",
        "country",
        "target_edition",
        "source_delegation",
        "status",
        "pledged_on",
        "owner",
        "next_action_on",
    )
    list_select_related = (
        "organization",
        "target_edition__fair",
        "source_delegation__edition__fair",
        "owner",
    )
    list_filter = (
        ("target_edition", EditionFilter),
        "status",
        "organization__country",
        "illustrative",
    )
    search_fields = ORGANIZATION_SEARCH
    autocomplete_fields = ("target_edition", "organization", "source_delegation")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "pledged_on"

    @admin.display(description=_("country or region"), ordering="organization__country")
    def country(self, obj: CiftisPledge) -> str:
        return obj.organization.country.name


# ---------------------------------------------------------------------------------------
# Publishing the figures
# ---------------------------------------------------------------------------------------


class PublishForm(forms.Form):
    delegation = forms.ModelChoiceField(
        label=_("delegation"),
        queryset=Delegation.objects.top_level()
        .select_related("edition")
        .order_by("-edition__starts_on", "name_zh"),
    )
    as_of = forms.DateField(
        label=_("as of"),
        widget=date_input(),
        help_text=_("The date the public pages say the figures are as of."),
    )
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


@admin.register(Publication)
class PublicationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Publications are made on the publish page (reviewers only) and never changed or
    deleted: every one stays readable, as the public saw it."""

    list_display = ("delegation", "as_of", "published_at", "published_by", "note")
    list_select_related = ("delegation__edition__fair", "published_by")
    list_filter = (("delegation__edition", EditionFilter),)
    readonly_fields = (
        "delegation",
        "as_of",
        "published_at",
        "published_by",
        "previous_delegation",
        "note",
        "published_figures",
    )
    exclude = ("figures", "breakdowns")
    date_hierarchy = "published_at"

    @admin.display(description=_("figures"))
    def published_figures(self, publication: Publication) -> str:
        """The figures as the public page prints them, with the previous edition's."""
        headline = headline_from_json(
            publication.figures,
            delegation=publication.delegation,
            previous_delegation=publication.previous_delegation,
        )
        kind = gettext("organizations by kind")
        rows = [
            (card.key, capfirst(card.label), card.exact or card.value, card.previous or "–")
            for card in figure_cards(headline)
        ] + [
            (
                f"organizations_by_kind.{row.kind}",
                f"{capfirst(kind)}: {row.label}",
                row.value,
                row.previous or "–",
            )
            for row in kind_rows(headline)
        ]
        return format_html(
            '<table class="expo-published-figures"><thead><tr><th scope="col">{}</th>'
            '<th scope="col" class="number">{}</th><th scope="col" class="number">{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            gettext("figure"),
            gettext("published"),
            gettext("previous edition"),
            format_html_join(
                "",
                '<tr data-figure="{}"><th scope="row">{}</th><td class="number">{}</td>'
                '<td class="number">{}</td></tr>',
                rows,
            ),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "publish/",
                self.admin_site.admin_view(self.publish_view),
                name="deals_publication_publish",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "publish_url": reverse("admin:deals_publication_publish")
            if request.user.has_perm("deals.publish_figures")
            else None,
        }
        return super().changelist_view(request, extra_context)

    def publish_view(self, request: HttpRequest):
        if not request.user.has_perm("deals.publish_figures"):
            raise PermissionDenied
        initial = {"as_of": timezone.localdate()}
        if request.GET.get("delegation", "").isdigit():
            initial["delegation"] = int(request.GET["delegation"])
        form = PublishForm(request.POST or None, initial=initial)
        # A reviewer publishes the figures of their own delegations only.
        field = form.fields["delegation"]
        field.queryset = scope(field.queryset, request.user)
        comparison = None
        if form.is_valid():
            delegation = form.cleaned_data["delegation"]
            if request.POST.get("confirm") == "yes":
                publication = figures_publish(
                    delegation=delegation,
                    user=request.user,
                    as_of=form.cleaned_data["as_of"],
                    note=form.cleaned_data["note"],
                )
                self.message_user(
                    request,
                    gettext("The figures of %(delegation)s are published as of %(as_of)s.")
                    % {
                        "delegation": delegation,
                        "as_of": date_format(publication.as_of, "DATE_FORMAT"),
                    },
                    level="SUCCESS",
                )
                return redirect(reverse("admin:deals_publication_changelist"))
            comparison = publish_comparison(delegation)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Publish the figures"),
            "opts": self.model._meta,
            "form": form,
            "comparison": comparison,
        }
        return TemplateResponse(request, "admin/deals/publish.html", context)


@dataclass(frozen=True)
class ComparedFigure:
    """A figure (or one kind of organization) as it would be published now, beside its
    last published value: raw, and as the public page prints it."""

    key: str
    label: str
    live: Any
    published: Any
    live_shown: str
    published_shown: str
    changed: bool


def publish_comparison(delegation: Delegation) -> list[ComparedFigure]:
    """Each figure as it would be published now beside its last published value."""
    live = headline_figures(delegation=delegation)
    last = Publication.objects.latest_of(delegation)
    published = (
        headline_from_json(
            last.figures, delegation=delegation, previous_delegation=last.previous_delegation
        )
        if last is not None
        else None
    )

    def shown(headline) -> dict[str, tuple[str, str]]:
        """Each figure's label and printed value, the kinds of organization one by one."""
        kind = capfirst(gettext("organizations by kind"))
        return {
            **{
                card.key: (capfirst(card.label), card.exact or card.value)
                for card in figure_cards(headline)
            },
            **{
                f"organizations_by_kind.{row.kind}": (f"{kind}: {row.label}", row.value)
                for row in kind_rows(headline)
            },
        }

    def raw(headline, key: str) -> Any:
        name, _dot, part = key.partition(".")
        value = headline.figures[name].value
        return (value or {}).get(part, 0) if part else value

    now = shown(live)
    then = shown(published) if published is not None else {}
    rows = []
    for key, (label, live_shown) in now.items():
        before = raw(published, key) if published is not None else None
        after = raw(live, key)
        rows.append(
            ComparedFigure(
                key=key,
                label=label,
                live=after,
                published=before,
                live_shown=live_shown,
                published_shown=then.get(key, ("", "–"))[1],
                changed=published is not None and after != before,
            )
        )
    return rows
