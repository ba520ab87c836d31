"""Fairs, their editions, the delegations sent to them, and the organizations in them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from .validators import validate_uscc


class Recorded(models.Model):
    """What every record of the bureau carries: when it was made and changed, and
    whether it belongs to the illustrative demo population rather than to real work."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    illustrative = models.BooleanField(
        _("illustrative"),
        default=False,
        help_text=_("Part of the demo population, not a real record."),
    )

    class Meta:
        abstract = True


def bilingual(zh: str, en: str) -> str:
    """The name in the active language, falling back to the other one."""
    if (get_language() or "zh-hans").startswith("en"):
        return en or zh
    return zh or en


# ---------------------------------------------------------------------------------------
# Fairs and editions
# ---------------------------------------------------------------------------------------


class Fair(models.Model):
    """A recurring fair: the China International Import Expo, CIFTIS, ..."""

    code = models.SlugField(_("code"), max_length=20, unique=True, help_text="ciie, ciftis")
    abbreviation = models.CharField(_("abbreviation"), max_length=20, help_text="CIIE")
    short_name_zh = models.CharField(_("short Chinese name"), max_length=20, help_text="进博会")
    name_zh = models.CharField(_("Chinese name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=200, unique=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("fair")
        verbose_name_plural = _("fairs")

    def __str__(self) -> str:
        return bilingual(self.short_name_zh, self.abbreviation)

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


ORDINALS_ZH = "零一二三四五六七八九十"


def chinese_ordinal(number: int) -> str:
    if number <= 10:
        return ORDINALS_ZH[number]
    tens, ones = divmod(number, 10)
    return (ORDINALS_ZH[tens] if tens > 1 else "") + "十" + (ORDINALS_ZH[ones] if ones else "")


def english_ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


class EditionQuerySet(models.QuerySet):
    def lookup(self, text: str) -> Edition:
        """The edition a clerk or script names: `CIIE 2019`, `ciie-2019`, `2nd CIIE`,
        `第二届进博会`, `2019年进博会`, or its full Chinese or English name."""
        wanted = " ".join(text.split())
        editions = list(self.select_related("fair"))
        for edition in editions:
            if wanted.casefold() in {alias.casefold() for alias in edition.aliases()}:
                return edition
        raise self.model.DoesNotExist(f"No fair edition is called “{text}”.")


class Edition(models.Model):
    """One edition of a fair, such as CIIE 2019 (the 2nd China International Import Expo)."""

    fair = models.ForeignKey(
        Fair, on_delete=models.PROTECT, related_name="editions", verbose_name=_("fair")
    )
    number = models.PositiveSmallIntegerField(
        _("number"), validators=[MinValueValidator(1)], help_text=_("1 for the first edition")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    slug = models.SlugField(_("slug"), max_length=40, unique=True, help_text="ciie-2019")
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))

    objects = EditionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["fair__code", "starts_on"]
        verbose_name = _("fair edition")
        verbose_name_plural = _("fair editions")
        constraints = [
            models.UniqueConstraint(
                fields=["fair", "number"],
                name="edition_unique_number",
                violation_error_message=_("This fair already has an edition with that number."),
            ),
            models.UniqueConstraint(
                fields=["fair", "year"],
                name="edition_unique_year",
                violation_error_message=_("This fair already has an edition in that year."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="edition_ends_after_start",
                violation_error_message=_("The last day cannot come before the first day."),
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="edition_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.fair.abbreviation} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("delegations:edition", kwargs={"edition": self.slug})

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)

    def aliases(self) -> list[str]:
        fair = self.fair
        return [
            str(self),
            self.slug,
            self.name_zh,
            self.name_en,
            f"{english_ordinal(self.number)} {fair.abbreviation}",
            f"第{chinese_ordinal(self.number)}届{fair.short_name_zh}",
            f"{self.year}年{fair.short_name_zh}",
            f"{self.year} {fair.abbreviation}",
            *(
                [f"首届{fair.short_name_zh}", f"1st {fair.abbreviation}"]
                if self.number == 1
                else []
            ),
        ]

    def previous(self) -> Edition | None:
        """The edition of the same fair before this one, the basis of year-on-year change."""
        return (
            Edition.objects.filter(fair_id=self.fair_id, starts_on__lt=self.starts_on)
            .order_by("-starts_on")
            .first()
        )


# ---------------------------------------------------------------------------------------
# Delegations
# ---------------------------------------------------------------------------------------


class DelegationQuerySet(models.QuerySet):
    def top_level(self) -> DelegationQuerySet:
        return self.filter(parent__isnull=True)

    def tree_keys(self, delegation) -> DelegationQuerySet:
        """The keys of a delegation (an instance, a key or an `OuterRef`) and of its
        sub-delegations, as a subquery: `delegation_id IN (...)` is served by the index
        on the records' delegation, where an OR across a join would scan the table."""
        pk = delegation.pk if isinstance(delegation, models.Model) else delegation
        return self.filter(Q(pk=pk) | Q(parent_id=pk)).values("pk")

    def with_descendants(self) -> DelegationQuerySet:
        """These delegations and their sub-delegations (one level deep: a
        sub-delegation has none of its own), as one filter over subqueries."""
        keys = self.values("pk")
        return Delegation.objects.filter(Q(pk__in=keys) | Q(parent__in=keys))

    def for_page(self) -> DelegationQuerySet:
        """What every public page about a delegation prints of it."""
        return self.select_related("edition__fair", "parent")

    def for_index(self) -> DelegationQuerySet:
        """Trading delegations with their sub-delegations, for an index."""
        return self.top_level().prefetch_related(
            models.Prefetch("sub_delegations", queryset=Delegation.objects.order_by("name_zh"))
        )

    def lookup(self, text: str, *, edition: Edition) -> Delegation:
        """The delegation at `edition` named `text` in Chinese or English, or by slug."""
        wanted = " ".join(text.split())
        match = (
            self.filter(edition=edition)
            .filter(
                Q(name_zh=wanted)
                | Q(name_en__iexact=wanted)
                | Q(slug=wanted.lower())
                # 北京 and 北京交易团 name the same delegation, whichever is stored.
                | Q(name_zh=f"{wanted}交易团")
                | Q(name_zh=wanted.removesuffix("交易团"))
            )
            .first()
        )
        if match is None:
            raise self.model.DoesNotExist(f"No delegation called “{text}” at {edition}.")
        return match


class Delegation(Recorded):
    """A city's or province's trading delegation (交易团) at one edition, or a
    sub-delegation (交易分团) under one, whose records roll up into its parent."""

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="delegations", verbose_name=_("edition")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_delegations",
        verbose_name=_("parent delegation"),
        help_text=_("Set for a sub-delegation (交易分团): the delegation it belongs to."),
    )
    name_zh = models.CharField(_("name"), max_length=100, help_text="北京")
    name_en = models.CharField(_("English name"), max_length=200, blank=True, help_text="Beijing")
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        help_text=_("Names the delegation in addresses; the same across editions (beijing)."),
    )
    organizer_zh = models.CharField(_("organizing authority"), max_length=200, blank=True)
    organizer_en = models.CharField(_("organizing authority (English)"), max_length=200, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="delegations",
        verbose_name=_("staff members"),
        help_text=_("Staff who record and review this delegation's records."),
    )

    objects = DelegationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["edition__starts_on", "parent_id", "name_zh"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        # The organizer's staff: they see and change the records of every delegation,
        # where other staff see only those of the delegations they are members of.
        permissions = [("view_all_delegations", _("Can see and change every delegation's records"))]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "name_zh"],
                name="delegation_unique_name",
                violation_error_message=_("A delegation of this name is already at this edition."),
            ),
            models.UniqueConstraint(
                fields=["edition", "slug"],
                name="delegation_unique_slug",
                violation_error_message=_(
                    "A delegation with this slug is already at this edition."
                ),
            ),
            models.UniqueConstraint(
                Upper("name_en"),
                "edition",
                condition=~Q(name_en=""),
                name="delegation_unique_name_en",
                violation_error_message=_(
                    "A delegation of this English name is already at this edition."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")),
                name="delegation_not_own_parent",
                violation_error_message=_("A delegation cannot be its own parent."),
            ),
        ]

    def __str__(self) -> str:
        return f"{bilingual(self.name_zh, self.name_en)} · {self.edition}"

    def get_absolute_url(self) -> str:
        return reverse(
            "deals:headline", kwargs={"edition": self.edition.slug, "delegation": self.slug}
        )

    def clean(self) -> None:
        super().clean()
        if self.parent_id:
            parent = self.parent
            if parent.edition_id != self.edition_id:
                raise ValidationError(
                    {"parent": _("A sub-delegation must be at the same edition as its parent.")}
                )
            if parent.parent_id:
                raise ValidationError(
                    {"parent": _("Sub-delegations cannot have sub-delegations of their own.")}
                )
            if self.pk and self.sub_delegations.exists():
                raise ValidationError(
                    {"parent": _("This delegation has sub-delegations and cannot become one.")}
                )

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)

    @property
    def organizer(self) -> str:
        return bilingual(self.organizer_zh, self.organizer_en)

    @property
    def title(self) -> str:
        """The name as a heading: 北京交易团, Beijing delegation. Names that say what
        they are already (朝阳区交易分团, Chaoyang District sub-delegation) stay as they are."""
        name = self.name
        if name.endswith("团") or name.casefold().endswith("delegation"):
            return name
        return gettext("%(name)s delegation") % {"name": name}

    @property
    def top(self) -> Delegation:
        """The trading delegation whose figures this one's records count towards."""
        return self.parent if self.parent_id else self

    def tree_q(self, prefix: str = "delegation") -> Q:
        """A filter for records of this delegation and of its sub-delegations."""
        return Q(**{f"{prefix}_id": self.pk}) | Q(**{f"{prefix}__parent_id": self.pk})

    def counterpart(self, edition: Edition | None) -> Delegation | None:
        """The same delegation (by slug) at another edition."""
        if edition is None:
            return None
        return Delegation.objects.filter(
            edition=edition, slug=self.slug, parent__isnull=self.parent_id is None
        ).first()


# ---------------------------------------------------------------------------------------
# Organizations
# ---------------------------------------------------------------------------------------


class OrganizationKind(models.TextChoices):
    GOVERNMENT = "government", _("government organization")
    PUBLIC_INSTITUTION = "public_institution", _("public institution")
    INDUSTRY_ASSOCIATION = "industry_association", _("industrial association")
    STATE_OWNED = "state_owned", _("state-owned enterprise")
    PRIVATE = "private", _("private enterprise")
    HK_MACAO_TAIWAN = "hk_macao_taiwan", _("company from China's Hong Kong, Macao or Taiwan")
    FOREIGN_FUNDED = "foreign_funded", _("foreign-funded firm")
    FOREIGN = "foreign", _("foreign organization")


class OrganizationQuerySet(models.QuerySet):
    def large_importers(self) -> OrganizationQuerySet:
        threshold = settings.EXPO["LARGE_IMPORTER_USD"]
        return self.filter(annual_imports_usd__gt=threshold)

    def taking_part(self, delegation: Delegation) -> OrganizationQuerySet:
        """The organizations registered (withdrawn ones left out) in `delegation` or its
        sub-delegations, each once, as the headline figures count them, annotated with
        what the public list shows and filters on: `participants` (summed over its
        registrations), `is_purchaser`, `is_large_importer` and `has_signed` (a buyer of
        one of the delegation's counted agreements)."""
        from deals.models import Agreement  # deals builds on this app

        # The tree's keys as a subquery (`delegation_id IN (...)`), served by the index
        # on the registrations' delegation: an OR across a join to the delegations would
        # test every organization on record, of every delegation.
        in_tree = Registration.objects.active().filter(
            delegation__in=Delegation.objects.tree_keys(delegation)
        )
        registrations = in_tree.filter(organization=models.OuterRef("pk"))
        participants = (
            registrations.order_by()
            .values("organization")
            .annotate(total=models.Sum("participants"))
            .values("total")
        )
        signed = Agreement.objects.counted().filter(
            delegation__in=Delegation.objects.tree_keys(delegation),
            registration__organization=models.OuterRef("pk"),
        )
        return self.filter(pk__in=in_tree.values("organization")).annotate(
            participants=models.Subquery(participants),
            is_purchaser=models.Exists(registrations.filter(is_purchaser=True)),
            is_large_importer=models.Case(
                models.When(annual_imports_usd__gt=settings.EXPO["LARGE_IMPORTER_USD"], then=True),
                default=False,
                output_field=models.BooleanField(),
            ),
            has_signed=models.Exists(signed),
        )


_SPACES = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """A name as stored: surrounding spaces gone, inner runs of spaces made one."""
    return _SPACES.sub(" ", name).strip()


class Organization(Recorded):
    """A company or other organization the bureau deals with, at home or abroad."""

    name_zh = models.CharField(
        _("name"), max_length=200, db_index=True, help_text=_("Chinese or original name")
    )
    name_en = models.CharField(_("English name"), max_length=300, blank=True, db_index=True)
    # NULL, not "", when absent: the code is unique only where an organization has one.
    credit_code = models.CharField(  # noqa: DJ001
        _("Unified Social Credit Code"),
        max_length=18,
        null=True,
        blank=True,
        validators=[validate_uscc],
        help_text=_("统一社会信用代码: 18 characters, the last one a check character."),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=OrganizationKind.choices)
    country = CountryField(_("country or region"), default="CN")
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    annual_imports_usd = models.DecimalField(
        _("yearly imports (US$)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    objects = OrganizationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name_zh"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        permissions = [("merge_organization", _("Can merge two organizations into one"))]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(credit_code__isnull=False),
                name="organization_unique_credit_code",
                violation_error_message=_("An organization with this credit code already exists."),
            ),
            models.UniqueConstraint(
                fields=["name_zh", "country"],
                condition=Q(credit_code__isnull=True),
                name="organization_unique_name_without_code",
                violation_error_message=_(
                    "An organization of this name in this country or region is already recorded "
                    "without a credit code."
                ),
            ),
            models.CheckConstraint(
                condition=Q(credit_code__isnull=True)
                | Q(credit_code__regex=r"^[0-9A-HJ-NP-RTUWXY]{18}$"),
                name="organization_credit_code_form",
                violation_error_message=_("A credit code is 18 characters of 0-9 and A-Z."),
            ),
            models.CheckConstraint(
                condition=Q(annual_imports_usd__isnull=True) | Q(annual_imports_usd__gte=0),
                name="organization_imports_not_negative",
                violation_error_message=_("Yearly imports cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values),
                name="organization_kind_known",
            ),
            models.CheckConstraint(condition=~Q(name_zh=""), name="organization_name_required"),
        ]

    def __str__(self) -> str:
        if self.name_en and self.name_en != self.name_zh:
            return bilingual(self.name_zh, self.name_en)
        return self.name_zh

    def clean(self) -> None:
        super().clean()
        self.name_zh = normalize_name(self.name_zh)
        self.name_en = normalize_name(self.name_en)
        if self.credit_code:
            self.credit_code = self.credit_code.strip().upper()
        else:
            self.credit_code = None

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


# ---------------------------------------------------------------------------------------
# Registrations
# ---------------------------------------------------------------------------------------


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("registered")
    ATTENDED = "attended", _("attended")
    WITHDRAWN = "withdrawn", _("withdrawn")


class RegistrationQuerySet(models.QuerySet):
    def active(self) -> RegistrationQuerySet:
        """Registrations that count: withdrawn ones left out."""
        return self.exclude(status=RegistrationStatus.WITHDRAWN)

    def attended(self) -> RegistrationQuerySet:
        return self.filter(status=RegistrationStatus.ATTENDED)

    def in_tree(self, delegation: Delegation) -> RegistrationQuerySet:
        return self.filter(delegation.tree_q())


class Registration(Recorded):
    """An organization registered in a delegation, with how many people it sends."""

    delegation = models.ForeignKey(
        Delegation,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("delegation"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="registrations",
        verbose_name=_("organization"),
    )
    participants = models.PositiveIntegerField(
        _("participants"), default=1, validators=[MinValueValidator(1)]
    )
    is_purchaser = models.BooleanField(_("purchaser"), default=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.REGISTERED,
    )
    registered_on = models.DateField(_("registered on"), null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["delegation_id", "organization__name_zh"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(
                fields=["delegation", "organization"],
                name="registration_unique_organization",
                violation_error_message=_(
                    "This organization is already registered in this delegation."
                ),
            ),
            models.CheckConstraint(
                condition=Q(participants__gte=1),
                name="registration_participants_at_least_one",
                violation_error_message=_("A registration has at least one participant."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=RegistrationStatus.values),
                name="registration_status_known",
            ),
        ]
        indexes = [models.Index(fields=["delegation", "status"])]

    def __str__(self) -> str:
        return f"{self.organization} · {self.delegation}"

    def clean(self) -> None:
        super().clean()
        if self.delegation_id and self.organization_id:
            top = self.delegation.top
            twin = (
                Registration.objects.filter(top.tree_q(), organization_id=self.organization_id)
                .exclude(pk=self.pk)
                .select_related("delegation")
                .first()
            )
            if twin is not None:
                raise ValidationError(
                    {
                        "organization": _(
                            "This organization is already registered in %(delegation)s; "
                            "a delegation and its sub-delegations count it once."
                        )
                        % {"delegation": twin.delegation}
                    }
                )
