"""Calling the API in tests: a client per role, and a record of every staff endpoint's
model to read, change and delete."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import models
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from deals.models import Sector
from delegations.models import Edition, Fair
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    VisitFactory,
    edition,
    staff_member,
)

ROLES = ["anonymous", "outsider", "data_entry", "reviewer"]


def user_for(role: str):
    """None for anonymous; a user who is not staff; or a staff member of a group."""
    if role == "anonymous":
        return None
    if role == "outsider":
        return UserFactory(is_staff=False)
    return staff_member(DATA_ENTRY if role == "data_entry" else REVIEWERS)


def client_for(role_or_user: Any = "anonymous") -> APIClient:
    """An API client with the token of a user (or of a new user in that role)."""
    user = user_for(role_or_user) if isinstance(role_or_user, str) else role_or_user
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


def _fair() -> models.Model:
    return Fair.objects.create(
        code="tradefair",
        abbreviation="TF",
        short_name_zh="交易会",
        name_zh="测试交易会",
        name_en="Test Trade Fair",
    )


def _edition() -> models.Model:
    return Edition.objects.create(
        fair=Fair.objects.get(code="ciie"),
        number=99,
        year=2099,
        slug="ciie-2099",
        name_zh="第九十九届中国国际进口博览会",
        name_en="99th China International Import Expo",
        starts_on=datetime.date(2099, 11, 5),
        ends_on=datetime.date(2099, 11, 10),
    )


def _sector() -> models.Model:
    return Sector.objects.create(code="test-sector", name_zh="测试领域", name_en="Test sector")


# Every staff endpoint, its model's permission prefix, and how to make a record that
# nothing else needs (so that deleting it may succeed).
STAFF_ENDPOINTS: dict[str, tuple[str, Callable[[], models.Model], bool]] = {
    # path: (model label for permissions, maker, reference data?)
    "/api/staff/fairs/": ("delegations.fair", _fair, True),
    "/api/staff/editions/": ("delegations.edition", _edition, True),
    "/api/staff/delegations/": (
        "delegations.delegation",
        lambda: DelegationFactory(slug="tianjin", name_zh="天津", name_en="Tianjin"),
        False,
    ),
    "/api/staff/organizations/": ("delegations.organization", OrganizationFactory, False),
    "/api/staff/registrations/": ("delegations.registration", RegistrationFactory, False),
    "/api/staff/sectors/": ("deals.sector", _sector, False),
    "/api/staff/exchange-rates/": ("deals.exchangerate", ExchangeRateFactory, False),
    "/api/staff/exhibitors/": ("deals.exhibitor", ExhibitorFactory, False),
    "/api/staff/agreements/": ("deals.agreement", AgreementFactory, False),
    "/api/staff/visits/": ("deals.visit", VisitFactory, False),
    "/api/staff/investment-intentions/": (
        "deals.investmentintention",
        InvestmentIntentionFactory,
        False,
    ),
    "/api/staff/ciftis-pledges/": ("deals.ciftispledge", CiftisPledgeFactory, False),
}

PUBLIC_LISTS = [
    "/api/fairs/",
    "/api/editions/",
    "/api/delegations/",
    "/api/participants/",
    "/api/sectors/",
    "/api/exhibitors/",
    "/api/agreements/",
    "/api/pledges/",
    "/api/publications/",
]


def ciie_2019():
    return edition("ciie-2019")
