import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from deals.currencies import currency_decimals, normalize_currency, validate_currency
from deals.models import Agreement, AgreementExhibitor, CiftisPledge
from tests.factories import (
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    RegistrationFactory,
    edition,
)

pytestmark = pytest.mark.django_db


def test_a_usd_agreement_is_its_own_us_dollar_amount():
    agreement = AgreementFactory(amount=Decimal("710000000"))
    assert agreement.amount_usd == Decimal("710000000.00")
    assert agreement.usd_rate == 1


def test_an_rmb_amount_stays_rmb_and_its_usd_equivalent_uses_the_signing_days_rate():
    ExchangeRateFactory(currency="CNY", valid_on=datetime.date(2019, 10, 1), usd_per_unit="0.14")
    ExchangeRateFactory(currency="CNY", valid_on=datetime.date(2019, 11, 1), usd_per_unit="0.142")
    ExchangeRateFactory(currency="CNY", valid_on=datetime.date(2019, 12, 1), usd_per_unit="0.15")
    agreement = AgreementFactory(amount=Decimal("1000000"), currency="CNY")
    agreement.refresh_from_db()
    assert agreement.amount == Decimal("1000000")
    assert agreement.currency == "CNY"
    assert agreement.amount_usd == Decimal("142000.00")
    assert agreement.usd_rate_on == datetime.date(2019, 11, 1)


def test_editing_a_rate_later_does_not_move_a_frozen_amount():
    rate = ExchangeRateFactory(currency="EUR", usd_per_unit="1.10")
    agreement = AgreementFactory(amount=Decimal("1000"), currency="EUR")
    rate.usd_per_unit = Decimal("2.00")
    rate.save()
    agreement.refresh_from_db()
    agreement.status = "executed"
    agreement.save()
    agreement.refresh_from_db()
    assert agreement.amount_usd == Decimal("1100.00")


def test_recomputing_is_explicit_and_takes_the_current_rate():
    rate = ExchangeRateFactory(currency="EUR", usd_per_unit="1.10")
    agreement = AgreementFactory(amount=Decimal("1000"), currency="EUR")
    rate.usd_per_unit = Decimal("1.20")
    rate.save()
    agreement.refresh_from_db()
    agreement.freeze_usd()
    agreement.save()
    assert Agreement.objects.get(pk=agreement.pk).amount_usd == Decimal("1200.00")


def test_changing_the_amount_converts_again():
    ExchangeRateFactory(currency="EUR", usd_per_unit="1.10")
    agreement = AgreementFactory(amount=Decimal("1000"), currency="EUR")
    agreement = Agreement.objects.get(pk=agreement.pk)
    agreement.amount = Decimal("2000")
    agreement.save()
    assert Agreement.objects.get(pk=agreement.pk).amount_usd == Decimal("2200.00")


def test_an_amount_without_a_rate_is_refused_with_the_currency_and_day():
    with pytest.raises(ValidationError) as caught:
        AgreementFactory(amount=Decimal("1000"), currency="GBP")
    assert "GBP" in str(caught.value)
    assert "2019-11-05" in str(caught.value)
    assert not Agreement.objects.exists()


def test_a_negative_amount_is_refused_by_the_database():
    agreement = AgreementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(amount=Decimal("-1"))


def test_references_are_unique():
    AgreementFactory(reference="BJ-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(reference="BJ-1")


def test_the_buyer_must_be_registered_in_the_agreements_delegation():
    shanghai = DelegationFactory(name_zh="上海", name_en="Shanghai", slug="shanghai")
    registration = RegistrationFactory(delegation=shanghai)
    agreement = Agreement(
        reference="X-1",
        delegation=DelegationFactory(),
        registration=registration,
        amount=Decimal(1),
    )
    with pytest.raises(ValidationError, match="registered in"):
        agreement.full_clean()


def test_the_buyer_may_be_registered_in_a_sub_delegation():
    beijing = DelegationFactory()
    sub = DelegationFactory(parent=beijing, name_zh="朝阳", name_en="Chaoyang", slug="chaoyang")
    agreement = Agreement(
        reference="X-2",
        delegation=beijing,
        registration=RegistrationFactory(delegation=sub),
        amount=Decimal(1),
    )
    agreement.full_clean()


def test_a_withdrawn_buyer_cannot_sign():
    agreement = Agreement(
        reference="X-3",
        registration=RegistrationFactory(status="withdrawn"),
        amount=Decimal(1),
    )
    with pytest.raises(ValidationError, match="withdrawn"):
        agreement.full_clean()


def test_an_agreements_exhibitors_are_at_its_edition():
    agreement = AgreementFactory()
    other_year = ExhibitorFactory(edition=edition("ciie-2018"))
    party = AgreementExhibitor(agreement=agreement, exhibitor=other_year)
    with pytest.raises(ValidationError, match="edition"):
        party.full_clean()


def test_an_agreement_can_have_several_exhibitors_once_each():
    uk, japan = ExhibitorFactory(), ExhibitorFactory(organization__country="JP")
    agreement = AgreementFactory(exhibitors=[uk, japan])
    assert agreement.exhibitors.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementExhibitor.objects.create(agreement=agreement, exhibitor=uk)


@pytest.mark.parametrize("code", ["XXX", "XTS", "CNH", "RMB", "usd", "ABC"])
def test_codes_that_are_not_iso_4217_currencies_in_use_are_refused(code):
    with pytest.raises(ValidationError):
        validate_currency(code)


def test_clerks_spellings_of_currencies_are_normalised():
    assert normalize_currency(" rmb ") == "CNY"
    assert normalize_currency("人民币") == "CNY"
    assert normalize_currency("eur") == "EUR"
    validate_currency(normalize_currency("RMB"))


def test_currencies_keep_their_own_decimals():
    assert currency_decimals("USD") == 2
    assert currency_decimals("JPY") == 0
    assert currency_decimals("BHD") == 3


def test_a_pledge_is_to_a_later_edition_than_the_one_it_was_made_at():
    pledge = CiftisPledgeFactory.build(
        target_edition=edition("ciie-2018"), source_delegation=DelegationFactory()
    )
    pledge.organization.save()
    with pytest.raises(ValidationError, match="after"):
        pledge.full_clean()


def test_an_organization_pledges_once_per_target_edition():
    pledge = CiftisPledgeFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CiftisPledge.objects.create(
            target_edition=pledge.target_edition, organization=pledge.organization
        )
