"""Factories for hand-made test data. Editions come from the reference migration."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from deals.models import (
    Agreement,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    Sector,
    Visit,
)
from delegations.models import Delegation, Edition, Organization, OrganizationKind, Registration


def edition(slug: str = "ciie-2019") -> Edition:
    return Edition.objects.get(slug=slug)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"clerk{n}")
    is_staff = True


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation
        django_get_or_create = ("edition", "slug")

    edition = factory.LazyFunction(edition)
    name_zh = "北京"
    name_en = "Beijing"
    slug = "beijing"
    organizer_zh = "北京市商务局"
    organizer_en = "Beijing Municipal Commerce Bureau"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name_zh = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    name_en = factory.Sequence(lambda n: f"Test Company {n} Ltd.")
    kind = OrganizationKind.PRIVATE
    country = "CN"


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    delegation = factory.SubFactory(DelegationFactory)
    organization = factory.SubFactory(OrganizationFactory)
    participants = 1
    is_purchaser = True


class SectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sector
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"sector-{n}")
    name_zh = factory.Sequence(lambda n: f"领域{n}")
    name_en = factory.Sequence(lambda n: f"Sector {n}")


class ExhibitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exhibitor

    edition = factory.LazyFunction(edition)
    organization = factory.SubFactory(
        OrganizationFactory, kind=OrganizationKind.FOREIGN, country="GB"
    )


class AgreementFactory(factory.django.DjangoModelFactory):
    """An agreement with one exhibitor of the buyer's edition unless `exhibitors` is given."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"BJ-2019-{n:04d}")
    registration = factory.SubFactory(RegistrationFactory)
    amount = Decimal("1000000")
    currency = "USD"
    signed_on = datetime.date(2019, 11, 5)

    @factory.post_generation
    def exhibitors(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [ExhibitorFactory(edition=self.registration.delegation.edition)]
        self.exhibitors.add(*extracted)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "CNY"
    valid_on = datetime.date(2019, 11, 1)
    usd_per_unit = Decimal("0.14200000")


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    delegation = factory.SubFactory(DelegationFactory)
    organization = factory.SubFactory(OrganizationFactory)
    visited_on = datetime.date(2019, 11, 6)


class InvestmentIntentionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvestmentIntention

    delegation = factory.SubFactory(DelegationFactory)
    organization = factory.SubFactory(OrganizationFactory)


class CiftisPledgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CiftisPledge

    target_edition = factory.LazyFunction(lambda: edition("ciftis-2020"))
    organization = factory.SubFactory(
        OrganizationFactory, kind=OrganizationKind.FOREIGN, country="EE"
    )
    source_delegation = factory.SubFactory(DelegationFactory)


# The two staff groups, with their permissions, come from the deals migration 0002.
DATA_ENTRY = "数据录入 · Data entry"
REVIEWERS = "审核发布 · Reviewers"


def of_the_organizer(user):
    """`user`, made one of the organizer's staff, who see every delegation's records."""
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="delegations", codename="view_all_delegations"
        )
    )
    return user


def staff_member(group_name: str, *, delegations=None, **kwargs):
    """A staff user in one of the staff groups, with exactly that group's permissions.

    Given `delegations`, a member of those only, who sees their records (and their
    sub-delegations') and no others. Without, of the organizer's staff, who see every
    delegation's: tests of what a role may do need not set up scope."""
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    if delegations is None:
        of_the_organizer(user)
    else:
        for delegation in delegations:
            delegation.members.add(user)
    return user
