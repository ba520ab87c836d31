"""The admin's spreadsheet import: upload a file, read what a dry run would do, confirm
it; the import history; a reviewer's undo of a whole import.

The confirmation names a server-side `ImportRun`, never a file: the run keeps the bytes
that were previewed, their hash, its owner, a one-shot token and an expiry, and the real
import reads those stored bytes. A forged, reused, expired or someone else's
confirmation is answered with a 4xx page and writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from delegations.admin import ScopedAdminMixin
from delegations.models import Organization
from delegations.scope import scope

from . import importer
from .importing.results import MAX_LISTED
from .models import Agreement, AgreementExhibitor, CiftisPledge, Exhibitor, ImportRun
from .sheets import SHEETS, Message, Sheet, sheet_for_model, sheet_named

# The size limit when the settings name none.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# How long a preview may be confirmed.
PREVIEW_LIFETIME = datetime.timedelta(hours=1)
# The blank template download, linked from the upload page when the site serves it.
TEMPLATE_URL_NAME = "admin:deals_blank_template"

# Besides adding and changing its own model, what a sheet may do: an exhibitor or a
# pledge names an organization that is created when unknown; an agreement's row lists
# all its exhibitors, so exhibitors it no longer lists are taken off.
ALSO_NEEDS: dict[type[Model], tuple[tuple[type[Model], str], ...]] = {
    Exhibitor: ((Organization, "add"),),
    CiftisPledge: ((Organization, "add"),),
    Agreement: ((AgreementExhibitor, "add"), (AgreementExhibitor, "delete")),
}


def max_upload_bytes() -> int:
    return getattr(settings, "EXPO", {}).get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def label_of(name: str) -> str:
    """The bilingual label of a sheet named in a run or an error, or the name as given."""
    try:
        return str(sheet_named(name))
    except KeyError:
        return name


# ---------------------------------------------------------------------------------------
# Who may import what
# ---------------------------------------------------------------------------------------


def missing_permission(user, sheet: Sheet) -> type[Model] | None:
    """The first model the sheet writes in a way `user` may not; None if they may all."""
    needs = ((sheet.model, "add"), (sheet.model, "change"), *ALSO_NEEDS.get(sheet.model, ()))
    for model, action in needs:
        opts = model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return model
    return None


def may_import(user, sheet: Sheet) -> bool:
    return user.has_perm("deals.add_importrun") and missing_permission(user, sheet) is None


def refusal_for(user, sheets) -> Message | None:
    """Why `user` may not import these sheets, naming the first one refused; or None."""
    for sheet in sheets:
        model = missing_permission(user, sheet)
        if model is not None:
            return Message(
                _(
                    "You may not import the sheet “%(sheet)s”: it writes %(model)s, which "
                    "you may not change."
                ),
                sheet=str(sheet),
                model=model._meta.verbose_name_plural,
            )
    return None


def file_error(message: Message) -> dict:
    """A problem of the whole file, as the engine records one."""
    return {
        "sheet": "",
        "row": None,
        "column": None,
        "message_zh": message.zh,
        "message_en": message.en,
    }


def import_url(user, model: type[Model]) -> str:
    """The import page with the sheet of `model` chosen, if `user` may import it; or ""."""
    sheet = sheet_for_model(model)
    if sheet is None or not may_import(user, sheet):
        return ""
    return f"{reverse('admin:deals_importrun_import')}?{urlencode({'sheet': sheet.name_en})}"


def blank_template_url() -> str:
    try:
        return reverse(TEMPLATE_URL_NAME)
    except NoReverseMatch:
        return ""


# ---------------------------------------------------------------------------------------
# What the pages show of a run
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetLine:
    sheet: str
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ProblemLine:
    sheet: str
    row: int | None
    column: str
    message_zh: str
    message_en: str


def sheet_lines(counts: dict | None) -> list[SheetLine]:
    """The per-sheet counts of a run, in import order."""
    return [
        SheetLine(
            sheet=label_of(name),
            created=tally.get("created", 0),
            updated=tally.get("updated", 0),
            unchanged=tally.get("unchanged", 0),
        )
        for name, tally in (counts or {}).items()
    ]


SHEET_ORDER = {sheet.name_en: position for position, sheet in enumerate(SHEETS)}


def problem_lines(problems: list | None) -> list[ProblemLine]:
    """Problems as a clerk corrects them: sheet by sheet in import order, row by row;
    those of the whole file (and the engine's "and N more" line) last."""
    ordered = sorted(
        problems or [],
        key=lambda problem: (
            SHEET_ORDER.get(problem.get("sheet") or "", len(SHEET_ORDER)),
            problem.get("row") or 0,
        ),
    )
    return [
        ProblemLine(
            sheet=label_of(problem.get("sheet") or ""),
            row=problem.get("row"),
            column=problem.get("column") or "",
            message_zh=problem.get("message_zh", ""),
            message_en=problem.get("message_en", ""),
        )
        for problem in ordered
    ]


def summary_of(counts: dict | None) -> str:
    """One short line for the history list: created, updated and unchanged rows over all
    sheets, the zeros left out."""
    lines = sheet_lines(counts)
    totals = (
        (sum(line.created for line in lines), _("%(count)s created")),
        (sum(line.updated for line in lines), _("%(count)s updated")),
        (sum(line.unchanged for line in lines), _("%(count)s unchanged")),
    )
    parts = [
        str(text) % {"count": number_format(total, force_grouping=True)}
        for total, text in totals
        if total
    ]
    return pgettext("list separator", ", ").join(parts) or gettext("no rows")


def result_context(run: ImportRun) -> dict:
    # The engine keeps the first thousand problems of each kind, the last line saying
    # how many more there were.
    return {
        "run": run,
        "sheet_lines": sheet_lines(run.counts),
        "errors": problem_lines(run.errors),
        "warnings": problem_lines(run.warnings),
        "sheet_shown": label_of(run.sheet) if run.sheet else _("Whole workbook"),
        "undo_lines": undo_lines(run.undo_report),
        "undo_kept": (run.undo_report or {}).get("kept", []),
    }


def undo_lines(report: dict | None) -> list[tuple[str, int, int]]:
    report = report or {}
    removed, restored = report.get("removed", {}), report.get("restored", {})
    names = sorted({*removed, *restored}, key=lambda name: SHEET_ORDER.get(name, len(SHEET_ORDER)))
    return [(label_of(name), removed.get(name, 0), restored.get(name, 0)) for name in names]


# ---------------------------------------------------------------------------------------
# The upload form
# ---------------------------------------------------------------------------------------

WORKBOOK = ""


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("A CSV file or an XLSX workbook, as the spreadsheet contract describes."),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        widget=forms.Select,
        help_text=_(
            "For a CSV file, or to import one sheet of a workbook. A whole workbook imports "
            "every sheet it has, in one go."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        choices = [(WORKBOOK, _("Whole workbook"))]
        choices += [(sheet.name_en, str(sheet)) for sheet in SHEETS]
        self.fields["sheet"].widget.choices = choices

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        # The upload's size is known before a byte of it is read into memory.
        if upload.size > limit:
            raise forms.ValidationError(
                _("This file is %(size)s; files over %(limit)s are refused."),
                code="too_large",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload

    def clean_sheet(self) -> Sheet | None:
        name = self.cleaned_data["sheet"]
        if name == WORKBOOK:
            return None
        try:
            sheet = sheet_named(name)
        except KeyError:
            raise forms.ValidationError(
                _("There is no sheet named “%(name)s”."), code="unknown", params={"name": name}
            ) from None
        refusal = refusal_for(self.user, [sheet])
        if refusal:
            raise forms.ValidationError(str(refusal), code="permission")
        return sheet


def stored_filename(name: str) -> str:
    """The upload's own name (no folders), cut to what the run can keep, extension kept."""
    name = PurePath(name.replace("\\", "/")).name or "upload"
    limit = ImportRun._meta.get_field("filename").max_length
    if limit and len(name) > limit:
        suffix = PurePath(name).suffix[:10]
        name = name[: limit - len(suffix)] + suffix
    return name


# ---------------------------------------------------------------------------------------
# The history, and the import pages hung under it
# ---------------------------------------------------------------------------------------


class ImportRunAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Who imported which file, when, with what result; read-only. The import pages
    (upload, preview, confirm) and a reviewer's undo hang under its URLs."""

    list_display = (
        "created_at",
        "user",
        "filename",
        "short_sha256",
        "sheet_shown",
        "status",
        "counts_summary",
    )
    list_display_links = ("created_at", "filename")
    list_filter = ("status", ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("filename", "^sha256")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "status",
        "user",
        "filename",
        "sha256",
        "size",
        "sheet_shown",
        "created_at",
        "started_at",
        "imported_at",
        "expires_at",
        "undone_at",
        "undone_by",
    )
    readonly_fields = fields
    # Shown only when they say something about the run.
    PREVIEW_FIELDS = ("expires_at",)
    UNDO_FIELDS = ("undone_at", "undone_by")
    change_list_template = "admin/import/importrun_change_list.html"
    change_form_template = "admin/import/importrun_change_form.html"

    # --- the history is not editable -------------------------------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        return any(
            user.has_perm(f"deals.{codename}")
            for codename in ("view_importrun", "add_importrun", "undo_importrun")
        )

    def get_fields(self, request: HttpRequest, obj=None):
        hidden = set()
        if obj is not None and obj.status != ImportRun.Status.PREVIEWED:
            hidden.update(self.PREVIEW_FIELDS)
        if obj is not None and obj.status != ImportRun.Status.UNDONE:
            hidden.update(self.UNDO_FIELDS)
        return [name for name in self.fields if name not in hidden]

    def get_queryset(self, request: HttpRequest):
        # The stored bytes are never shown; a list of big uploads must not load them.
        return super().get_queryset(request).defer("content")

    # --- columns -----------------------------------------------------------------------

    @admin.display(description=_("SHA-256"), ordering="sha256")
    def short_sha256(self, run: ImportRun) -> str:
        return format_html('<code title="{}">{}</code>', run.sha256, run.sha256[:12])

    @admin.display(description=_("sheet"), ordering="sheet")
    def sheet_shown(self, run: ImportRun) -> str:
        return label_of(run.sheet) if run.sheet else gettext("Whole workbook")

    @admin.display(description=_("result"))
    def counts_summary(self, run: ImportRun) -> str:
        if run.errors:
            count = len(run.errors)
            if count >= MAX_LISTED:  # the engine's last line says how many more
                return gettext("over %(count)d errors") % {"count": count - 1}
            return ngettext("%(count)d error", "%(count)d errors", count) % {"count": count}
        return summary_of(run.counts)

    # --- pages -------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="deals_importrun_import"),
            path("import/<int:run_id>/", view(self.preview_view), name="deals_importrun_preview"),
            path(
                "import/<int:run_id>/confirm/",
                # Not one transaction with the request: the run is marked importing and
                # committed first, so that a server stopped in the middle leaves a run
                # that says so (the import itself is one transaction of its own).
                view(transaction.non_atomic_requests(require_POST(self.confirm_view))),
                name="deals_importrun_confirm",
            ),
            path("<int:run_id>/undo/", view(self.undo_view), name="deals_importrun_undo"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        importer.mark_interrupted()
        context = {
            "import_page_url": (
                reverse("admin:deals_importrun_import")
                if request.user.has_perm("deals.add_importrun")
                else ""
            ),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        importer.mark_interrupted()
        run = self.get_queryset(request).filter(pk=object_id).defer("content").first()
        context = dict(extra_context or {})
        if run is not None:
            context.update(result_context(run))
            context["may_undo"] = (
                request.user.has_perm("deals.undo_importrun")
                and run.status == ImportRun.Status.IMPORTED
            )
        return super().change_view(request, object_id, form_url, context)

    def page(self, request: HttpRequest, template: str, context: dict, *, status: int = 200):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            **context,
        }
        return TemplateResponse(request, f"admin/import/{template}", context, status=status)

    def refuse(self, request: HttpRequest, status: int, message: str, *, run=None) -> HttpResponse:
        """A clear 4xx answer: what was refused, and a way back."""
        return self.page(
            request,
            "refused.html",
            {"title": gettext("Import refused"), "message": message, "run": run},
            status=status,
        )

    # --- 1. upload ---------------------------------------------------------------------

    def import_view(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.has_perm("deals.add_importrun"):
            return self.refuse(request, 403, gettext("You may not import spreadsheets."))
        importer.mark_interrupted()
        if request.method == "POST":
            drop_expired_uploads()
            form = UploadForm(request.POST, request.FILES, user=user)
            if form.is_valid():
                response = self.dry_run(request, form)
                if response is not None:
                    return response
        else:
            initial = {}
            with contextlib.suppress(KeyError):
                initial["sheet"] = sheet_named(request.GET.get("sheet", "")).name_en
            form = UploadForm(user=user, initial=initial)
        importable = [
            (str(sheet), f"?{urlencode({'sheet': sheet.name_en})}")
            for sheet in SHEETS
            if may_import(user, sheet)
        ]
        return self.page(
            request,
            "upload.html",
            {
                "title": gettext("Import a spreadsheet"),
                "form": form,
                "importable": importable,
                "template_url": blank_template_url(),
                "limit": filesizeformat(max_upload_bytes()),
                "lifetime_minutes": int(PREVIEW_LIFETIME.total_seconds() // 60),
            },
        )

    def dry_run(self, request: HttpRequest, form: UploadForm) -> HttpResponse | None:
        """Run the import without writing, keep the upload with the run, show the run.
        None when the file itself was refused: the form then says why."""
        upload = form.cleaned_data["file"]
        sheet = form.cleaned_data["sheet"]
        data = upload.read()
        try:
            result = importer.import_file(
                data,
                filename=stored_filename(upload.name),
                user=request.user,
                dry_run=True,
                sheet=sheet.name_en if sheet else None,
            )
        except importer.FileRefused as refused:
            form.add_error("file", [refused.message_zh, refused.message_en])
            return None
        run = result.run
        refusal = refusal_for(
            request.user, [sheet_named(name) for name in result.sheets] if sheet is None else []
        )
        if refusal:
            # A workbook is checked sheet by sheet once it is known which it holds.
            self.close(run, status=ImportRun.Status.REFUSED, reason=refusal)
            form.add_error("sheet", str(refusal))
            return None
        if result.errors:
            self.close(run, status=ImportRun.Status.REFUSED)
        else:
            run.content = data
            run.token = secrets.token_urlsafe(32)
            run.expires_at = timezone.now() + PREVIEW_LIFETIME
            run.save(update_fields=["content", "token", "expires_at"])
        return HttpResponseRedirect(reverse("admin:deals_importrun_preview", args=[run.pk]))

    @staticmethod
    def close(run: ImportRun, *, status: str, reason: Message | None = None) -> None:
        """End a run: it can no longer be confirmed, and its bytes are dropped. A
        `reason` is kept with the run's errors, in both languages."""
        run.status = status
        run.content = None
        # Clears the one-shot confirm token: no password.
        run.token = ""  # nosec B105
        fields = ["status", "content", "token"]
        if reason is not None:
            run.errors = [*(run.errors or []), file_error(reason)]
            fields.append("errors")
        run.save(update_fields=fields)

    # --- 2. preview --------------------------------------------------------------------

    def preview_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        importer.mark_interrupted()
        run = ImportRun.objects.filter(pk=run_id).defer("content").first()
        if run is None:
            return self.refuse(request, 404, gettext("There is no such import."))
        if run.user_id != request.user.pk:
            return self.refuse(request, 403, gettext("This import was uploaded by someone else."))
        previewed = run.status in ImportRun.CONFIRMABLE
        expired = previewed and run.expires_at is not None and run.expires_at <= timezone.now()
        return self.page(
            request,
            "preview.html",
            {
                "title": gettext("Import of %(name)s") % {"name": run.filename},
                "may_confirm": previewed and not expired and bool(run.token),
                "expired": expired,
                **result_context(run),
            },
        )

    # --- 3. confirm --------------------------------------------------------------------

    def confirm_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        user = request.user
        if not user.has_perm("deals.add_importrun"):
            return self.refuse(request, 403, gettext("You may not import spreadsheets."))
        with transaction.atomic():
            # Locked, then marked importing: two confirmations of one run cannot both
            # import it.
            run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
            refused = self.check_confirmation(request, run)
            if refused is not None:
                return refused
            importer.begin_run(run)
        content = bytes(run.content)
        try:
            result = importer.import_file(
                content,
                filename=run.filename,
                user=user,
                dry_run=False,
                sheet=run.sheet or None,
                run=run,
            )
        except importer.FileRefused as refused:
            run.refresh_from_db()
            self.close(run, status=ImportRun.Status.REFUSED)
            return self.refuse(request, 400, f"{refused.message_zh} {refused.message_en}", run=run)
        run = result.run or run
        if run.status == ImportRun.Status.FAILED:
            # Nothing was written; the stored upload and its token stay, so that the
            # clerk may confirm again once the database is back.
            self.message_user(
                request,
                gettext(
                    "Nothing was imported: the database failed in the middle of the import. "
                    "Nothing of this file was written; confirm again to retry."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:deals_importrun_preview", args=[run.pk]))
        run.content = None
        # Clears the one-shot confirm token: no password.
        run.token = ""  # nosec B105
        run.save(update_fields=["content", "token"])
        if result.ok and run.status == ImportRun.Status.IMPORTED:
            self.message_user(request, imported_message(run), messages.SUCCESS)
        else:
            self.message_user(
                request,
                gettext(
                    "Nothing was imported: the file no longer imports cleanly. "
                    "See the errors below."
                ),
                messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:deals_importrun_preview", args=[run.pk]))

    def check_confirmation(self, request: HttpRequest, run: ImportRun | None):
        """None when `run`, locked, may be imported by this request; else the 4xx page
        that says why not (closing the run when it can never be imported)."""
        user = request.user
        if run is None:
            return self.refuse(request, 404, gettext("There is no such import."))
        if run.user_id != user.pk:
            return self.refuse(request, 403, gettext("This import was uploaded by someone else."))
        if run.status not in ImportRun.CONFIRMABLE:
            return self.refuse(
                request,
                409,
                gettext(
                    "This import is %(status)s: a preview is confirmed once only. "
                    "Upload the file again to import it."
                )
                % {"status": run.get_status_display()},
                run=run,
            )
        if run.expires_at is None or run.expires_at <= timezone.now():
            drop_expired_uploads()
            return self.refuse(
                request,
                410,
                gettext("This preview has expired: nothing was imported. Upload the file again."),
                run=run,
            )
        posted = request.POST.get("token", "")
        if not run.token or not constant_time_compare(posted, run.token):
            return self.refuse(
                request,
                400,
                gettext(
                    "This confirmation does not match the preview: nothing was imported. "
                    "Confirm from the preview page."
                ),
                run=run,
            )
        content = bytes(run.content) if run.content is not None else b""
        if run.content is None or hashlib.sha256(content).hexdigest() != run.sha256:
            reason = Message(
                _(
                    "The stored file is not the one that was previewed: nothing was "
                    "imported. Upload the file again."
                )
            )
            self.close(run, status=ImportRun.Status.REFUSED, reason=reason)
            return self.refuse(request, 400, str(reason), run=run)
        sheets = [sheet_named(name) for name in (run.counts or {})]
        if run.sheet:
            sheets.append(sheet_named(run.sheet))
        refusal = refusal_for(user, sheets)
        if refusal:
            self.close(run, status=ImportRun.Status.REFUSED, reason=refusal)
            return self.refuse(request, 403, str(refusal), run=run)
        return None

    # --- 6. undo -----------------------------------------------------------------------

    def undo_view(self, request: HttpRequest, run_id: int) -> HttpResponse:
        if not request.user.has_perm("deals.undo_importrun"):
            return self.refuse(request, 403, gettext("Only a reviewer may undo an import."))
        with transaction.atomic():
            # A reviewer undoes the imports of their delegations' staff only.
            queryset = scope(ImportRun.objects.defer("content"), request.user)
            if request.method == "POST":
                queryset = queryset.select_for_update()
            run = queryset.filter(pk=run_id).first()
            if run is None:
                return self.refuse(request, 404, gettext("There is no such import."))
            detail_url = reverse("admin:deals_importrun_change", args=[run.pk])
            if run.status != ImportRun.Status.IMPORTED:
                if run.status == ImportRun.Status.UNDONE:
                    message = gettext("This import was already undone, on %(when)s by %(who)s.") % {
                        "when": timezone.localtime(run.undone_at).strftime("%Y-%m-%d %H:%M")
                        if run.undone_at
                        else "?",
                        "who": run.undone_by or "?",
                    }
                else:
                    message = gettext("Only an import that wrote records can be undone.")
                self.message_user(request, message, messages.WARNING)
                return HttpResponseRedirect(detail_url)
            if request.method != "POST":
                return self.page(
                    request,
                    "undo_confirm.html",
                    {
                        "title": gettext("Undo this import"),
                        "detail_url": detail_url,
                        **result_context(run),
                    },
                )
            try:
                undone = importer.undo_import(run, user=request.user)
            except importer.UndoRefused as refused:
                self.message_user(
                    request, f"{refused.message_zh} {refused.message_en}", messages.ERROR
                )
                return HttpResponseRedirect(detail_url)
        run.refresh_from_db()
        return self.page(
            request,
            "undo_done.html",
            {
                "title": gettext("Import undone"),
                "detail_url": detail_url,
                "undo_lines": undo_lines(undone.as_dict()),
                "undo_kept": undone.kept,
                "run": run,
            },
        )


def drop_expired_uploads() -> int:
    """Forget the bytes of previews nobody confirmed in time: each upload may weigh
    megabytes, and an expired preview can no longer be confirmed anyway. (The token
    cleared is the one-shot confirm token, no password.)"""
    expired = ImportRun.objects.filter(
        status__in=ImportRun.CONFIRMABLE, expires_at__lte=timezone.now(), content__isnull=False
    )
    return expired.update(content=None, token="")  # nosec B106


def imported_message(run: ImportRun) -> str:
    lines = sheet_lines(run.counts)
    if not any(line.created or line.updated for line in lines):
        return gettext("Imported, but every row was already recorded as it is: nothing changed.")
    parts = [
        gettext("%(sheet)s: %(created)s created, %(updated)s updated")
        % {
            "sheet": line.sheet,
            "created": number_format(line.created, force_grouping=True),
            "updated": number_format(line.updated, force_grouping=True),
        }
        for line in lines
    ]
    return gettext("Imported. %(parts)s.") % {"parts": "; ".join(parts)}


admin.site.register(ImportRun, ImportRunAdmin)
