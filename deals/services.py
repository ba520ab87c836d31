"""Writes that follow a lead up after the expo: an agreement executed or cancelled, an
investment intention moving through its stages, a CIFTIS pledge turning into a
registration and attendance. The admin, the API and the import all move records here,
so that every move is checked against what its stage allows and kept, dated, with who
recorded it."""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from delegations.models import Delegation, Registration, RegistrationStatus

from .models import (
    Agreement,
    AgreementStatus,
    CiftisPledge,
    FollowUpMove,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Publication,
)
from .sheets import EN, ZH, Bilingual, Message
from .stats import (
    agreements_by_sector,
    exhibitors_by_country,
    headline_figures,
    shares_as_json,
)

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# What each stage allows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stages:
    """The stages of one kind of followed record: its field, the moves each stage
    allows, and the order in which a lead advances (for the pipeline's conversion)."""

    field: str
    moves: dict[str, frozenset[str]]
    order: tuple[str, ...]
    labels: dict[str, str]

    def allowed(self, stage: str) -> list[str]:
        return [to for to in self.labels if to in self.moves.get(stage, frozenset())]

    def is_final(self, stage: str) -> bool:
        return not self.moves.get(stage)


STAGES: dict[type[models.Model], Stages] = {
    Agreement: Stages(
        field="status",
        moves={
            AgreementStatus.SIGNED: frozenset(
                {AgreementStatus.EXECUTED, AgreementStatus.CANCELLED}
            ),
        },
        order=(AgreementStatus.SIGNED, AgreementStatus.EXECUTED),
        labels=dict(AgreementStatus.choices),
    ),
    InvestmentIntention: Stages(
        field="stage",
        # Forward, as far as the lead goes (a stage may be skipped), or dropped.
        moves={
            IntentionStage.EXPRESSED: frozenset(
                {
                    IntentionStage.NEGOTIATING,
                    IntentionStage.SIGNED,
                    IntentionStage.LANDED,
                    IntentionStage.DROPPED,
                }
            ),
            IntentionStage.NEGOTIATING: frozenset(
                {IntentionStage.SIGNED, IntentionStage.LANDED, IntentionStage.DROPPED}
            ),
            IntentionStage.SIGNED: frozenset({IntentionStage.LANDED, IntentionStage.DROPPED}),
        },
        order=(
            IntentionStage.EXPRESSED,
            IntentionStage.NEGOTIATING,
            IntentionStage.SIGNED,
            IntentionStage.LANDED,
        ),
        labels=dict(IntentionStage.choices),
    ),
    CiftisPledge: Stages(
        field="status",
        moves={
            PledgeStatus.PLEDGED: frozenset(
                {PledgeStatus.REGISTERED, PledgeStatus.ATTENDED, PledgeStatus.WITHDRAWN}
            ),
            PledgeStatus.REGISTERED: frozenset({PledgeStatus.ATTENDED, PledgeStatus.WITHDRAWN}),
        },
        order=(PledgeStatus.PLEDGED, PledgeStatus.REGISTERED, PledgeStatus.ATTENDED),
        labels=dict(PledgeStatus.choices),
    ),
}


def move_problem(model: type[models.Model], current: str, to: str) -> Message | None:
    """Why a record of `model` at stage `current` may not move to `to`, or None: a
    message rendered in the reader's language (both languages, for an import's report)."""
    stages = STAGES[model]
    labels = stages.labels
    allowed = Bilingual(
        zh="、".join(_in(ZH, labels[stage]) for stage in stages.allowed(current)) or "–",
        en=", ".join(_in(EN, labels[stage]) for stage in stages.allowed(current)) or "–",
    )
    if to not in labels:
        return Message(
            _("“%(to)s” is not a stage it has; it may become: %(allowed)s."),
            to=to,
            allowed=allowed,
        )
    if to == current:
        return Message(_("It is already %(stage)s."), stage=labels[current])
    if stages.is_final(current):
        return Message(
            _("It is %(stage)s, which is final: it moves no further."), stage=labels[current]
        )
    if to not in stages.moves[current]:
        return Message(
            _(
                "It cannot go from %(current)s back to %(to)s; from %(current)s it may "
                "become: %(allowed)s."
            ),
            current=labels[current],
            to=labels[to],
            allowed=allowed,
        )
    return None


def _in(language: str, text) -> str:
    with translation.override(language):
        return str(text)


# ---------------------------------------------------------------------------------------
# Moves
# ---------------------------------------------------------------------------------------

UNCHANGED = object()


@transaction.atomic
def follow_up_move(
    *,
    record: Agreement | InvestmentIntention | CiftisPledge,
    to: str,
    user,
    moved_on: datetime.date | None = None,
    note: str = "",
    next_action_on: datetime.date | object | None = UNCHANGED,
    owner=UNCHANGED,
    run=None,
) -> FollowUpMove:
    """Move `record` to stage `to` on `moved_on` (today by default), as `user` records
    it: refused with a ValidationError (on `to` or `moved_on`) when its stage does not
    allow the move or the date is in the future. The record's next action date and owner
    may be set in the same step; a final stage clears the next action."""
    model = type(record)
    stages = STAGES[model]
    locked = model.objects.select_for_update().get(pk=record.pk)
    current = getattr(locked, stages.field)
    problem = move_problem(model, current, to)
    if problem is not None:
        raise ValidationError({"to": str(problem)}, code="move_refused")
    today = timezone.localdate()
    moved_on = moved_on or today
    if moved_on > today:
        raise ValidationError(
            {"moved_on": gettext("A move is recorded once it has happened, not ahead.")},
            code="future",
        )
    setattr(locked, stages.field, to)
    if next_action_on is not UNCHANGED:
        locked.next_action_on = next_action_on
    if owner is not UNCHANGED:
        locked.owner = owner
    if stages.is_final(to):
        locked.next_action_on = None
    locked.full_clean()
    # An import's moves carry its change reason, so that its undo takes them back.
    locked._change_reason = (
        run.change_reason
        if run is not None
        else gettext("moved to %(stage)s") % {"stage": stages.labels[to]}
    )
    if user is not None:
        locked._history_user = user
    locked.save()
    move = FollowUpMove(
        **{FollowUpMove.field_for(model): locked},
        from_stage=current,
        to_stage=to,
        moved_on=moved_on,
        recorded_by=user,
        note=note,
        import_run=run,
    )
    move.full_clean()
    move.save()
    # The caller's instance reads as stored.
    setattr(record, stages.field, to)
    record.next_action_on = locked.next_action_on
    record.owner_id = locked.owner_id
    return move


def pledges_follow_registrations(
    *, registrations: QuerySet[Registration], user, run=None
) -> list[FollowUpMove]:
    """Pledges to an edition whose organization `registrations` now register at it move
    to `registered`, and to `attended` once a registration says the organization
    attended. A pledge already further on, or withdrawn, is left as it is. One query
    finds the pledges, however many registrations an import wrote."""
    at_target = registrations.filter(
        organization=OuterRef("organization"), delegation__edition=OuterRef("target_edition")
    )
    pledges = (
        CiftisPledge.objects.filter(status__in=[PledgeStatus.PLEDGED, PledgeStatus.REGISTERED])
        .filter(Exists(at_target.exclude(status=RegistrationStatus.WITHDRAWN)))
        .annotate(attended=Exists(at_target.filter(status=RegistrationStatus.ATTENDED)))
    )
    moves = []
    for pledge in pledges:
        to = PledgeStatus.ATTENDED if pledge.attended else PledgeStatus.REGISTERED
        if to == pledge.status:
            continue
        moves.append(
            follow_up_move(
                record=pledge,
                to=to,
                user=user,
                note=gettext("Recorded as %(stage)s at the edition.")
                % {"stage": PledgeStatus(to).label},
                run=run,
            )
        )
    return moves


# ---------------------------------------------------------------------------------------
# Publishing
# ---------------------------------------------------------------------------------------


@transaction.atomic
def figures_publish(
    *, delegation: Delegation, user, as_of: datetime.date | None = None, note: str = ""
) -> Publication:
    """Publish the figures of `delegation` at its edition as they are now, as of `as_of`
    (today by default): the public pages and the API show them until the next
    publication. Only a user with `deals.publish_figures` (reviewers) may; `user=None`
    is the system (the seeds)."""
    started = time.monotonic()
    if user is not None and not user.has_perm("deals.publish_figures"):
        logger.warning(
            "publication refused",
            extra={
                "event": "publication",
                "outcome": "refused",
                "user": user.get_username(),
                "delegation": delegation_label(delegation),
            },
        )
        raise PermissionDenied(gettext("Only reviewers publish the figures."))
    headline = headline_figures(delegation=delegation)
    publication = Publication(
        delegation=delegation,
        as_of=as_of or timezone.localdate(),
        published_by=user,
        note=note,
        previous_delegation=headline.previous_delegation,
        figures=headline.as_json(),
        breakdowns={
            "agreements_by_sector": shares_as_json(agreements_by_sector(delegation=delegation)),
            "exhibitors_by_country": shares_as_json(exhibitors_by_country(delegation=delegation)),
        },
    )
    publication.full_clean()
    publication.save()
    logger.info(
        "figures published",
        extra={
            "event": "publication",
            "outcome": "published",
            "publication": publication.pk,
            "delegation": delegation_label(delegation),
            "as_of": publication.as_of.isoformat(),
            "user": user.get_username() if user is not None else None,
            "agreements": headline.figures["agreements"].value,
            "companies_signed": headline.figures["companies_signed"].value,
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return publication


def delegation_label(delegation: Delegation) -> str:
    """`ciie-2019/beijing`: a delegation as the logs name it."""
    return f"{delegation.edition.slug}/{delegation.slug}"
