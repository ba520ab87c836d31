"""Public pages: the index of fairs, editions and delegations, and the machinery that every
page about one delegation at one edition shares (its address, its sections, its tables
and their downloads). The participating organizations' list lives here too."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from django_filters import FilterSet

from deals.page_cache import PublicPageCacheMixin

from .filters import OrganizationFilterSet
from .models import Delegation, Edition, Fair, Organization
from .paging import KeyedPaginator, tree_order
from .tables import Column, cells, download_response, name_columns

PAGE_SIZE = 50
# Rows read from the database at a time while a download is written.
DOWNLOAD_CHUNK = 2000


# ---------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------


class FairIndexView(PublicPageCacheMixin, TemplateView):
    """Every fair, its editions and the delegations at each, sub-delegations included.
    The page every visitor gets is served from the cache (deals/page_cache.py): over the
    whole expo it lists about 2,000 delegations, and rendering them is most of its time;
    a change of a fair, an edition or a delegation replaces it at once."""

    template_name = "delegations/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["fairs"] = Fair.objects.prefetch_related(
            Prefetch("editions", queryset=Edition.objects.order_by("-starts_on")),
            Prefetch("editions__delegations", queryset=Delegation.objects.for_index()),
        )
        return context


class EditionView(PublicPageCacheMixin, TemplateView):
    """The delegations at one edition; from the cache like the index of fairs."""

    template_name = "delegations/edition.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        edition = get_object_or_404(Edition.objects.select_related("fair"), slug=kwargs["edition"])
        context["edition"] = edition
        context["delegations"] = Delegation.objects.for_index().filter(edition=edition)
        return context


# ---------------------------------------------------------------------------------------
# Pages about one delegation at one edition
# ---------------------------------------------------------------------------------------

SECTIONS = [
    ("headline", "deals:headline", _("Figures")),
    ("organizations", "delegations:organizations", _("Organizations")),
    ("agreements", "deals:agreements", _("Agreements")),
    ("exhibitors", "deals:exhibitors", _("Exhibitors")),
    ("pledges", "deals:pledges", _("CIFTIS pledges")),
]


class DelegationPageMixin:
    """A page about the delegation named by the address (`/ciie-2019/beijing/...`)."""

    section = "headline"
    request: HttpRequest
    kwargs: dict[str, Any]

    @cached_property
    def delegation(self) -> Delegation:
        return get_object_or_404(
            Delegation.objects.for_page(),
            edition__slug=self.kwargs["edition"],
            slug=self.kwargs["delegation"],
        )

    def url(self, name: str, **kwargs: Any) -> str:
        delegation = self.delegation
        return reverse(
            name,
            kwargs={"edition": delegation.edition.slug, "delegation": delegation.slug, **kwargs},
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(
            delegation=self.delegation,
            edition=self.delegation.edition,
            sections=[
                {"key": key, "url": self.url(name), "label": label, "current": key == self.section}
                for key, name, label in SECTIONS
            ],
        )
        return context


class PublicTableMixin(DelegationPageMixin):
    """A public table of a delegation's records: its page and its downloads share the
    base queryset, the filters and the columns."""

    filterset_class: type[FilterSet]
    page_url_name: str
    download_url_name: str
    filename: str

    def get_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_columns(self) -> list[Column]:
        raise NotImplementedError

    def rows(self, records: list[Any]) -> Iterable[Any]:
        """The rows of a table for a batch of records (a page, or a download's chunk)."""
        return records

    @cached_property
    def filterset(self) -> FilterSet:
        return self.filterset_class(self.request.GET or None, queryset=self.get_queryset())

    def filtered(self) -> QuerySet:
        """The records the filters select; none while a filter's value is invalid."""
        filterset = self.filterset
        if filterset.is_bound and not filterset.is_valid():
            return filterset.queryset.none()
        return filterset.qs

    def query_string(self, *, without: Iterable[str] = ("page",)) -> str:
        query = self.request.GET.copy()
        for key in without:
            query.pop(key, None)
        return query.urlencode()


class PublicListView(PublicTableMixin, TemplateView):
    """A paginated page of a public table, with its filters and download links."""

    template_name = "delegations/table_page.html"
    paginate_by = PAGE_SIZE
    title: str

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Each page read by its keys: a page far down the list otherwise reads every
        # record before it whole (its joins, its annotations) to skip them.
        paginator = KeyedPaginator(self.filtered(), self.paginate_by, rows_of=self.get_queryset())
        page = paginator.get_page(self.request.GET.get("page"))
        records = list(page.object_list)
        rows = list(self.rows(records))
        columns = self.get_columns()
        query = self.query_string()
        context.update(
            title=self.title,
            filterset=self.filterset,
            columns=columns,
            rows=[cells(columns, row) for row in rows],
            page=page,
            count=paginator.count,
            query=query,
            filtered=bool(query),
            downloads=[
                {"format": fmt, "url": self.url(self.download_url_name, format=fmt)}
                for fmt in ("csv", "json")
            ],
            illustrative=self.delegation.illustrative
            or any(getattr(record, "illustrative", False) for record in records),
        )
        return context


class PublicDownloadView(PublicTableMixin, View):
    """The whole of a public table (all its pages) as CSV or JSON, with the page's filters."""

    def chunks(self) -> Iterator[Any]:
        queryset = self.filtered()
        batch: list[Any] = []
        for record in queryset.iterator(chunk_size=DOWNLOAD_CHUNK):
            batch.append(record)
            if len(batch) == DOWNLOAD_CHUNK:
                yield from self.rows(batch)
                batch = []
        if batch:
            yield from self.rows(batch)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.filterset.is_bound and not self.filterset.is_valid():
            return HttpResponseBadRequest(self.filterset.errors.as_text())
        delegation = self.delegation
        return download_response(
            format=kwargs["format"],
            filename=f"{delegation.slug}-{delegation.edition.slug}-{self.filename}",
            columns=self.get_columns(),
            rows=self.chunks(),
            meta={
                "delegation": delegation.slug,
                "edition": delegation.edition.slug,
                "filters": {key: value for key, value in request.GET.items()},
            },
        )


# ---------------------------------------------------------------------------------------
# Participating organizations
# ---------------------------------------------------------------------------------------


# The participating organizations by name, then key.
LIST_ORDER = tree_order("name_zh", "pk")


class OrganizationTableMixin(PublicTableMixin):
    section = "organizations"
    filterset_class = OrganizationFilterSet
    page_url_name = "delegations:organizations"
    download_url_name = "delegations:organizations_download"
    filename = "organizations"
    title = _("Participating organizations")

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.taking_part(self.delegation).order_by(*LIST_ORDER)

    def get_columns(self) -> list[Column]:
        return [
            *name_columns(lambda o: o),
            Column("kind", _("Kind"), lambda o: o.get_kind_display()),
            Column("country", _("Country or region"), lambda o: o.country.name),
            Column("industry", _("Industry"), lambda o: o.industry),
            Column("participants", _("Participants"), lambda o: o.participants, numeric=True),
            Column("purchaser", _("Purchaser"), lambda o: o.is_purchaser),
            Column("large_importer", _("Large importer"), lambda o: o.is_large_importer),
            Column("signed", _("Signed an agreement"), lambda o: o.has_signed),
        ]


class OrganizationListView(OrganizationTableMixin, PublicListView):
    pass


class OrganizationDownloadView(OrganizationTableMixin, PublicDownloadView):
    pass
