"""Writes about organizations that span many records: merging two records of the same
organization into one, with everything recorded against either."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    Exhibitor,
    FollowUpMove,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Visit,
)
from deals.stats import figures_changed

from .models import Organization, Registration, RegistrationStatus

# ---------------------------------------------------------------------------------------
# What a merge carries over
# ---------------------------------------------------------------------------------------

# The relations a merge handles, by the model they point to and their accessor: the
# organization's own records, and what points to a record that is combined into
# another one (and so deleted). A relation not listed here, added to one of these
# models later, makes the merge refuse to run until it is handled below, rather than
# leave rows behind or let a cascade delete them.
HANDLED_RELATIONS: dict[type[models.Model], frozenset[str]] = {
    Organization: frozenset(
        {"registrations", "exhibitions", "visits", "investment_intentions", "pledges"}
    ),
    Registration: frozenset({"agreements"}),  # Agreement.registration, the buyer
    # AgreementExhibitor.exhibitor, and the many-to-many field through it.
    Exhibitor: frozenset({"parties", "agreements"}),
    Visit: frozenset(),
    InvestmentIntention: frozenset({"moves"}),
    CiftisPledge: frozenset({"moves"}),
}


def unhandled_relations() -> list[str]:
    """The relations to an organization, or to a record a merge may combine, that
    `organization_merge` does not know how to carry over."""
    return [
        f"{relation.related_model._meta.label}.{relation.field.name}"
        for model, handled in HANDLED_RELATIONS.items()
        for relation in model._meta.related_objects
        if relation.get_accessor_name() not in handled
    ]


# When two records of the two organizations are combined, the one further along wins.
REGISTRATION_RANK = {
    RegistrationStatus.WITHDRAWN: 0,
    RegistrationStatus.REGISTERED: 1,
    RegistrationStatus.ATTENDED: 2,
}
# A lead still alive in one record is not given up because the other says dropped.
INTENTION_RANK = {
    IntentionStage.DROPPED: 0,
    IntentionStage.EXPRESSED: 1,
    IntentionStage.NEGOTIATING: 2,
    IntentionStage.SIGNED: 3,
    IntentionStage.LANDED: 4,
}
PLEDGE_RANK = {
    PledgeStatus.WITHDRAWN: 0,
    PledgeStatus.PLEDGED: 1,
    PledgeStatus.REGISTERED: 2,
    PledgeStatus.ATTENDED: 3,
}

# The organization's fields taken from the removed record where the kept one has none.
FILLED_FIELDS = ("name_en", "credit_code", "industry", "annual_imports_usd")


def merge_reason(*, keep: Organization, remove: Organization) -> str:
    """The change reason every history row written by the merge carries."""
    return f"merge of organization #{remove.pk} into #{keep.pk}"


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationReport:
    """How many of the removed organization's records of one kind move over as they
    are, and how many are combined into a record the kept organization already has."""

    name: str
    label: str
    moved: int
    combined: int


@dataclass(frozen=True)
class MergeReport:
    """What a merge moved and combined (or, before it is confirmed, will)."""

    keep_id: int
    removed_id: int
    removed_name: str
    relations: tuple[RelationReport, ...]
    # Agreements whose buyer was a registration combined into the kept one.
    buyers_repointed: int
    # Exhibitor links of agreements moved to the kept exhibitor row, and links dropped
    # because the agreement already had the kept exhibitor.
    parties_moved: int
    parties_dropped: int
    # Follow-up moves of combined intentions and pledges, now on the kept ones.
    moves_repointed: int
    # The kept organization's blank fields filled from the removed one.
    filled: tuple[str, ...]

    def relation(self, name: str) -> RelationReport:
        return next(relation for relation in self.relations if relation.name == name)

    @property
    def moved(self) -> int:
        return sum(relation.moved for relation in self.relations)

    @property
    def combined(self) -> int:
        return sum(relation.combined for relation in self.relations)


# ---------------------------------------------------------------------------------------
# The plan: which record goes where
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """One kind of the organization's records: the accessor, what makes two of them
    collide under the unique constraints, and how a duplicate is combined into the
    record kept."""

    name: str
    model: type[models.Model]
    key: Callable[[models.Model], Hashable]
    combine: Callable[[models.Model, models.Model], None]
    related: tuple[str, ...] = ()


@dataclass
class _Plan:
    keep: Organization
    remove: Organization
    # Per kind: (record of the removed organization, record it is combined into, or
    # None when it moves over as it is).
    rows: dict[str, list[tuple[models.Model, models.Model | None]]] = field(default_factory=dict)
    buyers: list[tuple[Agreement, Registration]] = field(default_factory=list)
    parties_moved: list[tuple[AgreementExhibitor, Exhibitor]] = field(default_factory=list)
    parties_dropped: list[AgreementExhibitor] = field(default_factory=list)
    moves: list[tuple[FollowUpMove, str, models.Model]] = field(default_factory=list)
    filled: dict[str, object] = field(default_factory=dict)

    def combined(self, name: str) -> dict[int, models.Model]:
        """The records of one kind combined away, by key, with the record kept."""
        return {row.pk: target for row, target in self.rows[name] if target is not None}

    def report(self) -> MergeReport:
        labels = {kind.name: kind.model._meta.verbose_name_plural for kind in KINDS}
        return MergeReport(
            keep_id=self.keep.pk,
            removed_id=self.remove.pk,
            removed_name=str(self.remove),
            relations=tuple(
                RelationReport(
                    name=name,
                    label=str(labels[name]),
                    moved=sum(1 for _row, target in rows if target is None),
                    combined=sum(1 for _row, target in rows if target is not None),
                )
                for name, rows in self.rows.items()
            ),
            buyers_repointed=len(self.buyers),
            parties_moved=len(self.parties_moved),
            parties_dropped=len(self.parties_dropped),
            moves_repointed=len(self.moves),
            filled=tuple(self.filled),
        )


def _joined(text: str, other: str) -> str:
    """Two notes as one, each kept once."""
    if not other or other in text:
        return text
    return f"{text}\n\n{other}" if text else other


def _earliest(day, other):
    return min(day, other) if day and other else day or other


def _combine_recorded(kept: models.Model, duplicate: models.Model) -> None:
    # A real record stays real when combined with an illustrative one.
    kept.illustrative = kept.illustrative and duplicate.illustrative


def _combine_follow_up(kept, duplicate) -> None:
    if kept.owner_id is None:
        kept.owner_id = duplicate.owner_id
    kept.next_action_on = _earliest(kept.next_action_on, duplicate.next_action_on)
    kept.notes = _joined(kept.notes, duplicate.notes)


def _combine_registration(kept: Registration, duplicate: Registration) -> None:
    # The same people entered twice under two names of one organization: the larger
    # count, not the sum, which would count them twice.
    kept.participants = max(kept.participants, duplicate.participants)
    kept.is_purchaser = kept.is_purchaser or duplicate.is_purchaser
    if REGISTRATION_RANK[duplicate.status] > REGISTRATION_RANK[kept.status]:
        kept.status = duplicate.status
    kept.registered_on = _earliest(kept.registered_on, duplicate.registered_on)
    _combine_recorded(kept, duplicate)


def _combine_exhibitor(kept: Exhibitor, duplicate: Exhibitor) -> None:
    kept.booth = kept.booth or duplicate.booth
    if kept.exhibition_area_id is None:
        kept.exhibition_area_id = duplicate.exhibition_area_id
    _combine_recorded(kept, duplicate)


def _combine_visit(kept: Visit, duplicate: Visit) -> None:
    kept.investment_intention = kept.investment_intention or duplicate.investment_intention
    kept.ciftis_interest = kept.ciftis_interest or duplicate.ciftis_interest
    kept.notes = _joined(kept.notes, duplicate.notes)
    _combine_recorded(kept, duplicate)


def _combine_intention(kept: InvestmentIntention, duplicate: InvestmentIntention) -> None:
    if kept.sector_id is None:
        kept.sector_id = duplicate.sector_id
    other_amount = ""
    if kept.amount is None:
        kept.amount, kept.currency = duplicate.amount, duplicate.currency
    elif duplicate.amount is not None and (duplicate.amount, duplicate.currency) != (
        kept.amount,
        kept.currency,
    ):
        # One amount stays in its field; the other one stays readable in the notes.
        other_amount = gettext("Merged record: intended investment %(amount)s %(currency)s.") % {
            "amount": duplicate.amount,
            "currency": duplicate.currency,
        }
    if INTENTION_RANK[duplicate.stage] > INTENTION_RANK[kept.stage]:
        kept.stage = duplicate.stage
    _combine_follow_up(kept, duplicate)
    kept.notes = _joined(kept.notes, other_amount)
    _combine_recorded(kept, duplicate)


def _combine_pledge(kept: CiftisPledge, duplicate: CiftisPledge) -> None:
    if kept.source_delegation_id is None:
        kept.source_delegation_id = duplicate.source_delegation_id
    if PLEDGE_RANK[duplicate.status] > PLEDGE_RANK[kept.status]:
        kept.status = duplicate.status
    kept.pledged_on = _earliest(kept.pledged_on, duplicate.pledged_on)
    _combine_follow_up(kept, duplicate)
    _combine_recorded(kept, duplicate)


KINDS = (
    # A delegation and its sub-delegations count an organization once (Registration.clean),
    # so two registrations in one delegation tree collide, not only in one delegation.
    _Kind(
        "registrations",
        Registration,
        key=lambda row: row.delegation.parent_id or row.delegation_id,
        combine=_combine_registration,
        related=("delegation",),
    ),
    _Kind("exhibitions", Exhibitor, key=lambda row: row.edition_id, combine=_combine_exhibitor),
    _Kind(
        "visits",
        Visit,
        key=lambda row: (row.delegation_id, row.visited_on),
        combine=_combine_visit,
    ),
    _Kind(
        "investment_intentions",
        InvestmentIntention,
        key=lambda row: row.delegation_id,
        combine=_combine_intention,
    ),
    _Kind("pledges", CiftisPledge, key=lambda row: row.target_edition_id, combine=_combine_pledge),
)


def _check(*, keep: Organization, remove: Organization) -> None:
    if keep.pk == remove.pk:
        raise ValidationError(
            _("An organization cannot be merged with itself."), code="merge_itself"
        )
    if keep.credit_code and remove.credit_code and keep.credit_code != remove.credit_code:
        raise ValidationError(
            _(
                "%(keep)s and %(remove)s have different credit codes (%(keep_code)s, "
                "%(remove_code)s): they are different legal entities and are not merged."
            ),
            code="merge_different_codes",
            params={
                "keep": keep,
                "remove": remove,
                "keep_code": keep.credit_code,
                "remove_code": remove.credit_code,
            },
        )
    missing = unhandled_relations()
    if missing:
        raise ImproperlyConfigured(
            "organization_merge does not carry over "
            + ", ".join(missing)
            + ": handle them in delegations/services.py before merging."
        )


def _plan(*, keep: Organization, remove: Organization) -> _Plan:
    plan = _Plan(keep=keep, remove=remove)
    for kind in KINDS:
        manager = kind.model._default_manager
        kept: dict[Hashable, models.Model] = {}
        for row in manager.filter(organization=keep).select_related(*kind.related).order_by("pk"):
            kept.setdefault(kind.key(row), row)
        rows = []
        for row in manager.filter(organization=remove).select_related(*kind.related).order_by("pk"):
            target = kept.get(kind.key(row))
            if target is None:
                # Moves over; a later record of the removed organization with the same
                # key (entered before the rule was checked) is combined into it.
                kept[kind.key(row)] = row
            rows.append((row, target))
        plan.rows[kind.name] = rows

    registrations = plan.combined("registrations")
    for agreement in Agreement.objects.filter(registration__in=list(registrations)).order_by("pk"):
        plan.buyers.append((agreement, registrations[agreement.registration_id]))

    exhibitors = plan.combined("exhibitions")
    if exhibitors:
        targets = {target.pk for target in exhibitors.values()}
        taken = set(
            AgreementExhibitor.objects.filter(exhibitor__in=targets).values_list(
                "agreement_id", "exhibitor_id"
            )
        )
        for party in AgreementExhibitor.objects.filter(exhibitor__in=list(exhibitors)).order_by(
            "pk"
        ):
            target = exhibitors[party.exhibitor_id]
            if (party.agreement_id, target.pk) in taken:
                plan.parties_dropped.append(party)
            else:
                taken.add((party.agreement_id, target.pk))
                plan.parties_moved.append((party, target))

    for name, field_name in (("investment_intentions", "intention"), ("pledges", "pledge")):
        combined = plan.combined(name)
        if not combined:
            continue
        moves = FollowUpMove.objects.filter(**{f"{field_name}__in": list(combined)})
        for move in moves.order_by("pk"):
            plan.moves.append((move, field_name, combined[getattr(move, f"{field_name}_id")]))

    for name in FILLED_FIELDS:
        if getattr(keep, name) in (None, "") and getattr(remove, name) not in (None, ""):
            plan.filled[name] = getattr(remove, name)
    return plan


# ---------------------------------------------------------------------------------------
# The merge
# ---------------------------------------------------------------------------------------


def organization_merge_preview(*, keep: Organization, remove: Organization) -> MergeReport:
    """What `organization_merge` would do, without writing anything; refused the same way."""
    _check(keep=keep, remove=remove)
    return _plan(keep=keep, remove=remove).report()


@transaction.atomic
def organization_merge(*, keep: Organization, remove: Organization, user) -> MergeReport:
    """Merge `remove` into `keep`: every record of `remove` moves to `keep`, where `keep`
    has one that would collide the two are combined into `keep`'s, and `remove` is
    deleted. Every changed and deleted row is saved through its model, so its history
    shows the merge (the change reason) and `user`.

    Combining keeps what either says: the larger number of participants (the same
    people entered twice, not twice as many), a purchaser if either is, the further
    status or stage, the earliest date, blank fields filled, notes joined. Agreements
    whose buyer was a combined registration, exhibitor links of a combined exhibitor
    row (dropped where the agreement already has the kept one) and follow-up moves of
    combined intentions and pledges move to the kept record."""
    _check(keep=keep, remove=remove)
    # Two reviewers merging the same records at once: the second waits, then finds the
    # removed organization gone.
    locked = set(
        Organization.objects.select_for_update()
        .filter(pk__in=[keep.pk, remove.pk])
        .values_list("pk", flat=True)
    )
    if locked != {keep.pk, remove.pk}:
        raise ValidationError(
            _("One of the two organizations no longer exists; it may have been merged already."),
            code="merge_gone",
        )
    keep.refresh_from_db()
    remove.refresh_from_db()
    _check(keep=keep, remove=remove)
    plan = _plan(keep=keep, remove=remove)
    report = plan.report()
    reason = merge_reason(keep=keep, remove=remove)

    def save(instance: models.Model, *, clean: bool = True) -> None:
        instance._change_reason = reason
        instance._history_user = user
        if clean:
            instance.full_clean()
        else:  # the fields and constraints, without the model's own rules
            instance.clean_fields()
            instance.validate_unique()
            instance.validate_constraints()
        instance.save()

    def delete(instance: models.Model) -> None:
        instance._change_reason = reason
        instance._history_user = user
        instance.delete()

    kinds = {kind.name: kind for kind in KINDS}
    for name, rows in plan.rows.items():
        for row, target in rows:
            if target is None:
                row.organization = keep
                save(row)
            else:
                kinds[name].combine(target, row)
                save(target)

    # What pointed at a combined record now points at the record it was combined into;
    # only then are the combined records deleted (nothing protects or cascades from them).
    for agreement, registration in plan.buyers:
        agreement.registration = registration
        # The kept registration is withdrawn only if both were, so this buyer withdrew
        # after signing already: the rule that a withdrawn buyer signs nothing is for
        # new agreements, and must not stop the merge. (The tree is the same: paired.)
        save(agreement, clean=registration.status != RegistrationStatus.WITHDRAWN)
    for party in plan.parties_dropped:
        delete(party)
    for party, exhibitor in plan.parties_moved:
        party.exhibitor = exhibitor
        save(party)
    for move, field_name, record in plan.moves:
        setattr(move, field_name, record)
        save(move)
    for rows in plan.rows.values():
        for row, target in rows:
            if target is not None:
                delete(row)

    # The removed organization goes first, so that its credit code is free for the kept one.
    removed_illustrative = remove.illustrative
    delete(remove)
    for name, value in plan.filled.items():
        setattr(keep, name, value)
    keep.illustrative = keep.illustrative and removed_illustrative
    save(keep)

    figures_changed()
    return report
