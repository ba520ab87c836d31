"""Everything the bureau knows about one organization, across editions: what its staff
page prints, read in a fixed number of queries however much is recorded."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    Exhibitor,
    InvestmentIntention,
    Visit,
)

from .duplicates import Duplicate, duplicates_of
from .models import Organization, Registration
from .scope import scope

# The organization's own history shown on the page; the history page has all of it.
HISTORY_LENGTH = 20
# Saved on every change, so it would be named in every row.
UNSHOWN_HISTORY_FIELDS = {"updated_at"}


@dataclass(frozen=True)
class HistoryEntry:
    """One version of the organization: when, who, what kind of change, why, and the
    fields that changed from the version before."""

    record: object
    changed: tuple[str, ...]


@dataclass(frozen=True)
class CompanyFile:
    organization: Organization
    registrations: list[Registration]
    agreements_as_buyer: list[Agreement]
    agreements_as_exhibitor: list[AgreementExhibitor]
    exhibitions: list[Exhibitor]
    visits: list[Visit]
    intentions: list[InvestmentIntention]
    pledges: list[CiftisPledge]
    history: list[HistoryEntry]
    duplicates: list[Duplicate]


def company_file(*, organization: Organization, user=None) -> CompanyFile:
    """The records of `organization` of every kind, each with what its row prints: of
    the delegations `user` sees (every one without a user). The organization itself
    is shared by every delegation; its records are each delegation's own."""

    def mine(queryset):
        return queryset if user is None else scope(queryset, user)

    return CompanyFile(
        organization=organization,
        registrations=list(
            mine(organization.registrations.all())
            .select_related("delegation__edition__fair")
            .order_by("-delegation__edition__starts_on", "delegation__name_zh", "pk")
        ),
        agreements_as_buyer=list(
            mine(Agreement.objects.filter(registration__organization=organization))
            .select_related("delegation__edition__fair", "sector")
            .prefetch_related(
                Prefetch(
                    "parties",
                    queryset=AgreementExhibitor.objects.select_related(
                        "exhibitor__organization"
                    ).order_by("exhibitor__organization__name_zh", "pk"),
                )
            )
            .order_by("-delegation__edition__starts_on", "-signed_on", "reference")
        ),
        agreements_as_exhibitor=list(
            mine(AgreementExhibitor.objects.filter(exhibitor__organization=organization))
            .select_related(
                "agreement__delegation__edition__fair", "agreement__registration__organization"
            )
            .order_by(
                "-agreement__delegation__edition__starts_on",
                "-agreement__signed_on",
                "agreement__reference",
            )
        ),
        exhibitions=list(
            organization.exhibitions.select_related("edition__fair", "exhibition_area").order_by(
                "-edition__starts_on"
            )
        ),
        visits=list(
            mine(organization.visits.all())
            .select_related("delegation__edition__fair")
            .order_by("-visited_on", "pk")
        ),
        intentions=list(
            mine(organization.investment_intentions.all())
            .select_related("delegation__edition__fair", "sector", "owner")
            .order_by("-delegation__edition__starts_on", "pk")
        ),
        pledges=list(
            mine(organization.pledges.all())
            .select_related("target_edition__fair", "source_delegation__edition__fair", "owner")
            .order_by("-target_edition__starts_on", "pk")
        ),
        history=organization_history(organization=organization),
        duplicates=duplicates_of(organization),
    )


def organization_history(*, organization: Organization) -> list[HistoryEntry]:
    """The latest versions of the organization, newest first, each with the fields it
    changed. One query: the version before the oldest shown is read with the others."""
    versions = list(
        organization.history.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[: HISTORY_LENGTH + 1]
    )
    fields = [
        field
        for field in Organization._meta.concrete_fields
        if field.attname not in UNSHOWN_HISTORY_FIELDS and not field.primary_key
    ]
    entries = []
    for index, version in enumerate(versions[:HISTORY_LENGTH]):
        before = versions[index + 1] if index + 1 < len(versions) else None
        changed = (
            tuple(
                str(field.verbose_name)
                for field in fields
                if getattr(version, field.attname) != getattr(before, field.attname)
            )
            if before is not None and version.history_type == "~"
            else ()
        )
        entries.append(HistoryEntry(record=version, changed=changed))
    return entries
