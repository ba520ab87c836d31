"""load_seeds: the story's figures computed from the loaded records by the statistics
module, what is marked illustrative, idempotence and determinism."""

import datetime
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from deals.models import (
    Agreement,
    AgreementStatus,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    Visit,
)
from deals.stats import BASIS_ATTENDANCE, headline_figures
from delegations.models import (
    Delegation,
    Organization,
    OrganizationKind,
    Registration,
    RegistrationStatus,
)
from delegations.validators import organization_code_warning, uscc_problem
from seeds.demo import (
    DelegationRow,
    ExchangeRateRow,
    OrganizationRow,
    Population,
    build_population,
)
from seeds.loader import load_seeds, read_story
from tests.pages import get_page

pytestmark = pytest.mark.django_db

STORY_COMPANIES = {
    "Secoo",
    "Gome",
    "Samsung China",
    "JD.com",
    "Xiaomi",
    "WuMart",
    "Baidu",
    "Tencent",
    "Dong Lai Shun",
}
KINDS_THE_STORY_NAMES = {
    OrganizationKind.GOVERNMENT,
    OrganizationKind.PUBLIC_INSTITUTION,
    OrganizationKind.INDUSTRY_ASSOCIATION,
    OrganizationKind.STATE_OWNED,
    OrganizationKind.PRIVATE,
    OrganizationKind.HK_MACAO_TAIWAN,
    OrganizationKind.FOREIGN_FUNDED,
}
RECORDED_MODELS = [Registration, Exhibitor, Visit, InvestmentIntention]


@pytest.fixture(scope="module")
def load_output(django_db_setup, django_db_blocker):
    """The seeds, loaded once for this module into the empty test database, inside a
    transaction rolled back after the module so that other tests start empty."""
    with django_db_blocker.unblock(), transaction.atomic(), translation.override("en"):
        out = StringIO()
        call_command("load_seeds", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def beijing(load_output):
    return Delegation.objects.get(edition__slug="ciie-2019", slug="beijing")


@pytest.fixture
def figures(beijing):
    return headline_figures(delegation=beijing).figures


def test_loaded_seeds_give_the_storys_agreement_figures(figures):
    assert figures["companies_signed"].value == 88
    assert figures["agreements"].value == 207
    assert figures["exhibitors"].value == 108
    assert figures["countries_regions"].value == 32


def test_intended_purchase_grows_by_more_than_30_percent_on_ciie_2018(figures):
    purchase = figures["intended_purchase_usd"]

    assert purchase.previous > 0
    assert 0.30 < purchase.change < 0.40


def test_registrations_grow_40_and_81_percent_on_last_years_attendance(figures):
    organizations = figures["registered_organizations"]
    participants = figures["participants"]

    assert (organizations.value, organizations.previous) == (3107, 2219)
    assert round(organizations.change, 2) == 0.40
    assert organizations.basis == BASIS_ATTENDANCE
    assert (participants.value, participants.previous) == (10828, 5982)
    assert round(participants.change, 2) == 0.81
    assert participants.basis == BASIS_ATTENDANCE


def test_purchasers_large_importers_and_kinds_are_the_storys(figures):
    by_kind = figures["organizations_by_kind"].value

    assert round(figures["purchaser_share"].value, 3) == 0.915
    assert figures["large_importers"].value > 100
    assert {kind for kind, count in by_kind.items() if count} == KINDS_THE_STORY_NAMES
    assert sum(by_kind.values()) == 3107


def test_visits_intentions_and_ciftis_figures_are_the_storys(figures):
    assert figures["companies_visited"].value == 320
    assert figures["investment_intentions"].value > 40
    assert figures["ciftis_interest"].value == 43
    assert figures["ciftis_pledges"].value == 7
    assert figures["ciftis_pledge_countries"].value == 6


def test_pledges_are_to_ciftis_2020_from_the_storys_six_countries(beijing):
    pledges = CiftisPledge.objects.filter(source_delegation=beijing)

    assert {p.target_edition.slug for p in pledges} == {"ciftis-2020"}
    assert {p.status for p in pledges} == {"pledged"}
    assert sorted(p.organization.country.code for p in pledges) == sorted(
        ["EE", "EE", "JM", "AZ", "LT", "HU", "IN"]
    )


def test_cancelled_agreements_and_withdrawn_registrations_are_there_but_not_counted(beijing):
    agreements = Agreement.objects.in_tree(beijing)
    cancelled = agreements.filter(status=AgreementStatus.CANCELLED)
    counted_buyers = set(agreements.counted().values_list("registration__organization", flat=True))
    withdrawn = Registration.objects.in_tree(beijing).filter(status=RegistrationStatus.WITHDRAWN)

    assert agreements.count() == 207 + cancelled.count()
    assert cancelled.count() >= 2
    # One cancelled agreement's buyer signed nothing else: it must not count as a signer.
    assert any(a.registration.organization_id not in counted_buyers for a in cancelled)
    assert withdrawn.exists()
    assert withdrawn.filter(organization__annual_imports_usd__gt=10_000_000).exists()


def test_agreements_in_other_currencies_are_frozen_at_the_rate_dated_before_the_expo(beijing):
    foreign_currency = Agreement.objects.in_tree(beijing).exclude(currency="USD")
    rates = {(r.currency, r.valid_on): r.usd_per_unit for r in ExchangeRate.objects.all()}

    assert {a.currency for a in foreign_currency} == {"CNY", "EUR", "JPY"}
    for agreement in foreign_currency:
        rate = rates[(agreement.currency, datetime.date(2019, 11, 1))]
        assert agreement.usd_rate_on == datetime.date(2019, 11, 1)
        assert agreement.usd_rate == rate
        assert agreement.amount_usd == (agreement.amount * rate).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    assert all(
        "Illustrative" in source for source in ExchangeRate.objects.values_list("source", flat=True)
    )


def test_sub_delegations_hold_part_of_the_records_and_most_visits(beijing):
    subs = beijing.sub_delegations.all()
    by_bureau = Visit.objects.filter(delegation=beijing).values("organization").distinct()
    by_subs = Visit.objects.filter(delegation__in=subs).values("organization").distinct()

    assert subs.count() >= 2
    assert all(sub.illustrative for sub in subs)
    assert by_bureau.count() == 120
    assert by_subs.count() == 200
    assert Registration.objects.filter(delegation__in=subs).exists()
    assert Agreement.objects.filter(delegation__in=subs).exists()


def test_another_delegation_at_the_same_expo_keeps_its_own_figures(load_output):
    shanghai = Delegation.objects.get(edition__slug="ciie-2019", slug="shanghai")
    figures = headline_figures(delegation=shanghai).figures

    assert 0 < figures["agreements"].value < 207
    assert 0 < figures["registered_organizations"].value < 3107
    assert figures["ciftis_pledges"].value == 0


def test_only_the_storys_facts_are_not_illustrative(load_output):
    story = read_story()
    real_agreements = Agreement.objects.filter(illustrative=False)

    assert set(
        Organization.objects.filter(illustrative=False).values_list("name_en", flat=True)
    ) == {row.name_en for row in story.organizations}
    assert {row.name_en for row in story.organizations} >= STORY_COMPANIES
    assert set(
        Delegation.objects.filter(illustrative=False).values_list("edition__slug", "slug")
    ) == {("ciie-2019", "beijing"), ("ciie-2018", "beijing")}
    assert {(a.buyer.name_en, a.amount, a.currency, a.kind) for a in real_agreements} == {
        ("Secoo", Decimal("200000000.00"), "USD", "strategic_cooperation"),
        ("Gome", Decimal("710000000.00"), "USD", "strategic_cooperation"),
    }
    assert not CiftisPledge.objects.filter(illustrative=True).exists()
    for model in RECORDED_MODELS:
        assert not model.objects.filter(illustrative=False).exists(), model


def test_the_storys_agreements_are_with_the_storys_counterparts(load_output):
    secoo = Agreement.objects.get(registration__organization__name_en="Secoo")
    gome = Agreement.objects.get(registration__organization__name_en="Gome")
    secoo_countries = {e.organization.country.code for e in secoo.exhibitors.all()}

    assert {"GB", "JP"} < secoo_countries
    assert [e.organization.name_en for e in gome.exhibitors.all()] == ["Samsung China"]
    assert (secoo.sector.code, gome.sector.code) == ("cross-border-ecommerce", "quality-everyday")


def test_generated_organizations_say_so_and_chinese_ones_have_valid_unique_codes(load_output):
    generated = Organization.objects.filter(illustrative=True)
    codes = list(
        Organization.objects.exclude(credit_code=None).values_list("credit_code", flat=True)
    )

    assert all("示例" in o.name_zh and o.name_en.startswith("Illustrative") for o in generated)
    assert not generated.filter(country="CN", credit_code=None).exists()
    assert not Organization.objects.exclude(country="CN").exclude(credit_code=None).exists()
    assert not Organization.objects.filter(illustrative=False).exclude(credit_code=None).exists()
    assert len(codes) == len(set(codes)) > 3000
    assert [c for c in codes if uscc_problem(c) or organization_code_warning(c)] == []


def test_exhibitors_are_from_abroad_and_many_signed_nothing_with_beijing(beijing):
    at_2019 = Exhibitor.objects.filter(edition__slug="ciie-2019").select_related("organization")
    with_beijing = set(
        Agreement.objects.in_tree(beijing).values_list("parties__exhibitor", flat=True)
    )

    assert {e.organization.kind for e in at_2019} <= {
        OrganizationKind.FOREIGN,
        OrganizationKind.FOREIGN_FUNDED,
        OrganizationKind.HK_MACAO_TAIWAN,
    }
    assert all(e.organization.country.code != "CN" for e in at_2019)
    assert len([e for e in at_2019 if e.pk not in with_beijing]) > 100


def test_the_command_reports_what_it_created(load_output):
    assert "organizations" in load_output
    assert "0 already there" in load_output
    assert "records created" in load_output


def test_loading_again_creates_nothing_and_changes_no_figure(beijing):
    before = {model: model._default_manager.count() for model in apps.get_models()}
    figures_before = headline_figures(delegation=beijing).as_json()
    out, quiet = StringIO(), StringIO()

    call_command("load_seeds", stdout=out)
    call_command("load_seeds", stdout=quiet, verbosity=0)

    assert {model: model._default_manager.count() for model in apps.get_models()} == before
    assert headline_figures(delegation=beijing).as_json() == figures_before
    assert "Seeds already loaded: nothing to create." in out.getvalue()
    assert quiet.getvalue() == ""


def test_loading_is_all_or_nothing(load_output):
    rate = ExchangeRateRow("CNY", datetime.date(2020, 11, 1), Decimal("0.15"), "test")
    shanghai_2020 = DelegationRow("ciie-2020", "shanghai", "上海", "Shanghai")
    bad_code = OrganizationRow(
        "示例企业坏码", "Illustrative bad code", "private", "CN", "91110105DM0000010X"
    )
    population = Population(
        exchange_rates=(rate,),
        delegations=(shanghai_2020,),
        organizations=(bad_code,),
        registrations=(),
        exhibitors=(),
        agreements=(),
        visits=(),
        intentions=(),
        pledges=(),
    )

    with pytest.raises(ValidationError, match="credit_code"):
        load_seeds(population)

    assert not ExchangeRate.objects.filter(valid_on=rate.valid_on).exists()
    assert not Delegation.objects.filter(edition__slug="ciie-2020").exists()


def test_the_database_holds_exactly_the_generated_population(load_output):
    population = build_population(read_story())

    assert set(Agreement.objects.values_list("reference", "amount", "currency", "status")) == {
        (a.reference, a.amount, a.currency, a.status) for a in population.agreements
    }
    assert set(Organization.objects.values_list("name_zh", "credit_code")) == {
        (o.name_zh, o.credit_code) for o in population.organizations
    }
    assert Registration.objects.count() == len(population.registrations)
    assert Visit.objects.count() == len(population.visits)


def test_the_generator_gives_the_same_population_in_every_process():
    story = read_story()
    digest = build_population(story).digest()
    script = (
        "import django; django.setup(); "
        "from seeds.demo import build_population; from seeds.loader import read_story; "
        "print(build_population(read_story()).digest())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "expo_site.settings",
        "SECRET_KEY": settings.SECRET_KEY,
    }
    others = [
        subprocess.run(
            [sys.executable, "-c", script],
            env={**env, "PYTHONHASHSEED": seed},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    ]

    assert build_population(story) == build_population(story)
    assert others == [digest, digest]


def test_every_quoted_fact_is_a_passage_of_the_story():
    story = read_story()

    assert story.quotes
    assert [quote for quote in story.quotes if quote not in " ".join(story.text.split())] == []


def test_the_public_home_page_shows_the_storys_figures_computed(load_output, client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = get_page(client, "/en/")

    def shown(key: str) -> str:
        card = page.one("li", id=f"figure-{key}")
        return card.one("span", class_="figure__value").text

    assert page.one("h1").text == "Beijing delegation"
    assert [shown(key) for key in ("companies_signed", "agreements", "exhibitors")] == [
        "88",
        "207",
        "108",
    ]
    assert shown("countries_regions") == "32"
    assert shown("registered_organizations") == "3,107"
    assert shown("participants") == "10,828"
    assert shown("purchaser_share") == "91.5%"
    assert shown("ciftis_pledges") == "7"
    assert shown("ciftis_pledge_countries") == "6"
    organizations = page.one("li", id="figure-registered_organizations")
    assert "+40.0% against the previous edition's attendance" in organizations.text
    english_press = page.select("blockquote")[1].text
    assert english_press.startswith(
        "88 companies from the Beijing delegation to the 2nd China International Import Expo "
        "signed 207 purchase agreements with 108 exhibitors from 32 countries and regions."
    )
    assert page.one(class_="notice-illustrative")
