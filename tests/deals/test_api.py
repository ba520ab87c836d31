"""The API of agreements, exhibitors, pledges, visits, intentions and the headline
figures (deals/api): disclosure, the agreements' writes, filters, and query counts."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from deals.models import (
    Agreement,
    AgreementExhibitor,
    AgreementKind,
    AgreementStatus,
    PledgeStatus,
)
from tests.api import PUBLIC_LISTS, STAFF_ENDPOINTS, client_for
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    ExchangeRateFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    SectorFactory,
    VisitFactory,
    edition,
    staff_member,
)
from tests.pages import agreement_in, beijing, district, populate, publish, shanghai

pytestmark = pytest.mark.django_db

SECRET = Decimal("7654321.98")


def spellings(amount: Decimal) -> list[str]:
    whole = int(amount)
    return [str(amount), str(whole), f"{whole:,}", str(float(amount))]


# ---------------------------------------------------------------------------------------
# Disclosure
# ---------------------------------------------------------------------------------------


@pytest.fixture
def secret_agreement() -> Agreement:
    current = beijing()
    agreement_in(current, reference="OPEN-1", amount=Decimal("1000000"), is_public=True)
    secret = agreement_in(
        current,
        reference="SECRET-1",
        amount=SECRET,
        currency="USD",
        is_public=False,
        notes="buyer asked us to keep it quiet",
    )
    publish(current)
    return secret


def test_an_undisclosed_amount_is_null_in_the_public_list_and_its_record(secret_agreement):
    client = APIClient()

    listed = {row["reference"]: row for row in client.get("/api/agreements/").json()["results"]}
    one = client.get("/api/agreements/SECRET-1/").json()

    for row in (listed["SECRET-1"], one):
        assert row["disclosed"] is False
        assert (row["amount"], row["currency"], row["amount_usd"]) == (None, None, None)
    assert listed["OPEN-1"]["amount"] == "1000000.00"
    assert listed["OPEN-1"]["amount_usd"] == "1000000.00"


def test_no_undisclosed_amount_appears_in_any_public_response(secret_agreement):
    client = APIClient()
    delegation = secret_agreement.delegation_id
    addresses = [
        *PUBLIC_LISTS,
        "/api/agreements/SECRET-1/",
        f"/api/agreements/?delegation={delegation}",
        "/api/agreements/?disclosed=false",
        "/api/agreements/?amount_usd_min=7000000",
        "/api/agreements/?amount_usd_max=8000000",
        "/api/agreements/?ordering=-amount_usd",
        "/api/agreements/?ordering=amount",
        "/api/statistics/ciie-2019/beijing/",
        "/api/publications/",
        "/api/schema/",
    ]
    for address in addresses:
        response = client.get(address)
        assert response.status_code == 200, address
        text = response.content.decode()
        for spelling in spellings(SECRET):
            assert spelling not in text, (address, spelling)
        assert "keep it quiet" not in text


def test_an_amount_range_never_selects_an_undisclosed_amount(secret_agreement):
    client = APIClient()

    around_the_secret = client.get("/api/agreements/?amount_usd_min=7000000&amount_usd_max=8000000")
    around_the_open_one = client.get(
        "/api/agreements/?amount_usd_min=900000&amount_usd_max=1100000"
    )

    assert around_the_secret.json()["count"] == 0
    assert [row["reference"] for row in around_the_open_one.json()["results"]] == ["OPEN-1"]


def test_the_public_agreements_leave_cancelled_ones_out(secret_agreement):
    agreement_in(secret_agreement.delegation, reference="GONE-1", status=AgreementStatus.CANCELLED)

    references = {row["reference"] for row in APIClient().get("/api/agreements/").json()["results"]}

    assert references == {"OPEN-1", "SECRET-1"}
    assert APIClient().get("/api/agreements/GONE-1/").status_code == 404


def test_staff_see_every_amount(secret_agreement):
    response = client_for("data_entry").get(f"/api/staff/agreements/{secret_agreement.pk}/")

    assert response.json()["amount"] == "7654321.98"
    assert response.json()["notes"] == "buyer asked us to keep it quiet"


def test_visits_and_intentions_have_no_public_endpoint():
    VisitFactory()
    InvestmentIntentionFactory()

    assert APIClient().get("/api/visits/").status_code == 404
    assert APIClient().get("/api/investment-intentions/").status_code == 404
    assert client_for("anonymous").get("/api/staff/visits/").status_code == 401


# ---------------------------------------------------------------------------------------
# Writing agreements
# ---------------------------------------------------------------------------------------


@pytest.fixture
def buyer():
    return RegistrationFactory(delegation=beijing())


def agreement_body(buyer, **extra):
    exhibitor = ExhibitorFactory(edition=buyer.delegation.edition)
    return {
        "reference": "API-1",
        "registration": buyer.pk,
        "exhibitors": [exhibitor.pk],
        "amount": "710000000.00",
        "signed_on": "2019-11-05",
        **extra,
    }


def test_data_entry_records_an_agreement_with_its_us_dollar_amount_frozen(buyer):
    ExchangeRateFactory(
        currency="CNY", valid_on=datetime.date(2019, 11, 1), usd_per_unit=Decimal("0.142")
    )
    clerk = staff_member(DATA_ENTRY)

    response = client_for(clerk).post(
        "/api/staff/agreements/", agreement_body(buyer, currency="CNY"), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["delegation"] == buyer.delegation_id  # taken from the buyer
    assert body["amount_usd"] == "100820000.00"
    assert body["usd_rate_on"] == "2019-11-01"
    assert body["is_public"] is False
    agreement = Agreement.objects.get(reference="API-1")
    assert agreement.history.first().history_user == clerk
    party = AgreementExhibitor.history.get(agreement_id=agreement.pk)
    assert (party.history_type, party.history_user) == ("+", clerk)


def test_the_us_dollar_amount_cannot_be_written(buyer):
    response = client_for("data_entry").post(
        "/api/staff/agreements/", agreement_body(buyer, amount_usd="1.00"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["amount_usd"] == "710000000.00"


def test_a_currency_without_a_rate_is_refused_at_the_currency(buyer):
    response = client_for("data_entry").post(
        "/api/staff/agreements/", agreement_body(buyer, currency="JPY"), format="json"
    )

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["currency"]
    assert not Agreement.objects.filter(reference="API-1").exists()


def test_data_entry_may_not_make_an_amount_public(buyer):
    client = client_for("data_entry")

    created = client.post(
        "/api/staff/agreements/", agreement_body(buyer, is_public=True), format="json"
    )
    agreement = agreement_in(buyer.delegation, reference="EXISTING")
    changed = client.patch(
        f"/api/staff/agreements/{agreement.pk}/", {"is_public": True}, format="json"
    )
    unchanged = client.patch(
        f"/api/staff/agreements/{agreement.pk}/", {"is_public": False, "notes": "ok"}, format="json"
    )

    assert created.status_code == 403
    assert created.json()["errors"][0]["field"] == "is_public"
    assert not Agreement.objects.filter(reference="API-1").exists()
    assert changed.status_code == 403
    assert Agreement.objects.get(pk=agreement.pk).is_public is False
    assert unchanged.status_code == 200


def test_reviewers_decide_what_is_public(buyer):
    reviewer = staff_member(REVIEWERS)
    agreement = agreement_in(buyer.delegation, reference="EXISTING")

    response = client_for(reviewer).patch(
        f"/api/staff/agreements/{agreement.pk}/", {"is_public": True}, format="json"
    )

    assert response.status_code == 200
    assert Agreement.objects.get(pk=agreement.pk).is_public is True
    assert agreement.history.first().history_user == reviewer


def test_an_agreements_exhibitors_must_be_at_its_edition(buyer):
    elsewhere = ExhibitorFactory(edition=edition("ciie-2018"))
    body = agreement_body(buyer)
    body["exhibitors"].append(elsewhere.pk)

    response = client_for("data_entry").post("/api/staff/agreements/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "exhibitors"


def test_an_agreement_needs_an_exhibitor(buyer):
    body = agreement_body(buyer)
    client = client_for("data_entry")

    missing = client.post("/api/staff/agreements/", {**body, "exhibitors": []}, format="json")
    absent = client.post(
        "/api/staff/agreements/",
        {key: value for key, value in body.items() if key != "exhibitors"},
        format="json",
    )

    assert missing.status_code == absent.status_code == 400
    assert missing.json()["errors"][0]["field"] == "exhibitors"
    assert absent.json()["errors"][0]["field"] == "exhibitors"


def test_changing_an_agreements_exhibitors_records_each_link_in_the_history(buyer):
    clerk = staff_member(DATA_ENTRY)
    first, second = (ExhibitorFactory(edition=buyer.delegation.edition) for _ in range(2))
    agreement = agreement_in(buyer.delegation, registration=buyer, exhibitors=[first])

    response = client_for(clerk).patch(
        f"/api/staff/agreements/{agreement.pk}/", {"exhibitors": [second.pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["exhibitors"] == [second.pk]
    moves = AgreementExhibitor.history.filter(agreement_id=agreement.pk, history_user=clerk)
    assert sorted((move.history_type, move.exhibitor_id) for move in moves) == sorted(
        [("-", first.pk), ("+", second.pk)]
    )


def test_a_buyer_of_another_delegation_is_refused(buyer):
    other = RegistrationFactory(delegation=shanghai())
    body = agreement_body(buyer, delegation=buyer.delegation_id, registration=other.pk)

    response = client_for("data_entry").post("/api/staff/agreements/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "registration"


def test_a_duplicate_reference_is_refused_at_the_reference(buyer):
    agreement_in(buyer.delegation, reference="API-1")

    response = client_for("data_entry").post(
        "/api/staff/agreements/", agreement_body(buyer), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reference"


def test_an_amount_is_validated_like_in_the_admin(buyer):
    client = client_for("data_entry")

    for amount in ("-1", "1e400", "1.005", "abc"):
        response = client.post(
            "/api/staff/agreements/", agreement_body(buyer, amount=amount), format="json"
        )
        assert response.status_code == 400, amount
        assert response.json()["errors"][0]["field"] == "amount"


# ---------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------


@pytest.fixture
def agreements():
    current = beijing()
    medical = SectorFactory(code="medical")
    gb = ExhibitorFactory(organization=OrganizationFactory(name_en="Burberry", country="GB"))
    jp = ExhibitorFactory(organization=OrganizationFactory(name_en="Shiseido", country="JP"))
    sub = district(current)
    agreement_in(
        current,
        reference="A-1",
        exhibitors=[gb, jp],
        kind=AgreementKind.STRATEGIC_COOPERATION,
        is_public=True,
        amount=Decimal("200000000"),
        signed_on=datetime.date(2019, 11, 5),
    )
    agreement_in(
        sub,
        reference="A-2",
        exhibitors=[jp],
        sector=medical,
        status=AgreementStatus.EXECUTED,
        signed_on=datetime.date(2019, 11, 7),
    )
    agreement_in(
        shanghai(),
        reference="S-1",
        exhibitors=[ExhibitorFactory()],
        signed_on=datetime.date(2019, 11, 6),
    )
    return current


@pytest.mark.parametrize(
    ("query", "references"),
    [
        ("", ["A-1", "S-1", "A-2"]),
        ("delegation={beijing}", ["A-1", "A-2"]),
        ("edition=ciie-2019&kind=strategic_cooperation", ["A-1"]),
        ("sector=medical", ["A-2"]),
        ("status=executed", ["A-2"]),
        ("country=JP", ["A-1", "A-2"]),
        ("disclosed=true", ["A-1"]),
        ("signed_on_after=2019-11-06&signed_on_before=2019-11-30", ["S-1", "A-2"]),
        ("amount_usd_min=100000000", ["A-1"]),
        ("q=burberry", ["A-1"]),
        ("ordering=-reference", ["S-1", "A-2", "A-1"]),
        ("edition=ciie-2018", []),
    ],
)
def test_public_agreements_filter_and_order(agreements, query, references):
    response = APIClient().get(f"/api/agreements/?{query.format(beijing=agreements.pk)}")

    assert response.status_code == 200
    assert [row["reference"] for row in response.json()["results"]] == references


def test_staff_agreements_filter_on_their_real_amounts(agreements):
    response = client_for("data_entry").get(
        "/api/staff/agreements/?amount_usd_min=500000&amount_usd_max=2000000"
    )

    assert {row["reference"] for row in response.json()["results"]} == {"A-2", "S-1"}


def test_exhibitors_filter_by_the_delegation_whose_agreements_they_are_party_to(agreements):
    response = APIClient().get(
        f"/api/exhibitors/?delegation={agreements.pk}&ordering=organization__name_en"
    )

    assert [row["organization"]["name_en"] for row in response.json()["results"]] == [
        "Burberry",
        "Shiseido",
    ]
    japan = APIClient().get("/api/exhibitors/?country=JP").json()["results"]
    assert [row["organization"]["country"] for row in japan] == ["JP"]


def test_pledges_leave_withdrawn_ones_out_and_filter_by_status_and_country():
    current = beijing()
    CiftisPledgeFactory(source_delegation=current, organization=OrganizationFactory(country="EE"))
    CiftisPledgeFactory(
        source_delegation=district(current),
        status=PledgeStatus.ATTENDED,
        organization=OrganizationFactory(country="JM"),
    )
    CiftisPledgeFactory(source_delegation=current, status=PledgeStatus.WITHDRAWN)
    client = APIClient()

    everything = client.get(f"/api/pledges/?delegation={current.pk}").json()
    attended = client.get("/api/pledges/?status=attended").json()["results"]
    estonia = client.get("/api/pledges/?country=EE&target_edition=ciftis-2020").json()["results"]

    assert everything["count"] == 2
    assert [row["organization"]["country"] for row in attended] == ["JM"]
    assert [row["organization"]["country"] for row in estonia] == ["EE"]


def test_staff_lists_of_visits_and_intentions_filter_too():
    current = beijing()
    VisitFactory(delegation=current, visited_on=datetime.date(2019, 11, 6), ciftis_interest=True)
    VisitFactory(delegation=shanghai(), visited_on=datetime.date(2019, 11, 8))
    InvestmentIntentionFactory(delegation=current, stage="negotiating")
    client = client_for("data_entry")

    visits = client.get(f"/api/staff/visits/?delegation={current.pk}&ciftis_interest=true").json()
    dated = client.get("/api/staff/visits/?visited_on_after=2019-11-07").json()
    stage = client.get("/api/staff/investment-intentions/?stage=negotiating").json()

    assert visits["count"] == 1
    assert dated["count"] == 1
    assert stage["count"] == 1


# ---------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------


def test_the_statistics_endpoint_gives_the_published_figures_of_the_statistics_command():
    populate(beijing(2018), 3, start=500)
    current = beijing()
    populate(current, 12)
    publish(current)
    out = StringIO()
    call_command("statistics", edition="ciie-2019", delegation="beijing", json=True, stdout=out)

    response = APIClient().get("/api/statistics/ciie-2019/beijing/")

    assert response.status_code == 200
    figures = response.json()
    assert figures.pop("publication")["as_of"] == "2019-11-11"
    assert figures == json.loads(out.getvalue())


def test_the_statistics_of_a_delegation_never_published_are_a_404_that_says_so():
    agreement_in(beijing())

    response = APIClient().get("/api/statistics/ciie-2019/beijing/")

    assert response.status_code == 404
    assert "not published" in response.json()["detail"]


def test_the_statistics_stay_as_published_until_the_next_publication_and_earlier_ones_stay():
    current = beijing()
    agreement_in(current)
    publish(current)
    agreement_in(current)
    client = APIClient()

    latest = client.get("/api/statistics/ciie-2019/beijing/").json()
    publish(current)
    listed = client.get(f"/api/publications/?delegation={current.pk}").json()["results"]
    newest = client.get("/api/statistics/ciie-2019/beijing/").json()
    earlier = client.get(f"/api/statistics/ciie-2019/beijing/?publication={listed[-1]['id']}")

    assert latest["agreements"]["value"] == 1
    assert newest["agreements"]["value"] == 2
    assert [row["delegation"] for row in listed] == [current.pk, current.pk]
    assert earlier.json()["agreements"]["value"] == 1
    assert client.get("/api/statistics/ciie-2019/beijing/?publication=999999").status_code == 404


def test_staff_read_the_live_figures_before_they_are_published():
    current = beijing()
    agreement_in(current)

    live = client_for("data_entry").get("/api/staff/statistics/ciie-2019/beijing/")
    anonymous = APIClient().get("/api/staff/statistics/ciie-2019/beijing/")

    assert live.status_code == 200
    assert live.json()["agreements"]["value"] == 1
    assert live.json()["publication"] is None
    assert anonymous.status_code == 401


def test_the_statistics_of_an_unknown_delegation_are_a_404():
    response = APIClient().get("/api/statistics/ciie-2019/atlantis/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# ---------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------


@pytest.fixture(params=[3, 30], ids=["3 rows", "30 rows"])
def rows(request):
    current = beijing()
    populate(current, request.param)
    for _ in range(1 + request.param // 10):
        publish(current)
    for n in range(request.param):
        ExchangeRateFactory(valid_on=datetime.date(2019, 1, 1) + datetime.timedelta(days=n))
    return request.param


# Queries of a list: a savepoint and its release (ATOMIC_REQUESTS), the count (once
# counted, two reads of the cache: the generation token and the count stored under it),
# the page, and what the page prefetches. Staff lists also read the user, their groups'
# permissions and their token.
PUBLIC_QUERIES = {
    "/api/fairs/": 5,
    "/api/editions/": 5,
    "/api/delegations/": 5,
    "/api/participants/": 5,
    "/api/sectors/": 5,
    "/api/exhibitors/": 5,
    "/api/agreements/": 6,
    "/api/pledges/": 5,
    "/api/publications/": 5,
    "/api/statistics/ciie-2019/beijing/": 4,
}
STAFF_QUERIES = {path: 8 for path in STAFF_ENDPOINTS} | {
    # and what their records prefetch: the exhibitors, the moves
    "/api/staff/agreements/": 10,
    "/api/staff/investment-intentions/": 9,
    "/api/staff/ciftis-pledges/": 9,
}


@pytest.mark.parametrize("path", PUBLIC_QUERIES)
def test_each_public_list_runs_the_same_queries_whatever_its_page_holds(
    rows, path, django_assert_num_queries
):
    client = APIClient()
    client.get(path)  # the figures of the statistics endpoint are cached

    with django_assert_num_queries(PUBLIC_QUERIES[path]):
        response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", STAFF_QUERIES)
def test_each_staff_list_runs_the_same_queries_whatever_its_page_holds(
    rows, path, django_assert_num_queries
):
    client = client_for("reviewer")
    client.get(path)  # the list's count is cached

    with django_assert_num_queries(STAFF_QUERIES[path]):
        response = client.get(path)
    assert response.status_code == 200
