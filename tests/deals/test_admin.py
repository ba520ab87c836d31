"""The back office of sectors, exchange rates, exhibitors, purchase agreements, visits,
investment intentions and CIFTIS pledges, as the two staff roles use it."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    InvestmentIntention,
    Sector,
    Visit,
)
from tests.delegations.test_admin import admin_url, form_values, page_text, submit
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
    SectorFactory,
    UserFactory,
    VisitFactory,
    edition,
    staff_member,
)


@pytest.fixture
def data_entry(db):
    return staff_member(DATA_ENTRY)


@pytest.fixture
def reviewer(db):
    return staff_member(REVIEWERS)


@dataclass(frozen=True)
class Case:
    """How a clerk uses one model's pages (see tests/delegations/test_admin.py)."""

    model: type[Model]
    make: Callable[[], Model]
    search: str
    shows: str
    add: Callable[[], dict]
    change: tuple[str, str, str]
    another: Callable[[], Model]  # one more row for the list, any


DAYS = (datetime.date(2019, 1, 1) + datetime.timedelta(days=n) for n in itertools.count())

CASES = {
    "sector": Case(
        Sector,
        make=lambda: SectorFactory(name_zh="医疗美容", name_en="Medical aesthetics"),
        search="美容",
        shows="医疗美容",
        add=lambda: {"code": "digital-trade", "name_zh": "数字贸易", "name_en": "Digital trade"},
        change=("name_en", "Digital trade and services", "English name"),
        another=SectorFactory,
    ),
    "exchange rate": Case(
        ExchangeRate,
        make=lambda: ExchangeRateFactory(source="中国人民银行"),
        search="人民银行",
        shows="中国人民银行",
        add=lambda: {
            "currency": "EUR",
            "valid_on": "2019-11-01",
            "usd_per_unit": "1.10500000",
            "source": "欧洲央行",
        },
        change=("source", "European Central Bank", "source"),
        another=lambda: ExchangeRateFactory(valid_on=next(DAYS)),
    ),
    "exhibitor": Case(
        Exhibitor,
        make=lambda: ExhibitorFactory(
            organization__name_zh="博柏利", organization__name_en="Burberry"
        ),
        search="博柏利",
        shows="Burberry",
        add=lambda: {
            "edition": edition("ciie-2019").pk,
            "organization": OrganizationFactory(country="GB").pk,
            "booth": "5.1A",
        },
        change=("booth", "6.2B", "booth"),
        another=ExhibitorFactory,
    ),
    "agreement": Case(
        Agreement,
        make=lambda: AgreementFactory(
            registration__organization__name_zh="北京寺库商贸有限公司",
            registration__organization__name_en="Secoo",
        ),
        search="寺库",
        shows="Secoo",
        add=lambda: {
            "reference": "BJ-2019-0500",
            "registration": RegistrationFactory().pk,
            "amount": "3000000",
            "currency": "USD",
            "signed_on": "2019-11-06",
            "parties-0-exhibitor": ExhibitorFactory().pk,
        },
        change=("amount", "2500000", "intended purchase amount"),
        another=AgreementFactory,
    ),
    "visit": Case(
        Visit,
        make=lambda: VisitFactory(organization__name_zh="百度", organization__name_en="Baidu"),
        search="百度",
        shows="Baidu",
        add=lambda: {
            "delegation": DelegationFactory().pk,
            "organization": OrganizationFactory().pk,
            "visited_on": "2019-11-07",
        },
        change=("notes", "有投资意向", "notes"),
        another=VisitFactory,
    ),
    "investment intention": Case(
        InvestmentIntention,
        make=lambda: InvestmentIntentionFactory(
            organization__name_zh="腾讯", organization__name_en="Tencent"
        ),
        search="腾讯",
        shows="Tencent",
        add=lambda: {
            "delegation": DelegationFactory().pk,
            "organization": OrganizationFactory().pk,
            "currency": "USD",
            "stage": "expressed",
        },
        # The stage changes by a move (tests/deals/test_services.py), not in the form.
        change=("notes", "约谈第二次", "notes"),
        another=InvestmentIntentionFactory,
    ),
    "CIFTIS pledge": Case(
        CiftisPledge,
        make=lambda: CiftisPledgeFactory(
            organization__name_zh="爱沙尼亚企业局", organization__name_en="Enterprise Estonia"
        ),
        search="爱沙尼亚",
        shows="Enterprise Estonia",
        add=lambda: {
            "target_edition": edition("ciftis-2020").pk,
            "organization": OrganizationFactory(country="EE").pk,
            "source_delegation": DelegationFactory().pk,
            "status": "pledged",
            "pledged_on": "2019-11-07",
        },
        change=("notes", "已发邀请函", "notes"),
        another=CiftisPledgeFactory,
    ),
}


# ---------------------------------------------------------------------------------------
# Every model, both roles
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [DATA_ENTRY, REVIEWERS])
@pytest.mark.parametrize("name", CASES)
def test_change_list_shows_the_records_and_finds_them_by_chinese_name(client, db, name, role):
    case = CASES[name]
    case.make()
    client.force_login(staff_member(role))

    listed = client.get(admin_url(case.model))
    found = client.get(admin_url(case.model), {"q": case.search})
    missed = client.get(admin_url(case.model), {"q": "没有这个名字"})

    assert listed.status_code == found.status_code == missed.status_code == 200
    assert case.shows in page_text(listed)
    assert case.shows in page_text(found)
    assert case.shows not in page_text(missed)


@pytest.mark.parametrize("name", CASES)
def test_change_list_costs_the_same_queries_for_3_and_30_rows(client, data_entry, name):
    case = CASES[name]
    client.force_login(data_entry)
    url = admin_url(case.model)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for _ in range(3):
        case.another()
    client.get(url)  # caches that last the process (content types) filled
    few = queries()
    for _ in range(27):
        case.another()

    assert queries() == few


@pytest.mark.parametrize("name", CASES)
def test_add_form_saves_the_record_and_records_who_added_it(client, data_entry, name):
    case = CASES[name]
    client.force_login(data_entry)
    before = set(case.model.objects.values_list("pk", flat=True))

    response = submit(client, admin_url(case.model, "add"), case.add())

    assert response.status_code == 302, page_text(response)
    (pk,) = set(case.model.objects.values_list("pk", flat=True)) - before
    (created,) = case.model.history.filter(id=pk)
    assert created.history_type == "+"
    assert created.history_user == data_entry


@pytest.mark.parametrize("name", CASES)
def test_history_page_shows_who_changed_which_field_to_what(client, db, name):
    case = CASES[name]
    user = staff_member(DATA_ENTRY, username="zhang.wei")
    record = case.make()
    field, value, label = case.change
    client.force_login(user)

    response = submit(client, admin_url(case.model, "change", record.pk), {field: value})
    history = client.get(admin_url(case.model, "history", record.pk))

    assert response.status_code == 302, page_text(response)
    assert history.status_code == 200
    text = page_text(history)
    assert "zhang.wei" in text
    assert f"{label}:".casefold() in text.casefold()
    assert value in text
    assert "last changed:" not in text  # saved on every change, so left out
    assert case.model.history.filter(id=record.pk).latest().history_user == user


@pytest.mark.parametrize("name", CASES)
def test_data_entry_cannot_delete(client, data_entry, name):
    case = CASES[name]
    record = case.make()
    client.force_login(data_entry)

    page = client.get(admin_url(case.model, "delete", record.pk))
    post = client.post(admin_url(case.model, "delete", record.pk), {"post": "yes"})
    changelist = client.get(admin_url(case.model))

    assert page.status_code == post.status_code == 403
    assert case.model.objects.filter(pk=record.pk).exists()
    assert "delete_selected" not in changelist.content.decode()


def test_reviewer_may_delete_from_the_list(client, reviewer):
    visit = VisitFactory()
    client.force_login(reviewer)

    page = client.get(admin_url(Visit))
    response = client.post(
        admin_url(Visit),
        {"action": "delete_selected", "_selected_action": [visit.pk], "post": "yes"},
    )

    assert "delete_selected" in page.content.decode()
    assert response.status_code == 302
    assert not Visit.objects.exists()
    assert Visit.history.get(id=visit.pk, history_type="-").history_user == reviewer


# ---------------------------------------------------------------------------------------
# Purchase agreements: amounts, validation
# ---------------------------------------------------------------------------------------


def test_agreement_form_shows_the_frozen_us_dollar_figures_read_only(client, data_entry):
    ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.142"))
    agreement = AgreementFactory(amount=Decimal("1000000"), currency="CNY")
    client.force_login(data_entry)

    response = client.get(admin_url(Agreement, "change", agreement.pk))

    fields = form_values(response.content.decode())
    text = page_text(response)
    assert "142000.00" in text
    assert "0.14200000" in text
    assert "Nov. 1, 2019" in text
    assert not {"amount_usd", "usd_rate", "usd_rate_on"} & set(fields)


def test_a_missing_exchange_rate_is_an_error_on_the_currency(client, data_entry):
    client.force_login(data_entry)
    data = {**CASES["agreement"].add(), "currency": "EUR"}

    response = submit(client, admin_url(Agreement, "add"), data)

    assert response.status_code == 200
    assert "There is no exchange rate for EUR on or before 2019-11-06" in page_text(response)
    assert not Agreement.objects.exists()


def test_a_currency_alias_is_saved_as_its_iso_code(client, data_entry):
    ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.142"))
    client.force_login(data_entry)
    data = {**CASES["agreement"].add(), "currency": "人民币", "amount": "100"}

    response = submit(client, admin_url(Agreement, "add"), data)

    assert response.status_code == 302, page_text(response)
    agreement = Agreement.objects.get()
    assert (agreement.currency, agreement.amount_usd) == ("CNY", Decimal("14.20"))


def test_a_negative_amount_is_refused(client, data_entry):
    client.force_login(data_entry)
    data = {**CASES["agreement"].add(), "amount": "-5"}

    response = submit(client, admin_url(Agreement, "add"), data)

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in page_text(response)
    assert not Agreement.objects.exists()


def test_an_agreement_without_a_delegation_takes_the_buyers(client, data_entry):
    client.force_login(data_entry)
    data = CASES["agreement"].add()

    submit(client, admin_url(Agreement, "add"), {**data, "delegation": ""})

    agreement = Agreement.objects.get()
    assert agreement.delegation == agreement.registration.delegation


def test_an_exhibitor_of_another_edition_is_refused_on_a_new_agreement(client, data_entry):
    client.force_login(data_entry)
    elsewhere = ExhibitorFactory(edition=edition("ciie-2018"))
    data = {**CASES["agreement"].add(), "parties-0-exhibitor": elsewhere.pk}

    response = submit(client, admin_url(Agreement, "add"), data)

    assert response.status_code == 200
    assert "The exhibitor must be at the agreement's edition." in page_text(response)
    assert not Agreement.objects.exists()


def test_a_duplicate_visit_shows_the_constraints_message(client, data_entry):
    visit = VisitFactory()
    client.force_login(data_entry)
    data = {
        "delegation": visit.delegation.pk,
        "organization": visit.organization.pk,
        "visited_on": visit.visited_on.isoformat(),
    }

    response = submit(client, admin_url(Visit, "add"), data)

    assert response.status_code == 200
    assert "This visit is already recorded." in page_text(response)
    assert Visit.objects.count() == 1


def test_owners_are_picked_among_staff(client, data_entry):
    UserFactory(username="outsider", is_staff=False)
    UserFactory(username="li.lei", is_staff=True)
    client.force_login(data_entry)

    response = client.get(admin_url(InvestmentIntention, "add"))

    assert ">li.lei<" in response.content.decode()
    assert ">outsider<" not in response.content.decode()


@pytest.mark.parametrize("more", [0, 27])
def test_agreement_list_costs_the_same_queries_however_many_rows(
    client, reviewer, django_assert_num_queries, more
):
    for _ in range(3 + more):
        AgreementFactory()
    client.force_login(reviewer)
    client.get(admin_url(Agreement))

    # No date hierarchy: it cost two queries over every agreement on record. The count
    # is read from the cache: the generation token, then the count stored under it.
    with django_assert_num_queries(11):
        response = client.get(admin_url(Agreement))

    assert response.context["cl"].result_count == 3 + more


# ---------------------------------------------------------------------------------------
# Disclosure: only reviewers decide
# ---------------------------------------------------------------------------------------


def test_data_entry_cannot_make_an_amount_public(client, data_entry):
    agreement = AgreementFactory()
    client.force_login(data_entry)
    url = admin_url(Agreement, "change", agreement.pk)

    page = client.get(url)
    response = submit(client, url, {"is_public": "on", "notes": "已核对"})

    assert "is_public" not in form_values(page.content.decode())
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.notes == "已核对"
    assert agreement.is_public is False


def test_data_entry_cannot_add_a_public_agreement(client, data_entry):
    client.force_login(data_entry)

    submit(client, admin_url(Agreement, "add"), {**CASES["agreement"].add(), "is_public": "on"})

    assert Agreement.objects.get().is_public is False


def test_reviewer_makes_an_amount_public_in_the_form(client, reviewer):
    agreement = AgreementFactory()
    client.force_login(reviewer)

    response = submit(client, admin_url(Agreement, "change", agreement.pk), {"is_public": "on"})

    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.is_public is True
    assert agreement.history.latest().history_user == reviewer


def test_disclosure_actions_are_only_offered_to_reviewers(client, data_entry, reviewer):
    AgreementFactory()
    client.force_login(data_entry)
    for_data_entry = client.get(admin_url(Agreement)).content.decode()
    client.force_login(reviewer)
    for_reviewer = client.get(admin_url(Agreement)).content.decode()

    for action in ["make_public", "make_undisclosed", "recompute_usd"]:
        assert f'value="{action}"' not in for_data_entry
        assert f'value="{action}"' in for_reviewer


def test_data_entry_cannot_run_the_disclosure_action(client, data_entry):
    agreement = AgreementFactory()
    client.force_login(data_entry)

    client.post(admin_url(Agreement), {"action": "make_public", "_selected_action": [agreement.pk]})

    agreement.refresh_from_db()
    assert agreement.is_public is False


def test_reviewer_discloses_and_withdraws_amounts_in_bulk_with_history(client, reviewer):
    first, second = AgreementFactory(), AgreementFactory()
    client.force_login(reviewer)
    selected = {"_selected_action": [first.pk, second.pk]}

    made_public = client.post(admin_url(Agreement), {"action": "make_public", **selected})
    assert Agreement.objects.filter(is_public=True).count() == 2
    client.post(admin_url(Agreement), {"action": "make_undisclosed", "_selected_action": first.pk})

    first.refresh_from_db()
    assert first.is_public is False
    assert made_public.status_code == 302
    assert [h.is_public for h in first.history.order_by("history_date")] == [False, True, False]
    assert {h.history_user for h in first.history.filter(history_type="~")} == {reviewer}
    message = page_text(client.get(admin_url(Agreement)))
    assert "1 agreement's amount is now undisclosed." in message


# ---------------------------------------------------------------------------------------
# Recomputing US$ at the current rates
# ---------------------------------------------------------------------------------------


def test_recompute_action_follows_the_current_rates_and_names_those_without_one(client, reviewer):
    cny = ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.14"))
    jpy = ExchangeRateFactory(currency="JPY", usd_per_unit=Decimal("0.0092"))
    in_yuan = AgreementFactory(reference="BJ-2019-0001", amount=Decimal("100"), currency="CNY")
    in_yen = AgreementFactory(reference="BJ-2019-0002", amount=Decimal("1000"), currency="JPY")
    in_dollars = AgreementFactory(reference="BJ-2019-0003")
    ExchangeRate.objects.filter(pk=cny.pk).update(usd_per_unit=Decimal("0.15"))
    jpy.delete()
    client.force_login(reviewer)

    response = client.post(
        admin_url(Agreement),
        {"action": "recompute_usd", "_selected_action": [in_yuan.pk, in_yen.pk, in_dollars.pk]},
        follow=True,
    )

    in_yuan.refresh_from_db()
    in_yen.refresh_from_db()
    assert in_yuan.amount_usd == Decimal("15.00")
    assert in_yen.amount_usd == Decimal("9.20")  # left as it was
    text = page_text(response)
    assert "1 of 3 agreements got a new US$ amount." in text
    assert "1 agreement has no exchange rate and was left as it was: BJ-2019-0002." in text
    latest = in_yuan.history.latest()
    assert (latest.history_user, latest.amount_usd) == (reviewer, Decimal("15.00"))


def test_recompute_needs_its_own_permission(client, db):
    disclose_only = UserFactory()
    disclose_only.user_permissions.add(
        Permission.objects.get(codename="view_agreement"),
        Permission.objects.get(codename="change_agreement"),
        Permission.objects.get(codename="disclose_agreement"),
    )
    AgreementFactory()
    client.force_login(disclose_only)

    page = client.get(admin_url(Agreement)).content.decode()

    assert 'value="make_public"' in page
    assert 'value="recompute_usd"' not in page


# ---------------------------------------------------------------------------------------
# Exhibitors of an agreement
# ---------------------------------------------------------------------------------------


def test_exhibitors_added_and_removed_inline_show_in_the_agreements_history(client, reviewer):
    burberry = ExhibitorFactory(organization__name_en="Burberry")
    agreement = AgreementFactory(exhibitors=[burberry])
    shiseido = ExhibitorFactory(organization__name_en="Shiseido")
    client.force_login(reviewer)
    url = admin_url(Agreement, "change", agreement.pk)

    response = submit(
        client,
        url,
        {"parties-0-DELETE": "on", "parties-TOTAL_FORMS": 2, "parties-1-exhibitor": shiseido.pk},
    )
    history = client.get(admin_url(Agreement, "history", agreement.pk))

    assert response.status_code == 302, page_text(response)
    assert list(agreement.exhibitors.all()) == [shiseido]
    removed = AgreementExhibitor.history.get(exhibitor=burberry, history_type="-")
    assert removed.history_user == reviewer
    text = page_text(history)
    assert "Exhibitors of the agreement: changes" in text
    assert f"removed Burberry {reviewer.username}" in text
    assert f"added Shiseido {reviewer.username}" in text


def test_exhibitor_autocomplete_offers_the_agreements_edition_only(client, data_entry):
    at_2019 = ExhibitorFactory(organization__name_zh="三星电子")
    ExhibitorFactory(edition=edition("ciie-2018"), organization__name_zh="三星中国")
    agreement = AgreementFactory(exhibitors=[at_2019])
    client.force_login(data_entry)
    params = {
        "app_label": "deals",
        "model_name": "agreementexhibitor",
        "field_name": "exhibitor",
        "term": "三星",
    }

    page = client.get(admin_url(Agreement, "change", agreement.pk))
    scoped = client.get(reverse("admin:autocomplete"), {**params, "edition": at_2019.edition_id})
    unscoped = client.get(reverse("admin:autocomplete"), params)

    assert f"/admin/autocomplete/?edition={at_2019.edition_id}" in page.content.decode()
    assert [r["id"] for r in scoped.json()["results"]] == [str(at_2019.pk)]
    assert len(unscoped.json()["results"]) == 2


def test_agreements_are_found_by_an_exhibitors_name(client, data_entry):
    burberry = ExhibitorFactory(organization__name_zh="博柏利", organization__name_en="Burberry")
    AgreementFactory(reference="BJ-2019-0007", exhibitors=[burberry])
    AgreementFactory(reference="BJ-2019-0008")
    client.force_login(data_entry)

    response = client.get(admin_url(Agreement), {"q": "博柏利"})

    assert "BJ-2019-0007" in page_text(response)
    assert "BJ-2019-0008" not in page_text(response)


def test_buyer_autocomplete_is_searchable_by_organization_name(client, data_entry):
    wanted = RegistrationFactory(organization__name_en="WuMart", organization__name_zh="物美")
    RegistrationFactory(organization__name_en="Dong Lai Shun", organization__name_zh="东来顺")
    client.force_login(data_entry)
    params = {"app_label": "deals", "model_name": "agreement", "field_name": "registration"}

    found = client.get(reverse("admin:autocomplete"), {**params, "term": "物美"})

    assert [r["id"] for r in found.json()["results"]] == [str(wanted.pk)]
    assert "物美" not in found.json()["results"][0]["text"]  # English labels in tests
    assert "WuMart" in found.json()["results"][0]["text"]


def test_agreement_pages_render_in_chinese(client, reviewer):
    agreement = AgreementFactory()
    client.force_login(reviewer)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

    pages = [
        client.get(admin_url(Agreement), **chinese),
        client.get(admin_url(Agreement, "change", agreement.pk), **chinese),
        client.get(admin_url(Agreement, "history", agreement.pk), **chinese),
    ]

    assert [page.status_code for page in pages] == [200] * 3
    assert all('lang="zh-hans"' in page.content.decode() for page in pages)


def test_pledge_list_filters_by_target_edition(client, data_entry):
    CiftisPledgeFactory(organization__name_en="Enterprise Estonia")
    client.force_login(data_entry)
    target = edition("ciftis-2020")

    found = client.get(admin_url(CiftisPledge), {"target_edition__id__exact": target.pk})
    none = client.get(
        admin_url(CiftisPledge), {"target_edition__id__exact": edition("ciie-2019").pk}
    )

    assert "Enterprise Estonia" in page_text(found)
    assert "Enterprise Estonia" not in page_text(none)


def test_data_entry_may_take_an_exhibitor_off_an_agreement(data_entry):
    assert data_entry.has_perm("deals.delete_agreementexhibitor")
    assert not data_entry.has_perm("deals.delete_agreement")


def test_shipped_reference_data_has_a_first_version_to_compare_with(db):
    from deals.models import Sector
    from delegations.models import Edition

    assert Edition.history.filter(slug="ciie-2019", history_type="+").exists()
    assert Sector.history.filter(code="automobile", history_type="+").exists()
