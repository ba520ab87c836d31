"""The sheets of who takes part: delegations, organizations, registrations, exhibitors."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from deals.models import Exhibitor
from delegations.models import (
    Delegation,
    Organization,
    Registration,
    RegistrationStatus,
    normalize_name,
)

from ..sheets import Message, plain
from .base import Row, SheetImport
from .lookups import OrgRef


class DelegationImport(SheetImport):
    """Delegations, matched on edition and name (Chinese name, English name or slug).
    Top-level delegations are written before sub-delegations, which may name a parent
    from the same sheet."""

    chunk_size = 10**9  # one chunk: rows refer to each other
    field_columns = {
        "name_zh": "name",
        "organizer_zh": "organizer",
        "organizer_en": "organizer_en",
        "parent": "parent",
        "edition": "edition",
    }

    def process(self, rows: list[Row]) -> None:
        self.pending_slugs: set[tuple[int, str]] = set()
        self.claimed_names: dict[tuple[int, str], Delegation] = {}
        self.sub_names = {plain(row.values["name"]) for row in rows if row.values.get("parent")}
        self.step([row for row in rows if not row.values.get("parent")])
        self.step([row for row in rows if row.values.get("parent")])

    def step(self, rows: list[Row]) -> None:
        creates: list[Delegation] = []
        updates: list[Delegation] = []
        fields: set[str] = set()
        for row in rows:
            edition = self.edition(row, "edition")
            if edition is None:
                continue
            name = row.values["name"]
            if not self.once(row, (edition.pk, plain(name)), "name"):
                continue
            parent = None
            if text := row.values.get("parent"):
                new_sub = plain(text) in self.sub_names
                if new_sub and not self.lookups.delegations_named(edition, text):
                    self.fail(row, "parent", self.not_a_parent(text))
                    continue
                parent = self.delegation(row, "parent", edition)
                if parent is None:
                    continue
                if parent.parent_id:
                    self.fail(row, "parent", self.not_a_parent(parent.name_zh))
                    continue
            found = self.lookups.delegations_named(edition, name)
            if len(found) > 1:
                self.delegation(row, "name", edition)  # names the ambiguity
                continue
            existing = found[0] if found else None
            if existing is not None and not self.within_scope(row, "name", existing):
                continue
            moved_out = existing is not None and self.has("parent") and parent is None
            if moved_out and existing.parent_id and self.job.scope is not None:
                # A sub-delegation made a trading delegation leaves its parent's records.
                self.fail(row, "parent", self.new_top_level())
                continue
            if existing is None and parent is None and self.job.scope is not None:
                # A trading delegation is the organizer's staff's to add.
                self.fail(row, "parent", self.new_top_level())
                continue
            values = self.values(row, existing, parent)
            if existing is None:
                delegation = self.build(row, edition, name, values, parent)
                if delegation is not None:
                    creates.append(delegation)
                continue
            if not self.may_move(row, existing, parent):
                continue
            self.lookups.forget_delegation(existing)
            changed = self.apply(existing, values)
            if changed and self.unique_names(row, existing) and self.valid(row, existing):
                if "parent_id" in changed:
                    existing.parent = parent
                updates.append(existing)
                fields |= changed
            elif not changed:
                self.counts.unchanged += 1
            self.lookups.add_delegation(existing)
        self.write(Delegation, creates, updates, fields)
        for delegation in creates:
            self.lookups.add_delegation(delegation)

    @staticmethod
    def new_top_level() -> Message:
        return Message(
            _(
                "only the organizer's staff add a trading delegation: name one of your "
                "delegations as the parent of a new sub-delegation."
            )
        )

    @staticmethod
    def not_a_parent(name: str) -> Message:
        return Message(
            _("%(parent)s is itself a sub-delegation; sub-delegations have none."), parent=name
        )

    def values(self, row: Row, existing: Delegation | None, parent) -> dict[str, Any]:
        values: dict[str, Any] = {}
        given = row.values
        if self.has("name_en"):
            name_en = given.get("name_en") or ""
            # A row that names the delegation by its English name leaves that name alone.
            if name_en or existing is None or plain(existing.name_en) != plain(given["name"]):
                values["name_en"] = name_en
        if self.has("organizer"):
            values["organizer_zh"] = given.get("organizer") or ""
        if self.has("organizer_en"):
            values["organizer_en"] = given.get("organizer_en") or ""
        if self.has("parent"):
            values["parent_id"] = parent.pk if parent else None
        if self.has("illustrative"):
            values["illustrative"] = bool(given.get("illustrative"))
        return values

    def build(self, row: Row, edition, name: str, values: dict, parent) -> Delegation | None:
        values = {key: value for key, value in values.items() if key != "parent_id"}
        delegation = Delegation(
            edition=edition,
            name_zh=name,
            slug=self.slug_for(edition, name, values.get("name_en", ""), parent),
            **values,
        )
        delegation.parent = parent
        if not self.unique_names(row, delegation) or not self.validate(delegation, row):
            return None
        self.pending_slugs.add((edition.pk, delegation.slug))
        return delegation

    def may_move(self, row: Row, existing: Delegation, parent) -> bool:
        if parent is None:
            return True
        if parent.pk == existing.pk:
            self.fail(row, "parent", Message(_("a delegation cannot be its own parent.")))
            return False
        if self.lookups.children.get(existing.pk):
            self.fail(
                row,
                "parent",
                Message(_("this delegation has sub-delegations and cannot become one.")),
            )
            return False
        return True

    def valid(self, row: Row, delegation: Delegation) -> bool:
        # Delegation.clean() asks the database about sub-delegations of an existing one
        # that gets a parent; may_move() answered that from the cache.
        return self.validate(delegation, row, clean=not (delegation.pk and delegation.parent_id))

    def unique_names(self, row: Row, delegation: Delegation) -> bool:
        """The English name (any case) is unique at the edition, like the Chinese one."""
        if not delegation.name_en:
            return True
        key = (delegation.edition_id, plain(delegation.name_en))
        others = [
            other
            for other in self.lookups.delegations.values()
            if other is not delegation
            and other.pk != delegation.pk
            and other.edition_id == delegation.edition_id
            and plain(other.name_en) == key[1]
        ]
        claimed = self.claimed_names.setdefault(key, delegation)
        if claimed is not delegation:
            others.append(claimed)
        if others:
            self.fail(
                row,
                "name_en",
                Message(
                    _("%(other)s at this edition is already called “%(name)s”."),
                    other=others[0].name_zh,
                    name=delegation.name_en,
                ),
            )
            return False
        return True

    def slug_for(self, edition, name: str, name_en: str, parent) -> str:
        """The slug the same delegation has at another edition, else one made from its
        English name, else from its Chinese name; unique at the edition."""
        taken = {
            delegation.slug
            for delegation in self.lookups.delegations.values()
            if delegation.edition_id == edition.pk
        } | {slug for edition_id, slug in self.pending_slugs if edition_id == edition.pk}
        same = [
            delegation.slug
            for delegation in self.lookups.delegations.values()
            if plain(delegation.name_zh) == plain(name)
            and (delegation.parent_id is None) == (parent is None)
        ]
        base = (
            same[0]
            if same
            else slugify(name_en)[:50] or "d-" + hashlib.sha256(name.encode()).hexdigest()[:10]
        )
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base[:50]}-{number}"
        return slug


class OrganizationImport(SheetImport):
    """Organizations, matched on their credit code when the row gives one, else on their
    name (Chinese or English) and country. A row with a new credit code whose name and
    country match an organization recorded without one gives it that code."""

    field_columns = {"name_zh": "name", "credit_code": "credit_code"}

    def process(self, rows: list[Row]) -> None:
        index = self.lookups.organizations
        plans: list[tuple[Row, OrgRef | None, dict[str, Any]]] = []
        for row in rows:
            given = row.values
            name = given["name"]
            code = given.get("credit_code")
            country = given.get("country") or "CN"
            self.code_warning(row, "credit_code")
            key = ("code", code) if code else ("name", plain(name), country)
            if not self.once(row, key, "credit_code" if code else "name"):
                continue
            ref = index.by_code.get(code) if code else None
            if ref is None:
                candidates = [
                    candidate
                    for candidate in index.named(name)
                    if candidate.country == country and not (code and candidate.credit_code)
                ]
                if len(candidates) > 1:
                    self.fail(
                        row,
                        "name",
                        Message(
                            _(
                                "“%(name)s” names %(count)s organizations in this country or "
                                "region: give its credit code to say which."
                            ),
                            name=name,
                            count=len(candidates),
                        ),
                    )
                    continue
                ref = candidates[0] if candidates else None
            if ref is not None and not self.once(row, ("organization", ref.pk), "name"):
                continue
            values: dict[str, Any] = {"kind": given["kind"]}
            # As Organization.clean() keeps them, so that a re-import compares equal.
            if ref is None or (code and ref.credit_code == code):
                values["name_zh"] = normalize_name(name)
            if self.has("name_en"):
                values["name_en"] = normalize_name(given.get("name_en") or "")
            if code:
                values["credit_code"] = code
            if ref is None or (self.has("country") and ref.credit_code):
                values["country"] = country
            for key, attname in (("industry", "industry"),):
                if self.has(key):
                    values[attname] = given.get(key) or ""
            if self.has("annual_imports_usd"):
                values["annual_imports_usd"] = given.get("annual_imports_usd")
            if self.has("illustrative"):
                values["illustrative"] = bool(given.get("illustrative"))
            plans.append((row, ref, values))

        existing = Organization.objects.in_bulk([ref.pk for _, ref, _ in plans if ref])
        creates, updates, fields, refs = [], [], set(), []
        for row, ref, values in plans:
            if ref is None:
                organization = Organization(**values)
                if self.validate(organization, row):
                    creates.append(organization)
                continue
            organization = existing[ref.pk]
            changed = self.apply(organization, values)
            if not changed:
                self.counts.unchanged += 1
            elif self.validate(organization, row):
                updates.append(organization)
                fields |= changed
                refs.append(ref)
        self.write(Organization, creates, updates, fields)
        for organization in creates:
            index.add(OrgRef.of(organization))
        for ref, organization in zip(refs, updates, strict=True):
            index.forget(ref)
            index.add(OrgRef.of(organization))


class RegistrationImport(SheetImport):
    """Registrations, matched on delegation, edition and organization. A delegation and
    its sub-delegations count an organization once."""

    field_columns = {
        "is_purchaser": "purchaser",
        "organization": "organization",
        "delegation": "delegation",
    }

    def process(self, rows: list[Row]) -> None:
        creates: list[tuple[Registration, OrgRef]] = []
        updates: list[Registration] = []
        fields: set[str] = set()
        for row in rows:
            edition = self.edition(row, "edition")
            delegation = self.delegation(row, "delegation", edition)
            organization = self.organization(row, name_key="organization")
            if not row.ok or delegation is None or organization is None:
                continue
            top = delegation.top
            if not self.once(row, (top.pk, organization.pk), "organization"):
                continue
            tree = self.lookups.tree(top)
            existing = tree.by_org.get(organization.pk)
            if existing is not None and existing.delegation_id != delegation.pk:
                self.fail(
                    row,
                    "organization",
                    Message(
                        _(
                            "this organization is already registered in %(delegation)s; a "
                            "delegation and its sub-delegations count it once."
                        ),
                        delegation=existing.delegation.name_zh,
                    ),
                )
                continue
            values = self.values(row)
            if existing is None:
                registration = Registration(
                    delegation=delegation, organization_id=organization.pk, **values
                )
                # Registration.clean() looks for the organization in the delegation's tree
                # with a query; the tree's cache answered that above.
                if self.validate(registration, row, clean=False):
                    creates.append((registration, organization))
                continue
            changed = self.apply(existing, values)
            if not changed:
                self.counts.unchanged += 1
            elif self.validate(existing, row, clean=False):
                updates.append(existing)
                fields |= changed
        self.write(Registration, [registration for registration, _ in creates], updates, fields)
        for registration, organization in creates:
            self.lookups.registration_created(registration, organization)

    def values(self, row: Row) -> dict[str, Any]:
        given = row.values
        values: dict[str, Any] = {"participants": given["participants"]}
        if self.has("purchaser"):
            values["is_purchaser"] = given["purchaser"] is not False
        if self.has("status"):
            values["status"] = given.get("status") or RegistrationStatus.REGISTERED
        if self.has("registered_on"):
            values["registered_on"] = given.get("registered_on")
        if self.has("illustrative"):
            values["illustrative"] = bool(given.get("illustrative"))
        return values


class ExhibitorImport(SheetImport):
    """Exhibitors, matched on edition and name. An exhibitor whose organization is not
    recorded creates it (kind: private for China, company from Hong Kong, Macao or
    Taiwan for those, foreign otherwise); existing organizations are left as they are."""

    field_columns = {"exhibition_area": "exhibition_area", "booth": "booth"}

    def process(self, rows: list[Row]) -> None:
        index = self.lookups.organizations
        plans: list[tuple[Row, Any, OrgRef, dict[str, Any]]] = []
        new_organizations: list[Organization] = []
        for row in rows:
            edition = self.edition(row, "edition")
            if edition is None:
                continue
            name = row.values["name"]
            country = row.values["country"]
            if not self.once(row, (edition.pk, plain(name)), "name"):
                continue
            area = self.sector(row, "exhibition_area", exhibition_area=True)
            self.code_warning(row, "credit_code")
            organization = self.organization(row, name_key="name", country=country, required=False)
            if not row.ok:
                continue
            if organization is None:
                created = Organization(
                    name_zh=name,
                    name_en=row.values.get("name_en") or "",
                    credit_code=row.values.get("credit_code"),
                    kind=self.kind_for(country),
                    country=country,
                    illustrative=bool(row.values.get("illustrative")),
                )
                if not self.validate(created, row):
                    continue
                new_organizations.append(created)
                organization = OrgRef.of(created)
                index.add(organization)
            # Two names (or a name and a credit code) may lead to one organization.
            if not self.once(row, ("organization", edition.pk, id(organization)), "name"):
                continue
            values: dict[str, Any] = {}
            if self.has("exhibition_area"):
                values["exhibition_area_id"] = area.pk if area else None
            if self.has("booth"):
                values["booth"] = row.values.get("booth") or ""
            if self.has("illustrative"):
                values["illustrative"] = bool(row.values.get("illustrative"))
            plans.append((row, edition, organization, values))

        # The references made before the write find their ids through their instances.
        self.writer.create(Organization, new_organizations)
        creates, updates, fields = [], [], set()
        for row, edition, organization, values in plans:
            found = self.lookups.exhibitors(edition)
            existing = found.by_org.get(organization.pk)
            if existing is None:
                exhibitor = Exhibitor(edition=edition, organization_id=organization.pk, **values)
                if self.validate(exhibitor, row):
                    creates.append((exhibitor, organization))
                continue
            changed = self.apply(existing, values)
            if not changed:
                self.counts.unchanged += 1
            elif self.validate(existing, row):
                updates.append(existing)
                fields |= changed
        self.write(Exhibitor, [exhibitor for exhibitor, _ in creates], updates, fields)
        for exhibitor, organization in creates:
            self.lookups.exhibitors(exhibitor.edition).add(exhibitor, organization)
