"""The sheets of what the delegation follows up: company visits, investment intentions,
CIFTIS pledges."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from deals.currencies import USD
from deals.models import CiftisPledge, IntentionStage, InvestmentIntention, PledgeStatus, Visit
from delegations.models import Organization
from delegations.scope import delegation_within

from ..sheets import CellError, Message, check_decimals
from .base import Row, SheetImport
from .lookups import OrgRef


class VisitImport(SheetImport):
    """Company visits, matched on who visited (the delegation, or the sub-delegation in
    `visited_by`), the organization and the day."""

    field_columns = {"delegation": "visited_by", "organization": "organization"}

    def process(self, rows: list[Row]) -> None:
        plans = []
        for row in rows:
            given = row.values
            edition = self.edition(row, "edition")
            delegation = self.delegation(row, "delegation", edition)
            organization = self.organization(row, name_key="organization")
            visitor = delegation
            if delegation is not None and given.get("visited_by"):
                visitor = self.delegation(row, "visited_by", edition)
                if visitor is not None and delegation.pk not in (visitor.pk, visitor.parent_id):
                    self.fail(
                        row,
                        "visited_by",
                        Message(
                            _("%(visitor)s is not a sub-delegation of %(delegation)s."),
                            visitor=visitor.name_zh,
                            delegation=delegation.name_zh,
                        ),
                    )
            if not row.ok or visitor is None or organization is None:
                continue
            key = (visitor.pk, organization.pk, given["visited_on"])
            if not self.once(row, key, "visited_on"):
                continue
            values: dict[str, Any] = {}
            for column in ("investment_intention", "ciftis_interest", "illustrative"):
                if self.has(column):
                    values[column] = bool(given.get(column))
            if self.has("notes"):
                values["notes"] = given.get("notes") or ""
            plans.append((row, key, visitor, values))

        existing = {
            (visit.delegation_id, visit.organization_id, visit.visited_on): visit
            for visit in Visit.objects.filter(
                delegation_id__in={key[0] for _, key, _, _ in plans},
                organization_id__in={key[1] for _, key, _, _ in plans},
                visited_on__in={key[2] for _, key, _, _ in plans},
            )
        }
        self.upsert(
            Visit,
            (
                (
                    row,
                    existing.get(key),
                    {"delegation": visitor, "organization_id": key[1], "visited_on": key[2]},
                    values,
                )
                for row, key, visitor, values in plans
            ),
        )


class InvestmentIntentionImport(SheetImport):
    """Investment intentions, matched on delegation, edition and organization."""

    def process(self, rows: list[Row]) -> None:
        plans = []
        for row in rows:
            given = row.values
            edition = self.edition(row, "edition")
            delegation = self.delegation(row, "delegation", edition)
            organization = self.organization(row, name_key="organization")
            values: dict[str, Any] = {}
            if self.has("sector"):
                sector = self.sector(row, "sector")
                values["sector_id"] = sector.pk if sector else None
            if self.has("amount"):
                values["amount"] = given.get("amount")
            if self.has("currency"):
                values["currency"] = given.get("currency") or USD
            if given.get("amount") is not None:
                try:
                    check_decimals(given["amount"], values.get("currency", USD))
                except CellError as error:
                    self.fail(row, "amount", error.message)
            if self.has("stage"):
                values["stage"] = given.get("stage") or IntentionStage.EXPRESSED
            if self.has("illustrative"):
                values["illustrative"] = bool(given.get("illustrative"))
            if not row.ok or delegation is None or organization is None:
                continue
            key = (delegation.pk, organization.pk)
            if self.once(row, key, "organization"):
                plans.append((row, key, delegation, values))

        existing = {
            (intention.delegation_id, intention.organization_id): intention
            for intention in InvestmentIntention.objects.filter(
                delegation_id__in={key[0] for _, key, _, _ in plans},
                organization_id__in={key[1] for _, key, _, _ in plans},
            )
        }
        self.upsert(
            InvestmentIntention,
            (
                (
                    row,
                    existing.get(key),
                    {"delegation": delegation, "organization_id": key[1]},
                    values,
                )
                for row, key, delegation, values in plans
            ),
        )


class CiftisPledgeImport(SheetImport):
    """CIFTIS pledges, matched on the fair edition and the organization, which is
    created when unknown (like an exhibitor's)."""

    field_columns = {
        "target_edition": "fair_edition",
        "source_delegation": "source_delegation",
        "organization": "organization",
    }

    def process(self, rows: list[Row]) -> None:
        index = self.lookups.organizations
        plans = []
        new_organizations: list[Organization] = []
        for row in rows:
            given = row.values
            target = self.edition(row, "fair_edition")
            country = given["country"]
            self.code_warning(row, "credit_code")
            organization = self.organization(
                row, name_key="organization", country=country, required=False
            )
            source = None
            if given.get("source_delegation"):
                if not given.get("source_edition"):
                    self.fail(
                        row,
                        "source_edition",
                        Message(_("required when the source delegation is given.")),
                    )
                else:
                    source = self.delegation(
                        row, "source_delegation", self.edition(row, "source_edition")
                    )
            if source is None and self.job.scope is not None and row.ok:
                # A pledge without a source delegation is no delegation's record.
                self.fail(
                    row,
                    "source_delegation",
                    Message(_("required: name which of your delegations the pledge was made to.")),
                )
            if not row.ok or target is None:
                continue
            if organization is None:
                created = Organization(
                    name_zh=given["organization"],
                    credit_code=given.get("credit_code"),
                    kind=self.kind_for(country),
                    country=country,
                    illustrative=bool(given.get("illustrative")),
                )
                if not self.validate(created, row):
                    continue
                new_organizations.append(created)
                organization = OrgRef.of(created)
                index.add(organization)
            if not self.once(row, (target.pk, id(organization)), "organization"):
                continue
            values: dict[str, Any] = {}
            if self.has("source_delegation"):
                values["source_delegation_id"] = source.pk if source else None
            if self.has("status"):
                values["status"] = given.get("status") or PledgeStatus.PLEDGED
            if self.has("pledged_on"):
                values["pledged_on"] = given.get("pledged_on")
            if self.has("illustrative"):
                values["illustrative"] = bool(given.get("illustrative"))
            plans.append((row, target, organization, source, values))

        self.writer.create(Organization, new_organizations)
        existing = {
            (pledge.target_edition_id, pledge.organization_id): pledge
            for pledge in CiftisPledge.objects.filter(
                target_edition_id__in={plan[1].pk for plan in plans},
                organization_id__in={plan[2].pk for plan in plans},
            )
        }
        creates, updates, fields = [], [], set()
        for row, target, organization, source, values in plans:
            pledge = existing.get((target.pk, organization.pk))
            if pledge is None:
                pledge = CiftisPledge(target_edition=target, organization_id=organization.pk)
                self.apply(pledge, values)
                pledge.source_delegation = source
                if self.validate(pledge, row):
                    creates.append(pledge)
                continue
            recorded_in = self.lookups.delegations.get(pledge.source_delegation_id)
            if self.job.scope is not None and (
                recorded_in is None or not delegation_within(self.job.scope, recorded_in)
            ):
                self.fail(
                    row,
                    "organization",
                    Message(
                        _(
                            "this organization's pledge to %(edition)s is recorded by "
                            "%(delegation)s, which is not one of your delegations."
                        ),
                        edition=target,
                        delegation=recorded_in.name_zh if recorded_in else "—",
                    ),
                )
                continue
            if not self.stage_move(row, pledge, values):
                continue
            changed = self.apply(pledge, values)
            if not changed:
                self.counts.unchanged += 1
                continue
            # CiftisPledge.clean() compares the source's edition with the target's: both
            # come from the caches.
            pledge.target_edition = target
            pledge.source_delegation = (
                source
                if source is not None
                else self.lookups.delegations.get(pledge.source_delegation_id)
            )
            if self.validate(pledge, row):
                updates.append(pledge)
                fields |= changed
        self.write(CiftisPledge, creates, updates, fields)
