import dataclasses
import datetime
import random
from decimal import Decimal
from itertools import combinations

import pytest
from django.utils import translation

from deals.disclosure import (
    BY_COUNTRY,
    BY_KIND,
    BY_SECTOR,
    NO_GROUP,
    PARTITIONS,
    REASON_COMPLEMENTARY,
    REASON_THRESHOLD,
    SEVERAL_COUNTRIES,
    GroupTotal,
    GroupTotals,
    PublicAgreement,
    agreement_totals,
    disclosed_total,
    public_rows,
)
from deals.models import Agreement, AgreementKind, AgreementStatus, Sector
from deals.stats import headline_figures
from delegations.models import Delegation
from tests.factories import (
    AgreementFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    RegistrationFactory,
    SectorFactory,
    edition,
)

pytestmark = pytest.mark.django_db


def beijing() -> Delegation:
    return DelegationFactory(edition=edition("ciie-2019"))


def district(parent: Delegation) -> Delegation:
    return DelegationFactory(
        edition=parent.edition,
        parent=parent,
        slug="chaoyang",
        name_zh="朝阳区",
        name_en="Chaoyang District",
    )


def sector(code: str) -> Sector:
    return SectorFactory(code=code, name_zh=f"领域{code}", name_en=f"Sector {code}")


def agreement_in(
    delegation: Delegation,
    *,
    public: bool,
    amount: str | Decimal = "1000",
    countries: tuple[str, ...] = ("GB",),
    **kwargs,
) -> Agreement:
    kwargs.setdefault("registration", RegistrationFactory(delegation=delegation))
    return AgreementFactory(
        is_public=public,
        amount=Decimal(amount),
        exhibitors=[
            ExhibitorFactory(edition=delegation.edition, organization__country=country)
            for country in countries
        ],
        **kwargs,
    )


def several(delegation: Delegation, *, public: bool, count: int, **kwargs) -> list[Agreement]:
    return [agreement_in(delegation, public=public, **kwargs) for _ in range(count)]


def counted(delegation: Delegation):
    return Agreement.objects.counted().in_tree(delegation)


def totals(delegation: Delegation, by: str = BY_SECTOR) -> GroupTotals:
    return agreement_totals(agreements=counted(delegation), by=by)


def group(result: GroupTotals, key: str) -> GroupTotal:
    (found,) = [group for group in result.groups if group.key == key]
    return found


# ---------------------------------------------------------------------------------------
# The threshold
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("undisclosed", [1, 2])
def test_a_group_with_one_or_two_undisclosed_amounts_is_withheld(undisclosed):
    delegation = beijing()
    medical = sector("medical")
    several(delegation, public=True, count=2, sector=medical, amount="100")
    several(delegation, public=False, count=undisclosed, sector=medical, amount="7")

    result = group(totals(delegation), "medical")

    assert result.withheld
    assert result.total_usd is None
    assert result.reason == REASON_THRESHOLD
    assert (result.agreements, result.disclosed, result.undisclosed) == (
        2 + undisclosed,
        2,
        undisclosed,
    )
    assert result.disclosed_usd == Decimal("200.00")


@pytest.mark.parametrize("undisclosed", [0, 3, 4])
def test_a_group_with_none_or_enough_undisclosed_amounts_is_published_at_its_true_total(
    undisclosed,
):
    delegation = beijing()
    medical = sector("medical")
    several(delegation, public=True, count=2, sector=medical, amount="100")
    several(delegation, public=False, count=undisclosed, sector=medical, amount="7")

    result = group(totals(delegation), "medical")

    assert not result.withheld
    assert result.reason is None
    assert result.total_usd == Decimal(200 + 7 * undisclosed)
    assert result.disclosed_usd == Decimal("200.00")


def test_the_threshold_follows_the_setting(settings):
    settings.EXPO = {**settings.EXPO, "DISCLOSURE_THRESHOLD": 5}
    delegation = beijing()
    several(delegation, public=False, count=4, sector=sector("medical"))
    several(delegation, public=False, count=5, sector=sector("food"))

    result = totals(delegation)

    assert result.threshold == 5
    assert group(result, "medical").reason == REASON_THRESHOLD
    assert group(result, "food").reason == REASON_COMPLEMENTARY


def test_a_lower_threshold_publishes_a_group_with_two_undisclosed_amounts(settings):
    settings.EXPO = {**settings.EXPO, "DISCLOSURE_THRESHOLD": 2}
    delegation = beijing()
    several(delegation, public=False, count=2, sector=sector("medical"), amount="7")

    result = group(totals(delegation), "medical")

    assert not result.withheld
    assert result.total_usd == Decimal("14.00")


# ---------------------------------------------------------------------------------------
# Complementary suppression
# ---------------------------------------------------------------------------------------


def test_a_lone_withheld_group_takes_the_group_with_most_undisclosed_amounts_with_it():
    delegation = beijing()
    several(delegation, public=False, count=1, sector=sector("a-medical"))
    several(delegation, public=False, count=4, sector=sector("b-food"))
    several(delegation, public=False, count=3, sector=sector("c-cars"))
    several(delegation, public=True, count=5, sector=sector("d-services"))

    result = totals(delegation)

    assert group(result, "a-medical").reason == REASON_THRESHOLD
    assert group(result, "b-food").reason == REASON_COMPLEMENTARY
    assert group(result, "b-food").total_usd is None
    assert not group(result, "c-cars").withheld
    assert not group(result, "d-services").withheld


def test_complementary_suppression_breaks_ties_by_key():
    delegation = beijing()
    several(delegation, public=False, count=2, sector=sector("medical"))
    several(delegation, public=False, count=3, sector=sector("food"))
    several(delegation, public=False, count=3, sector=sector("cars"))

    result = totals(delegation)

    assert group(result, "cars").reason == REASON_COMPLEMENTARY
    assert not group(result, "food").withheld


def test_withheld_groups_that_together_hold_enough_undisclosed_amounts_take_no_other():
    delegation = beijing()
    several(delegation, public=False, count=2, sector=sector("medical"))
    several(delegation, public=False, count=2, sector=sector("food"))
    several(delegation, public=False, count=5, sector=sector("cars"))

    result = totals(delegation)

    assert [group.reason for group in result.groups if group.withheld] == [REASON_THRESHOLD] * 2
    assert group(result, "cars").total_usd == Decimal("5000.00")


def test_a_group_without_undisclosed_amounts_is_never_withheld():
    delegation = beijing()
    several(delegation, public=False, count=1, sector=sector("medical"))
    several(delegation, public=True, count=4, sector=sector("food"), amount="250")

    result = totals(delegation)

    assert group(result, "medical").withheld
    assert group(result, "food").total_usd == Decimal("1000.00")


def test_nothing_is_withheld_where_every_amount_is_disclosed():
    delegation = beijing()
    several(delegation, public=True, count=1, sector=sector("medical"))
    several(delegation, public=True, count=2, sector=sector("food"))

    assert not totals(delegation).withheld


# A brute-force check of the rule on small random populations: for every partition, the
# headline total minus the published group totals, less the disclosed amounts of the
# withheld groups (the public list shows them), is the sum of the undisclosed amounts of
# the withheld groups. It must never equal a sum of fewer than `threshold` undisclosed
# amounts, unless the delegation has so few of them that the headline alone reveals it.

COUNTRIES = ("GB", "JP", "FR", "HK")


def expected_key(by: str, sector_code: str, kind: str, countries: set[str]) -> str:
    if by == BY_SECTOR:
        return sector_code
    if by == BY_KIND:
        return kind
    if not countries:
        return NO_GROUP
    return next(iter(countries)) if len(countries) == 1 else SEVERAL_COUNTRIES


@pytest.mark.parametrize("seed", range(15))
def test_no_partition_reveals_fewer_undisclosed_amounts_than_the_threshold(seed, settings):
    rng = random.Random(seed)
    threshold = rng.choice([2, 3, 3, 3, 4])
    settings.EXPO = {**settings.EXPO, "DISCLOSURE_THRESHOLD": threshold}
    delegation = beijing()
    units = [delegation, district(delegation)]
    sectors = [sector(code) for code in ("medical", "food", "cars")] + [None]
    exhibitors = {
        country: ExhibitorFactory(edition=delegation.edition, organization__country=country)
        for country in COUNTRIES
    }
    # (public, amount, sector code, kind, countries) of each counted agreement.
    population = []
    for number in range(rng.randint(5, 18)):
        public = rng.random() < 0.5
        amount = Decimal(rng.randint(1, 10**9)) / 100
        chosen = rng.sample(COUNTRIES, k=rng.choice([0, 1, 1, 1, 2]))
        kind = rng.choice(AgreementKind.values)
        status = rng.choice([AgreementStatus.SIGNED] * 4 + [AgreementStatus.CANCELLED])
        chosen_sector = rng.choice(sectors)
        AgreementFactory(
            reference=f"R-{seed}-{number}",
            registration=RegistrationFactory(delegation=rng.choice(units)),
            is_public=public,
            amount=amount,
            kind=kind,
            status=status,
            sector=chosen_sector,
            exhibitors=[exhibitors[country] for country in chosen],
        )
        if status != AgreementStatus.CANCELLED:
            sector_code = chosen_sector.code if chosen_sector else NO_GROUP
            population.append((public, amount, sector_code, kind, set(chosen)))

    headline = headline_figures(delegation=delegation).figures["intended_purchase_usd"].value
    hidden = [amount for public, amount, *_ in population if not public]
    assert headline == sum((amount for _public, amount, *_ in population), Decimal(0))

    for by in PARTITIONS:
        result = totals(delegation, by)
        keyed = [(expected_key(by, *rest), public, amount) for public, amount, *rest in population]
        for found in result.groups:
            members = [(public, amount) for key, public, amount in keyed if key == found.key]
            undisclosed = sum(1 for public, _amount in members if not public)
            assert found.agreements == len(members)
            assert found.undisclosed == undisclosed
            if 0 < undisclosed < threshold:
                assert found.reason == REASON_THRESHOLD
            if undisclosed == 0:
                assert not found.withheld
            if not found.withheld:
                assert found.total_usd == sum((amount for _p, amount in members), Decimal(0))
        assert sum(found.agreements for found in result.groups) == len(population)

        withheld = {found.key for found in result.groups if found.withheld}
        published = sum(
            (found.total_usd for found in result.groups if not found.withheld), Decimal(0)
        )
        known = sum(
            (amount for key, public, amount in keyed if public and key in withheld), Decimal(0)
        )
        revealed = headline - published - known
        if len(hidden) < threshold:
            # The headline minus the disclosed amounts already gives their sum.
            continue
        for size in range(1, threshold):
            for subset in combinations(hidden, size):
                assert revealed != sum(subset), (by, result)


# ---------------------------------------------------------------------------------------
# What is counted, and the groups
# ---------------------------------------------------------------------------------------


def test_cancelled_agreements_are_left_out_of_the_totals():
    delegation = beijing()
    medical = sector("medical")
    several(delegation, public=True, count=2, sector=medical, amount="100")
    agreement_in(
        delegation, public=False, sector=medical, amount="9", status=AgreementStatus.CANCELLED
    )

    result = group(totals(delegation), "medical")

    assert (result.agreements, result.undisclosed, result.withheld) == (2, 0, False)
    assert result.total_usd == Decimal("200.00")


def test_cancelled_agreements_are_left_out_even_when_the_queryset_keeps_them():
    delegation = beijing()
    agreement_in(delegation, public=False, status=AgreementStatus.CANCELLED)

    everything = Agreement.objects.in_tree(delegation)

    assert agreement_totals(agreements=everything, by=BY_SECTOR).groups == ()
    assert disclosed_total(agreements=everything).agreements == 0


def test_records_of_sub_delegations_count_in_the_delegations_totals():
    delegation = beijing()
    medical = sector("medical")
    agreement_in(delegation, public=True, sector=medical, amount="100")
    agreement_in(district(delegation), public=True, sector=medical, amount="50")

    assert group(totals(delegation), "medical").total_usd == Decimal("150.00")


def test_other_delegations_agreements_are_not_counted():
    delegation = beijing()
    shanghai = DelegationFactory(
        edition=delegation.edition, slug="shanghai", name_zh="上海", name_en="Shanghai"
    )
    agreement_in(delegation, public=True, sector=sector("medical"))
    agreement_in(shanghai, public=False, sector=sector("medical"))

    assert group(totals(delegation), "medical").undisclosed == 0


def test_agreements_without_a_sector_form_their_own_group():
    delegation = beijing()
    several(delegation, public=True, count=2, sector=None)

    result = group(totals(delegation), NO_GROUP)

    assert str(result.label) == "no sector"
    assert result.agreements == 2


def test_the_kind_partition_groups_by_kind_of_agreement():
    delegation = beijing()
    several(delegation, public=True, count=2, kind=AgreementKind.PURCHASE)
    several(delegation, public=True, count=1, kind=AgreementKind.STRATEGIC_COOPERATION)

    result = totals(delegation, BY_KIND)

    assert [(group.key, str(group.label), group.agreements) for group in result.groups] == [
        ("purchase", "purchase agreement", 2),
        ("strategic_cooperation", "strategic cooperation agreement", 1),
    ]


def test_an_agreement_with_exhibitors_of_several_countries_belongs_to_its_own_group():
    delegation = beijing()
    agreement_in(delegation, public=True, countries=("GB", "JP"), amount="10")
    agreement_in(delegation, public=True, countries=("GB", "GB"), amount="20")
    agreement_in(delegation, public=True, countries=(), amount="40")

    result = totals(delegation, BY_COUNTRY)

    assert {(group.key, str(group.label), group.total_usd) for group in result.groups} == {
        (SEVERAL_COUNTRIES, "several countries and regions", Decimal("10.00")),
        ("GB", "United Kingdom", Decimal("20.00")),
        (NO_GROUP, "not recorded", Decimal("40.00")),
    }


def test_an_agreement_with_several_exhibitors_counts_its_amount_once():
    delegation = beijing()
    agreement_in(delegation, public=True, countries=("JP", "JP", "JP"), amount="10")

    result = group(totals(delegation, BY_COUNTRY), "JP")

    assert (result.agreements, result.total_usd) == (1, Decimal("10.00"))


def test_regions_of_china_are_named_as_the_settings_name_them():
    delegation = beijing()
    agreement_in(delegation, public=True, countries=("HK",))

    assert str(group(totals(delegation, BY_COUNTRY), "HK").label) == "Hong Kong, China"


def test_group_labels_are_read_in_the_active_language():
    delegation = beijing()
    agreement_in(delegation, public=True, sector=sector("medical"))

    result = group(totals(delegation), "medical")

    assert str(result.label) == "Sector medical"
    with translation.override("zh-hans"):
        assert str(result.label) == "领域medical"


def test_groups_are_sorted_by_number_of_agreements_then_label():
    delegation = beijing()
    several(delegation, public=True, count=1, sector=sector("b"))
    several(delegation, public=True, count=1, sector=sector("a"))
    several(delegation, public=True, count=2, sector=sector("c"))

    assert [group.key for group in totals(delegation).groups] == ["c", "a", "b"]


def test_an_unknown_partition_is_refused():
    with pytest.raises(ValueError, match="buyer"):
        agreement_totals(agreements=Agreement.objects.all(), by="buyer")


def test_the_groups_disclosed_amounts_add_up_to_the_disclosed_total():
    delegation = beijing()
    several(delegation, public=True, count=2, sector=sector("medical"), amount="100")
    several(delegation, public=False, count=1, sector=sector("food"), amount="5")

    assert totals(delegation).disclosed_usd == Decimal("200.00")
    assert disclosed_total(agreements=counted(delegation)).disclosed_usd == Decimal("200.00")


# ---------------------------------------------------------------------------------------
# A list's footer
# ---------------------------------------------------------------------------------------


def test_the_disclosed_total_never_includes_an_undisclosed_amount():
    delegation = beijing()
    several(delegation, public=True, count=2, amount="100")
    agreement_in(delegation, public=False, amount="7")
    agreement_in(delegation, public=True, amount="1", status=AgreementStatus.CANCELLED)

    result = disclosed_total(agreements=counted(delegation))

    assert (result.agreements, result.disclosed, result.undisclosed) == (3, 2, 1)
    assert result.disclosed_usd == Decimal("200.00")


def test_the_disclosed_total_of_nothing_is_zero():
    result = disclosed_total(agreements=Agreement.objects.none())

    assert (result.agreements, result.disclosed, result.disclosed_usd) == (0, 0, Decimal(0))


# ---------------------------------------------------------------------------------------
# Public rows
# ---------------------------------------------------------------------------------------

SECRET = "7654321.98"


def public_list(delegation: Delegation) -> list[PublicAgreement]:
    return public_rows(agreements=Agreement.objects.in_tree(delegation).for_public())


def test_a_public_row_never_carries_an_undisclosed_amount_or_its_currency():
    ExchangeRateFactory(currency="CNY")
    delegation = beijing()
    agreement_in(delegation, public=False, amount=SECRET, currency="CNY", reference="HIDDEN")

    (row,) = public_list(delegation)

    assert not row.disclosed
    assert (row.amount, row.currency, row.amount_usd) == (None, None, None)
    secret_usd = str(Agreement.objects.get(reference="HIDDEN").amount_usd)
    for text in (repr(row), str(dataclasses.asdict(row))):
        assert "7654321" not in text
        assert secret_usd.split(".")[0] not in text
        assert "CNY" not in text


def test_a_public_row_shows_a_disclosed_amount_in_its_currency_and_in_us_dollars():
    ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.14200000"))
    delegation = beijing()
    agreement_in(delegation, public=True, amount="1000", currency="CNY")

    (row,) = public_list(delegation)

    assert row.disclosed
    assert (row.amount, row.currency, row.amount_usd) == (
        Decimal("1000"),
        "CNY",
        Decimal("142.00"),
    )


def test_a_public_row_names_the_buyer_sector_and_exhibitors_in_the_active_language():
    delegation = beijing()
    buyer = RegistrationFactory(
        delegation=delegation, organization__name_zh="寺库", organization__name_en="Secoo"
    )
    agreement_in(
        delegation,
        public=True,
        registration=buyer,
        sector=sector("ecommerce"),
        countries=("JP", "HK"),
        signed_on=datetime.date(2019, 11, 6),
    )

    (row,) = public_list(delegation)
    with translation.override("zh-hans"):
        (row_zh,) = public_list(delegation)

    assert (row.buyer, row.sector, row.sector_label) == ("Secoo", "ecommerce", "Sector ecommerce")
    assert (row_zh.buyer, row_zh.sector_label) == ("寺库", "领域ecommerce")
    assert (row.kind_label, row.status_label) == ("purchase agreement", "signed")
    assert row.signed_on == datetime.date(2019, 11, 6)
    assert sorted((party.country, party.country_name) for party in row.exhibitors) == [
        ("HK", "Hong Kong, China"),
        ("JP", "Japan"),
    ]


def test_the_public_list_leaves_out_cancelled_agreements():
    delegation = beijing()
    agreement_in(delegation, public=True, status=AgreementStatus.CANCELLED)

    assert public_list(delegation) == []


def test_the_public_query_does_not_select_the_confidential_columns():
    delegation = beijing()
    agreement_in(delegation, public=True, notes="call back")

    (agreement,) = Agreement.objects.in_tree(delegation).for_public()

    assert {
        "amount",
        "currency",
        "amount_usd",
        "usd_rate",
        "usd_rate_on",
        "notes",
        "owner_id",
        "next_action_on",
    } <= agreement.get_deferred_fields()


def test_public_rows_refuse_agreements_that_did_not_come_from_for_public():
    delegation = beijing()
    agreement_in(delegation, public=False)

    with pytest.raises(ValueError, match="for_public"):
        public_rows(agreements=Agreement.objects.in_tree(delegation))


def test_a_public_row_cannot_be_made_with_an_undisclosed_amount():
    with pytest.raises(ValueError, match="undisclosed"):
        PublicAgreement(
            reference="X",
            signed_on=None,
            kind="purchase",
            kind_label="",
            status="signed",
            status_label="",
            sector="",
            sector_label="",
            delegation="",
            buyer="",
            exhibitors=(),
            disclosed=False,
            amount=Decimal(1),
            currency=None,
            amount_usd=None,
        )


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


def populate(delegation: Delegation, rows: int) -> None:
    sub = district(delegation)
    sectors = [sector("medical"), sector("food"), None]
    for number in range(rows):
        agreement_in(
            sub if number % 2 else delegation,
            public=bool(number % 3),
            sector=sectors[number % 3],
            countries=("GB", "JP")[: number % 3],
        )


@pytest.mark.parametrize("rows", [3, 30])
def test_public_rows_cost_two_queries_however_many_rows(rows, django_assert_num_queries):
    delegation = beijing()
    populate(delegation, rows)

    # The agreements with buyer, sector and delegation, then their exhibitors.
    with django_assert_num_queries(2):
        result = public_list(delegation)

    assert len(result) == rows


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("by", sorted(PARTITIONS))
def test_group_totals_cost_one_query_however_many_rows(rows, by, django_assert_num_queries):
    delegation = beijing()
    populate(delegation, rows)

    with django_assert_num_queries(1):
        result = totals(delegation, by)
        [str(group.label) for group in result.groups]

    assert sum(group.agreements for group in result.groups) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_the_disclosed_total_costs_one_query_however_many_rows(rows, django_assert_num_queries):
    delegation = beijing()
    populate(delegation, rows)

    with django_assert_num_queries(1):
        result = disclosed_total(agreements=counted(delegation))

    assert result.agreements == rows
