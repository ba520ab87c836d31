"""Per-delegation scope: which records a staff member sees and changes.

A staff member belongs to delegations (`Delegation.members`). They see and change the
records of those delegations and of their sub-delegations, nothing else; the
organizer's staff (superusers, and whoever is granted `delegations.view_all_delegations`)
see and change everything. A staff member who belongs to no delegation sees no record
of any: a new account starts with nothing, not with everything.

This module is the one place that knows the way from each kind of record to its
delegation (`paths()`). The admin (`get_queryset`, the choices of every relation, the
forms' checks), the staff API (querysets and writes), the dashboard, the publish page
and the spreadsheet import all ask it.

Reference data is shared, not scoped: fairs, editions, sectors, exchange rates, and the
organizations and exhibitors that many delegations deal with. Every staff member may
look an organization up, but its company page lists only the records in their scope.
The public site and the public API show published figures and are not scoped.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Delegation, Registration

VIEW_ALL = "delegations.view_all_delegations"

# Said of a record (or a choice) outside the user's delegations.
NOT_YOURS = _("Choose one of your delegations (or one of their sub-delegations).")


def sees_all(user) -> bool:
    """Whether `user` is of the organizer's staff, who see every delegation's records."""
    if user is None or not user.is_active:
        return False
    return user.is_superuser or user.has_perm(VIEW_ALL)


def delegations_for(user) -> QuerySet[Delegation]:
    """The delegations whose records `user` sees: all of them for the organizer's
    staff, else those they are a member of and their sub-delegations. Lazy: used in a
    filter, it is a subquery, not a query of its own."""
    if sees_all(user):
        return Delegation.objects.all()
    if user is None or not user.is_authenticated:
        return Delegation.objects.none()
    return Delegation.objects.filter(members=user).with_descendants()


def delegation_keys(user) -> frozenset[int] | None:
    """The keys of `delegations_for(user)` as a set (one query), or None for "all":
    for code that checks many values in Python, such as an import."""
    if sees_all(user):
        return None
    # Kept on the user object, as Django keeps its permissions: once per request.
    cached = getattr(user, "_delegation_keys", None)
    if cached is None:
        cached = frozenset(delegations_for(user).values_list("pk", flat=True))
        if user is not None:
            user._delegation_keys = cached
    return cached


def _paths() -> dict[type[models.Model], tuple[str, ...]]:
    # Imported here: deals builds on this app.
    from deals.models import (
        Agreement,
        AgreementExhibitor,
        CiftisPledge,
        FollowUpMove,
        InvestmentIntention,
        Publication,
        Visit,
    )

    return {
        Delegation: ("pk",),
        Registration: ("delegation",),
        # Recorded in a delegation of the tree, its buyer registered in one: either
        # makes it a record of that delegation.
        Agreement: ("delegation", "registration__delegation"),
        AgreementExhibitor: ("agreement__delegation",),
        Visit: ("delegation",),
        InvestmentIntention: ("delegation",),
        # A pledge without a source delegation belongs to no delegation: the
        # organizer's staff see it.
        CiftisPledge: ("source_delegation",),
        FollowUpMove: (
            "agreement__delegation",
            "intention__delegation",
            "pledge__source_delegation",
        ),
        Publication: ("delegation",),
    }


_PATHS: dict[type[models.Model], tuple[str, ...]] | None = None


def paths() -> dict[type[models.Model], tuple[str, ...]]:
    """Each scoped model and the lookups from it to its delegation (any one will do)."""
    global _PATHS
    if _PATHS is None:
        _PATHS = _paths()
    return _PATHS


def is_scoped(model: type[models.Model]) -> bool:
    from deals.models import ImportRun

    return model in paths() or model is ImportRun


def scope(queryset: QuerySet, user) -> QuerySet:
    """`queryset` cut down to what `user` may see; unchanged for the organizer's staff
    and for shared reference data."""
    model = queryset.model
    if not is_scoped(model) or sees_all(user):
        return queryset
    keys = delegations_for(user).values("pk")
    from deals.models import ImportRun

    if model is ImportRun:
        # An import is seen by whoever made it and by the staff of the delegations its
        # maker belongs to (a scoped maker's import only wrote records in their scope).
        if user is None or not user.is_authenticated:
            return queryset.none()
        makers = get_user_model().objects.filter(delegations__in=keys).values("pk")
        return queryset.filter(Q(user=user) | Q(user__in=makers))
    condition = Q()
    for path in paths()[model]:
        condition |= Q(**{f"{path}__in": keys})
    return queryset.filter(condition)


def in_scope(user, obj: models.Model) -> bool:
    """Whether the record `obj` is one `user` may see and change: read from the
    record's own keys, without a query once the user's delegations are known."""
    if obj is None or not is_scoped(type(obj)) or sees_all(user):
        return True
    if type(obj) not in paths():  # an import: whose it is takes a query
        return scope(type(obj)._default_manager.filter(pk=obj.pk), user).exists()
    keys = delegation_keys(user) or frozenset()
    if isinstance(obj, Delegation):
        return delegation_within(keys, obj)
    return any(_delegation_of(obj, path) in keys for path in paths()[type(obj)])


def delegation_within(keys: frozenset[int] | None, delegation: Delegation) -> bool:
    """Whether `delegation` is among `keys` (None: all), or is a sub-delegation made
    since under one of them."""
    if keys is None:
        return True
    return delegation.pk in keys or (
        delegation.parent_id is not None and delegation.parent_id in keys
    )


def _delegation_of(instance: models.Model, path: str) -> int | None:
    """The key of the delegation `path` leads to from an unsaved or changed instance."""
    *relations, last = path.split("__")
    target = instance
    for name in relations:
        if getattr(target, f"{name}_id", None) is None:
            return None
        target = getattr(target, name)
    if last == "pk":
        return target.pk
    return getattr(target, f"{last}_id", None)


def out_of_scope_field(user, instance: models.Model) -> str | None:
    """The field of `instance` (about to be saved) that puts it outside `user`'s
    delegations, or None when it is inside them (or needs no scope).

    A delegation is inside when it is one of the user's (or a sub-delegation of one)
    or when it is a new sub-delegation of one of theirs; a new trading delegation is
    the organizer's staff's to add."""
    model = type(instance)
    if model not in paths() or sees_all(user):
        return None
    keys = delegation_keys(user) or frozenset()
    if model is Delegation:
        if instance.parent_id is not None and instance.parent_id in keys:
            return None  # a sub-delegation of one of theirs
        if instance.pk is None or instance.pk not in keys:
            return "parent"
        # One of theirs, kept under the parent it had: moving it elsewhere (or making
        # it a trading delegation) is the organizer's staff's.
        stored = Delegation.objects.filter(pk=instance.pk).values_list("parent_id", flat=True)
        return None if instance.parent_id == stored.first() else "parent"
    names = paths()[model]
    found = [_delegation_of(instance, path) for path in names]
    if any(key in keys for key in found if key is not None):
        return None
    return names[0].split("__")[0]


def organization_records_outside(user, organization) -> bool:
    """Whether `organization` has records in delegations outside `user`'s scope: a
    change that moves all its records (a merge) is then the organizer's staff's."""
    if sees_all(user):
        return False
    from deals.models import Agreement, AgreementExhibitor, CiftisPledge, InvestmentIntention, Visit

    records = [
        Registration.objects.filter(organization=organization),
        Agreement.objects.filter(registration__organization=organization),
        AgreementExhibitor.objects.filter(exhibitor__organization=organization),
        Visit.objects.filter(organization=organization),
        InvestmentIntention.objects.filter(organization=organization),
        CiftisPledge.objects.filter(organization=organization),
    ]
    return any(
        queryset.exclude(pk__in=scope(queryset, user).values("pk")).exists() for queryset in records
    )
