"""What an import looks rows up in, loaded once per import (or once per delegation
tree, edition or currency that the file names), so that no row costs a query.

Records the import creates are added as they are built, so that a later row, or a
later sheet of the same workbook, finds them.
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from deals.models import ExchangeRate, Exhibitor, Sector
from delegations.models import Delegation, Edition, Organization, Registration

from ..sheets import label_key, plain

DELEGATION_SUFFIXES = ("交易团", "代表团")


class OrgRef:
    """An organization as the import sees it: enough to match a name or a credit code.
    `instance` is the Organization when the import built or loaded one."""

    __slots__ = ("country", "credit_code", "id", "instance", "name_en", "name_zh")

    def __init__(self, id, name_zh, name_en, credit_code, country, instance=None):
        self.id = id
        self.name_zh = name_zh
        self.name_en = name_en or ""
        self.credit_code = credit_code or None
        self.country = str(country or "")
        self.instance = instance

    @classmethod
    def of(cls, organization: Organization) -> OrgRef:
        return cls(
            organization.pk,
            organization.name_zh,
            organization.name_en,
            organization.credit_code,
            organization.country.code if organization.country else "",
            organization,
        )

    @property
    def pk(self):
        return self.id if self.id is not None else getattr(self.instance, "pk", None)

    def names(self) -> set[str]:
        return {name for name in (plain(self.name_zh), plain(self.name_en)) if name}

    def __str__(self) -> str:
        return self.name_zh


class OrganizationIndex:
    """Every organization by credit code and by its Chinese and English names (compared
    without case). Loaded whole, once, and only by the sheets that name organizations
    outside a delegation (an Agreements sheet finds its buyers among registrations)."""

    def __init__(self) -> None:
        self.by_code: dict[str, OrgRef] = {}
        self.by_name: dict[str, list[OrgRef]] = defaultdict(list)
        rows = Organization.objects.values_list(
            "id", "name_zh", "name_en", "credit_code", "country"
        ).order_by()
        for row in rows.iterator(chunk_size=5000):
            self.add(OrgRef(*row))

    def add(self, ref: OrgRef) -> None:
        if ref.credit_code:
            self.by_code[ref.credit_code] = ref
        for name in ref.names():
            self.by_name[name].append(ref)

    def forget(self, ref: OrgRef) -> None:
        if ref.credit_code and self.by_code.get(ref.credit_code) is ref:
            del self.by_code[ref.credit_code]
        for name in ref.names():
            refs = self.by_name.get(name, [])
            if ref in refs:
                refs.remove(ref)

    def named(self, name: str) -> list[OrgRef]:
        return list(self.by_name.get(plain(name), ()))


@dataclass
class TreeRegistrations:
    """The registrations of a delegation and of its sub-delegations, by organization."""

    by_org: dict[int, Registration] = field(default_factory=dict)
    by_name: dict[str, list[Registration]] = field(default_factory=lambda: defaultdict(list))
    by_code: dict[str, Registration] = field(default_factory=dict)

    def add(self, registration: Registration, organization: OrgRef | Organization) -> None:
        self.by_org[registration.organization_id] = registration
        names = {plain(organization.name_zh), plain(organization.name_en or "")} - {""}
        for name in names:
            self.by_name[name].append(registration)
        if organization.credit_code:
            self.by_code[organization.credit_code] = registration


@dataclass
class EditionExhibitors:
    """The exhibitors of an edition, by organization and by name."""

    by_org: dict[int, Exhibitor] = field(default_factory=dict)
    by_name: dict[str, list[Exhibitor]] = field(default_factory=lambda: defaultdict(list))

    def add(self, exhibitor: Exhibitor, organization: OrgRef | Organization) -> None:
        self.by_org[exhibitor.organization_id] = exhibitor
        names = {plain(organization.name_zh), plain(organization.name_en or "")} - {""}
        for name in names:
            self.by_name[name].append(exhibitor)


class Lookups:
    """The caches of one import."""

    def __init__(self) -> None:
        self.editions: dict[int, Edition] = {}
        self.edition_names: dict[str, Edition] = {}
        for edition in Edition.objects.select_related("fair"):
            self.editions[edition.pk] = edition
            for alias in edition.aliases():
                self.edition_names.setdefault(label_key(alias), edition)
        self.delegations: dict[int, Delegation] = {}
        self.delegation_names: dict[tuple[int, str], list[Delegation]] = defaultdict(list)
        self.children: dict[int, list[Delegation]] = defaultdict(list)
        delegations = list(Delegation.objects.order_by("pk"))
        # Parents first, so that each sub-delegation finds its parent cached.
        for delegation in sorted(delegations, key=lambda d: d.parent_id is not None):
            self.add_delegation(delegation)
        self.sectors: dict[str, Sector] = {}
        for sector in Sector.objects.all():
            for name in (sector.code, sector.name_zh, sector.name_en):
                if name:
                    self.sectors.setdefault(plain(name), sector)
        self._organizations: OrganizationIndex | None = None
        self._trees: dict[int, TreeRegistrations] = {}
        self._exhibitors: dict[int, EditionExhibitors] = {}
        self._rates: dict[str, tuple[list[datetime.date], list[ExchangeRate]]] = {}

    # --- editions and delegations -----------------------------------------------------

    def edition(self, text: str) -> Edition | None:
        return self.edition_names.get(label_key(text))

    def add_delegation(self, delegation: Delegation) -> None:
        """Keep a delegation, its edition and its parent as the cached instances, so
        that `.edition`, `.parent` and `.top` never query."""
        delegation.edition = self.editions[delegation.edition_id]
        if delegation.parent_id:
            parent = self.delegations.get(delegation.parent_id) or delegation.parent
            delegation.parent = parent
            self.children[parent.pk].append(delegation)
        self.delegations[delegation.pk] = delegation
        for name in self.delegation_keys(delegation):
            found = self.delegation_names[(delegation.edition_id, name)]
            if delegation not in found:
                found.append(delegation)

    @staticmethod
    def delegation_keys(delegation: Delegation) -> set[str]:
        keys = {plain(delegation.name_zh), plain(delegation.name_en), plain(delegation.slug)}
        for suffix in DELEGATION_SUFFIXES:
            if delegation.name_zh.endswith(suffix) and len(delegation.name_zh) > len(suffix):
                keys.add(plain(delegation.name_zh.removesuffix(suffix)))
        return keys - {""}

    def forget_delegation(self, delegation: Delegation) -> None:
        """Before a delegation changes: it is added again, as it is then, afterwards."""
        for name in self.delegation_keys(delegation):
            found = self.delegation_names.get((delegation.edition_id, name), [])
            if delegation in found:
                found.remove(delegation)
        siblings = self.children.get(delegation.parent_id, [])
        if delegation in siblings:
            siblings.remove(delegation)

    def delegations_named(self, edition: Edition, name: str) -> list[Delegation]:
        return list(self.delegation_names.get((edition.pk, plain(name)), ()))

    def tree_ids(self, top: Delegation) -> list[int]:
        return [top.pk, *(child.pk for child in self.children.get(top.pk, ()))]

    # --- organizations ------------------------------------------------------------------

    @property
    def organizations(self) -> OrganizationIndex:
        if self._organizations is None:
            self._organizations = OrganizationIndex()
        return self._organizations

    def organization_created(self, ref: OrgRef) -> None:
        if self._organizations is not None:
            self._organizations.add(ref)

    # --- registrations by delegation tree -------------------------------------------------

    def tree(self, top: Delegation) -> TreeRegistrations:
        tree = self._trees.get(top.pk)
        if tree is None:
            tree = self._trees[top.pk] = TreeRegistrations()
            registrations = Registration.objects.filter(
                delegation_id__in=self.tree_ids(top)
            ).select_related("organization")
            for registration in registrations.order_by("pk"):
                registration.delegation = self.delegations[registration.delegation_id]
                tree.add(registration, registration.organization)
        return tree

    def registration_created(self, registration: Registration, organization: OrgRef) -> None:
        top = registration.delegation.top
        if top.pk in self._trees:
            self._trees[top.pk].add(registration, organization)

    # --- exhibitors by edition ------------------------------------------------------------

    def exhibitors(self, edition: Edition) -> EditionExhibitors:
        found = self._exhibitors.get(edition.pk)
        if found is None:
            found = self._exhibitors[edition.pk] = EditionExhibitors()
            for exhibitor in Exhibitor.objects.filter(edition=edition).select_related(
                "organization"
            ):
                exhibitor.edition = edition
                found.add(exhibitor, exhibitor.organization)
        return found

    # --- sectors and rates ----------------------------------------------------------------

    def sector(self, text: str) -> Sector | None:
        return self.sectors.get(plain(text))

    def rate_on(self, currency: str, day: datetime.date) -> tuple[Decimal, datetime.date] | None:
        """The rate in force on `day`, as `ExchangeRate.objects.rate_on` finds it: the
        latest one dated on or before it."""
        rates = self._rates.get(currency)
        if rates is None:
            found = list(ExchangeRate.objects.filter(currency=currency).order_by("valid_on"))
            rates = self._rates[currency] = ([rate.valid_on for rate in found], found)
        days, found = rates
        index = bisect.bisect_right(days, day)
        if not index:
            return None
        rate = found[index - 1]
        return rate.usd_per_unit, rate.valid_on

    def rates_changed(self) -> None:
        self._rates.clear()
