"""Public pages of a delegation's results: the home page, the headline figures with their
press paragraph and charts, and the lists of agreements, exhibitors and CIFTIS pledges.

The figures come from `stats.py` (cached), the amounts from `disclosure.py`, which never
lets an undisclosed amount out; the views only pick the records and render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View

from delegations.api.base import MAX_KEY
from delegations.models import Delegation, OrganizationKind, Registration
from delegations.paging import tree_order
from delegations.query_cache import cached_result
from delegations.scope import in_scope
from delegations.tables import Column, download_response, name_columns
from delegations.views import (
    DelegationPageMixin,
    PublicDownloadView,
    PublicListView,
    PublicTableMixin,
)

from . import charts
from . import formatting as fmt
from .disclosure import (
    BY_COUNTRY,
    BY_KIND,
    BY_SECTOR,
    GroupTotal,
    PublicAgreement,
    agreement_totals,
    disclosed_total,
    public_rows,
)
from .filters import AgreementFilterSet, ExhibitorFilterSet, PledgeFilterSet
from .models import Agreement, CiftisPledge, Exhibitor, PledgeStatus, Publication
from .page_cache import PublicPageCacheMixin
from .press import press_paragraphs
from .stats import (
    BASIS_NONE,
    FIGURE_LABELS,
    Headline,
    agreements_by_sector,
    cached,
    cached_many,
    exhibitors_by_country,
    headline_figures,
    pledge_conversion,
    published_figures,
)

# ---------------------------------------------------------------------------------------
# Headline figures
# ---------------------------------------------------------------------------------------

T = TypeVar("T")

# Figures whose records are not public: visits and investment intentions are published as
# counts only.
COUNT_ONLY = {"companies_visited", "investment_intentions", "ciftis_interest"}


@dataclass(frozen=True)
class FigureCard:
    """A headline figure as the page prints it, with the address of its records."""

    key: str
    label: str
    value: str
    exact: str | None
    change: str | None
    direction: str | None
    basis: str
    previous: str | None
    url: str | None


def figure_links(delegation: Delegation) -> dict[str, str]:
    """Where each figure's records are listed (count-only figures have none)."""

    def url(name: str, query: str = "") -> str:
        path = reverse(
            name, kwargs={"edition": delegation.edition.slug, "delegation": delegation.slug}
        )
        return f"{path}{query}"

    organizations = url("delegations:organizations")
    return {
        "companies_signed": url("delegations:organizations", "?signed=yes"),
        "agreements": url("deals:agreements"),
        "exhibitors": url("deals:exhibitors"),
        "countries_regions": url("deals:exhibitors", "#countries"),
        "intended_purchase_usd": url("deals:agreements", "#totals"),
        "registered_organizations": organizations,
        "participants": organizations,
        "purchaser_share": url("delegations:organizations", "?purchaser=yes"),
        "large_importers": url("delegations:organizations", "?large_importer=yes"),
        "organizations_by_kind": organizations,
        "ciftis_pledges": url("deals:pledges"),
        "ciftis_pledge_countries": url("deals:pledges", "#countries"),
        "ciftis_pledges_attended": url("deals:pledges", "?status=attended"),
        "ciftis_pledge_conversion": url("deals:pledges", "#conversion"),
    }


def _display(key: str, value: Any) -> str:
    if key in ("purchaser_share", "ciftis_pledge_conversion"):
        return fmt.percent(value)
    if key == "intended_purchase_usd":
        return fmt.usd_compact(value)
    return fmt.number(value)


def figure_cards(headline: Headline) -> list[FigureCard]:
    links = figure_links(headline.delegation)
    cards = []
    for key, figure in headline.figures.items():
        if key == "organizations_by_kind":
            continue  # a breakdown, printed as its own table
        change = figure.change if figure.basis != BASIS_NONE else None
        cards.append(
            FigureCard(
                key=key,
                label=str(FIGURE_LABELS[key]),
                value=_display(key, figure.value),
                exact=fmt.usd(figure.value) if key == "intended_purchase_usd" else None,
                change=fmt.signed_percent(change) if change is not None else None,
                direction=None if not change else "up" if change > 0 else "down",
                basis=str(figure.basis_label),
                previous=(_display(key, figure.previous) if figure.previous is not None else None),
                url=links.get(key) if key not in COUNT_ONLY else None,
            )
        )
    return cards


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    value: str
    previous: str | None
    change: str | None
    url: str


def kind_rows(headline: Headline) -> list[KindRow]:
    figure = headline.figures["organizations_by_kind"]
    base = figure_links(headline.delegation)["organizations_by_kind"]
    labels = dict(OrganizationKind.choices)
    rows = []
    for kind, count in figure.value.items():
        change = figure.change.get(kind) if isinstance(figure.change, dict) else None
        previous = figure.previous.get(kind) if figure.previous else None
        rows.append(
            KindRow(
                kind=kind,
                label=str(labels[kind]),
                value=fmt.number(count),
                previous=fmt.number(previous) if previous is not None else None,
                change=fmt.signed_percent(change) if change is not None else None,
                url=f"{base}?kind={kind}",
            )
        )
    return rows


@dataclass(frozen=True)
class ShownFigures:
    """The figures a page shows: a publication's, or the live ones (staff preview)."""

    headline: Headline
    sectors: list
    countries: list
    publication: Publication | None
    live: bool


class FiguresSourceMixin(DelegationPageMixin):
    """The public reads the figures as the bureau last published them (or an earlier
    publication, `?publication=<id>`); staff may preview the live ones
    (`?figures=live`), on an answer no shared cache keeps."""

    def wants_live(self) -> bool:
        if self.request.GET.get("figures") != "live":
            return False
        return self.may_preview()

    def may_preview(self) -> bool:
        """Staff who may view agreements preview the live figures of their own
        delegations (see delegations.scope), not another delegation's."""
        user = self.request.user
        return (
            user.is_authenticated
            and user.is_staff
            and user.has_perm("deals.view_agreement")
            and in_scope(user, self.delegation)
        )

    def shown_figures(self) -> ShownFigures | None:
        delegation = self.delegation
        if self.wants_live():
            values = cached_many(
                delegation=delegation,
                computes={
                    "headline": partial(headline_figures, delegation=delegation),
                    "agreements_by_sector": partial(agreements_by_sector, delegation=delegation),
                    "exhibitors_by_country": partial(exhibitors_by_country, delegation=delegation),
                },
            )
            return ShownFigures(
                headline=values["headline"],
                sectors=values["agreements_by_sector"],
                countries=values["exhibitors_by_country"],
                publication=None,
                live=True,
            )
        wanted = self.request.GET.get("publication")
        if wanted is not None and not (wanted.isdigit() and int(wanted) <= MAX_KEY):
            raise Http404("No such publication.")
        published = published_figures(
            delegation=delegation, publication_id=int(wanted) if wanted else None
        )
        if published is None:
            if wanted:
                raise Http404("No such publication of this delegation.")
            return None
        return ShownFigures(
            headline=published.headline,
            sectors=published.sectors,
            countries=published.countries,
            publication=published.publication,
            live=False,
        )

    def private_if_live(self, response: HttpResponse) -> HttpResponse:
        if self.wants_live():
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ["Cookie"])
        return response


class HeadlineView(PublicPageCacheMixin, FiguresSourceMixin, TemplateView):
    """A delegation's headline figures at an edition, each linked to its records; the
    page every visitor gets is served from the cache (deals/page_cache.py)."""

    template_name = "deals/headline.html"
    section = "headline"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.private_if_live(super().get(request, *args, **kwargs))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        delegation = self.delegation
        shown = self.shown_figures()
        context.update(
            shown=shown,
            may_preview=self.may_preview(),
            publications_url=self.url("deals:publications"),
            other_editions=Delegation.objects.for_page()
            .filter(slug=delegation.slug, parent__isnull=delegation.parent_id is None)
            .exclude(pk=delegation.pk)
            .order_by("-edition__starts_on"),
            other_delegations=Delegation.objects.for_index()
            .filter(edition=delegation.edition_id)
            .exclude(pk=delegation.top.pk),
        )
        if shown is None:
            context["illustrative"] = delegation.illustrative
            return context
        headline = shown.headline
        query = (
            "?figures=live"
            if shown.live
            else (
                f"?publication={shown.publication.pk}"
                if self.request.GET.get("publication")
                else ""
            )
        )
        context.update(
            headline=headline,
            cards=figure_cards(headline),
            kinds=kind_rows(headline),
            press=press_paragraphs(headline=headline),
            charts=[
                charts.sector_chart(shares=shown.sectors),
                charts.country_chart(shares=shown.countries),
                charts.kind_chart(headline=headline),
                charts.comparison_chart(headline=headline),
            ],
            illustrative=headline.illustrative or delegation.illustrative,
            downloads=[
                {"format": fmt_, "url": self.url("deals:figures_download", format=fmt_) + query}
                for fmt_ in ("csv", "json")
            ],
        )
        return context


class PublicationListView(DelegationPageMixin, TemplateView):
    """Every publication of a delegation's figures, latest first, each readable."""

    template_name = "deals/publications.html"
    section = "headline"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        headline_url = self.url("deals:headline")
        publications = Publication.objects.of(self.delegation).order_by("-published_at", "-pk")
        context.update(
            title=_("Publications of the figures"),
            publications=[
                {"publication": publication, "url": f"{headline_url}?publication={publication.pk}"}
                for publication in publications
            ],
            illustrative=self.delegation.illustrative,
        )
        return context


def cached_breakdown(compute: Callable[..., T], delegation: Delegation) -> T:
    """A `stats.py` breakdown of `delegation`, cached like the headline figures."""
    return cached(
        compute.__name__, delegation=delegation, compute=partial(compute, delegation=delegation)
    )


def latest_default_delegation() -> Delegation | None:
    """The installation's default delegation at the latest edition whose figures are
    published, else at the latest edition where it has records."""
    # Two levels down: the delegation of the outer query, not the agreement's own key.
    tree = Delegation.objects.tree_keys(OuterRef(OuterRef("pk")))
    has_records = Q(Exists(Agreement.objects.filter(delegation__in=tree))) | Q(
        Exists(Registration.objects.filter(delegation__in=tree))
    )
    return (
        Delegation.objects.for_page()
        .filter(slug=settings.EXPO["DEFAULT_DELEGATION"], parent__isnull=True)
        .filter(has_records)
        .annotate(published=Exists(Publication.objects.filter(delegation=OuterRef("pk"))))
        .order_by("-published", "-edition__starts_on")
        .first()
    )


class HomeView(HeadlineView):
    """The headline figures of the default delegation at its latest edition with data."""

    template_name = "deals/home.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        delegation = latest_default_delegation()
        if delegation is None:
            return self.render_to_response({"delegation": None})
        self.kwargs.update(edition=delegation.edition.slug, delegation=delegation.slug)
        self.__dict__["delegation"] = delegation  # found already: no second query
        return super().get(request, *args, **kwargs)


def publication_json(shown: ShownFigures) -> dict[str, Any]:
    """What a download or the API says of the figures' source."""
    if shown.live:
        return {"live": True}
    publication = shown.publication
    return {
        "id": publication.pk,
        "as_of": publication.as_of.isoformat(),
        "published_at": publication.published_at.isoformat(),
    }


class FiguresDownloadView(FiguresSourceMixin, View):
    """The headline figures shown on the page (as published, or an earlier publication,
    or live for staff) as CSV (one row a figure) or as the statistics JSON, which says
    which publication it is under the key `publication`."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        shown = self.shown_figures()
        if shown is None:
            raise Http404("The figures of this delegation are not published yet.")
        data = shown.headline.as_json()
        rows = [
            {"key": key, **data[key], "label": label}
            for key, label in FIGURE_LABELS.items()
            if key != "organizations_by_kind"
        ]
        rows += [
            {
                "key": f"organizations_by_kind.{kind}",
                "label": f"{FIGURE_LABELS['organizations_by_kind']}: {label}",
                "value": data["organizations_by_kind"]["value"].get(kind),
                "previous": (data["organizations_by_kind"]["previous"] or {}).get(kind),
                "change": (data["organizations_by_kind"]["change"] or {}).get(kind),
                "basis": data["organizations_by_kind"]["basis"],
            }
            for kind, label in OrganizationKind.choices
        ]
        if kwargs["format"] == "json":
            response = JsonResponse(
                {**data, "publication": publication_json(shown)},
                json_dumps_params={"ensure_ascii": False},
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{self.delegation.slug}-'
                f'{self.delegation.edition.slug}-figures.json"'
            )
            return self.private_if_live(response)
        columns = [
            Column("key", _("Key"), lambda row: row["key"]),
            Column("label", _("Figure"), lambda row: str(row["label"])),
            Column("value", _("Value"), lambda row: row["value"], numeric=True),
            Column("previous", _("Previous edition"), lambda row: row["previous"], numeric=True),
            Column("change", _("Change"), lambda row: row["change"], numeric=True),
            Column("basis", _("Basis"), lambda row: row["basis"]),
        ]
        return self.private_if_live(
            download_response(
                format="csv",
                filename=f"{self.delegation.slug}-{self.delegation.edition.slug}-figures",
                columns=columns,
                rows=rows,
                meta={},
            )
        )


# ---------------------------------------------------------------------------------------
# Exhibitors
# ---------------------------------------------------------------------------------------


class ExhibitorTableMixin(PublicTableMixin):
    section = "exhibitors"
    filterset_class = ExhibitorFilterSet
    page_url_name = "deals:exhibitors"
    download_url_name = "deals:exhibitors_download"
    filename = "exhibitors"
    title = _("Exhibitors")

    def get_queryset(self) -> QuerySet[Exhibitor]:
        return (
            Exhibitor.objects.party_to(self.delegation)
            .select_related("organization", "exhibition_area")
            .order_by("organization__country", "organization__name_zh", "pk")
        )

    def rows(self, records: list[Exhibitor]) -> list[Exhibitor]:
        # Counted for the page's (or the chunk's) exhibitors only: a count for every
        # exhibitor of the edition would be computed before the page is cut out.
        counts = Exhibitor.objects.filter(pk__in=[e.pk for e in records]).agreement_counts(
            self.delegation
        )
        for exhibitor in records:
            exhibitor.agreement_count = counts.get(exhibitor.pk, 0)
        return records

    def get_columns(self) -> list[Column]:
        return [
            *name_columns(lambda e: e.organization),
            Column("country", _("Country or region"), lambda e: e.organization.country.name),
            Column(
                "exhibition_area",
                _("Exhibition area"),
                lambda e: e.exhibition_area.name if e.exhibition_area else None,
            ),
            Column("agreements", _("Agreements signed"), lambda e: e.agreement_count, numeric=True),
        ]


def cached_summary(view: DelegationPageMixin, template: str, compute: Callable[[], dict]) -> str:
    """A list page's summary, the same for every visitor and every filter of the list,
    rendered from `compute()`'s context once per change of the records and language:
    rendering some 200 rows of totals costs more than the queries behind them."""

    def render() -> str:
        return render_to_string(template, compute(), request=view.request)

    name = f"{template}:{get_language()}"
    return cached(name, delegation=view.delegation, compute=render)


class ExhibitorListView(ExhibitorTableMixin, PublicListView):
    template_name = "deals/exhibitors.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["summary"] = cached_summary(
            self,
            "deals/_exhibitor_countries.html",
            lambda: {"countries": cached_breakdown(exhibitors_by_country, self.delegation)},
        )
        return context


class ExhibitorDownloadView(ExhibitorTableMixin, PublicDownloadView):
    pass


# ---------------------------------------------------------------------------------------
# CIFTIS pledges
# ---------------------------------------------------------------------------------------


class PledgeTableMixin(PublicTableMixin):
    section = "pledges"
    filterset_class = PledgeFilterSet
    page_url_name = "deals:pledges"
    download_url_name = "deals:pledges_download"
    filename = "ciftis-pledges"
    title = _("CIFTIS pledges")

    def get_queryset(self) -> QuerySet[CiftisPledge]:
        # Withdrawn pledges are left out, as the figure leaves them out.
        return (
            CiftisPledge.objects.filter(self.delegation.tree_q("source_delegation"))
            .exclude(status=PledgeStatus.WITHDRAWN)
            .select_related("organization", "target_edition__fair")
            .order_by("organization__country", "organization__name_zh", "pk")
        )

    def get_columns(self) -> list[Column]:
        return [
            *name_columns(
                lambda p: p.organization, prefix="organization_", label=_("Organization")
            ),
            Column("country", _("Country or region"), lambda p: p.organization.country.name),
            Column("fair", _("Fair"), lambda p: p.target_edition.name),
            Column("status", _("Status"), lambda p: p.get_status_display()),
            Column("pledged_on", _("Pledged on"), lambda p: p.pledged_on),
        ]


class PledgeListView(PledgeTableMixin, PublicListView):
    template_name = "deals/pledges.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["conversion"] = cached_breakdown(pledge_conversion, self.delegation)
        return context


class PledgeDownloadView(PledgeTableMixin, PublicDownloadView):
    pass


# ---------------------------------------------------------------------------------------
# Agreements
# ---------------------------------------------------------------------------------------


class AgreementTableMixin(PublicTableMixin):
    section = "agreements"
    filterset_class = AgreementFilterSet
    page_url_name = "deals:agreements"
    download_url_name = "deals:agreements_download"
    filename = "agreements"
    title = _("Purchase agreements")

    def get_queryset(self) -> QuerySet[Agreement]:
        return (
            Agreement.objects.for_public()
            .filter(delegation__in=Delegation.objects.tree_keys(self.delegation))
            .order_by(*tree_order("signed_on", "reference"))
        )

    def rows(self, records: list[Agreement]) -> list[PublicAgreement]:
        # Only the public rows reach a page or a file: they carry no undisclosed amount.
        return public_rows(agreements=records)

    def get_columns(self) -> list[Column]:
        undisclosed = _("undisclosed")
        return [
            Column("reference", _("Reference"), lambda a: a.reference),
            Column("signed_on", _("Signed on"), lambda a: a.signed_on),
            Column("buyer", _("Buyer"), lambda a: a.buyer),
            Column("exhibitors", _("Exhibitors"), lambda a: parties_text(a.exhibitors)),
            Column("sector", _("Sector"), lambda a: a.sector_label),
            Column("kind", _("Kind"), lambda a: a.kind_label),
            Column("disclosed", _("Amount disclosed"), lambda a: a.disclosed),
            Column("amount", _("Amount"), lambda a: a.amount, numeric=True, missing=undisclosed),
            Column("currency", _("Currency"), lambda a: a.currency, missing=""),
            Column(
                "amount_usd",
                _("Amount (US$)"),
                lambda a: a.amount_usd,
                numeric=True,
                missing=undisclosed,
            ),
        ]


def listed_total(listed: QuerySet[Agreement]):
    """The disclosed total of the agreements a filter lists, from the cache while no
    record changed (a search's subqueries read thousands of agreements for it)."""
    total = cached_result(listed, "listed-total", lambda: disclosed_total(agreements=listed), None)
    # None: a filter that can match nothing (`IN ()`), whose total Django computes bare.
    return disclosed_total(agreements=listed) if total is None else total


def parties_text(parties) -> str:
    separator = "、" if fmt.chinese() else "; "
    return separator.join(f"{party.name} ({party.country_name})" for party in parties)


PARTITIONS = (BY_SECTOR, BY_KIND, BY_COUNTRY)


def cached_totals(delegation: Delegation, *, with_headline: bool = False) -> dict[str, Any]:
    """The delegation's group totals by each partition (and its headline figures), as
    the agreements page and its totals download print them, from the cache."""
    counted = Agreement.objects.counted().filter(
        delegation__in=Delegation.objects.tree_keys(delegation)
    )
    computes: dict[str, Callable[[], Any]] = {
        f"totals-{by}": partial(agreement_totals, agreements=counted, by=by) for by in PARTITIONS
    }
    if with_headline:
        computes["headline"] = partial(headline_figures, delegation=delegation)
    return cached_many(delegation=delegation, computes=computes)


class AgreementListView(AgreementTableMixin, PublicListView):
    template_name = "deals/agreements.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            listed=listed_total(self.filtered()),
            summary=cached_summary(self, "deals/_agreement_totals.html", self.totals_context),
        )
        return context

    def totals_context(self) -> dict[str, Any]:
        values = cached_totals(self.delegation, with_headline=True)
        return {
            "headline_total": values["headline"].figures["intended_purchase_usd"].value,
            "by_sector": values[f"totals-{BY_SECTOR}"],
            # Only the sector totals may hold undisclosed amounts: these two show the
            # disclosed sums, since totals across two partitions could be subtracted.
            "breakdowns": [values[f"totals-{BY_KIND}"], values[f"totals-{BY_COUNTRY}"]],
            "threshold": settings.EXPO["DISCLOSURE_THRESHOLD"],
            "totals_downloads": [
                {"format": fmt_, "url": self.url("deals:totals_download", format=fmt_)}
                for fmt_ in ("csv", "json")
            ],
        }


class AgreementDownloadView(AgreementTableMixin, PublicDownloadView):
    pass


@dataclass(frozen=True)
class TotalsRow:
    """One group of the agreements page's totals, as its download carries it."""

    partition: str
    partition_label: str
    group: GroupTotal
    # Only the sector partition publishes totals (where the threshold rule allows).
    full: bool


class TotalsDownloadView(DelegationPageMixin, View):
    """The totals of the agreements page, by sector (withheld under the threshold rule)
    and by kind and exhibitors' country or region (disclosed amounts only)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        values = cached_totals(self.delegation)
        rows = [
            TotalsRow(by, str(totals.by_label), group, full=by == BY_SECTOR)
            for by in PARTITIONS
            for totals in [values[f"totals-{by}"]]
            for group in totals.groups
        ]
        columns = [
            Column("partition", _("Grouped by"), lambda row: row.partition),
            Column("partition_label", _("Grouped by (label)"), lambda row: row.partition_label),
            Column("group", _("Group"), lambda row: row.group.key),
            Column("group_label", _("Group (label)"), lambda row: str(row.group.label)),
            Column("agreements", _("Agreements"), lambda row: row.group.agreements, numeric=True),
            Column("disclosed", _("Disclosed"), lambda row: row.group.disclosed, numeric=True),
            Column(
                "undisclosed",
                _("Amount undisclosed"),
                lambda row: row.group.undisclosed,
                numeric=True,
            ),
            Column(
                "disclosed_usd",
                _("Disclosed amounts (US$)"),
                lambda row: row.group.disclosed_usd,
                numeric=True,
            ),
            Column(
                "total_usd",
                _("Total (US$)"),
                lambda row: row.group.total_usd if row.full else None,
                numeric=True,
            ),
            Column("withheld", _("withheld"), lambda row: row.group.withheld if row.full else None),
        ]
        delegation = self.delegation
        return download_response(
            format=kwargs["format"],
            filename=f"{delegation.slug}-{delegation.edition.slug}-agreement-totals",
            columns=columns,
            rows=rows,
            meta={
                "delegation": delegation.slug,
                "edition": delegation.edition.slug,
                "threshold": settings.EXPO["DISCLOSURE_THRESHOLD"],
            },
        )
