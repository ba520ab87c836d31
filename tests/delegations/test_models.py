import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_countries.fields import Country

from delegations.models import Delegation, Edition, Organization, Registration
from tests.factories import (
    DelegationFactory,
    OrganizationFactory,
    RegistrationFactory,
    edition,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name",
    [
        "CIIE 2019",
        "ciie-2019",
        "ciie 2019",
        "2nd CIIE",
        "第二届进博会",
        "2019年进博会",
        "第二届中国国际进口博览会",
        "2nd China International Import Expo",
    ],
)
def test_an_edition_is_found_by_any_name_clerks_use(name):
    assert Edition.objects.lookup(name).slug == "ciie-2019"


def test_the_first_edition_answers_to_its_chinese_name():
    assert Edition.objects.lookup("首届进博会").slug == "ciie-2018"


def test_an_unknown_edition_says_what_was_asked():
    with pytest.raises(Edition.DoesNotExist, match="CIIE 2099"):
        Edition.objects.lookup("CIIE 2099")


def test_reference_editions_ship_with_the_product():
    slugs = set(Edition.objects.values_list("slug", flat=True))
    assert {"ciie-2018", "ciie-2019", "ciie-2020", "ciftis-2020"} <= slugs
    ciie_2019 = edition("ciie-2019")
    assert ciie_2019.number == 2
    assert ciie_2019.starts_on == datetime.date(2019, 11, 5)
    assert ciie_2019.name_zh == "第二届中国国际进口博览会"
    assert ciie_2019.previous().slug == "ciie-2018"
    assert edition("ciie-2018").previous() is None


def test_an_edition_cannot_end_before_it_starts():
    ciie = edition().fair
    with pytest.raises(IntegrityError), transaction.atomic():
        Edition.objects.create(
            fair=ciie,
            number=99,
            year=2099,
            slug="ciie-2099",
            name_zh="x",
            name_en="x",
            starts_on=datetime.date(2099, 11, 10),
            ends_on=datetime.date(2099, 11, 5),
        )


def test_a_delegation_is_found_by_chinese_or_english_name_or_slug():
    beijing = DelegationFactory()
    for name in ["北京", "Beijing", "beijing", "BEIJING"]:
        assert Delegation.objects.lookup(name, edition=edition()) == beijing


def test_a_delegation_answers_with_or_without_the_word_delegation_in_chinese():
    beijing = DelegationFactory()
    shanghai = DelegationFactory(name_zh="上海交易团", name_en="Shanghai", slug="shanghai")
    assert Delegation.objects.lookup("北京交易团", edition=edition()) == beijing
    assert Delegation.objects.lookup("上海", edition=edition()) == shanghai
    with pytest.raises(Delegation.DoesNotExist):
        Delegation.objects.lookup("交易团", edition=edition())


def test_a_sub_delegation_must_be_at_its_parents_edition():
    beijing = DelegationFactory()
    sub = Delegation(
        edition=edition("ciie-2018"), parent=beijing, name_zh="朝阳区交易分团", slug="chaoyang"
    )
    with pytest.raises(ValidationError, match="same edition"):
        sub.full_clean()


def test_sub_delegations_have_no_sub_delegations_of_their_own():
    beijing = DelegationFactory()
    sub = DelegationFactory(parent=beijing, name_zh="朝阳", name_en="Chaoyang", slug="chaoyang")
    subsub = Delegation(edition=edition(), parent=sub, name_zh="望京", slug="wangjing")
    with pytest.raises(ValidationError, match="cannot have sub-delegations"):
        subsub.full_clean()


def test_credit_code_is_unique_when_present_and_optional_otherwise():
    OrganizationFactory(credit_code="91110000600037341L")
    OrganizationFactory(credit_code=None)
    OrganizationFactory(credit_code=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory(credit_code="91110000600037341L")


def test_the_database_refuses_a_malformed_credit_code_even_without_form_validation():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory(credit_code="914403007O8461136T")


def test_full_clean_refuses_a_wrong_check_character():
    organization = OrganizationFactory.build(credit_code="91440300708461136U")
    with pytest.raises(ValidationError) as caught:
        organization.full_clean()
    assert "should be T" in str(caught.value.message_dict["credit_code"])


def test_full_clean_tidies_names_and_stores_an_empty_code_as_null():
    organization = OrganizationFactory.build(name_zh="  北京  测试 公司 ", credit_code="")
    organization.full_clean()
    assert organization.name_zh == "北京 测试 公司"
    assert organization.credit_code is None


def test_without_a_code_an_organization_is_unique_by_name_and_country():
    OrganizationFactory(name_zh="Embassy of Estonia", country="EE")
    OrganizationFactory(name_zh="Embassy of Estonia", country="LT")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory(name_zh="Embassy of Estonia", country="EE")


def test_yearly_imports_cannot_be_negative_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganizationFactory(annual_imports_usd=-1)


def test_a_registration_has_at_least_one_participant_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        RegistrationFactory(participants=0)


def test_an_organization_registers_once_in_a_delegation_and_its_sub_delegations():
    beijing = DelegationFactory()
    sub = DelegationFactory(parent=beijing, name_zh="朝阳", name_en="Chaoyang", slug="chaoyang")
    registration = RegistrationFactory(delegation=beijing)
    twin = Registration(delegation=sub, organization=registration.organization, participants=2)
    with pytest.raises(ValidationError, match="already registered"):
        twin.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        RegistrationFactory(delegation=beijing, organization=registration.organization)


def test_hong_kong_macao_and_taiwan_are_named_as_regions_of_china():
    assert Country("HK").name == "Hong Kong, China"
    assert Country("MO").name == "Macao, China"
    assert Country("TW").name == "Taiwan, China"


def test_organization_names_follow_the_language(settings):
    from django.utils import translation

    organization = Organization(name_zh="小米", name_en="Xiaomi")
    with translation.override("en"):
        assert organization.name == "Xiaomi"
    with translation.override("zh-hans"):
        assert organization.name == "小米"


def test_amounts_are_grouped_by_thousands_in_chinese_as_in_the_bureaus_documents():
    from decimal import Decimal

    from django.utils import translation
    from django.utils.formats import number_format

    with translation.override("zh-hans"):
        assert number_format(Decimal("710000000.00"), force_grouping=True) == "710,000,000.00"
