"""The headline figures of a delegation at an edition, with their year-on-year change.

Every figure is computed from the records, its sub-delegations' records included. Each
group of figures is one aggregate query that covers both the delegation and its
counterpart at the previous edition, so the number of queries does not grow with the
rows. A comparison is made only where the previous edition has records of that group;
otherwise the figure says so (`BASIS_NONE`) rather than showing a made-up change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Aggregate, Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from delegations.models import (
    Delegation,
    Edition,
    OrganizationKind,
    Registration,
    RegistrationStatus,
)

from .models import (
    Agreement,
    AgreementExhibitor,
    AgreementStatus,
    CiftisPledge,
    InvestmentIntention,
    PledgeStatus,
    Visit,
)

FigureValue = int | Decimal | float | dict[str, int]

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

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "delegation": _names(self.delegation),
            "edition": _names(self.edition),
            "previous_edition": (
                self.previous_delegation.edition.slug if self.previous_delegation else None
            ),
        }
        for key, figure in self.figures.items():
            data[key] = {
                "value": _json_value(figure.value),
                "previous": _json_value(figure.previous),
                "change": figure.change,
                "basis": figure.basis,
            }
        return data


def headline_figures(*, delegation: Delegation) -> Headline:
    """The headline figures of `delegation` (sub-delegations included) at its edition,
    each compared with the same delegation at the previous edition of the fair."""
    edition = delegation.edition
    previous_edition = edition.previous()
    previous = delegation.counterpart(previous_edition)
    if previous is not None:
        previous.edition = previous_edition  # already fetched: spare a query later

    figures = [
        *_agreement_figures(delegation, previous),
        *_registration_figures(delegation, previous),
        *_visit_figures(delegation, previous),
        *_intention_figures(delegation, previous),
        *_pledge_figures(delegation, previous),
    ]
    by_key = {figure.key: figure for figure in figures}
    return Headline(
        delegation=delegation,
        edition=edition,
        previous_delegation=previous,
        figures={key: by_key[key] for key in FIGURE_LABELS},
    )


# ---------------------------------------------------------------------------------------
# The groups of figures: one query each
# ---------------------------------------------------------------------------------------

CURRENT, PREVIOUS = "current", "previous"
Side = dict[str, Any]


def _agreement_figures(delegation: Delegation, previous: Delegation | None) -> list[Figure]:
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
    return [
        _compare("companies_signed", now, before, has_data=has_data),
        _compare("agreements", now, before, has_data=has_data),
        _compare("exhibitors", parties_now, parties_before, has_data=has_data),
        _compare("countries_regions", parties_now, parties_before, has_data=has_data),
        _compare("intended_purchase_usd", now, before, has_data=has_data),
    ]


def _registration_figures(delegation: Delegation, previous: Delegation | None) -> list[Figure]:
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
    return [
        _compare("registered_organizations", now, participation, has_data=has_data, basis=basis),
        _compare("participants", now, participation, has_data=has_data, basis=basis),
        _compare("purchaser_share", now, before, has_data=has_data),
        _compare("large_importers", now, before, has_data=has_data),
        _compare("organizations_by_kind", now, before, has_data=has_data),
    ]


def _visit_figures(delegation: Delegation, previous: Delegation | None) -> list[Figure]:
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
    return [
        _compare("companies_visited", now, before, has_data=has_data),
        _compare("ciftis_interest", now, before, has_data=has_data),
    ]


def _intention_figures(delegation: Delegation, previous: Delegation | None) -> list[Figure]:
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
    return [_compare("investment_intentions", now, before, has_data=has_data)]


def _pledge_figures(delegation: Delegation, previous: Delegation | None) -> list[Figure]:
    now, before = _aggregate(
        CiftisPledge.objects.exclude(status=PledgeStatus.WITHDRAWN),
        "source_delegation",
        delegation,
        previous,
        lambda side: {
            "ciftis_pledges": Count("organization", distinct=True, filter=side),
            "ciftis_pledge_countries": Count("organization__country", distinct=True, filter=side),
        },
    )
    has_data = before is not None and before["ciftis_pledges"] > 0
    return [
        _compare("ciftis_pledges", now, before, has_data=has_data),
        _compare("ciftis_pledge_countries", now, before, has_data=has_data),
    ]


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
