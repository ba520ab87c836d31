"""Write the story's facts and the demo population into the database.

Loading is idempotent: every row is matched on its natural key (a credit code, else a
name and country; a delegation's edition and slug; an agreement's reference; ...) and
only what is missing is created, so a second run creates nothing and never overwrites
what staff changed since. It is all or nothing (one transaction). Rows are validated
with the models' own field validators and `clean()` before they are written in bulk,
with their change history; the database's constraints stand behind them.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.db import models, transaction
from simple_history.utils import bulk_create_with_history

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    Publication,
    Sector,
    Visit,
)
from delegations.models import Delegation, Edition, Organization, Registration
from expo_site.planner import refresh_planner_statistics

from .demo import (
    AgreementRow,
    DelegationKey,
    DelegationRow,
    ExhibitorRow,
    OrganizationRow,
    OrgKey,
    PledgeRow,
    Population,
    Story,
    StoryAgreement,
    build_population,
    delegation_key,
    organization_key,
)

STORY_FILE = Path(__file__).with_name("story.toml")
BATCH_SIZE = 500
CHANGE_REASON = "Loaded from the seeds"

M = TypeVar("M", bound=models.Model)


class SeedError(Exception):
    """The seeds cannot be loaded: reference data they need is missing."""


@dataclass(frozen=True)
class Tally:
    """What loading did to one model."""

    model: type[models.Model]
    created: int
    present: int

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)


# ---------------------------------------------------------------------------------------
# The story
# ---------------------------------------------------------------------------------------


def read_story(path: Path = STORY_FILE) -> Story:
    """The story's facts from story.toml, as rows."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    organizations = {}
    members = []
    exhibitors = []
    for entry in data["organizations"]:
        row = OrganizationRow(
            name_zh=entry["name_zh"],
            name_en=entry["name_en"],
            kind=entry["kind"],
            country=entry["country"],
            industry=entry.get("industry", ""),
            illustrative=False,
        )
        organizations[entry["id"]] = row
        if "registered_in" in entry:
            members.append((delegation_key(entry["registered_in"]), row.key))
        if "exhibits_at" in entry:
            exhibitors.append(ExhibitorRow(entry["exhibits_at"], row.key, entry["exhibition_area"]))
    agreements = tuple(
        StoryAgreement(
            row=AgreementRow(
                reference=entry["reference"],
                delegation=delegation_key(entry["delegation"]),
                buyer=organizations[entry["buyer"]].key,
                exhibitors=tuple(organizations[org].key for org in entry["exhibitors"]),
                kind=entry["kind"],
                sector=entry["sector"],
                amount=Decimal(entry["amount"]),
                currency=entry["currency"],
                signed_on=entry["signed_on"],
                status=entry["status"],
                is_public=entry["is_public"],
                illustrative=False,
            ),
            illustrative_exhibitor_countries=tuple(entry["illustrative_exhibitor_countries"]),
        )
        for entry in data["agreements"]
    )
    pledges = tuple(
        PledgeRow(
            target_edition=entry["target_edition"],
            organization=organizations[entry["organization"]].key,
            source_delegation=delegation_key(entry["source_delegation"]),
            status=entry["status"],
            illustrative=False,
        )
        for entry in data["pledges"]
    )
    delegations = tuple(
        DelegationRow(
            edition=entry["edition"],
            slug=entry["slug"],
            name_zh=entry["name_zh"],
            name_en=entry["name_en"],
            organizer_zh=entry["organizer_zh"],
            organizer_en=entry["organizer_en"],
            illustrative=False,
        )
        for entry in data["delegations"]
    )
    figures = {key: value for key, value in data["figures"].items() if key != "quote"}
    quotes = (
        data["figures"]["quote"],
        *(
            entry["quote"]
            for part in ("delegations", "organizations", "agreements")
            for entry in data[part]
        ),
    )
    return Story(
        text=data["source"]["text"],
        figures=figures,
        delegations=delegations,
        organizations=tuple(organizations.values()),
        members=tuple(members),
        exhibitors=tuple(exhibitors),
        agreements=agreements,
        pledges=pledges,
        quotes=quotes,
    )


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def load_seeds(population: Population | None = None) -> list[Tally]:
    """Create whatever rows of `population` (by default the story and the demo
    population) the database lacks, in one transaction. Returns a tally per model."""
    if population is None:
        population = build_population(read_story())
    with transaction.atomic():
        tallies = _Loader(population).run()
        # Read back at once (an export, the statistics, a test): plan it on the rows.
        refresh_planner_statistics(_written(tallies), sum(tally.created for tally in tallies))
    return tallies


def _written(tallies: Iterable[Tally]) -> Iterator[type[models.Model]]:
    """The models the load wrote to, with their change history."""
    for tally in tallies:
        if tally.created:
            yield tally.model
            history = getattr(tally.model, "history", None)
            if history is not None:
                yield history.model


class _Loader:
    def __init__(self, population: Population) -> None:
        self.population = population
        self.tallies: list[Tally] = []
        self.editions = Edition.objects.in_bulk(field_name="slug")
        self.sectors = Sector.objects.in_bulk(field_name="code")
        self._require(
            "fair editions",
            self.editions,
            [r.edition for r in population.delegations]
            + [r.edition for r in population.exhibitors]
            + [r.target_edition for r in population.pledges],
        )
        self._require(
            "sectors",
            self.sectors,
            [r.area for r in population.exhibitors]
            + [r.sector for r in population.agreements if r.sector]
            + [r.sector for r in population.intentions if r.sector],
        )
        self.delegations: dict[DelegationKey, Delegation] = {}
        self.organizations: dict[OrgKey, int] = {}
        self.registrations: dict[tuple[int, int], Registration] = {}
        self.exhibitors: dict[tuple[int, int], Exhibitor] = {}

    def run(self) -> list[Tally]:
        self._exchange_rates()
        self._delegations()
        self._organizations()
        self._registrations()
        self._exhibitors()
        self._agreements()
        self._visits()
        self._intentions()
        self._pledges()
        self._publications()
        return self.tallies

    def _publications(self) -> None:
        """The figures of each trading delegation published as the bureau published the
        story's: on the Monday after its expo ("the commerce bureau said on Monday"),
        older editions first. A delegation already published is left as it is."""
        from deals.services import figures_publish

        delegations = sorted(
            (d for d in self.delegations.values() if d.parent_id is None),
            key=lambda d: d.edition.starts_on,
        )
        published = set(
            Publication.objects.filter(delegation__in=delegations).values_list(
                "delegation_id", flat=True
            )
        )
        created = 0
        for delegation in delegations:
            if delegation.pk in published:
                continue
            ends = delegation.edition.ends_on
            monday = ends + datetime.timedelta(days=(7 - ends.weekday()) % 7 or 7)
            figures_publish(delegation=delegation, user=None, as_of=monday)
            created += 1
        self.tallies.append(Tally(Publication, created, len(delegations) - created))

    @staticmethod
    def _require(what: str, found: dict, wanted: Iterable[str]) -> None:
        missing = sorted(dict.fromkeys(code for code in wanted if code not in found))
        if missing:
            raise SeedError(
                f"These {what} are missing: {', '.join(missing)}. "
                "Run `python manage.py migrate` first: the migrations ship them."
            )

    # -- one model at a time ---------------------------------------------------------

    def _exchange_rates(self) -> None:
        present = set(ExchangeRate.objects.values_list("currency", "valid_on"))
        new = [
            ExchangeRate(
                currency=row.currency,
                valid_on=row.valid_on,
                usd_per_unit=row.usd_per_unit,
                source=row.source,
            )
            for row in self.population.exchange_rates
            if (row.currency, row.valid_on) not in present
        ]
        self._create(ExchangeRate, new, present=len(self.population.exchange_rates) - len(new))

    def _delegations(self) -> None:
        rows = self.population.delegations
        edition_ids = {self.editions[row.edition].pk for row in rows}
        slugs = {row.slug for row in rows}
        by_id = {edition.pk: slug for slug, edition in self.editions.items()}
        for delegation in Delegation.objects.filter(edition_id__in=edition_ids, slug__in=slugs):
            self.delegations[(by_id[delegation.edition_id], delegation.slug)] = delegation
        created = 0
        # Delegations before their sub-delegations, which need their parent's id.
        for level in ([r for r in rows if not r.parent], [r for r in rows if r.parent]):
            new = []
            for row in level:
                if row.key in self.delegations:
                    continue
                delegation = Delegation(
                    edition=self.editions[row.edition],
                    parent=self.delegations[(row.edition, row.parent)] if row.parent else None,
                    slug=row.slug,
                    name_zh=row.name_zh,
                    name_en=row.name_en,
                    organizer_zh=row.organizer_zh,
                    organizer_en=row.organizer_en,
                    illustrative=row.illustrative,
                )
                self.delegations[row.key] = delegation
                new.append(delegation)
            for delegation in new:
                _validate(delegation)
            self._write(Delegation, new)
            created += len(new)
        self.tallies.append(Tally(Delegation, created, len(rows) - created))

    def _organizations(self) -> None:
        rows = self.population.organizations
        codes = [row.credit_code for row in rows if row.credit_code]
        names = list(dict.fromkeys(row.name_zh for row in rows if not row.credit_code))
        for chunk in _chunks(codes):
            for pk, code in Organization.objects.filter(credit_code__in=chunk).values_list(
                "pk", "credit_code"
            ):
                self.organizations[("code", code)] = pk
        for chunk in _chunks(names):
            for pk, name, country in Organization.objects.filter(
                name_zh__in=chunk, credit_code__isnull=True
            ).values_list("pk", "name_zh", "country"):
                self.organizations[organization_key(name, country, None)] = pk
        new = [
            Organization(
                name_zh=row.name_zh,
                name_en=row.name_en,
                credit_code=row.credit_code,
                kind=row.kind,
                country=row.country,
                industry=row.industry,
                annual_imports_usd=row.annual_imports_usd,
                illustrative=row.illustrative,
            )
            for row in rows
            if row.key not in self.organizations
        ]
        for organization in self._create(Organization, new, present=len(rows) - len(new)):
            key = organization_key(
                organization.name_zh, organization.country.code, organization.credit_code
            )
            self.organizations[key] = organization.pk

    def _registrations(self) -> None:
        rows = self.population.registrations
        delegation_ids = [d.pk for d in self.delegations.values()]
        registrations = Registration.objects.filter(delegation_id__in=delegation_ids)
        for registration in registrations.select_related("delegation"):
            self.registrations[(registration.delegation_id, registration.organization_id)] = (
                registration
            )
        new = []
        for row in rows:
            delegation = self.delegations[row.delegation]
            key = (delegation.pk, self.organizations[row.organization])
            if key in self.registrations:
                continue
            registration = Registration(
                delegation=delegation,
                organization_id=key[1],
                participants=row.participants,
                is_purchaser=row.is_purchaser,
                status=row.status,
                registered_on=row.registered_on,
                illustrative=row.illustrative,
            )
            self.registrations[key] = registration
            new.append(registration)
        top_of = {d.pk: d.parent_id or d.pk for d in self.delegations.values()}
        _once_per_tree(self.registrations.values(), top_of)
        # Registration.clean() looks for the organization elsewhere in the delegation's
        # tree, one query a row: _once_per_tree() above checks the same for all at once.
        self._create(Registration, new, present=len(rows) - len(new), clean=False)

    def _exhibitors(self) -> None:
        rows = self.population.exhibitors
        edition_ids = {self.editions[row.edition].pk for row in rows}
        for exhibitor in Exhibitor.objects.filter(edition_id__in=edition_ids):
            self.exhibitors[(exhibitor.edition_id, exhibitor.organization_id)] = exhibitor
        new = []
        for row in rows:
            edition = self.editions[row.edition]
            key = (edition.pk, self.organizations[row.organization])
            if key in self.exhibitors:
                continue
            exhibitor = Exhibitor(
                edition=edition,
                organization_id=key[1],
                exhibition_area=self.sectors[row.area],
                booth=row.booth,
                illustrative=row.illustrative,
            )
            self.exhibitors[key] = exhibitor
            new.append(exhibitor)
        self._create(Exhibitor, new, present=len(rows) - len(new))

    def _agreements(self) -> None:
        rows = self.population.agreements
        agreements = {}
        for chunk in _chunks([row.reference for row in rows]):
            for agreement in Agreement.objects.filter(reference__in=chunk).select_related(
                "delegation"
            ):
                agreements[agreement.reference] = agreement
        new = []
        for row in rows:
            if row.reference in agreements:
                continue
            delegation = self.delegations[row.delegation]
            buyer = self._registration_in_tree(delegation, self.organizations[row.buyer])
            agreement = Agreement(
                reference=row.reference,
                delegation=delegation,
                registration=buyer,
                kind=row.kind,
                sector=self.sectors[row.sector] if row.sector else None,
                amount=row.amount,
                currency=row.currency,
                signed_on=row.signed_on,
                status=row.status,
                is_public=row.is_public,
                illustrative=row.illustrative,
            )
            # bulk_create() skips save(): the US$ equivalent is frozen here instead.
            agreement.freeze_usd()
            agreements[row.reference] = agreement
            new.append(agreement)
        self._create(Agreement, new, present=len(rows) - len(new))

        present = set(
            AgreementExhibitor.objects.filter(
                agreement_id__in=[a.pk for a in agreements.values()]
            ).values_list("agreement_id", "exhibitor_id")
        )
        parties = []
        wanted = 0
        for row in rows:
            agreement = agreements[row.reference]
            edition_id = agreement.delegation.edition_id
            for org in row.exhibitors:
                wanted += 1
                exhibitor = self.exhibitors[(edition_id, self.organizations[org])]
                if (agreement.pk, exhibitor.pk) not in present:
                    parties.append(AgreementExhibitor(agreement=agreement, exhibitor=exhibitor))
        self._create(AgreementExhibitor, parties, present=wanted - len(parties))

    def _visits(self) -> None:
        rows = self.population.visits
        present = set(
            Visit.objects.filter(
                delegation_id__in=[d.pk for d in self.delegations.values()]
            ).values_list("delegation_id", "organization_id", "visited_on")
        )
        new = []
        for row in rows:
            delegation = self.delegations[row.delegation]
            organization_id = self.organizations[row.organization]
            if (delegation.pk, organization_id, row.visited_on) in present:
                continue
            new.append(
                Visit(
                    delegation=delegation,
                    organization_id=organization_id,
                    visited_on=row.visited_on,
                    investment_intention=row.investment_intention,
                    ciftis_interest=row.ciftis_interest,
                    illustrative=row.illustrative,
                )
            )
        self._create(Visit, new, present=len(rows) - len(new))

    def _intentions(self) -> None:
        rows = self.population.intentions
        present = set(
            InvestmentIntention.objects.filter(
                delegation_id__in=[d.pk for d in self.delegations.values()]
            ).values_list("delegation_id", "organization_id")
        )
        new = []
        for row in rows:
            delegation = self.delegations[row.delegation]
            organization_id = self.organizations[row.organization]
            if (delegation.pk, organization_id) in present:
                continue
            new.append(
                InvestmentIntention(
                    delegation=delegation,
                    organization_id=organization_id,
                    sector=self.sectors[row.sector] if row.sector else None,
                    amount=row.amount,
                    currency=row.currency,
                    stage=row.stage,
                    illustrative=row.illustrative,
                )
            )
        self._create(InvestmentIntention, new, present=len(rows) - len(new))

    def _pledges(self) -> None:
        rows = self.population.pledges
        present = set(CiftisPledge.objects.values_list("target_edition_id", "organization_id"))
        new = []
        for row in rows:
            target = self.editions[row.target_edition]
            organization_id = self.organizations[row.organization]
            if (target.pk, organization_id) in present:
                continue
            source = self.delegations[row.source_delegation] if row.source_delegation else None
            new.append(
                CiftisPledge(
                    target_edition=target,
                    organization_id=organization_id,
                    source_delegation=source,
                    status=row.status,
                    pledged_on=row.pledged_on,
                    illustrative=row.illustrative,
                )
            )
        self._create(CiftisPledge, new, present=len(rows) - len(new))

    # -- helpers -------------------------------------------------------------------------

    def _registration_in_tree(self, delegation: Delegation, organization_id: int) -> Registration:
        """The buyer's registration in `delegation`'s tree."""
        top = delegation.top
        for candidate in [top, *(d for d in self.delegations.values() if d.parent_id == top.pk)]:
            registration = self.registrations.get((candidate.pk, organization_id))
            if registration is not None:
                return registration
        raise SeedError(f"A buyer of {delegation} is not registered in it.")

    def _create(
        self, model: type[M], instances: Sequence[M], *, present: int, clean: bool = True
    ) -> Sequence[M]:
        if clean:
            for instance in instances:
                _validate(instance)
        else:
            for instance in instances:
                instance.clean_fields(exclude=_relations(model))
        created = self._write(model, instances)
        self.tallies.append(Tally(model, len(instances), present))
        return created

    @staticmethod
    def _write(model: type[M], instances: Sequence[M]) -> Sequence[M]:
        if not instances:
            return []
        return bulk_create_with_history(
            instances, model, batch_size=BATCH_SIZE, default_change_reason=CHANGE_REASON
        )


def _validate(instance: models.Model) -> None:
    """The model's field validators and clean(). Related rows are checked by the
    database (a query a row otherwise); uniqueness by the natural keys and by the
    database's constraints."""
    instance.full_clean(
        exclude=_relations(type(instance)), validate_unique=False, validate_constraints=False
    )


def _relations(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if field.is_relation]


def _once_per_tree(registrations: Iterable[Registration], top_of: dict[int, int]) -> None:
    """A delegation and its sub-delegations count an organization once."""
    seen: set[tuple[int, int]] = set()
    for registration in registrations:
        key = (top_of[registration.delegation_id], registration.organization_id)
        if key in seen:
            raise SeedError(
                f"Organization {registration.organization_id} is registered twice in the "
                f"tree of delegation {key[0]}."
            )
        seen.add(key)


def _chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
