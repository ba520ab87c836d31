"""The headline figures of a delegation at an edition, with their year-on-year change.

Every figure is computed from the records, its sub-delegations' records included. Each
group of figures is one aggregate query that covers both the delegation and its
counterpart at the previous edition, so the number of queries does not grow with the
rows. A comparison is made only where the previous edition has records of that group;
otherwise the figure says so (`BASIS_NONE`) rather than showing a made-up change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Aggregate, Count, Q, QuerySet, Sum
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from delegations.models import (
    Delegation,
    Edition,
    OrganizationKind,
    Registration,
    RegistrationStatus,
)

from .labels import BilingualName, CountryName, Name
from .models import (
    Agreement,
    AgreementExhibitor,
    AgreementStatus,
    CiftisPledge,
    InvestmentIntention,
    PledgeStatus,
    Publication,
    Visit,
)

FigureValue = int | Decimal | float | dict[str, int]
T = TypeVar("T")

BASIS_NONE = "no_comparison"
BASIS_ATTENDANCE = "previous_edition_attendance"
BASIS_REGISTRATIONS = "previous_edition_registrations"
BASIS_PREVIOUS = "previous_edition"

BASIS_LABELS = {
    BASIS_NONE: _("no comparison"),
    BASIS_ATTENDANCE: _("against the previous edition's attendance"),
    BASIS_REGISTRATIONS: _("against the previous edition's registrations"),
    BASIS_PREVIOUS: _("against the previous edition"),
}

# The keys in the order of the product's table of headline figures.
FIGURE_LABELS = {
    "companies_signed": _("companies that signed"),
    "agreements": _("agreements"),
    "exhibitors": _("exhibitors"),
    "countries_regions": _("countries and regions"),
    "intended_purchase_usd": _("intended purchase amount (US$)"),
    "registered_organizations": _("registered organizations"),
    "participants": _("participants"),
    "purchaser_share": _("purchasers"),
    "large_importers": _("large importers"),
    "organizations_by_kind": _("organizations by kind"),
    "companies_visited": _("companies visited"),
    "investment_intentions": _("investment intentions"),
    "ciftis_interest": _("interested in CIFTIS"),
    "ciftis_pledges": _("CIFTIS pledges"),
    "ciftis_pledge_countries": _("countries of CIFTIS pledges"),
    "ciftis_pledges_attended": _("CIFTIS pledges attended"),
    "ciftis_pledge_conversion": _("CIFTIS pledges converted into attendance"),
}

ZERO_USD = Decimal("0.00")
CHANGE_PLACES = 6


@dataclass(frozen=True)
class Figure:
    """One headline figure, the previous edition's figure and the relative change."""

    key: str
    value: FigureValue
    previous: FigureValue | None
    change: float | dict[str, float | None] | None
    basis: str

    @property
    def label(self) -> str:
        return FIGURE_LABELS[self.key]

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS[self.basis]


@dataclass(frozen=True)
class Headline:
    """The headline figures of a delegation at an edition."""

    delegation: Delegation
    edition: Edition
    previous_delegation: Delegation | None
    figures: dict[str, Figure]
    # Whether any record counted in the figures belongs to the demo population.
    illustrative: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "delegation": _names(self.delegation),
            "edition": _names(self.edition),
            "previous_edition": (
                self.previous_delegation.edition.slug if self.previous_delegation else None
            ),
            "illustrative": self.illustrative,
        }
        for key, figure in self.figures.items():
            data[key] = {
                "value": _json_value(figure.value),
                "previous": _json_value(figure.previous),
                "change": figure.change,
                "basis": figure.basis,
            }
        return data


def headline_from_json(
    data: dict[str, Any], *, delegation: Delegation, previous_delegation: Delegation | None
) -> Headline:
    """A Headline as `Headline.as_json()` wrote it (a publication's figures). A figure
    added to the product after the publication reads as nothing recorded."""
    figures = {}
    for key in FIGURE_LABELS:
        found = data.get(key)
        if found is None:
            figures[key] = Figure(key, _EMPTY.get(key, 0), None, None, BASIS_NONE)
            continue
        value, previous = found["value"], found["previous"]
        if key == "intended_purchase_usd":
            value = Decimal(str(value))
            previous = None if previous is None else Decimal(str(previous))
        figures[key] = Figure(key, value, previous, found["change"], found["basis"])
    return Headline(
        delegation=delegation,
        edition=delegation.edition,
        previous_delegation=previous_delegation,
        figures=figures,
        illustrative=bool(data.get("illustrative")),
    )


_EMPTY: dict[str, FigureValue] = {
    "intended_purchase_usd": ZERO_USD,
    "purchaser_share": 0.0,
    "ciftis_pledge_conversion": 0.0,
    "organizations_by_kind": {},
}


def shares_as_json(shares: list[Share]) -> list[dict[str, Any]]:
    """A breakdown as a publication keeps it: each group's key, count and names."""
    rows = []
    for share in shares:
        with translation.override("zh-hans"):
            zh = str(share.label)
        with translation.override("en"):
            en = str(share.label)
        rows.append({"key": share.key, "value": share.value, "name_zh": zh, "name_en": en})
    return rows


def shares_from_json(rows: list[dict[str, Any]]) -> list[Share]:
    return [
        Share(
            key=row["key"],
            label=BilingualName(row["name_zh"], row["name_en"]),
            value=row["value"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PublishedFigures:
    """A publication read back: its headline figures and the breakdowns it charted."""

    publication: Publication
    headline: Headline
    sectors: list[Share]
    countries: list[Share]


def published_figures(
    *, delegation: Delegation, publication_id: int | None = None
) -> PublishedFigures | None:
    """The figures of `delegation` as last published (or as published in the
    publication `publication_id` of it), in one query; None when never published."""
    if publication_id is None:
        publication = Publication.objects.latest_of(delegation)
    else:
        publication = (
            Publication.objects.of(delegation)
            .select_related("previous_delegation__edition__fair", "published_by")
            .filter(pk=publication_id)
            .first()
        )
    if publication is None:
        return None
    breakdowns = publication.breakdowns or {}
    return PublishedFigures(
        publication=publication,
        headline=headline_from_json(
            publication.figures,
            delegation=delegation,
            previous_delegation=publication.previous_delegation,
        ),
        sectors=shares_from_json(breakdowns.get("agreements_by_sector", [])),
        countries=shares_from_json(breakdowns.get("exhibitors_by_country", [])),
    )


def headline_figures(*, delegation: Delegation) -> Headline:
    """The headline figures of `delegation` (sub-delegations included) at its edition,
    each compared with the same delegation at the previous edition of the fair."""
    edition = delegation.edition
    previous_edition = edition.previous()
    previous = delegation.counterpart(previous_edition)
    if previous is not None:
        previous.edition = previous_edition  # already fetched: spare a query later

    groups = [
        _agreement_figures(delegation, previous),
        _registration_figures(delegation, previous),
        _visit_figures(delegation, previous),
        _intention_figures(delegation, previous),
        _pledge_figures(delegation, previous),
    ]
    by_key = {figure.key: figure for figures, _illustrative in groups for figure in figures}
    return Headline(
        delegation=delegation,
        edition=edition,
        previous_delegation=previous,
        figures={key: by_key[key] for key in FIGURE_LABELS},
        illustrative=delegation.illustrative or any(count for _figures, count in groups),
    )


# ---------------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------------

# Every change to the records behind the figures replaces this token, so that figures
# cached under the previous one are never read again. The cache is shared by every
# process (settings.CACHES), so a change made through one server refreshes them all.
GENERATION_KEY = "stats:generation"
# The shape of the cached values: raised whenever a change of the code changes what is
# pickled into the cache (a class renamed, moved or removed), so that a deployment never
# unpickles what the code before it wrote. 2: names as `labels.Name`, not lazy strings.
CACHE_FORMAT = 2


def current_generation() -> str:
    """The token that the values cached from the current records are stored under."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def cached_many(
    *, delegation: Delegation, computes: dict[str, Callable[[], Any]]
) -> dict[str, Any]:
    """What each of `computes` returns for `delegation` (figures, breakdowns, totals:
    anything computed from its records), by name, from the cache while none of the
    records changed. A page's values are read in one round trip to the cache, and the
    missing ones computed and stored together."""
    generation = current_generation()
    keys = {name: f"stats:v{CACHE_FORMAT}:{name}:{generation}:{delegation.pk}" for name in computes}
    found = cache.get_many(list(keys.values()))
    values, missing = {}, {}
    for name, key in keys.items():
        if key in found:
            values[name] = found[key]
        else:
            values[name] = missing[key] = computes[name]()
    if missing:
        cache.set_many(missing, timeout=settings.EXPO["STATS_CACHE_SECONDS"])
    return values


def cached(name: str, *, delegation: Delegation, compute: Callable[[], T]) -> T:
    """What `compute` returns for `delegation`, cached as `cached_many` caches."""
    return cached_many(delegation=delegation, computes={name: compute})[name]


def cached_headline_figures(*, delegation: Delegation) -> Headline:
    """`headline_figures`, from the cache while none of the records behind them changed."""
    return cached(
        "headline", delegation=delegation, compute=lambda: headline_figures(delegation=delegation)
    )


def figures_changed() -> None:
    """Mark every cached figure stale once the current transaction commits (at once
    outside one). Readers in the meantime still see the committed records, so they
    may keep the old figures until then, never newer ones under the old token."""
    transaction.on_commit(_replace_generation, robust=True)


def _replace_generation() -> None:
    from .generation_watch import notify_changed

    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    # After the new token is in the shared cache: a process told reads the new one.
    notify_changed()


# ---------------------------------------------------------------------------------------
# The groups of figures: one query each
# ---------------------------------------------------------------------------------------

CURRENT, PREVIOUS = "current", "previous"
ILLUSTRATIVE = "illustrative_records"
Side = dict[str, Any]
# A group's figures and how many of the records behind them are illustrative.
Group = tuple[list[Figure], int]


def _agreement_figures(delegation: Delegation, previous: Delegation | None) -> Group:
    now, before = _aggregate(
        Agreement.objects.counted(),
        "delegation",
        delegation,
        previous,
        lambda side: {
            "agreements": Count("id", filter=side),
            "companies_signed": Count("registration__organization", distinct=True, filter=side),
            "intended_purchase_usd": Sum("amount_usd", filter=side),
        },
    )
    # Counted over the link table, not through a join from Agreement, so that an
    # agreement with several exhibitors does not multiply its amount in the sum above.
    parties_now, parties_before = _aggregate(
        AgreementExhibitor.objects.exclude(agreement__status=AgreementStatus.CANCELLED),
        "agreement__delegation",
        delegation,
        previous,
        lambda side: {
            "exhibitors": Count("exhibitor", distinct=True, filter=side),
            "countries_regions": Count(
                "exhibitor__organization__country", distinct=True, filter=side
            ),
        },
    )
    for side in (now, before):
        if side is not None:
            side["intended_purchase_usd"] = side["intended_purchase_usd"] or ZERO_USD
    has_data = before is not None and before["agreements"] > 0
    figures = [
        _compare("companies_signed", now, before, has_data=has_data),
        _compare("agreements", now, before, has_data=has_data),
        _compare("exhibitors", parties_now, parties_before, has_data=has_data),
        _compare("countries_regions", parties_now, parties_before, has_data=has_data),
        _compare("intended_purchase_usd", now, before, has_data=has_data),
    ]
    return figures, now[ILLUSTRATIVE]


def _registration_figures(delegation: Delegation, previous: Delegation | None) -> Group:
    # Same rule as OrganizationQuerySet.large_importers(), inside one aggregate.
    large = Q(organization__annual_imports_usd__gt=settings.EXPO["LARGE_IMPORTER_USD"])
    attended = Q(status=RegistrationStatus.ATTENDED)

    def aggregates(side: Q) -> dict[str, Aggregate]:
        return {
            "registered_organizations": Count("organization", distinct=True, filter=side),
            "participants": Sum("participants", filter=side),
            "purchasers": Count("organization", distinct=True, filter=side & Q(is_purchaser=True)),
            "large_importers": Count("organization", distinct=True, filter=side & large),
            "attended_organizations": Count("organization", distinct=True, filter=side & attended),
            "attended_participants": Sum("participants", filter=side & attended),
            **{
                f"kind_{kind}": Count(
                    "organization", distinct=True, filter=side & Q(organization__kind=kind)
                )
                for kind in OrganizationKind.values
            },
        }

    now, before = _aggregate(
        Registration.objects.active(), "delegation", delegation, previous, aggregates
    )
    for side in (now, before):
        if side is None:
            continue
        side["participants"] = side["participants"] or 0
        side["attended_participants"] = side["attended_participants"] or 0
        organizations = side["registered_organizations"]
        side["purchaser_share"] = side["purchasers"] / organizations if organizations else 0.0
        side["organizations_by_kind"] = {
            kind: side[f"kind_{kind}"] for kind in OrganizationKind.values
        }

    has_data = before is not None and before["registered_organizations"] > 0
    # The story's "+40% and +81%" compare registrations with last year's actual
    # participation: attendance where it was recorded, else registrations.
    if has_data and before["attended_organizations"] > 0:
        participation, basis = (
            {
                "registered_organizations": before["attended_organizations"],
                "participants": before["attended_participants"],
            },
            BASIS_ATTENDANCE,
        )
    else:
        participation, basis = before, BASIS_REGISTRATIONS
    figures = [
        _compare("registered_organizations", now, participation, has_data=has_data, basis=basis),
        _compare("participants", now, participation, has_data=has_data, basis=basis),
        _compare("purchaser_share", now, before, has_data=has_data),
        _compare("large_importers", now, before, has_data=has_data),
        _compare("organizations_by_kind", now, before, has_data=has_data),
    ]
    return figures, now[ILLUSTRATIVE]


def _visit_figures(delegation: Delegation, previous: Delegation | None) -> Group:
    now, before = _aggregate(
        Visit.objects.all(),
        "delegation",
        delegation,
        previous,
        lambda side: {
            "visits": Count("id", filter=side),
            "companies_visited": Count("organization", distinct=True, filter=side),
            "ciftis_interest": Count(
                "organization", distinct=True, filter=side & Q(ciftis_interest=True)
            ),
        },
    )
    has_data = before is not None and before["visits"] > 0
    figures = [
        _compare("companies_visited", now, before, has_data=has_data),
        _compare("ciftis_interest", now, before, has_data=has_data),
    ]
    return figures, now[ILLUSTRATIVE]


def _intention_figures(delegation: Delegation, previous: Delegation | None) -> Group:
    now, before = _aggregate(
        InvestmentIntention.objects.all(),
        "delegation",
        delegation,
        previous,
        lambda side: {
            "investment_intentions": Count("organization", distinct=True, filter=side),
        },
    )
    has_data = before is not None and before["investment_intentions"] > 0
    return [_compare("investment_intentions", now, before, has_data=has_data)], now[ILLUSTRATIVE]


def _pledge_figures(delegation: Delegation, previous: Delegation | None) -> Group:
    now, before = _aggregate(
        CiftisPledge.objects.exclude(status=PledgeStatus.WITHDRAWN),
        "source_delegation",
        delegation,
        previous,
        lambda side: {
            "ciftis_pledges": Count("organization", distinct=True, filter=side),
            "ciftis_pledge_countries": Count("organization__country", distinct=True, filter=side),
            "ciftis_pledges_attended": Count(
                "organization", distinct=True, filter=side & Q(status=PledgeStatus.ATTENDED)
            ),
        },
    )
    for side in (now, before):
        if side is not None:
            pledged = side["ciftis_pledges"]
            side["ciftis_pledge_conversion"] = (
                round(side["ciftis_pledges_attended"] / pledged, CHANGE_PLACES) if pledged else 0.0
            )
    has_data = before is not None and before["ciftis_pledges"] > 0
    figures = [
        _compare(key, now, before, has_data=has_data)
        for key in (
            "ciftis_pledges",
            "ciftis_pledge_countries",
            "ciftis_pledges_attended",
            "ciftis_pledge_conversion",
        )
    ]
    return figures, now[ILLUSTRATIVE]


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _aggregate(
    queryset: QuerySet,
    prefix: str,
    delegation: Delegation,
    previous: Delegation | None,
    aggregates: Callable[[Q], dict[str, Aggregate]],
) -> tuple[Side, Side | None]:
    """Run `aggregates` over the records of `delegation`'s tree and of `previous`'s tree
    in one query: each aggregate is filtered to one side. `prefix` is the path from the
    queryset's model to the delegation the record belongs to."""
    sides = {CURRENT: delegation.tree_q(prefix)}
    tops = [delegation.pk]
    if previous is not None:
        sides[PREVIOUS] = previous.tree_q(prefix)
        tops.append(previous.pk)
    expressions = {}
    for name, side in sides.items():
        expressions.update(
            {f"{name}_{key}": aggregate for key, aggregate in aggregates(side).items()}
        )
    # Demo records among the current side's, for the page's "illustrative data" notice.
    if any(field.name == "illustrative" for field in queryset.model._meta.fields):
        expressions[f"{CURRENT}_{ILLUSTRATIVE}"] = Count(
            "pk", filter=sides[CURRENT] & Q(illustrative=True)
        )
    # The rows of both trees, found through the index on the delegation's key: filtering
    # on the trees' own OR (a delegation or its parent) would scan the whole table.
    trees = Delegation.objects.filter(Q(pk__in=tops) | Q(parent_id__in=tops)).values("pk")
    row = queryset.filter(**{f"{prefix}__in": trees}).aggregate(**expressions)
    results = {
        name: {
            key.removeprefix(f"{name}_"): value
            for key, value in row.items()
            if key.startswith(f"{name}_")
        }
        for name in sides
    }
    return results[CURRENT], results.get(PREVIOUS)


def _compare(
    key: str,
    now: Side,
    before: Side | None,
    *,
    has_data: bool,
    basis: str = BASIS_PREVIOUS,
) -> Figure:
    value = now[key]
    if not has_data or before is None:
        return Figure(key=key, value=value, previous=None, change=None, basis=BASIS_NONE)
    previous = before[key]
    if isinstance(value, dict):
        change = {part: _change(amount, previous.get(part)) for part, amount in value.items()}
    else:
        change = _change(value, previous)
    return Figure(key=key, value=value, previous=previous, change=change, basis=basis)


def _change(value: int | Decimal | float, previous: int | Decimal | float | None) -> float | None:
    """value / previous - 1, or None when there is nothing to divide by. Rounded to six
    places (a ten-thousandth of a percent) so that 8 / 5 - 1 reads 0.6, not
    0.6000000000000001, in the published JSON."""
    if not previous:
        return None
    if isinstance(value, Decimal) or isinstance(previous, Decimal):
        return round(float(Decimal(value) / Decimal(previous) - 1), CHANGE_PLACES)
    return round(value / previous - 1, CHANGE_PLACES)


def _names(record: Delegation | Edition) -> dict[str, str]:
    return {"slug": record.slug, "name_zh": record.name_zh, "name_en": record.name_en}


def _json_value(value: FigureValue | None) -> Any:
    """Money as a JSON number: whole amounts as integers, others as floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# ---------------------------------------------------------------------------------------
# Breakdowns for the charts of the headline page: one query each
# ---------------------------------------------------------------------------------------

# Counts only: an amount per group falls under the disclosure rule, which these do not apply.

NO_SECTOR_LABEL = _("no sector")


@dataclass(frozen=True)
class Share:
    """One group of a breakdown: its code, its name and how many records it holds.

    The name is resolved by `str()` in the language active where it is printed (a
    translation or a `labels.Name`), so that a breakdown computed (or cached) under one
    language reads right in the other."""

    key: str
    label: str | Promise | Name
    value: int


def agreements_by_sector(*, delegation: Delegation) -> list[Share]:
    """The counted agreements of `delegation`'s tree per sector, most first; the
    agreements without a sector form a group of their own (key "", after the sectors
    it ties with)."""
    rows = (
        Agreement.objects.counted()
        .filter(delegation__in=_tree(delegation))
        .values("sector__code", "sector__name_zh", "sector__name_en")
        .annotate(agreements=Count("id"))
    )
    # Sorted here, not in SQL: databases disagree on where NULL (no sector) sorts.
    rows = sorted(rows, key=lambda row: (-row["agreements"], row["sector__code"] or "\uffff"))
    return [
        Share(
            key=row["sector__code"] or "",
            label=(
                BilingualName(row["sector__name_zh"], row["sector__name_en"] or "")
                if row["sector__code"]
                else NO_SECTOR_LABEL
            ),
            value=row["agreements"],
        )
        for row in rows
    ]


def exhibitors_by_country(*, delegation: Delegation) -> list[Share]:
    """The distinct exhibitors party to the counted agreements of `delegation`'s tree,
    per country or region of the exhibiting organization, most first."""
    # Over the link table, like the headline's exhibitor figures: an exhibitor in
    # several agreements, or two exhibitors in one, are each counted once.
    agreements = Agreement.objects.counted().filter(delegation__in=_tree(delegation))
    rows = (
        AgreementExhibitor.objects.filter(agreement__in=agreements.values("pk"))
        .values("exhibitor__organization__country")
        .annotate(exhibitors=Count("exhibitor", distinct=True))
        .order_by("-exhibitors", "exhibitor__organization__country")
    )
    return [
        Share(
            key=row["exhibitor__organization__country"],
            label=_country_name(row["exhibitor__organization__country"]),
            value=row["exhibitors"],
        )
        for row in rows
    ]


def _tree(delegation: Delegation) -> QuerySet:
    return Delegation.objects.tree_keys(delegation)


def _country_name(code: str | None) -> CountryName:
    return CountryName(code or "")


# ---------------------------------------------------------------------------------------
# CIFTIS pledges: from pledge to attendance
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeConversion:
    """How the pledges made through a delegation turned out. `pledged` counts the
    pledges that stand (withdrawn ones left out), as the headline figure does."""

    pledged: int
    registered: int
    attended: int
    withdrawn: int
    countries: list[Share]

    @property
    def rate(self) -> float | None:
        """The share of standing pledges whose organization attended."""
        return round(self.attended / self.pledged, CHANGE_PLACES) if self.pledged else None


def pledge_conversion(*, delegation: Delegation) -> PledgeConversion:
    """The pledges of `delegation`'s tree by status, and the standing ones by the
    pledging organization's country or region: two queries."""
    pledges = CiftisPledge.objects.filter(source_delegation__in=_tree(delegation))
    standing = ~Q(status=PledgeStatus.WITHDRAWN)
    counts = pledges.aggregate(
        pledged=Count("organization", distinct=True, filter=standing),
        registered=Count("organization", distinct=True, filter=Q(status=PledgeStatus.REGISTERED)),
        attended=Count("organization", distinct=True, filter=Q(status=PledgeStatus.ATTENDED)),
        withdrawn=Count("pk", filter=Q(status=PledgeStatus.WITHDRAWN)),
    )
    rows = (
        pledges.filter(standing)
        .values("organization__country")
        .annotate(organizations=Count("organization", distinct=True))
        .order_by("-organizations", "organization__country")
    )
    return PledgeConversion(
        **counts,
        countries=[
            Share(
                key=row["organization__country"],
                label=_country_name(row["organization__country"]),
                value=row["organizations"],
            )
            for row in rows
        ],
    )
