"""What the public may see of the purchase agreements.

An undisclosed amount (`Agreement.is_public` False) never reaches the public, alone or by
subtraction. The public list shows every counted agreement with its sector, kind and
exhibitors, so anyone can count the undisclosed agreements of a group; a group total is
therefore withheld when fewer than `settings.EXPO["DISCLOSURE_THRESHOLD"]` undisclosed
agreements (but some) hide in it, since its total minus the disclosed amounts would
reveal them.

The delegation's headline total is published (deals.stats), so within a partition the
withheld groups' totals add up to the headline minus the published ones. When the
withheld groups hold fewer undisclosed agreements than the threshold, further groups are
withheld (complementary suppression) until that sum covers at least the threshold.

Each partition is protected on its own. Two partitions shown side by side give more
equations (a sector total minus a kind total), so a page that shows several of them
should be checked against that before it is published.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import (
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .labels import BilingualName, CountryName, Name
from .models import Agreement, AgreementExhibitor, AgreementKind, AgreementStatus

CENT = Decimal("0.01")
ZERO_USD = Decimal("0.00")

BY_SECTOR, BY_KIND, BY_COUNTRY = "sector", "kind", "country"
PARTITIONS = {
    BY_SECTOR: _("sector"),
    BY_KIND: _("kind of agreement"),
    BY_COUNTRY: _("country or region of the exhibitors"),
}

# Keys of the groups that are not a sector, a kind or a country: no sector code is
# empty, and country codes are two capital letters.
NO_GROUP = ""
SEVERAL_COUNTRIES = "several"

REASON_THRESHOLD = "threshold"
REASON_COMPLEMENTARY = "complementary"
REASON_LABELS = {
    REASON_THRESHOLD: _("fewer undisclosed amounts than the threshold"),
    REASON_COMPLEMENTARY: _("withheld so that the other totals do not reveal a withheld one"),
}

DISCLOSED = Q(is_public=True)


@dataclass(frozen=True)
class GroupTotal:
    """One group of a partition: how many agreements, how many disclosed, and its US$
    total unless it is withheld (then `total_usd` is None and `reason` says why)."""

    key: str
    # Read by str() in the language active where it is printed, even from a cache.
    label: str | Promise | Name
    agreements: int
    disclosed: int
    undisclosed: int
    disclosed_usd: Decimal
    total_usd: Decimal | None
    withheld: bool
    reason: str | None

    @property
    def reason_label(self) -> str | Promise:
        return REASON_LABELS[self.reason] if self.reason else ""


@dataclass(frozen=True)
class GroupTotals:
    """The counted agreements split by sector, kind or exhibitors' country or region."""

    by: str
    threshold: int
    groups: tuple[GroupTotal, ...]

    @property
    def by_label(self) -> str | Promise:
        return PARTITIONS[self.by]

    @property
    def disclosed_usd(self) -> Decimal:
        """The disclosed amounts of every group, withheld ones included."""
        return sum((group.disclosed_usd for group in self.groups), ZERO_USD)

    @property
    def withheld(self) -> bool:
        return any(group.withheld for group in self.groups)


@dataclass(frozen=True)
class DisclosedTotal:
    """A list's agreements and the sum of the amounts among them that are disclosed."""

    agreements: int
    disclosed: int
    disclosed_usd: Decimal

    @property
    def undisclosed(self) -> int:
        return self.agreements - self.disclosed


class PublicParty(NamedTuple):
    """An exhibitor of a public agreement."""

    name: str
    country: str
    country_name: str
    name_zh: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class PublicAgreement:
    """An agreement as the public may see it: the amount, its currency and its US$
    equivalent are None unless the amount is disclosed, so nothing that reads a row can
    reach an undisclosed one."""

    reference: str
    signed_on: datetime.date | None
    kind: str
    kind_label: str
    status: str
    status_label: str
    sector: str
    sector_label: str
    delegation: str
    buyer: str
    exhibitors: tuple[PublicParty, ...]
    disclosed: bool
    amount: Decimal | None
    currency: str | None
    amount_usd: Decimal | None
    illustrative: bool = field(default=False)
    # For the API, which gives both names and stable keys.
    buyer_name_zh: str = ""
    buyer_name_en: str = ""
    delegation_id: int | None = None
    delegation_slug: str = ""
    edition: str = ""

    def __post_init__(self) -> None:
        if not self.disclosed and (
            self.amount is not None or self.currency is not None or self.amount_usd is not None
        ):
            raise ValueError(f"{self.reference}: an undisclosed amount in a public row")


# ---------------------------------------------------------------------------------------
# Group totals
# ---------------------------------------------------------------------------------------


def agreement_totals(*, agreements: QuerySet[Agreement], by: str) -> GroupTotals:
    """The totals of `agreements` by `by` ("sector", "kind" or "country"), with the
    disclosure rule applied; one query.

    `agreements` is the counted agreements of one delegation tree, such as
    `Agreement.objects.counted().in_tree(delegation)`: the set whose total is the
    published headline, which complementary suppression relies on. Cancelled ones are
    left out here too."""
    if by not in PARTITIONS:
        raise ValueError(f"Cannot total agreements by {by!r}: use one of {sorted(PARTITIONS)}.")
    threshold = settings.EXPO["DISCLOSURE_THRESHOLD"]
    grouping, key_of, label_of = _GROUPINGS[by]
    rows = grouping(agreements.counted().order_by()).annotate(
        agreements=Count("pk"),
        disclosed=Count("pk", filter=DISCLOSED),
        disclosed_usd=Sum("amount_usd", filter=DISCLOSED),
        total_usd=Sum("amount_usd"),
    )
    sums: dict[str, _Sums] = {}
    for row in rows:
        key = key_of(row)
        if key not in sums:
            sums[key] = _Sums(key=key, label=label_of(key, row))
        sums[key].add(row)
    reasons = _withheld(list(sums.values()), threshold=threshold)
    groups = [
        GroupTotal(
            key=group.key,
            label=group.label,
            agreements=group.agreements,
            disclosed=group.disclosed,
            undisclosed=group.undisclosed,
            disclosed_usd=group.disclosed_usd,
            total_usd=None if group.key in reasons else group.total_usd,
            withheld=group.key in reasons,
            reason=reasons.get(group.key),
        )
        for group in sums.values()
    ]
    groups.sort(key=lambda group: (-group.agreements, str(group.label), group.key))
    return GroupTotals(by=by, threshold=threshold, groups=tuple(groups))


@dataclass
class _Sums:
    """A group's figures while its rows are read, its true total included."""

    key: str
    label: str | Promise
    agreements: int = 0
    disclosed: int = 0
    disclosed_usd: Decimal = ZERO_USD
    total_usd: Decimal = ZERO_USD

    @property
    def undisclosed(self) -> int:
        return self.agreements - self.disclosed

    def add(self, row: dict) -> None:
        self.agreements += row["agreements"]
        self.disclosed += row["disclosed"]
        self.disclosed_usd += _usd(row["disclosed_usd"])
        self.total_usd += _usd(row["total_usd"])


def _usd(value: Decimal | None) -> Decimal:
    return ZERO_USD if value is None else Decimal(value).quantize(CENT)


def _withheld(groups: list[_Sums], *, threshold: int) -> dict[str, str]:
    """The keys of the groups to withhold, each with its reason."""
    reasons = {group.key: REASON_THRESHOLD for group in groups if 0 < group.undisclosed < threshold}
    if not reasons:
        return reasons
    hidden = sum(group.undisclosed for group in groups if group.key in reasons)
    # Every candidate holds at least `threshold` undisclosed agreements (fewer would be
    # withheld already), so one is enough whenever there is one.
    candidates = sorted(
        (group for group in groups if group.undisclosed and group.key not in reasons),
        key=lambda group: (-group.undisclosed, group.key),
    )
    for group in candidates:
        if hidden >= threshold:
            break
        reasons[group.key] = REASON_COMPLEMENTARY
        hidden += group.undisclosed
    return reasons


def _by_sector(queryset: QuerySet[Agreement]) -> QuerySet:
    return queryset.values(
        code=F("sector__code"), name_zh=F("sector__name_zh"), name_en=F("sector__name_en")
    )


def _sector_key(row: dict) -> str:
    return row["code"] or NO_GROUP


def _sector_label(key: str, row: dict) -> str | Promise | Name:
    if key == NO_GROUP:
        return _("no sector")
    return BilingualName(row["name_zh"], row["name_en"])


def _by_kind(queryset: QuerySet[Agreement]) -> QuerySet:
    return queryset.values("kind")


def _kind_key(row: dict) -> str:
    return row["kind"]


def _kind_label(key: str, row: dict) -> str | Promise:
    return AgreementKind(key).label


def _by_country(queryset: QuerySet[Agreement]) -> QuerySet:
    # An agreement's exhibitors are all from one country or region when the lowest and
    # the highest of their codes agree; the rows are merged into groups in Python.
    parties = AgreementExhibitor.objects.filter(agreement=OuterRef("pk")).order_by()
    country = "exhibitor__organization__country"
    lowest = parties.values("agreement").annotate(code=Min(country)).values("code")
    highest = parties.values("agreement").annotate(code=Max(country)).values("code")
    return queryset.values(lowest=Subquery(lowest), highest=Subquery(highest))


def _country_key(row: dict) -> str:
    if row["lowest"] is None:
        return NO_GROUP
    if row["lowest"] != row["highest"]:
        return SEVERAL_COUNTRIES
    return row["lowest"]


def _country_label(key: str, row: dict) -> str | Promise | Name:
    if key == NO_GROUP:
        return _("not recorded")
    if key == SEVERAL_COUNTRIES:
        return _("several countries and regions")
    return CountryName(key)


_GROUPINGS = {
    BY_SECTOR: (_by_sector, _sector_key, _sector_label),
    BY_KIND: (_by_kind, _kind_key, _kind_label),
    BY_COUNTRY: (_by_country, _country_key, _country_label),
}


# ---------------------------------------------------------------------------------------
# A list's footer
# ---------------------------------------------------------------------------------------


def disclosed_total(*, agreements: QuerySet[Agreement]) -> DisclosedTotal:
    """How many of `agreements` there are, how many are disclosed, and the sum of the
    disclosed US$ amounts alone: safe under any filter, since no undisclosed amount
    enters it. One query."""
    row = (
        agreements.counted()
        .order_by()
        .aggregate(
            agreements=Count("pk"),
            disclosed=Count("pk", filter=DISCLOSED),
            disclosed_usd=Sum("amount_usd", filter=DISCLOSED),
        )
    )
    return DisclosedTotal(
        agreements=row["agreements"],
        disclosed=row["disclosed"],
        disclosed_usd=_usd(row["disclosed_usd"]),
    )


# ---------------------------------------------------------------------------------------
# Public rows
# ---------------------------------------------------------------------------------------


def public_rows(*, agreements: Iterable[Agreement]) -> list[PublicAgreement]:
    """The rows of `Agreement.objects.for_public()` (or a page of them) as public rows,
    with no further query. Pages and downloads print these, never the agreements, so
    that no template can read a deferred confidential field."""
    labels = _Labels()
    return [_public_row(agreement, labels) for agreement in agreements]


class _Labels:
    """Choice labels and country names, translated once per batch of rows rather than
    once per row (a download's rows would otherwise spend most of their time there)."""

    def __init__(self) -> None:
        self.kinds = {value: str(label) for value, label in AgreementKind.choices}
        self.statuses = {value: str(label) for value, label in AgreementStatus.choices}
        self.countries: dict[str, str] = {}

    def country(self, country) -> str:
        code = country.code
        if code not in self.countries:
            self.countries[code] = country.name
        return self.countries[code]


def _public_row(agreement: Agreement, labels: _Labels) -> PublicAgreement:
    fetched = agreement.__dict__
    if "public_amount" not in fetched or "parties" not in getattr(
        agreement, "_prefetched_objects_cache", {}
    ):
        raise ValueError("public_rows() takes the rows of Agreement.objects.for_public().")
    disclosed = agreement.is_public
    parties = sorted(
        (
            PublicParty(
                name=party.exhibitor.organization.name,
                country=party.exhibitor.organization.country.code,
                country_name=labels.country(party.exhibitor.organization.country),
                name_zh=party.exhibitor.organization.name_zh,
                name_en=party.exhibitor.organization.name_en,
            )
            for party in agreement.parties.all()
        ),
        key=lambda party: (party.name, party.country),
    )
    sector = agreement.sector
    return PublicAgreement(
        reference=agreement.reference,
        signed_on=agreement.signed_on,
        kind=agreement.kind,
        kind_label=labels.kinds.get(agreement.kind, agreement.kind),
        status=agreement.status,
        status_label=labels.statuses.get(agreement.status, agreement.status),
        sector=sector.code if sector else NO_GROUP,
        sector_label=sector.name if sector else str(_("no sector")),
        delegation=agreement.delegation.name,
        buyer=agreement.registration.organization.name,
        exhibitors=tuple(parties),
        disclosed=disclosed,
        amount=fetched["public_amount"] if disclosed else None,
        currency=fetched["public_currency"] if disclosed else None,
        amount_usd=fetched["public_amount_usd"] if disclosed else None,
        illustrative=agreement.illustrative,
        buyer_name_zh=agreement.registration.organization.name_zh,
        buyer_name_en=agreement.registration.organization.name_en,
        delegation_id=agreement.delegation_id,
        delegation_slug=agreement.delegation.slug,
        edition=agreement.delegation.edition.slug,
    )
