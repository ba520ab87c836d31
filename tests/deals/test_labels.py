import pickle

import pytest
from django.utils import translation
from django.utils.functional import Promise

from deals.disclosure import BY_COUNTRY, BY_SECTOR, agreement_totals
from deals.labels import BilingualName, CountryName
from deals.models import Agreement
from deals.stats import agreements_by_sector, exhibitors_by_country
from tests.factories import AgreementFactory, ExhibitorFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_bilingual_name_reads_in_the_active_language_after_a_round_trip_through_pickle():
    name = pickle.loads(pickle.dumps(BilingualName("医疗器械", "Medical equipment")))
    with translation.override("en"):
        assert str(name) == "Medical equipment"
    with translation.override("zh-hans"):
        assert str(name) == "医疗器械"


def test_a_country_name_names_the_regions_of_china_and_says_so_when_unknown():
    with translation.override("en"):
        assert str(pickle.loads(pickle.dumps(CountryName("HK")))) == "Hong Kong, China"
        assert str(CountryName("")) == "unknown country or region"
    with translation.override("zh-hans"):
        assert str(CountryName("HK")) == "中国香港"


def _labels_of_cached_values(delegation) -> list:
    totals = [
        agreement_totals(agreements=Agreement.objects.all(), by=by)
        for by in (BY_SECTOR, BY_COUNTRY)
    ]
    shares = agreements_by_sector(delegation=delegation) + exhibitors_by_country(
        delegation=delegation
    )
    return [group.label for total in totals for group in total.groups] + [
        share.label for share in shares
    ]


def test_cached_breakdowns_carry_no_lazy_names_of_records():
    # Unpickling a lazy string rebuilds its class (~0.7 ms): a breakdown by country read
    # from the cache cost more than the page's queries. Names of sectors and countries
    # are plain values; only the few fixed texts ("no sector") stay translations.
    agreement = AgreementFactory()
    exhibitor = ExhibitorFactory(
        edition=agreement.delegation.edition, organization=OrganizationFactory(country="DE")
    )
    agreement.exhibitors.add(exhibitor)
    labels = _labels_of_cached_values(agreement.delegation)
    assert labels
    names = [label for label in labels if not isinstance(label, Promise)]
    assert names and all(isinstance(label, BilingualName | CountryName) for label in names)
    with translation.override("en"):
        assert "Germany" in {str(label) for label in names}


def test_cached_values_are_keyed_by_the_format_of_the_code():
    # A deployment that changes what is pickled raises CACHE_FORMAT, so that it never
    # unpickles what the code before it stored (a class it no longer has).
    from django.core.cache import cache

    from deals import stats

    delegation = AgreementFactory().delegation
    stats.cached("probe", delegation=delegation, compute=lambda: "fresh")
    generation = cache.get(stats.GENERATION_KEY)
    key = f"stats:v{stats.CACHE_FORMAT}:probe:{generation}:{delegation.pk}"
    assert cache.get(key) == "fresh"
    assert cache.get(f"stats:probe:{generation}:{delegation.pk}") is None
