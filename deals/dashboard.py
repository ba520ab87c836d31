"""The staff dashboard on the admin's front page: a delegation's headline figures live,
what changed since they were last published, the follow-ups due this week and overdue
per owner, and the pipeline of investment intentions and CIFTIS pledges by stage.

Each part is a typed, keyword-only function returning a small frozen dataclass, built
from aggregate queries so that the number of queries does not grow with the records.
`install()` puts the dashboard on the admin's index page (see its docstring).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.admin import AdminSite
from django.db import models
from django.db.models import Case, CharField, Count, F, FilteredRelation, Q, Value, When
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegations.models import Delegation, Organization, OrganizationKind, Registration
from delegations.scope import delegations_for, sees_all

from . import formatting as fmt
from .models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    Exhibitor,
    InvestmentIntention,
    Publication,
    Visit,
)
from .services import STAGES
from .stats import (
    FIGURE_LABELS,
    Headline,
    cached_headline_figures,
    cached_many,
    headline_figures,
    headline_from_json,
)
from .views import FigureCard, KindRow, figure_cards, kind_rows, latest_default_delegation

# The query parameter of the admin index that picks another delegation.
DELEGATION_PARAMETER = "delegation"

# ---------------------------------------------------------------------------------------
# Which delegation the dashboard shows
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DelegationChoice:
    """The delegation the dashboard shows (None while none has records), and the
    trading delegations it may show instead, latest edition first."""

    delegation: Delegation | None
    choices: list[Delegation]


def dashboard_delegation(*, requested: str | None, user: Any = None) -> DelegationChoice:
    """The delegation whose key is `requested` (the `?delegation=` parameter), else the
    default delegation at its latest edition with records, as the public home page
    picks it, among those `user` sees whole: every trading delegation for the
    organizer's staff; for others, the delegations they belong to that are not part of
    one they see (a sub-delegation's member sees their sub-delegation's figures, never
    its parent's, which count the other sub-delegations' records). Two queries at most:
    the list of choices, and the default."""
    if user is None or sees_all(user):
        choices = list(
            Delegation.objects.for_page().top_level().order_by("-edition__starts_on", "name_zh")
        )
    else:
        visible = delegations_for(user)
        choices = list(
            visible.for_page()
            .exclude(parent__in=visible.values("pk"))
            .order_by("-edition__starts_on", "parent_id", "name_zh")
        )
    if requested and requested.isdigit():
        for choice in choices:
            if choice.pk == int(requested):
                return DelegationChoice(delegation=choice, choices=choices)
    default = latest_default_delegation()
    if default is not None and default not in choices:
        default = choices[0] if choices else None
    return DelegationChoice(delegation=default, choices=choices)


# ---------------------------------------------------------------------------------------
# What changed since the last publication
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureChange:
    """A headline figure (or one part of a breakdown) whose live value differs from the
    published one: both raw, and both as the public page prints them."""

    key: str
    label: str
    part: str | None
    part_label: str
    published: Any
    live: Any
    published_shown: str
    live_shown: str


@dataclass(frozen=True)
class RecordsChanged:
    """How many records of one kind were created, and how many others changed, since a
    moment."""

    model: type[models.Model]
    created: int
    changed: int

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def key(self) -> str:
        return self.model._meta.model_name


@dataclass(frozen=True)
class SincePublication:
    """The latest publication of a delegation's figures (None: never published), the
    figures that differ from it now, and the records written since."""

    publication: Publication | None
    figures: list[FigureChange]
    records: list[RecordsChanged]
    publish_url: str

    @property
    def records_touched(self) -> int:
        return sum(row.created + row.changed for row in self.records)


def changes_since_publication(*, delegation: Delegation, live: Headline) -> SincePublication:
    """How the `live` figures of `delegation` differ from its latest publication, and
    which records of its tree were created or changed since: two queries."""
    publication = Publication.objects.latest_of(delegation)
    records = (
        records_changed_since(delegation=delegation, since=publication.published_at)
        if publication is not None
        else []
    )
    return _since(delegation=delegation, live=live, publication=publication, records=records)


def _since(
    *,
    delegation: Delegation,
    live: Headline,
    publication: Publication | None,
    records: list[RecordsChanged],
) -> SincePublication:
    publish_url = publishing_url(delegation=delegation)
    if publication is None:
        return SincePublication(publication=None, figures=[], records=[], publish_url=publish_url)
    published = headline_from_json(
        publication.figures,
        delegation=delegation,
        previous_delegation=publication.previous_delegation,
    )
    return SincePublication(
        publication=publication,
        figures=figure_changes(published=published, live=live),
        records=records,
        publish_url=publish_url,
    )


def figures_and_changes(*, delegation: Delegation) -> tuple[LiveFigures, SincePublication]:
    """`live_figures` and `changes_since_publication` of `delegation`, both from the
    cache in one read while no record changed: the publication, then the figures and the
    counts of the records written since it, under the token every change of a record (a
    deletion and a new publication included) replaces. The counts read every record of
    the tree, tens of thousands for the largest delegations, and nothing but a change
    alters them (the time passing does not), so they are cached like the figures."""
    publication = Publication.objects.latest_of(delegation)
    computes: dict[str, Callable[[], Any]] = {
        "headline": lambda: headline_figures(delegation=delegation)
    }
    since_key = None
    if publication is not None:
        since_key = f"records-since:{publication.pk}:{publication.published_at.isoformat()}"
        computes[since_key] = lambda: records_changed_since(
            delegation=delegation, since=publication.published_at
        )
    values = cached_many(delegation=delegation, computes=computes)
    headline = values["headline"]
    live = LiveFigures(headline=headline, cards=figure_cards(headline), kinds=kind_rows(headline))
    records = values[since_key] if since_key is not None else []
    return live, _since(
        delegation=delegation, live=headline, publication=publication, records=records
    )


def figure_changes(*, published: Headline, live: Headline) -> list[FigureChange]:
    """The figures whose value differs between two headlines, in the order of the
    product's table; a breakdown is compared part by part (a part missing on one side
    counts as none). No query."""
    shown_then, shown_now = _shown_values(published), _shown_values(live)
    kind_labels = dict(OrganizationKind.choices)
    changes = []
    for key, label in FIGURE_LABELS.items():
        then, now = published.figures[key].value, live.figures[key].value
        if isinstance(then, dict) or isinstance(now, dict):
            then, now = then or {}, now or {}
            parts = [*now, *(part for part in then if part not in now)]
            for part in parts:
                if then.get(part, 0) != now.get(part, 0):
                    changes.append(
                        FigureChange(
                            key=key,
                            label=str(label),
                            part=part,
                            part_label=str(kind_labels.get(part, part)),
                            published=then.get(part, 0),
                            live=now.get(part, 0),
                            published_shown=fmt.number(then.get(part, 0)),
                            live_shown=fmt.number(now.get(part, 0)),
                        )
                    )
        elif then != now:
            changes.append(
                FigureChange(
                    key=key,
                    label=str(label),
                    part=None,
                    part_label="",
                    published=then,
                    live=now,
                    published_shown=shown_then[key],
                    live_shown=shown_now[key],
                )
            )
    return changes


def _shown_values(headline: Headline) -> dict[str, str]:
    # As the public page prints each figure, the whole amount rather than "US$2.66
    # billion", so that a change of a few dollars shows.
    return {card.key: card.exact or card.value for card in figure_cards(headline)}


def records_changed_since(
    *, delegation: Delegation, since: datetime.datetime
) -> list[RecordsChanged]:
    """How many records behind the figures of `delegation` (its sub-delegations
    included) were created since `since`, and how many older ones were changed: the
    registrations, the agreements and the exhibitors party to them, visits, investment
    intentions, CIFTIS pledges, and the organizations in any of them. One query, of one counting
    subquery per kind. Deleted records leave no trace here (the live figures do count
    them out), nor does linking an exhibitor to an agreement."""
    tree = Delegation.objects.tree_keys(delegation)
    registrations = Registration.objects.filter(delegation__in=tree)
    exhibitors = Exhibitor.objects.filter(
        pk__in=AgreementExhibitor.objects.filter(agreement__delegation__in=tree).values("exhibitor")
    )
    visits = Visit.objects.filter(delegation__in=tree)
    intentions = InvestmentIntention.objects.filter(delegation__in=tree)
    pledges = CiftisPledge.objects.filter(source_delegation__in=tree)
    # An organization's kind and country feed the figures of every record it is in.
    organizations = Organization.objects.filter(
        Q(pk__in=registrations.values("organization"))
        | Q(pk__in=exhibitors.values("organization"))
        | Q(pk__in=visits.values("organization"))
        | Q(pk__in=intentions.values("organization"))
        | Q(pk__in=pledges.values("organization"))
    )
    kinds: dict[type[models.Model], models.QuerySet] = {
        Registration: registrations,
        Organization: organizations,
        Agreement: Agreement.objects.filter(delegation__in=tree),
        Exhibitor: exhibitors,
        Visit: visits,
        InvestmentIntention: intentions,
        CiftisPledge: pledges,
    }
    counts = {}
    for model, records in kinds.items():
        name = model._meta.model_name
        counts[f"{name}_created"] = _count(records.filter(created_at__gt=since))
        counts[f"{name}_changed"] = _count(
            records.filter(created_at__lte=since, updated_at__gt=since)
        )
    row = Delegation.objects.filter(pk=delegation.pk).values(**counts).get()
    return [
        RecordsChanged(
            model=model,
            created=row[f"{model._meta.model_name}_created"],
            changed=row[f"{model._meta.model_name}_changed"],
        )
        for model in kinds
    ]


def _count(records: models.QuerySet) -> models.Subquery:
    """COUNT(*) of `records` as a scalar subquery (no GROUP BY: one row, even of none)."""
    counted = records.order_by().annotate(n=models.Func(F("pk"), function="COUNT")).values("n")
    return models.Subquery(counted, output_field=models.IntegerField())


def publishing_url(*, delegation: Delegation) -> str:
    """Where a reviewer publishes the figures of `delegation`: the publish page with the
    delegation chosen, else the publications' admin page, else the delegation's own
    admin page, whichever the admin site has."""
    for name, query in (
        ("admin:deals_publication_publish", f"?delegation={delegation.pk}"),
        ("admin:deals_publication_changelist", ""),
    ):
        try:
            return reverse(name) + query
        except NoReverseMatch:
            continue
    return reverse("admin:delegations_delegation_change", args=[delegation.pk])


# ---------------------------------------------------------------------------------------
# Follow-ups due this week and overdue, per owner
# ---------------------------------------------------------------------------------------

FOLLOWED: tuple[type[models.Model], ...] = (Agreement, InvestmentIntention, CiftisPledge)
OVERDUE, DUE = "overdue", "due"
# How many records a group lists before it says "and N more".
LISTED = 10

# What a listed record's label reads, fetched with it.
_LABEL_RELATED: dict[type[models.Model], tuple[str, ...]] = {
    Agreement: ("registration__organization",),
    InvestmentIntention: ("organization",),
    CiftisPledge: ("organization", "target_edition__fair"),
}


@dataclass(frozen=True)
class FollowUpItem:
    """A record to act on, as a group lists it."""

    model: type[models.Model]
    pk: int
    label: str
    stage: str
    next_action_on: datetime.date
    url: str

    @property
    def kind(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def key(self) -> str:
        return f"{self.model._meta.model_name}-{self.pk}"


@dataclass(frozen=True)
class FollowUpGroup:
    """The records of one owner in one bucket (overdue, due this week): how many, and
    the first of them by next action date."""

    count: int
    items: list[FollowUpItem]

    @property
    def more(self) -> int:
        return self.count - len(self.items)


@dataclass(frozen=True)
class OwnerFollowUps:
    """What one owner (None: no owner yet) has overdue and due this week."""

    owner_id: int | None
    owner: str
    overdue: FollowUpGroup
    due: FollowUpGroup


@dataclass(frozen=True)
class FollowUps:
    """The agreements, intentions and pledges not at a final stage whose next action is
    overdue (before `today`) or due this week (`today` to Sunday `week_ends`), per owner."""

    today: datetime.date
    week_ends: datetime.date
    owners: list[OwnerFollowUps]

    @property
    def overdue(self) -> int:
        return sum(owner.overdue.count for owner in self.owners)

    @property
    def due(self) -> int:
        return sum(owner.due.count for owner in self.owners)


def follow_ups_due(
    *,
    delegation: Delegation,
    today: datetime.date | None = None,
    kinds: tuple[type[models.Model], ...] = FOLLOWED,
) -> FollowUps:
    """The follow-ups of `delegation`'s tree overdue and due this week, per owner, of
    the `kinds` of records asked for: one query per kind, which counts each owner's
    records per bucket (a window count, over all of them) and returns only the first
    `LISTED` of each."""
    today = today or timezone.localdate()
    week_ends = today + datetime.timedelta(days=6 - today.weekday())
    found: dict[tuple[int | None, str], list[FollowUpItem]] = defaultdict(list)
    counts: dict[tuple[int | None, str], int] = defaultdict(int)
    owners: dict[int | None, str] = {None: str(_("no owner"))}
    for model in kinds:
        for record in _due_records(model, delegation, today=today, week_ends=week_ends):
            group = (record.owner_id, record.bucket)
            if record.position == 1:
                counts[group] += record.in_group
            if record.owner_id is not None:
                owners[record.owner_id] = (
                    record.owner.get_full_name() or record.owner.get_username()
                )
            found[group].append(_item(model, record))

    def group(owner_id: int | None, bucket: str) -> FollowUpGroup:
        items = sorted(
            found[(owner_id, bucket)],
            key=lambda item: (item.next_action_on, FOLLOWED.index(item.model), item.pk),
        )
        return FollowUpGroup(count=counts[(owner_id, bucket)], items=items[:LISTED])

    present = {owner_id for owner_id, _bucket in counts}
    # The owners by name, the records no one owns yet last.
    order = sorted(present, key=lambda owner_id: (owner_id is None, owners[owner_id].casefold()))
    return FollowUps(
        today=today,
        week_ends=week_ends,
        owners=[
            OwnerFollowUps(
                owner_id=owner_id,
                owner=owners[owner_id],
                overdue=group(owner_id, OVERDUE),
                due=group(owner_id, DUE),
            )
            for owner_id in order
        ],
    )


def _due_records(
    model: type[models.Model],
    delegation: Delegation,
    *,
    today: datetime.date,
    week_ends: datetime.date,
) -> models.QuerySet:
    stages = STAGES[model]
    open_stages = [stage for stage in stages.labels if not stages.is_final(stage)]
    tree_field = "source_delegation" if model is CiftisPledge else "delegation"
    bucket = Case(
        When(next_action_on__lt=today, then=Value(OVERDUE)),
        default=Value(DUE),
        output_field=CharField(),
    )
    partition = [F("owner_id"), bucket]
    return (
        model.objects.filter(
            **{
                f"{tree_field}__in": Delegation.objects.tree_keys(delegation),
                f"{stages.field}__in": open_stages,
                "next_action_on__lte": week_ends,
            }
        )
        .select_related("owner", *_LABEL_RELATED[model])
        .annotate(
            bucket=bucket,
            position=models.Window(
                RowNumber(), partition_by=partition, order_by=[F("next_action_on"), F("pk")]
            ),
            in_group=models.Window(Count("pk"), partition_by=partition),
        )
        .filter(position__lte=LISTED)
        .order_by("next_action_on", "pk")
    )


def _item(model: type[models.Model], record: Any) -> FollowUpItem:
    if model is Agreement:
        label = f"{record.reference} · {record.registration.organization}"
    elif model is InvestmentIntention:
        label = str(record.organization)
    else:
        label = str(record)
    stages = STAGES[model]
    return FollowUpItem(
        model=model,
        pk=record.pk,
        label=label,
        stage=str(stages.labels[getattr(record, stages.field)]),
        next_action_on=record.next_action_on,
        url=reverse(f"admin:deals_{model._meta.model_name}_change", args=[record.pk]),
    )


# ---------------------------------------------------------------------------------------
# The pipeline of intentions and pledges
# ---------------------------------------------------------------------------------------

PIPELINES: tuple[type[models.Model], ...] = (InvestmentIntention, CiftisPledge)


@dataclass(frozen=True)
class PipelineStage:
    """One stage of a pipeline: how many records reached it, how many are at it now,
    how many dropped out from it, and the share of those that reached it that went on to
    reach the next stage (None at the last stage, or when none reached this one)."""

    stage: str
    label: str
    reached: int
    current: int
    dropped: int
    conversion: float | None


@dataclass(frozen=True)
class Pipeline:
    """The records of one kind of a delegation's tree by stage, in the order in which
    a lead advances, and how many dropped out (dropped, withdrawn)."""

    model: type[models.Model]
    total: int
    stages: list[PipelineStage]
    dropped: int
    dropped_label: str

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    @property
    def key(self) -> str:
        return self.model._meta.model_name


def pipeline(*, delegation: Delegation, model: type[models.Model]) -> Pipeline:
    """The pipeline of `model` (investment intentions, CIFTIS pledges) in `delegation`'s
    tree: one aggregate query.

    A record *reached* a stage of `STAGES[model].order` when it is at that stage or at a
    later one of the order, or when it dropped out (dropped, withdrawn) from that stage
    or a later one: the `from_stage` of its move to the drop stage says where from. A
    stage skipped on the way counts as reached (an intention expressed and then signed
    has passed negotiation); a record entered as dropped, without a move, reached the
    first stage only. So every record reached the first stage, and the conversion from a
    stage to the next is the share of the records that reached it that reached the next.
    """
    stages = STAGES[model]
    order = list(stages.order)
    drops = [stage for stage in stages.labels if stage not in order]
    field = stages.field
    tree_field = "source_delegation" if model is CiftisPledge else "delegation"
    dropped_out = Q(**{f"{field}__in": drops})
    aggregates = {
        "total": Count("pk", distinct=True),
        "dropped": Count("pk", distinct=True, filter=dropped_out),
    }
    for index, stage in enumerate(order):
        onwards = order[index:]
        aggregates[f"reached_{index}"] = Count(
            "pk",
            distinct=True,
            # Every record reached the first stage, a dropped one without a move too.
            filter=(
                Q(**{f"{field}__in": onwards}) | (dropped_out & Q(move_out__from_stage__in=onwards))
                if index
                else None
            ),
        )
        aggregates[f"current_{index}"] = Count("pk", distinct=True, filter=Q(**{field: stage}))
        aggregates[f"dropped_{index}"] = Count(
            "pk", distinct=True, filter=dropped_out & Q(move_out__from_stage=stage)
        )
    row = (
        model.objects.filter(**{f"{tree_field}__in": Delegation.objects.tree_keys(delegation)})
        # The move that took a record out, joined rather than looked up row by row.
        .annotate(move_out=FilteredRelation("moves", condition=Q(moves__to_stage__in=drops)))
        .aggregate(**aggregates)
    )
    reached = [row[f"reached_{index}"] for index in range(len(order))]
    return Pipeline(
        model=model,
        total=row["total"],
        stages=[
            PipelineStage(
                stage=stage,
                label=str(stages.labels[stage]),
                reached=reached[index],
                current=row[f"current_{index}"],
                dropped=row[f"dropped_{index}"],
                conversion=(
                    round(reached[index + 1] / reached[index], 6)
                    if index + 1 < len(order) and reached[index]
                    else None
                ),
            )
            for index, stage in enumerate(order)
        ],
        dropped=row["dropped"],
        dropped_label=" / ".join(str(stages.labels[stage]) for stage in drops),
    )


# ---------------------------------------------------------------------------------------
# The admin's index page
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveFigures:
    """The headline figures of a delegation as they are now, as the public page
    prints them."""

    headline: Headline
    cards: list[FigureCard]
    kinds: list[KindRow]


def live_figures(*, delegation: Delegation) -> LiveFigures:
    """The figures of `delegation` now, from the cache while no record changed."""
    headline = cached_headline_figures(delegation=delegation)
    return LiveFigures(headline=headline, cards=figure_cards(headline), kinds=kind_rows(headline))


@dataclass(frozen=True)
class Dashboard:
    """What the admin's front page shows a staff member: the parts they may see (None
    or empty for the others)."""

    choice: DelegationChoice
    figures: LiveFigures | None
    since: SincePublication | None
    follow_ups: FollowUps | None
    pipelines: list[Pipeline]

    @property
    def delegation(self) -> Delegation | None:
        return self.choice.delegation

    @property
    def others(self) -> list[Delegation]:
        return [choice for choice in self.choice.choices if choice != self.delegation]


def dashboard_for(
    *, user: Any, requested: str | None, today: datetime.date | None = None
) -> Dashboard | None:
    """The dashboard as `user` may see it, of the delegation `requested` (a key) or the
    default one; None for a user who may see none of its parts. The figures need the
    permission to view agreements (as the live preview of the public page does), each
    kind of follow-up and pipeline the permission to view that kind of record."""

    def may_view(model: type[models.Model]) -> bool:
        return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")

    sees_figures = may_view(Agreement)
    followed = tuple(model for model in FOLLOWED if may_view(model))
    piped = [model for model in PIPELINES if may_view(model)]
    if not (sees_figures or followed or piped):
        return None
    choice = dashboard_delegation(requested=requested, user=user)
    delegation = choice.delegation
    if delegation is None:
        return Dashboard(choice=choice, figures=None, since=None, follow_ups=None, pipelines=[])
    figures, since = figures_and_changes(delegation=delegation) if sees_figures else (None, None)
    return Dashboard(
        choice=choice,
        figures=figures,
        since=since,
        follow_ups=(
            follow_ups_due(delegation=delegation, today=today, kinds=followed) if followed else None
        ),
        pipelines=[pipeline(delegation=delegation, model=model) for model in piped],
    )


def install(site: AdminSite) -> None:
    """Put the dashboard on `site`'s index page, above the list of apps Django shows.

    The site's `index` view is wrapped (called from `DealsConfig.ready()`, before the
    URLs are built from it): the wrapper computes the dashboard and hands it to Django's
    own view as extra context, which `templates/admin/index.html` prints. Django's view,
    its app list, its permission checks and its staff-only decorator stay as they are,
    and the project keeps Django's own `AdminSite` rather than a subclass that every
    `@admin.register` would have to name."""
    index: Callable[..., Any] = site.index
    if getattr(index, "shows_dashboard", False):
        return  # installed already

    @wraps(index)
    def index_with_dashboard(request: HttpRequest, extra_context: dict | None = None):
        dashboard = dashboard_for(
            user=request.user, requested=request.GET.get(DELEGATION_PARAMETER)
        )
        context = {
            "dashboard": dashboard,
            "delegation_parameter": DELEGATION_PARAMETER,
            **(extra_context or {}),
        }
        return index(request, extra_context=context)

    index_with_dashboard.shows_dashboard = True  # type: ignore[attr-defined]
    site.index = index_with_dashboard
