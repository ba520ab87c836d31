"""The seed data, exported as the clerks' workbook and imported into an empty database
through the workbook path, gives the same statistics as the seed loader."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation

from deals.importer import import_file
from deals.models import Publication
from deals.resources import export_workbook
from deals.stats import headline_figures
from delegations.models import Delegation, Edition

pytestmark = pytest.mark.django_db(transaction=False)

# What the workbook carries, deleted children first.
DOMAIN_MODELS = [
    "deals.CiftisPledge",
    "deals.InvestmentIntention",
    "deals.Visit",
    "deals.AgreementExhibitor",
    "deals.Agreement",
    "deals.ExchangeRate",
    "deals.Exhibitor",
    "delegations.Registration",
    "delegations.Delegation",
    "delegations.Organization",
]


def beijing_2019_figures() -> dict:
    beijing = Delegation.objects.get(slug="beijing", edition=Edition.objects.get(slug="ciie-2019"))
    return headline_figures(delegation=beijing).as_json()


def test_the_seeds_imported_through_the_workbook_give_the_seed_loaders_statistics():
    with translation.override("en"):
        call_command("load_seeds", verbosity=0)
    loaded = beijing_2019_figures()
    counts = {name: apps.get_model(name).objects.count() for name in DOMAIN_MODELS}
    workbook = export_workbook()

    # Publications are the bureau's acts, not records of the workbook.
    Publication.objects.all().delete()
    for name in DOMAIN_MODELS:
        if name == "delegations.Delegation":
            Delegation.objects.filter(parent__isnull=False).delete()
        apps.get_model(name).objects.all().delete()
    assert Delegation.objects.count() == 0

    result = import_file(workbook, filename="seeds.xlsx", dry_run=False)

    assert result.ok, result.errors[:5]
    assert {name: apps.get_model(name).objects.count() for name in DOMAIN_MODELS} == counts
    imported = beijing_2019_figures()
    assert imported == loaded
    assert imported["agreements"]["value"] == 207
    assert imported["registered_organizations"]["value"] == 3107
    assert imported["registered_organizations"]["change"] == pytest.approx(0.40, abs=0.005)
