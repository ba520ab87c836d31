"""What the delegation does at an edition: exhibitors it meets, purchase agreements it
signs, companies it visits, investment intentions and CIFTIS pledges it follows up."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from delegations.models import (
    Delegation,
    Edition,
    Organization,
    Recorded,
    Registration,
    bilingual,
)

from .currencies import USD, validate_currency

CENT = Decimal("0.01")


class Sector(models.Model):
    """A sector of trade or an exhibition area of the expo: a list staff keep."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_zh = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    is_exhibition_area = models.BooleanField(
        _("exhibition area"), default=False, help_text=_("Also an exhibition area of the expo.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "name_zh"]
        verbose_name = _("sector or exhibition area")
        verbose_name_plural = _("sectors and exhibition areas")

    def __str__(self) -> str:
        return bilingual(self.name_zh, self.name_en)

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


class ExchangeRateQuerySet(models.QuerySet):
    def rate_on(self, currency: str, day: datetime.date) -> ExchangeRate | None:
        """The rate in force on `day`: the latest one dated on or before it."""
        return self.filter(currency=currency, valid_on__lte=day).order_by("-valid_on").first()


class ExchangeRate(models.Model):
    """How many US dollars one unit of a currency was worth from a date on."""

    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    valid_on = models.DateField(_("valid from"))
    usd_per_unit = models.DecimalField(
        _("US$ per unit"),
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
    )
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the rate comes from.")
    )

    objects = ExchangeRateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["currency", "-valid_on"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "valid_on"],
                name="exchange_rate_unique_day",
                violation_error_message=_("This currency already has a rate from that day."),
            ),
            models.CheckConstraint(
                condition=Q(usd_per_unit__gt=0),
                name="exchange_rate_positive",
                violation_error_message=_("A rate must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="exchange_rate_currency_form"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.usd_per_unit.normalize()} USD ({self.valid_on})"


class ExhibitorQuerySet(models.QuerySet):
    def party_to(self, delegation: Delegation) -> ExhibitorQuerySet:
        """The exhibitors party to the counted agreements of `delegation` and its
        sub-delegations."""
        return self.filter(pk__in=_parties_of(delegation).values("exhibitor"))

    def agreement_counts(self, delegation: Delegation) -> dict[int, int]:
        """How many of `delegation`'s counted agreements each of these exhibitors is
        party to, by exhibitor key: one query, for a page of exhibitors."""
        rows = (
            _parties_of(delegation)
            .filter(exhibitor__in=self.values("pk"))
            .order_by()
            .values_list("exhibitor")
            .annotate(n=models.Count("pk"))
        )
        return dict(rows)


def _parties_of(delegation: Delegation) -> models.QuerySet:
    agreements = Agreement.objects.counted().filter(
        delegation__in=Delegation.objects.tree_keys(delegation)
    )
    return AgreementExhibitor.objects.filter(agreement__in=agreements.values("pk"))


class Exhibitor(Recorded):
    """An organization exhibiting at an edition, in an exhibition area."""

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="exhibitors", verbose_name=_("edition")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="exhibitions",
        verbose_name=_("organization"),
    )
    exhibition_area = models.ForeignKey(
        Sector,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exhibitors",
        verbose_name=_("exhibition area"),
    )
    booth = models.CharField(_("booth"), max_length=40, blank=True)

    objects = ExhibitorQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["edition_id", "organization__name_zh"]
        verbose_name = _("exhibitor")
        verbose_name_plural = _("exhibitors")
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "organization"],
                name="exhibitor_unique_organization",
                violation_error_message=_("This organization already exhibits at this edition."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.edition}"


class FollowUp(models.Model):
    """Who follows a lead up, and when they next act on it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    next_action_on = models.DateField(_("next action on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        abstract = True


# ---------------------------------------------------------------------------------------
# Purchase agreements
# ---------------------------------------------------------------------------------------


class AgreementKind(models.TextChoices):
    PURCHASE = "purchase", _("purchase agreement")
    STRATEGIC_COOPERATION = "strategic_cooperation", _("strategic cooperation agreement")


class AgreementStatus(models.TextChoices):
    SIGNED = "signed", _("signed")
    EXECUTED = "executed", _("executed")
    CANCELLED = "cancelled", _("cancelled")


class AgreementQuerySet(models.QuerySet):
    def counted(self) -> AgreementQuerySet:
        """Agreements that count in the figures: cancelled ones left out."""
        return self.exclude(status=AgreementStatus.CANCELLED)

    def public(self) -> AgreementQuerySet:
        return self.filter(is_public=True)

    def in_tree(self, delegation: Delegation) -> AgreementQuerySet:
        return self.filter(delegation.tree_q())

    def for_public(self) -> AgreementQuerySet:
        """The counted agreements as the public list shows them, in a fixed number of
        queries: the confidential columns are never selected, and the amount, currency and
        US$ amount come only as `public_amount`, `public_currency` and
        `public_amount_usd`, which are NULL unless the amount is public. Turn the rows
        into `deals.disclosure.public_rows()` before they reach a template."""
        disclosed = Q(is_public=True)
        money = models.DecimalField(max_digits=18, decimal_places=2)
        return (
            self.counted()
            .defer(*CONFIDENTIAL_AGREEMENT_FIELDS)
            .select_related("registration__organization", "sector", "delegation__edition")
            .prefetch_related(
                models.Prefetch(
                    "parties",
                    queryset=AgreementExhibitor.objects.select_related(
                        "exhibitor__organization"
                    ).order_by("exhibitor__organization__name_zh", "pk"),
                )
            )
            .annotate(
                public_amount=models.Case(
                    models.When(disclosed, then=models.F("amount")),
                    default=None,
                    output_field=money,
                ),
                public_currency=models.Case(
                    models.When(disclosed, then=models.F("currency")),
                    default=None,
                    output_field=models.CharField(max_length=3),
                ),
                public_amount_usd=models.Case(
                    models.When(disclosed, then=models.F("amount_usd")),
                    default=None,
                    output_field=money,
                ),
            )
        )


# Never selected for the public: reading one of them on a row of `for_public()` would
# fetch it in a query of its own, whether or not the amount is public. The currency is
# shown only beside a public amount.
CONFIDENTIAL_AGREEMENT_FIELDS = (
    "amount",
    "currency",
    "amount_usd",
    "usd_rate",
    "usd_rate_on",
    "notes",
    "owner",
    "next_action_on",
)


class Agreement(Recorded, FollowUp):
    """A purchase or strategic cooperation agreement a buyer of the delegation signed
    with one or more exhibitors, with its intended one-year purchase amount."""

    reference = models.CharField(_("reference"), max_length=60, unique=True)
    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("delegation"),
        help_text=_("Where the agreement is recorded: the buyer's delegation or one in its tree."),
    )
    registration = models.ForeignKey(
        Registration,
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("buyer"),
        help_text=_("The buyer's registration in the delegation: only registered buyers sign."),
    )
    exhibitors = models.ManyToManyField(
        Exhibitor,
        through="deals.AgreementExhibitor",
        related_name="agreements",
        verbose_name=_("exhibitors"),
    )
    kind = models.CharField(
        _("kind"), max_length=30, choices=AgreementKind.choices, default=AgreementKind.PURCHASE
    )
    sector = models.ForeignKey(
        Sector,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
        verbose_name=_("sector"),
    )
    amount = models.DecimalField(
        _("intended purchase amount"),
        max_digits=18,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("For one year, in the currency of the agreement."),
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=USD, validators=[validate_currency]
    )
    amount_usd = models.DecimalField(
        _("amount (US$)"),
        max_digits=18,
        decimal_places=2,
        editable=False,
        help_text=_("Frozen at the rate of the signing day; a reviewer may recompute it."),
    )
    usd_rate = models.DecimalField(
        _("US$ per unit used"), max_digits=18, decimal_places=8, editable=False
    )
    usd_rate_on = models.DateField(_("rate dated"), null=True, editable=False)
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.SIGNED
    )
    is_public = models.BooleanField(
        _("amount public"),
        default=False,
        help_text=_("Only reviewers decide; an undisclosed amount never reaches the public."),
    )

    objects = AgreementQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-signed_on", "reference"]
        verbose_name = _("purchase agreement")
        verbose_name_plural = _("purchase agreements")
        permissions = [
            ("disclose_agreement", _("Can decide whether an agreement's amount is public")),
            ("recompute_usd", _("Can recompute US$ equivalents at the current rates")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="agreement_amount_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(amount_usd__gte=0), name="agreement_amount_usd_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="agreement_currency_form",
                violation_error_message=_("A currency is a three-letter ISO 4217 code."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=AgreementStatus.values), name="agreement_status_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AgreementKind.values), name="agreement_kind_known"
            ),
            models.CheckConstraint(condition=~Q(reference=""), name="agreement_reference_required"),
        ]
        indexes = [
            models.Index(fields=["status", "is_public"]),
            # The order of the public API's list and, read backwards, of the admin's.
            models.Index(fields=["signed_on", "reference"], name="agreement_signed_order"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs) -> None:
        if self.delegation_id is None and self.registration_id:
            self.delegation_id = self.registration.delegation_id
        # The US$ figure follows the amount, currency and date when they change, but
        # never a later edit of the rate table: published totals do not drift.
        if self._needs_freeze():
            self.freeze_usd()
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._frozen_inputs = instance._usd_inputs()
        return instance

    def _usd_inputs(self) -> tuple:
        return (
            self.__dict__.get("amount"),
            self.__dict__.get("currency"),
            self.__dict__.get("signed_on"),
        )

    @property
    def rate_day(self) -> datetime.date | None:
        """The day whose rate converts the amount: the signing day, else the expo's first."""
        if self.signed_on:
            return self.signed_on
        if self.delegation_id:
            return self.delegation.edition.starts_on
        return None

    def freeze_usd(self) -> None:
        """Convert the amount to US$ at the rate in force on the signing day, and keep
        both the rate and the result on the agreement."""
        if self.currency == USD:
            rate, rate_on = Decimal(1), self.rate_day
        else:
            day = self.rate_day
            found = ExchangeRate.objects.rate_on(self.currency, day) if day else None
            if found is None:
                raise ValidationError(
                    {
                        "currency": _(
                            "There is no exchange rate for %(currency)s on or before %(day)s. "
                            "Add one under exchange rates first."
                        )
                        % {"currency": self.currency, "day": day or "?"}
                    },
                    code="no_rate",
                )
            rate, rate_on = found.usd_per_unit, found.valid_on
        self.usd_rate = rate
        self.usd_rate_on = rate_on
        self.amount_usd = (Decimal(self.amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        self._frozen_inputs = self._usd_inputs()

    def clean(self) -> None:
        if self.delegation_id is None and self.registration_id:
            self.delegation_id = self.registration.delegation_id
        super().clean()
        if self.registration_id and self.delegation_id:
            buyer_top = self.registration.delegation.top
            if buyer_top.pk != self.delegation.top.pk:
                raise ValidationError(
                    {
                        "registration": _(
                            "The buyer is registered in %(theirs)s, not in this delegation."
                        )
                        % {"theirs": self.registration.delegation}
                    }
                )
        if self.registration_id and self.registration.status == "withdrawn":
            raise ValidationError({"registration": _("This buyer's registration is withdrawn.")})
        if self.amount is not None and self.currency and self._needs_freeze():
            self.freeze_usd()

    def _needs_freeze(self) -> bool:
        return (
            self.amount_usd is None or getattr(self, "_frozen_inputs", None) != self._usd_inputs()
        )

    @property
    def buyer(self) -> Organization:
        return self.registration.organization


class AgreementExhibitor(models.Model):
    """An exhibitor party to an agreement."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="parties", verbose_name=_("agreement")
    )
    exhibitor = models.ForeignKey(
        Exhibitor, on_delete=models.PROTECT, related_name="parties", verbose_name=_("exhibitor")
    )

    # Who added or removed an exhibitor of an agreement is part of its history.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("exhibitor of the agreement")
        verbose_name_plural = _("exhibitors of the agreement")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "exhibitor"],
                name="agreement_exhibitor_unique",
                violation_error_message=_("This exhibitor is already a party to the agreement."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.exhibitor.organization)

    def clean(self) -> None:
        super().clean()
        if self.agreement_id and self.exhibitor_id:
            edition_id = self.agreement.delegation.edition_id
            if self.exhibitor.edition_id != edition_id:
                raise ValidationError(
                    {"exhibitor": _("The exhibitor must be at the agreement's edition.")}
                )


# ---------------------------------------------------------------------------------------
# Visits, investment intentions, CIFTIS pledges
# ---------------------------------------------------------------------------------------


class VisitQuerySet(models.QuerySet):
    def in_tree(self, delegation: Delegation) -> VisitQuerySet:
        return self.filter(delegation.tree_q())


class Visit(Recorded):
    """A company visit by the delegation's bureau or one of its sub-delegations."""

    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("visited by"),
        help_text=_("The delegation itself or one of its sub-delegations."),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("organization"),
    )
    visited_on = models.DateField(_("visited on"))
    investment_intention = models.BooleanField(_("investment intention"), default=False)
    ciftis_interest = models.BooleanField(_("interested in CIFTIS"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    objects = VisitQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-visited_on"]
        verbose_name = _("company visit")
        verbose_name_plural = _("company visits")
        constraints = [
            models.UniqueConstraint(
                fields=["delegation", "organization", "visited_on"],
                name="visit_unique_day",
                violation_error_message=_("This visit is already recorded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.visited_on}"


class IntentionStage(models.TextChoices):
    EXPRESSED = "expressed", _("expressed")
    NEGOTIATING = "negotiating", _("negotiating")
    SIGNED = "signed", _("signed")
    LANDED = "landed", _("landed")
    DROPPED = "dropped", _("dropped")


class InvestmentIntentionQuerySet(models.QuerySet):
    def in_tree(self, delegation: Delegation) -> InvestmentIntentionQuerySet:
        return self.filter(delegation.tree_q())


class InvestmentIntention(Recorded, FollowUp):
    """An organization's intention to invest in the delegation's city, followed up
    through stages until it lands or is dropped."""

    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="investment_intentions",
        verbose_name=_("delegation"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="investment_intentions",
        verbose_name=_("organization"),
    )
    sector = models.ForeignKey(
        Sector,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="investment_intentions",
        verbose_name=_("sector"),
    )
    amount = models.DecimalField(
        _("intended investment"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=USD, validators=[validate_currency]
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=IntentionStage.choices, default=IntentionStage.EXPRESSED
    )

    objects = InvestmentIntentionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["delegation_id", "organization__name_zh"]
        verbose_name = _("investment intention")
        verbose_name_plural = _("investment intentions")
        constraints = [
            models.UniqueConstraint(
                fields=["delegation", "organization"],
                name="intention_unique_organization",
                violation_error_message=_(
                    "This organization's intention is already recorded for this delegation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="intention_amount_not_negative",
                violation_error_message=_("An amount cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(stage__in=IntentionStage.values), name="intention_stage_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_stage_display()}"


class PledgeStatus(models.TextChoices):
    PLEDGED = "pledged", _("pledged")
    REGISTERED = "registered", _("registered")
    ATTENDED = "attended", _("attended")
    WITHDRAWN = "withdrawn", _("withdrawn")


class CiftisPledgeQuerySet(models.QuerySet):
    def in_tree(self, delegation: Delegation) -> CiftisPledgeQuerySet:
        return self.filter(delegation.tree_q("source_delegation"))


class CiftisPledge(Recorded, FollowUp):
    """An organization's pledge to attend a later fair edition (CIFTIS 2020), made to
    the delegation at the expo and followed up until it attends."""

    target_edition = models.ForeignKey(
        Edition,
        on_delete=models.PROTECT,
        related_name="pledges",
        verbose_name=_("target fair edition"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="pledges",
        verbose_name=_("organization"),
    )
    source_delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pledges",
        verbose_name=_("source delegation"),
        help_text=_("The delegation, at its edition, to which the pledge was made."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PledgeStatus.choices, default=PledgeStatus.PLEDGED
    )
    pledged_on = models.DateField(_("pledged on"), null=True, blank=True)

    objects = CiftisPledgeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["target_edition_id", "organization__name_zh"]
        verbose_name = _("CIFTIS pledge")
        verbose_name_plural = _("CIFTIS pledges")
        constraints = [
            models.UniqueConstraint(
                fields=["target_edition", "organization"],
                name="pledge_unique_organization",
                violation_error_message=_(
                    "This organization's pledge to that edition is recorded."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status__in=PledgeStatus.values), name="pledge_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.target_edition}"

    def clean(self) -> None:
        super().clean()
        if self.source_delegation_id and self.target_edition_id:
            source = self.source_delegation.edition
            if self.target_edition.starts_on <= source.starts_on:
                raise ValidationError(
                    {"target_edition": _("A pledge is to an edition after the one it was made at.")}
                )


# ---------------------------------------------------------------------------------------
# Follow-up: the dated moves of agreements, intentions and pledges
# ---------------------------------------------------------------------------------------


class FollowUpMoveQuerySet(models.QuerySet):
    def of(self, record: models.Model) -> FollowUpMoveQuerySet:
        """The moves of an agreement, an investment intention or a CIFTIS pledge."""
        return self.filter(**{FollowUpMove.field_for(type(record)): record})


class FollowUpMove(models.Model):
    """A dated move of an agreement, an investment intention or a CIFTIS pledge from one
    stage to another, and who recorded it. Moves are only made through
    `deals.services.follow_up_move` (and the import), which refuses the ones a stage
    does not allow."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moves",
        verbose_name=_("agreement"),
    )
    intention = models.ForeignKey(
        InvestmentIntention,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moves",
        verbose_name=_("investment intention"),
    )
    pledge = models.ForeignKey(
        CiftisPledge,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="moves",
        verbose_name=_("CIFTIS pledge"),
    )
    from_stage = models.CharField(_("from"), max_length=20)
    to_stage = models.CharField(_("to"), max_length=20)
    moved_on = models.DateField(_("moved on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)
    import_run = models.ForeignKey(
        "deals.ImportRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="moves",
        verbose_name=_("import"),
    )

    objects = FollowUpMoveQuerySet.as_manager()

    class Meta:
        ordering = ["-moved_on", "-recorded_at", "-pk"]
        verbose_name = _("follow-up move")
        verbose_name_plural = _("follow-up moves")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(agreement__isnull=False, intention__isnull=True, pledge__isnull=True)
                    | Q(agreement__isnull=True, intention__isnull=False, pledge__isnull=True)
                    | Q(agreement__isnull=True, intention__isnull=True, pledge__isnull=False)
                ),
                name="follow_up_move_of_one_record",
                violation_error_message=_("A move is of one agreement, intention or pledge."),
            ),
            models.CheckConstraint(
                condition=~Q(from_stage=models.F("to_stage")), name="follow_up_move_moves"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage} · {self.moved_on}"

    @staticmethod
    def field_for(model: type[models.Model]) -> str:
        return {Agreement: "agreement", InvestmentIntention: "intention", CiftisPledge: "pledge"}[
            model
        ]

    @property
    def record(self) -> models.Model:
        return self.agreement or self.intention or self.pledge

    def _labels(self) -> dict[str, str]:
        if self.agreement_id:
            return dict(AgreementStatus.choices)
        if self.intention_id:
            return dict(IntentionStage.choices)
        return dict(PledgeStatus.choices)

    @property
    def from_label(self) -> str:
        return self._labels().get(self.from_stage, self.from_stage)

    @property
    def to_label(self) -> str:
        return self._labels().get(self.to_stage, self.to_stage)


# ---------------------------------------------------------------------------------------
# Publications: the figures as the bureau published them
# ---------------------------------------------------------------------------------------


class PublicationQuerySet(models.QuerySet):
    def of(self, delegation: Delegation) -> PublicationQuerySet:
        return self.filter(delegation=delegation)

    def latest_of(self, delegation: Delegation) -> Publication | None:
        """What the public pages and the API show of `delegation`: its latest publication."""
        return (
            self.of(delegation)
            .select_related("previous_delegation__edition__fair", "published_by")
            .order_by("-published_at", "-pk")
            .first()
        )


class Publication(models.Model):
    """The headline figures of a delegation at an edition as a reviewer published them
    at a moment, "as of" a date: what the public reads until the next publication,
    while staff keep working on the records. Never changed once made."""

    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="publications",
        verbose_name=_("delegation"),
    )
    as_of = models.DateField(_("as of"), help_text=_("The date the figures are published as of."))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    note = models.TextField(_("note"), blank=True)
    # What the figures were compared with, as it was at the moment.
    previous_delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compared with"),
    )
    # `Headline.as_json()` of the moment, and the breakdowns the headline page charts.
    figures = models.JSONField(_("figures"))
    breakdowns = models.JSONField(_("breakdowns"), default=dict)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("publication of the figures")
        verbose_name_plural = _("publications of the figures")
        permissions = [("publish_figures", _("Can publish the figures of a delegation"))]
        indexes = [models.Index(fields=["delegation", "-published_at"])]

    def __str__(self) -> str:
        return f"{self.delegation} · {self.as_of}"


# ---------------------------------------------------------------------------------------
# Spreadsheet imports
# ---------------------------------------------------------------------------------------


class ImportRunStatus(models.TextChoices):
    PREVIEWED = "previewed", _("previewed")
    # Writing: committed before the import's transaction starts, so that a run whose
    # process died is seen (and marked interrupted); its rows and its next status are
    # committed together.
    IMPORTING = "importing", _("importing")
    IMPORTED = "imported", _("imported")
    REFUSED = "refused", _("refused")
    # The database failed in the middle: nothing was written, the file may be tried again.
    FAILED = "failed", _("failed")
    # The process stopped in the middle (killed, the server shut down): nothing was written.
    INTERRUPTED = "interrupted", _("interrupted")
    UNDONE = "undone", _("undone")


class ImportRun(models.Model):
    """One spreadsheet import: who uploaded which file (its SHA-256), when, and what came
    of it. The history of imports, and what a reviewer's undo works from."""

    Status = ImportRunStatus

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_runs",
        verbose_name=_("imported by"),
    )
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sheet = models.CharField(
        _("sheet"), max_length=60, blank=True, help_text=_("Empty for a whole workbook.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    imported_at = models.DateTimeField(_("imported"), null=True, blank=True)
    started_at = models.DateTimeField(_("import started"), null=True, blank=True)
    worker = models.CharField(
        _("importing process"),
        max_length=120,
        blank=True,
        editable=False,
        help_text=_("The host and process id that writes the import."),
    )
    counts = models.JSONField(
        _("counts"),
        default=dict,
        blank=True,
        help_text=_("Created, updated and unchanged rows per sheet."),
    )
    errors = models.JSONField(_("errors"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    # The uploaded bytes, kept only between a preview and its confirmation.
    content = models.BinaryField(_("content"), null=True, blank=True, editable=False)
    token = models.CharField(_("confirmation token"), max_length=64, blank=True, editable=False)
    expires_at = models.DateTimeField(_("preview expires"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undo_report = models.JSONField(_("undo report"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        permissions = [("undo_importrun", _("Can undo an import"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportRunStatus.values),
                name="import_run_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename}"

    # The runs whose stored upload may still be confirmed (again, after a failure).
    CONFIRMABLE = (ImportRunStatus.PREVIEWED, ImportRunStatus.FAILED, ImportRunStatus.INTERRUPTED)

    @property
    def change_reason(self) -> str:
        """What the history rows written by this import carry as their change reason."""
        return f"import #{self.pk}"
