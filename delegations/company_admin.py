"""The organization's pages in the back office beyond its change form: the company page
(everything recorded about it across editions, and its likely duplicates) and the
merge of two organizations into one."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .company import company_file
from .models import Organization
from .scope import organization_records_outside
from .services import organization_merge, organization_merge_preview

MERGE_PERMISSION = "delegations.merge_organization"
# The organization's fields the merge page sets side by side.
COMPARED_FIELDS = (
    "name_zh",
    "name_en",
    "credit_code",
    "kind",
    "country",
    "industry",
    "annual_imports_usd",
    "illustrative",
)


def may_merge(request: HttpRequest) -> bool:
    """Whether the user is a reviewer who may merge two organizations into one."""
    return request.user.has_perm(MERGE_PERMISSION)


class CompanyPagesMixin:
    """Adds `<id>/company/` and `<id>/merge/<other id>/` to the organization admin."""

    def url_name(self, page: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{page}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/company/",
                view(self.company_view),
                name=self.url_name("company"),
            ),
            path(
                "<path:object_id>/merge/<path:other_id>/",
                view(self.merge_view),
                name=self.url_name("merge"),
            ),
            *super().get_urls(),
        ]

    def company_url(self, organization: Organization) -> str:
        return reverse(f"admin:{self.url_name('company')}", args=[quote(organization.pk)])

    def merge_url(self, organization: Organization, other: Organization) -> str:
        return reverse(
            f"admin:{self.url_name('merge')}", args=[quote(organization.pk), quote(other.pk)]
        )

    @admin.display(description=_("company page"))
    def company_page(self, obj: Organization) -> str:
        return format_html('<a href="{}">{}</a>', self.company_url(obj), gettext("Company page"))

    def _organization(self, request: HttpRequest, object_id: str) -> Organization:
        organization = self.get_object(request, unquote(object_id))
        if organization is None:
            raise Http404(gettext("No organization with this key."))
        return organization

    def company_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        organization = self._organization(request, object_id)
        if not self.has_view_permission(request, organization):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Company page: %(organization)s") % {"organization": organization},
            "opts": self.opts,
            "original": organization,
            "file": company_file(organization=organization, user=request.user),
            "may_merge": may_merge(request),
            "has_change_permission": self.has_change_permission(request, organization),
        }
        return TemplateResponse(request, "admin/delegations/organization/company.html", context)

    def merge_view(self, request: HttpRequest, object_id: str, other_id: str) -> HttpResponse:
        if not may_merge(request):
            raise PermissionDenied
        organization = self._organization(request, object_id)
        other = self._organization(request, other_id)
        if organization_records_outside(request.user, organization) or (
            organization_records_outside(request.user, other)
        ):
            # A merge moves every record of the organization, other delegations' too.
            raise PermissionDenied(
                gettext(
                    "These organizations have records in delegations other than yours: "
                    "ask the organizer's staff to merge them."
                )
            )
        wanted = request.POST.get("keep") if request.method == "POST" else request.GET.get("keep")
        keep, remove = (other, organization) if wanted == str(other.pk) else (organization, other)
        if request.method == "POST":
            try:
                report = organization_merge(keep=keep, remove=remove, user=request.user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), level=messages.ERROR)
                return redirect(f"{self.merge_url(organization, other)}?keep={keep.pk}")
            self.message_user(
                request,
                gettext(
                    "%(removed)s was merged into %(kept)s: %(moved)s records moved over, "
                    "%(combined)s combined with records it already had."
                )
                % {
                    "removed": report.removed_name,
                    "kept": keep,
                    "moved": report.moved,
                    "combined": report.combined,
                },
                level=messages.SUCCESS,
            )
            return redirect(self.company_url(keep))
        try:
            report, refusal = organization_merge_preview(keep=keep, remove=remove), None
        except ValidationError as error:
            report, refusal = None, " ".join(error.messages)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Merge two organizations"),
            "opts": self.opts,
            "original": organization,
            "keep": keep,
            "remove": remove,
            "report": report,
            "refusal": refusal,
            "fields": [
                {
                    "label": Organization._meta.get_field(name).verbose_name,
                    "keep": _shown(keep, name),
                    "remove": _shown(remove, name),
                    "filled": report is not None and name in report.filled,
                }
                for name in COMPARED_FIELDS
            ],
            "swap_url": f"{self.merge_url(organization, other)}?keep={remove.pk}",
            "keep_company_url": self.company_url(keep),
            "remove_company_url": self.company_url(remove),
        }
        return TemplateResponse(request, "admin/delegations/organization/merge.html", context)


def _shown(organization: Organization, name: str) -> str:
    """A field as the merge page prints it: choices by their label, blanks as a dash."""
    display = getattr(organization, f"get_{name}_display", None)
    value = display() if display is not None else getattr(organization, name)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return "–" if value in (None, "") else str(value)
