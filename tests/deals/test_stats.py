import datetime
import json
from decimal import Decimal

import pytest

from deals.stats import (
    BASIS_ATTENDANCE,
    BASIS_LABELS,
    BASIS_NONE,
    BASIS_PREVIOUS,
    BASIS_REGISTRATIONS,
    FIGURE_LABELS,
    headline_figures,
)
from delegations.models import Delegation, OrganizationKind
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    VisitFactory,
    edition,
)

pytestmark = pytest.mark.django_db

KEYS = [
    "companies_signed",
    "agreements",
    "exhibitors",
    "countries_regions",
    "intended_purchase_usd",
    "registered_organizations",
    "participants",
    "purchaser_share",
    "large_importers",
    "organizations_by_kind",
    "companies_visited",
    "investment_intentions",
    "ciftis_interest",
    "ciftis_pledges",
    "ciftis_pledge_countries",
    "ciftis_pledges_attended",
    "ciftis_pledge_conversion",
]


def beijing(year: int = 2019) -> Delegation:
    return DelegationFactory(edition=edition(f"ciie-{year}"))


def shanghai(year: int = 2019) -> Delegation:
    return DelegationFactory(
        edition=edition(f"ciie-{year}"), slug="shanghai", name_zh="上海", name_en="Shanghai"
    )


def district(parent: Delegation) -> Delegation:
    return DelegationFactory(
        edition=parent.edition,
        parent=parent,
        slug="chaoyang",
        name_zh="朝阳区",
        name_en="Chaoyang District",
    )


def figures(delegation: Delegation):
    return headline_figures(delegation=delegation).figures


def agreement_in(delegation: Delegation, **kwargs):
    kwargs.setdefault("registration", RegistrationFactory(delegation=delegation))
    kwargs.setdefault("signed_on", datetime.date(delegation.edition.year, 11, 6))
    return AgreementFactory(**kwargs)


# ---------------------------------------------------------------------------------------
# Agreements
# ---------------------------------------------------------------------------------------


def test_agreements_leave_out_cancelled_ones():
    delegation = beijing()
    agreement_in(delegation, amount=Decimal("100"))
    agreement_in(delegation, amount=Decimal("200"), status="executed")
    agreement_in(delegation, amount=Decimal("400"), status="cancelled")

    result = figures(delegation)

    assert result["agreements"].value == 2
    assert result["companies_signed"].value == 2
    assert result["exhibitors"].value == 2
    assert result["intended_purchase_usd"].value == Decimal("300.00")


def test_a_buyer_with_two_agreements_counts_once_among_the_companies_that_signed():
    delegation = beijing()
    buyer = RegistrationFactory(delegation=delegation)
    agreement_in(delegation, registration=buyer)
    agreement_in(delegation, registration=buyer)
    agreement_in(delegation)

    result = figures(delegation)

    assert result["agreements"].value == 3
    assert result["companies_signed"].value == 2


def test_an_exhibitor_party_to_two_agreements_counts_once():
    delegation = beijing()
    samsung = ExhibitorFactory(organization__country="KR")
    agreement_in(delegation, exhibitors=[samsung])
    agreement_in(delegation, exhibitors=[samsung, ExhibitorFactory()])

    assert figures(delegation)["exhibitors"].value == 2


def test_exhibitors_of_one_country_count_one_country_and_hong_kong_is_a_region_of_its_own():
    delegation = beijing()
    british = [ExhibitorFactory(organization__country="GB") for _ in range(2)]
    agreement_in(delegation, exhibitors=british)
    agreement_in(delegation, exhibitors=[ExhibitorFactory(organization__country="JP")])
    agreement_in(delegation, exhibitors=[ExhibitorFactory(organization__country="HK")])

    result = figures(delegation)

    assert result["exhibitors"].value == 4
    assert result["countries_regions"].value == 3


def test_an_agreement_with_several_exhibitors_counts_its_amount_once():
    delegation = beijing()
    agreement_in(
        delegation,
        amount=Decimal("200000000"),
        exhibitors=[ExhibitorFactory(organization__country=code) for code in ("GB", "JP", "IT")],
    )

    assert figures(delegation)["intended_purchase_usd"].value == Decimal("200000000.00")


def test_the_intended_purchase_amount_is_zero_dollars_without_agreements():
    value = figures(beijing())["intended_purchase_usd"].value

    assert value == 0
    assert isinstance(value, Decimal)


def test_the_us_dollar_total_uses_the_amounts_frozen_at_signing():
    rate = ExchangeRateFactory(currency="CNY", usd_per_unit="0.142")
    delegation = beijing()
    agreement_in(delegation, amount=Decimal("1000000"), currency="CNY")
    agreement_in(delegation, amount=Decimal("500"), currency="USD")
    assert figures(delegation)["intended_purchase_usd"].value == Decimal("142500.00")

    rate.usd_per_unit = Decimal("0.15")
    rate.save()

    assert figures(delegation)["intended_purchase_usd"].value == Decimal("142500.00")


# ---------------------------------------------------------------------------------------
# Registrations
# ---------------------------------------------------------------------------------------


def test_withdrawn_registrations_are_left_out():
    delegation = beijing()
    RegistrationFactory(delegation=delegation, participants=3)
    RegistrationFactory(delegation=delegation, participants=4, status="attended")
    RegistrationFactory(delegation=delegation, participants=50, status="withdrawn")

    result = figures(delegation)

    assert result["registered_organizations"].value == 2
    assert result["participants"].value == 7


def test_the_purchaser_share_is_purchasing_organizations_over_registered_ones():
    delegation = beijing()
    RegistrationFactory(delegation=delegation, is_purchaser=True)
    RegistrationFactory(delegation=delegation, is_purchaser=True)
    RegistrationFactory(delegation=delegation, is_purchaser=False)
    RegistrationFactory(delegation=delegation, is_purchaser=True, status="withdrawn")

    share = figures(delegation)["purchaser_share"].value

    assert share == pytest.approx(2 / 3)
    assert isinstance(share, float)


def test_the_purchaser_share_is_zero_without_registrations():
    assert figures(beijing())["purchaser_share"].value == 0.0


def test_large_importers_import_over_the_threshold_read_from_settings(settings):
    settings.EXPO = {**settings.EXPO, "LARGE_IMPORTER_USD": 5_000_000}
    delegation = beijing()
    for imports in ("5000000", "5000000.01", "80000000", None):
        RegistrationFactory(
            delegation=delegation,
            organization__annual_imports_usd=None if imports is None else Decimal(imports),
        )
    RegistrationFactory(
        delegation=delegation,
        status="withdrawn",
        organization__annual_imports_usd=Decimal("90000000"),
    )

    assert figures(delegation)["large_importers"].value == 2


def test_organizations_by_kind_name_every_kind_in_order_with_zeros():
    delegation = beijing()
    RegistrationFactory(delegation=delegation, organization__kind=OrganizationKind.STATE_OWNED)
    RegistrationFactory(delegation=delegation, organization__kind=OrganizationKind.PRIVATE)
    RegistrationFactory(delegation=delegation, organization__kind=OrganizationKind.PRIVATE)
    RegistrationFactory(
        delegation=delegation, organization__kind=OrganizationKind.FOREIGN, status="withdrawn"
    )

    breakdown = figures(delegation)["organizations_by_kind"].value

    assert list(breakdown) == OrganizationKind.values
    assert breakdown == {kind: 0 for kind in OrganizationKind.values} | {
        "state_owned": 1,
        "private": 2,
    }


def test_the_breakdown_by_kind_changes_per_kind_and_not_where_last_year_had_none():
    delegation, last_year = beijing(), beijing(2018)
    for _ in range(3):
        RegistrationFactory(delegation=delegation, organization__kind=OrganizationKind.PRIVATE)
    RegistrationFactory(delegation=delegation, organization__kind=OrganizationKind.GOVERNMENT)
    for _ in range(2):
        RegistrationFactory(delegation=last_year, organization__kind=OrganizationKind.PRIVATE)

    figure = figures(delegation)["organizations_by_kind"]

    assert figure.basis == BASIS_PREVIOUS
    assert figure.previous["private"] == 2
    assert figure.change["private"] == pytest.approx(0.5)
    assert figure.change["government"] is None
    assert figure.change["foreign"] is None
    assert list(figure.change) == OrganizationKind.values


# ---------------------------------------------------------------------------------------
# Visits, investment intentions, CIFTIS
# ---------------------------------------------------------------------------------------


def test_a_company_visited_twice_counts_once_and_so_does_its_ciftis_interest():
    delegation = beijing()
    jd = OrganizationFactory()
    VisitFactory(delegation=delegation, organization=jd, ciftis_interest=True)
    VisitFactory(
        delegation=delegation,
        organization=jd,
        visited_on=datetime.date(2019, 11, 7),
        ciftis_interest=True,
    )
    VisitFactory(delegation=delegation, ciftis_interest=False)

    result = figures(delegation)

    assert result["companies_visited"].value == 2
    assert result["ciftis_interest"].value == 1


def test_investment_intentions_count_organizations_at_any_stage():
    delegation = beijing()
    for stage in ("expressed", "negotiating", "landed", "dropped"):
        InvestmentIntentionFactory(delegation=delegation, stage=stage)

    assert figures(delegation)["investment_intentions"].value == 4


def test_ciftis_pledges_leave_out_withdrawn_ones_and_count_distinct_countries():
    delegation = beijing()
    for country in ("EE", "EE", "JM", "AZ"):
        CiftisPledgeFactory(source_delegation=delegation, organization__country=country)
    CiftisPledgeFactory(
        source_delegation=delegation, organization__country="IN", status="withdrawn"
    )

    result = figures(delegation)

    assert result["ciftis_pledges"].value == 4
    assert result["ciftis_pledge_countries"].value == 3


def test_the_conversion_counts_the_pledges_whose_organization_attended():
    delegation = beijing()
    for status in ("pledged", "registered", "attended", "attended", "withdrawn"):
        CiftisPledgeFactory(source_delegation=delegation, status=status)

    result = figures(delegation)

    assert result["ciftis_pledges"].value == 4
    assert result["ciftis_pledges_attended"].value == 2
    assert result["ciftis_pledge_conversion"].value == 0.5


def test_the_conversion_compares_with_the_previous_editions():
    before = beijing(2018)
    CiftisPledgeFactory(source_delegation=before, status="attended")
    CiftisPledgeFactory(source_delegation=before)
    now = beijing()
    for status in ("attended", "attended", "attended", "pledged"):
        CiftisPledgeFactory(source_delegation=now, status=status)

    conversion = figures(now)["ciftis_pledge_conversion"]

    assert (conversion.value, conversion.previous) == (0.75, 0.5)
    assert conversion.change == 0.5


# ---------------------------------------------------------------------------------------
# Whose records count
# ---------------------------------------------------------------------------------------


def test_records_of_sub_delegations_roll_up_into_the_delegation():
    delegation = beijing()
    chaoyang = district(delegation)
    shared = OrganizationFactory()
    RegistrationFactory(delegation=delegation, participants=2)
    RegistrationFactory(delegation=chaoyang, participants=5)
    agreement_in(chaoyang, amount=Decimal("700"))
    VisitFactory(delegation=delegation)
    VisitFactory(delegation=chaoyang)
    VisitFactory(delegation=chaoyang, organization=shared)
    VisitFactory(delegation=delegation, organization=shared)
    InvestmentIntentionFactory(delegation=chaoyang, organization=shared)
    InvestmentIntentionFactory(delegation=delegation, organization=shared)
    CiftisPledgeFactory(source_delegation=chaoyang)

    result = figures(delegation)

    assert result["registered_organizations"].value == 3
    assert result["participants"].value == 8
    assert result["agreements"].value == 1
    assert result["intended_purchase_usd"].value == Decimal("700.00")
    assert result["companies_visited"].value == 3
    assert result["investment_intentions"].value == 1
    assert result["ciftis_pledges"].value == 1


def test_another_delegations_records_at_the_same_edition_are_left_out():
    delegation, other = beijing(), shanghai()
    RegistrationFactory(delegation=delegation)
    RegistrationFactory(delegation=other, participants=9)
    agreement_in(other)
    VisitFactory(delegation=other, ciftis_interest=True)
    InvestmentIntentionFactory(delegation=other)
    CiftisPledgeFactory(source_delegation=other)

    result = figures(delegation)

    assert {key: figure.value for key, figure in result.items()} == {
        "companies_signed": 0,
        "agreements": 0,
        "exhibitors": 0,
        "countries_regions": 0,
        "intended_purchase_usd": Decimal("0"),
        "registered_organizations": 1,
        "participants": 1,
        "purchaser_share": 1.0,
        "large_importers": 0,
        "organizations_by_kind": {kind: 0 for kind in OrganizationKind.values} | {"private": 1},
        "companies_visited": 0,
        "investment_intentions": 0,
        "ciftis_interest": 0,
        "ciftis_pledges": 0,
        "ciftis_pledge_countries": 0,
        "ciftis_pledges_attended": 0,
        "ciftis_pledge_conversion": 0.0,
    }


# ---------------------------------------------------------------------------------------
# Year on year
# ---------------------------------------------------------------------------------------


def test_registrations_compare_with_last_years_attendance_as_in_the_story():
    delegation, last_year = beijing(), beijing(2018)
    # 2019: 7 organizations, 10,828 participants registered.
    RegistrationFactory(delegation=delegation, participants=10_822)
    for _ in range(6):
        RegistrationFactory(delegation=delegation)
    # 2018: 5 organizations with 5,982 people took part; others registered but did not.
    RegistrationFactory(delegation=last_year, participants=5_978, status="attended")
    for _ in range(4):
        RegistrationFactory(delegation=last_year, status="attended")
    RegistrationFactory(delegation=last_year, participants=400, status="registered")
    RegistrationFactory(delegation=last_year, participants=30, status="withdrawn")

    result = figures(delegation)

    organizations, participants = result["registered_organizations"], result["participants"]
    assert (organizations.value, organizations.previous) == (7, 5)
    assert (participants.value, participants.previous) == (10_828, 5_982)
    assert organizations.change == 0.4
    assert round(participants.change, 3) == 0.81
    assert organizations.basis == participants.basis == BASIS_ATTENDANCE


def test_registrations_compare_with_last_years_registrations_when_no_attendance_was_recorded():
    delegation, last_year = beijing(), beijing(2018)
    for _ in range(3):
        RegistrationFactory(delegation=delegation, participants=2)
    RegistrationFactory(delegation=last_year, participants=4)
    RegistrationFactory(delegation=last_year, participants=4)
    RegistrationFactory(delegation=last_year, participants=40, status="withdrawn")

    result = figures(delegation)

    organizations, participants = result["registered_organizations"], result["participants"]
    assert (organizations.previous, participants.previous) == (2, 8)
    assert organizations.change == pytest.approx(0.5)
    assert participants.change == pytest.approx(-0.25)
    assert organizations.basis == participants.basis == BASIS_REGISTRATIONS


def test_the_other_registration_figures_compare_with_last_years_registrations():
    delegation, last_year = beijing(), beijing(2018)
    RegistrationFactory(delegation=delegation, is_purchaser=True)
    RegistrationFactory(delegation=last_year, is_purchaser=True, status="attended")
    RegistrationFactory(delegation=last_year, is_purchaser=False)

    share = figures(delegation)["purchaser_share"]

    assert share.previous == pytest.approx(0.5)
    assert share.change == pytest.approx(1.0)
    assert share.basis == BASIS_PREVIOUS


def test_the_intended_purchase_amount_changes_against_last_year():
    delegation, last_year = beijing(), beijing(2018)
    agreement_in(delegation, amount=Decimal("1300"))
    agreement_in(last_year, amount=Decimal("1000"))

    figure = figures(delegation)["intended_purchase_usd"]

    assert figure.previous == Decimal("1000.00")
    assert figure.change == pytest.approx(0.3)
    assert isinstance(figure.change, float)
    assert figure.basis == BASIS_PREVIOUS


def test_there_is_no_comparison_when_the_delegation_did_not_come_last_year():
    delegation = beijing()
    RegistrationFactory(delegation=delegation)
    agreement_in(delegation)
    # Another delegation's records at the previous edition are no basis for Beijing's.
    RegistrationFactory(delegation=shanghai(2018), status="attended")

    headline = headline_figures(delegation=delegation)

    assert headline.previous_delegation is None
    for figure in headline.figures.values():
        assert (figure.previous, figure.change, figure.basis) == (None, None, BASIS_NONE)


def test_there_is_no_comparison_for_the_first_edition_of_a_fair():
    delegation = beijing(2018)
    RegistrationFactory(delegation=delegation)

    headline = headline_figures(delegation=delegation)

    assert headline.previous_delegation is None
    assert {figure.basis for figure in headline.figures.values()} == {BASIS_NONE}


def test_there_is_no_comparison_for_a_group_last_year_has_no_records_of():
    delegation, last_year = beijing(), beijing(2018)
    agreement_in(delegation)
    VisitFactory(delegation=delegation)
    InvestmentIntentionFactory(delegation=delegation)
    CiftisPledgeFactory(source_delegation=delegation)
    # Last year: registrations only, and one cancelled agreement, which does not count.
    RegistrationFactory(delegation=last_year, status="attended")
    agreement_in(last_year, status="cancelled")
    CiftisPledgeFactory(source_delegation=last_year, status="withdrawn")

    result = figures(delegation)

    compared = {key for key, figure in result.items() if figure.basis != BASIS_NONE}
    assert compared == {
        "registered_organizations",
        "participants",
        "purchaser_share",
        "large_importers",
        "organizations_by_kind",
    }
    for key in set(KEYS) - compared:
        # Never a made-up 0 or a made-up change.
        assert result[key].previous is None
        assert result[key].change is None


def test_the_change_is_none_when_last_years_figure_is_zero():
    delegation, last_year = beijing(), beijing(2018)
    VisitFactory(delegation=delegation, ciftis_interest=True)
    VisitFactory(delegation=last_year, ciftis_interest=False, visited_on=datetime.date(2018, 11, 6))

    result = figures(delegation)

    interest = result["ciftis_interest"]
    assert (interest.value, interest.previous, interest.change) == (1, 0, None)
    assert interest.basis == BASIS_PREVIOUS
    assert result["companies_visited"].change == pytest.approx(0.0)


def test_last_years_sub_delegations_count_towards_last_years_figures():
    delegation, last_year = beijing(), beijing(2018)
    for _ in range(3):
        InvestmentIntentionFactory(delegation=delegation)
    InvestmentIntentionFactory(delegation=district(last_year))
    InvestmentIntentionFactory(delegation=last_year)

    figure = figures(delegation)["investment_intentions"]

    assert (figure.previous, figure.basis) == (2, BASIS_PREVIOUS)
    assert figure.change == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------
# The headline as a whole
# ---------------------------------------------------------------------------------------


def test_the_figures_come_in_the_order_of_the_product_table_and_all_have_labels():
    headline = headline_figures(delegation=beijing())

    assert list(headline.figures) == KEYS
    assert list(FIGURE_LABELS) == KEYS
    assert all(figure.key == key for key, figure in headline.figures.items())
    assert set(BASIS_LABELS) == {
        BASIS_NONE,
        BASIS_ATTENDANCE,
        BASIS_REGISTRATIONS,
        BASIS_PREVIOUS,
    }
    assert str(BASIS_LABELS[BASIS_NONE]) == "no comparison"


def test_the_headline_as_json_is_serialisable_with_exactly_the_keys():
    delegation, last_year = beijing(), beijing(2018)
    RegistrationFactory(delegation=delegation)
    agreement_in(delegation, amount=Decimal("1234.50"))
    agreement_in(last_year, amount=Decimal("1000"))

    data = json.loads(json.dumps(headline_figures(delegation=delegation).as_json()))

    assert set(data) == {"delegation", "edition", "previous_edition", "illustrative", *KEYS}
    assert data["illustrative"] is False
    assert data["delegation"] == {"slug": "beijing", "name_zh": "北京", "name_en": "Beijing"}
    assert data["edition"]["slug"] == "ciie-2019"
    assert data["previous_edition"] == "ciie-2018"
    for key in KEYS:
        assert set(data[key]) == {"value", "previous", "change", "basis"}
    assert data["intended_purchase_usd"] == {
        "value": 1234.5,
        "previous": 1000,
        "change": pytest.approx(0.2345),
        "basis": BASIS_PREVIOUS,
    }
    assert data["companies_visited"]["basis"] == BASIS_NONE
    assert data["companies_visited"]["previous"] is None


def test_the_headline_as_json_names_no_previous_edition_without_a_comparison():
    data = headline_figures(delegation=beijing()).as_json()

    assert data["previous_edition"] is None
    json.dumps(data)


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


def populate(delegation: Delegation, rows: int) -> None:
    """`rows` records of every kind in the delegation's tree."""
    sub = district(delegation)
    year = delegation.edition.year
    for number in range(rows):
        unit = delegation if number % 2 else sub
        buyer = RegistrationFactory(
            delegation=unit, status="attended" if number % 3 else "registered"
        )
        agreement_in(unit, registration=buyer, exhibitors=[ExhibitorFactory(edition=unit.edition)])
        VisitFactory(delegation=unit, visited_on=datetime.date(year, 11, 6), ciftis_interest=True)
        InvestmentIntentionFactory(delegation=unit)
        CiftisPledgeFactory(source_delegation=unit)


def fresh(delegation: Delegation) -> Delegation:
    return Delegation.objects.select_related("edition").get(pk=delegation.pk)


# The previous edition, the counterpart delegation, then one aggregate per group:
# agreements, their exhibitors, registrations, visits, intentions, pledges.
QUERIES = 8


@pytest.mark.parametrize("rows", [1, 12])
def test_the_number_of_queries_does_not_grow_with_the_rows(rows, django_assert_num_queries):
    delegation, last_year = beijing(), beijing(2018)
    populate(delegation, rows)
    populate(last_year, rows)
    delegation = fresh(delegation)

    with django_assert_num_queries(QUERIES):
        headline = headline_figures(delegation=delegation)
        headline.as_json()

    assert headline.figures["agreements"].value == rows
    assert headline.figures["agreements"].basis == BASIS_PREVIOUS


def test_without_a_counterpart_last_year_the_queries_are_the_same(django_assert_num_queries):
    delegation = beijing()
    populate(delegation, 3)
    delegation = fresh(delegation)

    with django_assert_num_queries(QUERIES):
        headline_figures(delegation=delegation).as_json()


def test_the_first_edition_of_a_fair_looks_for_no_counterpart(django_assert_num_queries):
    delegation = beijing(2018)
    populate(delegation, 3)
    delegation = fresh(delegation)

    with django_assert_num_queries(QUERIES - 1):
        headline_figures(delegation=delegation).as_json()


def test_the_headline_says_when_demo_records_are_among_those_counted():
    delegation = beijing()
    RegistrationFactory(delegation=delegation)
    assert headline_figures(delegation=delegation).illustrative is False

    agreement_in(delegation, amount=Decimal("10"), illustrative=True)

    assert headline_figures(delegation=delegation).illustrative is True
