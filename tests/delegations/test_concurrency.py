"""Two clerks saving the same record: the second is told who changed it and when, sees
their input again, and nothing of theirs is written (delegations/concurrency.py), in
the admin's change form of every record model, in an inline row, and in the staff API
with If-Match."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from deals.models import Agreement, CiftisPledge, Exhibitor, InvestmentIntention, Visit
from delegations.concurrency import VERSION_FIELD, version_of
from delegations.models import Delegation, Organization, Registration
from tests.api import client_for
from tests.delegations.test_admin import page_text
from tests.factories import (
    DATA_ENTRY,
    AgreementFactory,
    CiftisPledgeFactory,
    DelegationFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    VisitFactory,
    staff_member,
)
from tests.pages import parse

pytestmark = pytest.mark.django_db

CONFLICT = "This record was changed by"

RECORDS = {
    Delegation: DelegationFactory,
    Organization: OrganizationFactory,
    Registration: RegistrationFactory,
    Exhibitor: ExhibitorFactory,
    Agreement: AgreementFactory,
    Visit: VisitFactory,
    InvestmentIntention: InvestmentIntentionFactory,
    CiftisPledge: CiftisPledgeFactory,
}


def change_url(record) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def form_values(response) -> dict[str, str | list[str]]:
    """What the browser would post from the change form as it was rendered."""
    page = parse(response.content)
    form = next(node for node in page.select("form") if node.get("id", "").endswith("_form"))
    values: dict[str, list[str]] = {}
    for node in form.elements():
        name = node.get("name")
        if not name or node.get("disabled") is not None:
            continue
        if node.tag == "input":
            kind = node.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                continue
            if kind in ("checkbox", "radio") and node.get("checked") is None:
                continue
            values.setdefault(name, []).append(
                node.get("value", "on" if kind == "checkbox" else "")
            )
        elif node.tag == "select":
            chosen = [
                option.get("value", option.text)
                for option in node.select("option")
                if option.get("selected") is not None
            ]
            values.setdefault(name, []).extend(chosen)
        elif node.tag == "textarea":
            values.setdefault(name, []).append(node.text)
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


def clerk(name: str) -> tuple[Client, object]:
    user = staff_member(DATA_ENTRY, username=name, first_name=name.title())
    client = Client()
    client.force_login(user)
    return client, user


@pytest.fixture
def two_clerks():
    return clerk("wang"), clerk("li")


@pytest.mark.parametrize("model", list(RECORDS), ids=lambda model: model.__name__)
def test_every_record_form_carries_the_version_it_was_opened_at(model, two_clerks):
    record = RECORDS[model]()
    (wang, _), _ = two_clerks

    values = form_values(wang.get(change_url(record)))

    assert values[VERSION_FIELD] == version_of(record)


@pytest.mark.parametrize("model", list(RECORDS), ids=lambda model: model.__name__)
def test_the_second_of_two_saves_of_one_version_is_refused(model, two_clerks):
    record = RECORDS[model]()
    (wang, _), (li, _) = two_clerks
    url = change_url(record)
    first, second = form_values(wang.get(url)), form_values(li.get(url))

    saved = wang.post(url, first)
    assert saved.status_code == 302, page_text(saved)
    record.refresh_from_db()
    stored, history = version_of(record), record.history.count()

    refused = li.post(url, second)

    assert refused.status_code == 200
    text = page_text(refused)
    assert f"{CONFLICT} Wang" in text
    assert "Nothing of yours was saved" in text
    record.refresh_from_db()
    assert (version_of(record), record.history.count()) == (stored, history)


def test_the_first_change_stands_and_the_seconds_input_is_shown_back(two_clerks):
    organization = OrganizationFactory(industry="零售", name_en="Gome")
    (wang, _), (li, _) = two_clerks
    url = change_url(organization)
    first, second = form_values(wang.get(url)), form_values(li.get(url))

    assert wang.post(url, {**first, "industry": "电商"}).status_code == 302
    refused = li.post(url, {**second, "name_en": "Gome Retail Holdings"})

    assert refused.status_code == 200
    assert 'value="Gome Retail Holdings"' in refused.content.decode()
    organization.refresh_from_db()
    assert (organization.industry, organization.name_en) == ("电商", "Gome")
    # Reloading shows the change, and saving from there works.
    reloaded = form_values(li.get(url))
    assert li.post(url, {**reloaded, "name_en": "Gome Retail Holdings"}).status_code == 302
    organization.refresh_from_db()
    assert (organization.industry, organization.name_en) == ("电商", "Gome Retail Holdings")


def test_a_change_by_an_import_is_named_as_the_import(two_clerks):
    organization = OrganizationFactory()
    (wang, _), _ = two_clerks
    url = change_url(organization)
    values = form_values(wang.get(url))
    organization.industry = "进口"
    organization._change_reason = "import #7"
    organization.save()

    refused = wang.post(url, values)

    assert refused.status_code == 200
    assert f"{CONFLICT} import #7 at" in page_text(refused)


def test_an_inline_row_changed_meanwhile_is_refused(two_clerks):
    """The parent's page shows each sub-delegation as a row: saved with a row as it was
    loaded, it would put back what the other clerk changed in that sub-delegation."""
    parent = DelegationFactory()
    district = DelegationFactory(
        parent=parent, edition=parent.edition, slug="chaoyang", name_zh="朝阳", name_en="Chaoyang"
    )
    (wang, _), (li, _) = two_clerks
    url = change_url(parent)
    on_parent = form_values(wang.get(url))
    district_url = change_url(district)
    on_district = form_values(li.get(district_url))
    assert li.post(district_url, {**on_district, "name_en": "CY"}).status_code == 302

    refused = wang.post(url, {**on_parent, "organizer_zh": "北京市人民政府"})

    assert refused.status_code == 200
    assert f"{CONFLICT} Li" in page_text(refused)
    parent.refresh_from_db()
    district.refresh_from_db()
    assert parent.organizer_zh != "北京市人民政府"
    assert district.name_en == "CY"

    reloaded = form_values(wang.get(url))
    assert wang.post(url, {**reloaded, "organizer_zh": "北京市人民政府"}).status_code == 302
    parent.refresh_from_db()
    district.refresh_from_db()
    assert (parent.organizer_zh, district.name_en) == ("北京市人民政府", "CY")


# ---------------------------------------------------------------------------------------
# The staff API: ETag and If-Match
# ---------------------------------------------------------------------------------------

ORGANIZATIONS = "/api/staff/organizations/"


@pytest.fixture
def organization():
    return OrganizationFactory(industry="零售", name_en="Gome")


@pytest.fixture
def api_clerks():
    return client_for("data_entry"), client_for("data_entry")


def test_a_record_read_or_written_carries_its_version_as_etag(organization, api_clerks):
    wang, _ = api_clerks

    read = wang.get(f"{ORGANIZATIONS}{organization.pk}/")
    written = wang.patch(f"{ORGANIZATIONS}{organization.pk}/", {"industry": "电商"}, format="json")

    assert read["ETag"] == f'"{version_of(organization)}"'
    organization.refresh_from_db()
    assert written["ETag"] == f'"{version_of(organization)}"' != read["ETag"]


def test_a_write_with_a_stale_if_match_is_refused_and_the_first_change_stands(
    organization, api_clerks
):
    wang, li = api_clerks
    url = f"{ORGANIZATIONS}{organization.pk}/"
    etag = wang.get(url)["ETag"]
    assert li.get(url)["ETag"] == etag

    first = wang.patch(url, {"industry": "电商"}, format="json", HTTP_IF_MATCH=etag)
    second = li.put(
        url,
        {**li.get(url).json(), "name_en": "Gome Retail Holdings"},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert first.status_code == 200
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    assert "This record was changed by" in second.json()["detail"]
    assert "Nothing was written" in second.json()["detail"]
    organization.refresh_from_db()
    assert (organization.industry, organization.name_en) == ("电商", "Gome")
    assert organization.history.count() == 2


def test_a_stale_if_match_also_refuses_a_delete(organization, api_clerks):
    wang, _ = api_clerks
    li = client_for("reviewer")  # who may delete
    url = f"{ORGANIZATIONS}{organization.pk}/"
    etag = li.get(url)["ETag"]
    assert wang.patch(url, {"industry": "电商"}, format="json").status_code == 200

    refused = li.delete(url, HTTP_IF_MATCH=etag)

    assert refused.status_code == 412
    assert Organization.objects.filter(pk=organization.pk).exists()


@pytest.mark.parametrize("if_match", [None, "*", "current", 'W/"current"', '"old", "current"'])
def test_a_write_without_if_match_or_with_a_current_one_goes_through(
    organization, api_clerks, if_match
):
    wang, _ = api_clerks
    url = f"{ORGANIZATIONS}{organization.pk}/"
    current = wang.get(url)["ETag"].strip('"')
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match.replace("current", current)}
    if if_match == "current":
        headers["HTTP_IF_MATCH"] = f'"{current}"'

    response = wang.patch(url, {"industry": "电商"}, format="json", **headers)

    assert response.status_code == 200, response.json()
    organization.refresh_from_db()
    assert organization.industry == "电商"


def test_an_if_match_that_names_no_version_is_refused(organization, api_clerks):
    wang, _ = api_clerks

    response = wang.patch(
        f"{ORGANIZATIONS}{organization.pk}/",
        {"industry": "电商"},
        format="json",
        HTTP_IF_MATCH='"not a version"',
    )

    assert response.status_code == 412
    organization.refresh_from_db()
    assert organization.industry == "零售"


def test_a_record_nobody_may_see_is_a_404_before_any_if_match(api_clerks):
    wang, _ = api_clerks

    response = wang.patch(
        f"{ORGANIZATIONS}999999/", {"industry": "电商"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 404
