"""The back office of fairs, editions, delegations, organizations and registrations, as
the two staff roles use it; and the demo login command."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse

from deals.models import Agreement
from delegations.models import Delegation, Edition, Fair, Organization, Registration
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    AgreementFactory,
    DelegationFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    edition,
    staff_member,
)

# ---------------------------------------------------------------------------------------
# Helpers, also used by tests/deals/test_admin.py
# ---------------------------------------------------------------------------------------


class _FormValues(HTMLParser):
    """The values a browser posts from the admin's change form, as rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").endswith("_form"):
            self._in_form = True
        name = attrs.get("name")
        if not self._in_form or "__prefix__" in (name or "") or "disabled" in attrs:
            return
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "reset", "file", "image"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.values.append((name, attrs.get("value") or "on"))
                return
            self.values.append((name, attrs.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values.append((self._select, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text += data


def form_values(page: str) -> dict[str, list[str]]:
    parser = _FormValues()
    parser.feed(page)
    values: dict[str, list[str]] = {}
    for name, value in parser.values:
        values.setdefault(name, []).append(value)
    return values


def submit(client, url: str, changes: dict, **extra):
    """GET the admin form at `url`, change some values (None removes one) and POST it,
    as a clerk would fill in the page."""
    page = client.get(url, **extra)
    assert page.status_code == 200, page.status_code
    data = form_values(page.content.decode())
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [str(value)]
    return client.post(url, data, **extra)


def admin_url(model: type[Model] | Model, view: str = "changelist", *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def page_text(response) -> str:
    """The page without tags, its spaces collapsed: what a clerk reads."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def data_entry(db):
    return staff_member(DATA_ENTRY)


@pytest.fixture
def reviewer(db):
    return staff_member(REVIEWERS)


# ---------------------------------------------------------------------------------------
# Every model, both roles
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How a clerk uses one model's pages."""

    model: type[Model]
    role: str  # the role that adds and changes it
    make: Callable[[], Model]  # a record the change list should show
    search: str  # Chinese text that finds that record
    shows: str  # what of it the change list shows
    add: Callable[[], dict]  # a valid add form
    change: tuple[str, str, str]  # field, new value, the field's label on the history page


CASES = {
    "fair": Case(
        Fair,
        REVIEWERS,
        make=lambda: Fair.objects.get(code="ciie"),
        search="进口博览",
        shows="China International Import Expo",
        add=lambda: {
            "code": "cicpe",
            "abbreviation": "CICPE",
            "short_name_zh": "消博会",
            "name_zh": "中国国际消费品博览会",
            "name_en": "China International Consumer Products Expo",
        },
        change=("abbreviation", "CICP", "Abbreviation"),
    ),
    "edition": Case(
        Edition,
        REVIEWERS,
        make=lambda: edition("ciie-2019"),
        search="第二届",
        shows="2nd China International Import Expo",
        add=lambda: {
            "fair": Fair.objects.get(code="ciie").pk,
            "number": 9,
            "year": 2026,
            "slug": "ciie-2026",
            "name_zh": "第九届中国国际进口博览会",
            "name_en": "9th China International Import Expo",
            "starts_on": "2026-11-05",
            "ends_on": "2026-11-10",
        },
        change=("name_en", "The 9th CIIE", "English name"),
    ),
    "delegation": Case(
        Delegation,
        DATA_ENTRY,
        make=lambda: DelegationFactory(),
        search="北京",
        shows="Beijing",
        add=lambda: {
            "edition": edition("ciie-2019").pk,
            "name_zh": "上海",
            "name_en": "Shanghai",
            "slug": "shanghai",
            "organizer_zh": "上海市商务委员会",
        },
        change=("organizer_en", "Shanghai Municipal Commission of Commerce", "English"),
    ),
    "organization": Case(
        Organization,
        DATA_ENTRY,
        make=lambda: OrganizationFactory(name_zh="北京寺库商贸有限公司", name_en="Secoo"),
        search="寺库",
        shows="北京寺库商贸有限公司",
        add=lambda: {
            "name_zh": "国美电器有限公司",
            "name_en": "Gome",
            "credit_code": "91110000600037341L",
            "kind": "private",
            "country": "CN",
        },
        change=("industry", "零售", "industry"),
    ),
    "registration": Case(
        Registration,
        DATA_ENTRY,
        make=lambda: RegistrationFactory(
            organization__name_zh="小米科技有限责任公司", organization__name_en="Xiaomi"
        ),
        search="小米",
        shows="Xiaomi",
        add=lambda: {
            "delegation": DelegationFactory().pk,
            "organization": OrganizationFactory().pk,
            "participants": 4,
            "is_purchaser": "on",
            "status": "registered",
        },
        change=("participants", "6", "participants"),
    ),
}


def test_every_model_is_in_the_admin_and_no_history_model_is():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered >= {
        "delegations.Fair",
        "delegations.Edition",
        "delegations.Delegation",
        "delegations.Organization",
        "delegations.Registration",
        "deals.Sector",
        "deals.ExchangeRate",
        "deals.Exhibitor",
        "deals.Agreement",
        "deals.Visit",
        "deals.InvestmentIntention",
        "deals.CiftisPledge",
    }
    assert not [label for label in registered if ".Historical" in label]
    assert "deals.AgreementExhibitor" not in registered


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
def test_add_form_saves_the_record_and_records_who_added_it(client, db, name):
    case = CASES[name]
    user = staff_member(case.role)
    client.force_login(user)
    before = set(case.model.objects.values_list("pk", flat=True))

    response = submit(client, admin_url(case.model, "add"), case.add())

    assert response.status_code == 302, page_text(response)
    (pk,) = set(case.model.objects.values_list("pk", flat=True)) - before
    if hasattr(case.model, "history"):
        (created,) = case.model.history.filter(id=pk)
        assert created.history_type == "+"
        assert created.history_user == user
    else:
        assert LogEntry.objects.get(object_id=str(pk)).user == user


@pytest.mark.parametrize("name", CASES)
def test_history_page_shows_who_changed_which_field_to_what(client, db, name):
    case = CASES[name]
    user = staff_member(case.role, username="wang.fang")
    client.force_login(user)
    record = case.make()
    field, value, label = case.change

    response = submit(client, admin_url(case.model, "change", record.pk), {field: value})
    history = client.get(admin_url(case.model, "history", record.pk))

    assert response.status_code == 302, page_text(response)
    assert history.status_code == 200
    text = page_text(history)
    assert "wang.fang" in text
    assert label.casefold() in text.casefold()
    if hasattr(case.model, "history"):
        assert value in text  # old → new
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


def test_reviewer_can_delete(client, reviewer):
    registration = RegistrationFactory()
    client.force_login(reviewer)

    response = client.post(admin_url(Registration, "delete", registration.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Registration.objects.filter(pk=registration.pk).exists()
    assert Registration.history.filter(id=registration.pk, history_type="-").get().history_user


@pytest.mark.parametrize("name", ["fair", "edition"])
def test_data_entry_only_reads_the_reference_editions(client, data_entry, name):
    case = CASES[name]
    record = case.make()
    client.force_login(data_entry)

    assert client.get(admin_url(case.model, "add")).status_code == 403
    assert client.get(admin_url(case.model, "change", record.pk)).status_code == 200
    response = client.post(admin_url(case.model, "change", record.pk), {"name_en": "changed"})
    assert response.status_code == 403


def test_reverting_to_an_old_version_is_refused(client, reviewer):
    organization = OrganizationFactory(name_en="Old Name")
    client.force_login(reviewer)
    submit(client, admin_url(Organization, "change", organization.pk), {"name_en": "New Name"})
    old = organization.history.earliest()

    version = admin_url(Organization, "simple_history", organization.pk, old.history_id)
    page = client.get(version)
    revert = client.post(version, form_values(page.content.decode()))

    assert page.status_code == 200
    assert revert.status_code == 403
    organization.refresh_from_db()
    assert organization.name_en == "New Name"


def test_admin_renders_in_chinese(client, data_entry):
    delegation = DelegationFactory()
    client.force_login(data_entry)
    chinese = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

    pages = [
        client.get(reverse("admin:index"), **chinese),
        client.get(admin_url(Delegation), **chinese),
        client.get(admin_url(Delegation, "change", delegation.pk), **chinese),
        client.get(admin_url(Registration, "add"), **chinese),
    ]

    assert [page.status_code for page in pages] == [200] * 4
    assert all('lang="zh-hans"' in page.content.decode() for page in pages)
    assert "修改密码" in pages[0].content.decode()  # Django's own Chinese


# ---------------------------------------------------------------------------------------
# Delegations and their inlines
# ---------------------------------------------------------------------------------------


def test_delegation_list_counts_registrations_and_agreements_and_links_to_them(client, data_entry):
    beijing = DelegationFactory()
    RegistrationFactory.create_batch(3, delegation=beijing)
    AgreementFactory(registration__delegation=beijing)
    client.force_login(data_entry)

    response = client.get(admin_url(Delegation))

    html = response.content.decode()
    registrations = f"{admin_url(Registration)}?delegation__id__exact={beijing.pk}"
    agreements = f"{admin_url(Agreement)}?delegation__id__exact={beijing.pk}"
    assert f'<a href="{registrations}">4</a>' in html
    assert f'<a href="{agreements}">1</a>' in html


def test_link_to_a_delegations_registrations_lists_only_them(client, data_entry):
    beijing = DelegationFactory()
    shanghai = DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    RegistrationFactory(delegation=beijing, organization__name_en="JD.com")
    RegistrationFactory(delegation=shanghai, organization__name_en="Jahwa")
    client.force_login(data_entry)

    response = client.get(admin_url(Registration), {"delegation__id__exact": beijing.pk})

    assert response.status_code == 200
    assert "JD.com" in page_text(response)
    assert "Jahwa" not in page_text(response)


def test_delegation_page_links_to_all_its_registrations_instead_of_listing_them(client, data_entry):
    beijing = DelegationFactory()
    RegistrationFactory.create_batch(3, delegation=beijing)
    client.force_login(data_entry)

    response = client.get(admin_url(Delegation, "change", beijing.pk))

    assert "All 3 registrations" in page_text(response)
    assert "All 0 purchase agreements" in page_text(response)
    assert 'name="registrations-INITIAL_FORMS" value="0"' in response.content.decode()


@pytest.mark.parametrize("more", [0, 27])
def test_delegation_page_costs_the_same_queries_however_many_registrations(
    client, data_entry, django_assert_num_queries, more
):
    beijing = DelegationFactory()
    DelegationFactory(parent=beijing, slug="chaoyang", name_zh="朝阳", name_en="Chaoyang")
    for registration in RegistrationFactory.create_batch(3 + more, delegation=beijing):
        AgreementFactory(registration=registration)
    url = admin_url(Delegation, "change", beijing.pk)
    client.force_login(data_entry)
    client.get(url)  # caches that last the process (content types) filled

    with django_assert_num_queries(10):
        response = client.get(url)

    assert f"All {3 + more} registrations" in page_text(response)


def test_registrations_are_added_on_the_delegation_page(client, data_entry):
    beijing = DelegationFactory()
    jd = OrganizationFactory(name_zh="京东")
    client.force_login(data_entry)

    response = submit(
        client,
        admin_url(Delegation, "change", beijing.pk),
        {
            "registrations-0-organization": jd.pk,
            "registrations-0-participants": 12,
            "registrations-0-status": "registered",
        },
    )

    assert response.status_code == 302, page_text(response)
    registration = Registration.objects.get(delegation=beijing, organization=jd)
    assert registration.participants == 12
    assert registration.history.get().history_user == data_entry


def test_sub_delegations_are_added_at_their_parents_edition(client, data_entry):
    beijing = DelegationFactory()
    client.force_login(data_entry)
    changes = {
        "sub_delegations-TOTAL_FORMS": 1,
        "sub_delegations-0-name_zh": "海淀",
        "sub_delegations-0-name_en": "Haidian",
        "sub_delegations-0-slug": "haidian",
    }

    response = submit(client, admin_url(Delegation, "change", beijing.pk), changes)

    assert response.status_code == 302, page_text(response)
    haidian = Delegation.objects.get(slug="haidian")
    assert haidian.parent == beijing
    assert haidian.edition == beijing.edition


def test_a_duplicate_sub_delegation_name_is_a_form_error(client, data_entry):
    beijing = DelegationFactory()
    DelegationFactory(parent=beijing, slug="haidian", name_zh="海淀", name_en="Haidian")
    client.force_login(data_entry)
    changes = {
        "sub_delegations-TOTAL_FORMS": 2,
        "sub_delegations-1-name_zh": "海淀",
        "sub_delegations-1-slug": "haidian-2",
    }

    response = submit(client, admin_url(Delegation, "change", beijing.pk), changes)

    assert response.status_code == 200
    assert "A delegation of this name is already at this edition." in page_text(response)
    assert Delegation.objects.filter(name_zh="海淀").count() == 1


def test_agreements_are_added_on_the_delegation_page_but_only_reviewers_disclose(
    client, data_entry
):
    buyer = RegistrationFactory()
    client.force_login(data_entry)

    response = submit(
        client,
        admin_url(Delegation, "change", buyer.delegation.pk),
        {
            "agreements-0-reference": "BJ-2019-0900",
            "agreements-0-registration": buyer.pk,
            "agreements-0-amount": "250000",
            "agreements-0-currency": "usd",
            "agreements-0-is_public": "on",
        },
    )

    assert response.status_code == 302, page_text(response)
    agreement = Agreement.objects.get(reference="BJ-2019-0900")
    assert agreement.delegation == buyer.delegation
    assert agreement.currency == "USD"
    assert agreement.is_public is False


def test_owners_and_members_are_picked_among_staff(client, data_entry):
    UserFactory(username="outsider", is_staff=False)
    UserFactory(username="li.lei", is_staff=True)
    # Members are given by whoever manages the staff accounts.
    data_entry.user_permissions.add(Permission.objects.get(codename="change_user"))
    client.force_login(data_entry)

    response = client.get(admin_url(Delegation, "add"))

    assert ">li.lei<" in response.content.decode()
    assert ">outsider<" not in response.content.decode()


# ---------------------------------------------------------------------------------------
# Organizations and registrations
# ---------------------------------------------------------------------------------------


def test_a_bad_credit_code_is_refused_with_the_reason(client, data_entry):
    client.force_login(data_entry)
    data = {**CASES["organization"].add(), "credit_code": "91110000600037341X"}

    response = submit(client, admin_url(Organization, "add"), data)

    assert response.status_code == 200
    assert "is not a valid Unified Social Credit Code: check character is X but should be L" in (
        page_text(response)
    )
    assert not Organization.objects.exists()


def test_a_credit_code_typed_in_lower_case_is_kept_in_upper_case(client, data_entry):
    client.force_login(data_entry)
    data = {**CASES["organization"].add(), "credit_code": " 91110000600037341l "}

    response = submit(client, admin_url(Organization, "add"), data)

    assert response.status_code == 302
    assert Organization.objects.get().credit_code == "91110000600037341L"


def test_saving_a_code_whose_embedded_organization_code_fails_warns(client, data_entry):
    client.force_login(data_entry)
    data = {**CASES["organization"].add(), "credit_code": "91110000123456789Q"}

    response = submit(client, admin_url(Organization, "add"), data)
    page = client.get(response.url)

    assert response.status_code == 302
    assert Organization.objects.get().credit_code == "91110000123456789Q"
    assert "has check digit 9, expected 8" in page_text(page)
    assert 'class="warning"' in page.content.decode()


def test_a_duplicate_registration_is_a_form_error_not_a_crash(client, data_entry):
    registration = RegistrationFactory()
    client.force_login(data_entry)
    data = {
        "delegation": registration.delegation.pk,
        "organization": registration.organization.pk,
        "participants": 2,
    }

    response = submit(client, admin_url(Registration, "add"), data)

    assert response.status_code == 200
    assert "This organization is already registered in" in page_text(response)
    assert Registration.objects.count() == 1


def test_registration_list_shows_where_each_is_registered(client, data_entry):
    sub = DelegationFactory(
        parent=DelegationFactory(), slug="chaoyang", name_zh="朝阳", name_en="Chaoyang"
    )
    RegistrationFactory(delegation=sub, participants=7, is_purchaser=False)
    client.force_login(data_entry)

    response = client.get(admin_url(Registration))

    text = page_text(response)
    assert "Registered in" in text
    assert "Chaoyang · CIIE 2019" in text
    assert "Participants" in text


@pytest.mark.parametrize("more", [0, 27])
def test_registration_list_costs_the_same_queries_however_many_rows(
    client, data_entry, django_assert_num_queries, more
):
    RegistrationFactory.create_batch(3 + more)
    client.force_login(data_entry)
    client.get(admin_url(Registration))

    # No date hierarchy: it cost two queries over every registration on record. The
    # count is read from the cache: the generation token, then the count stored under it.
    with django_assert_num_queries(10):
        client.get(admin_url(Registration))


def test_buyer_autocomplete_offers_active_registrations_of_the_delegations_tree(client, data_entry):
    beijing = DelegationFactory()
    chaoyang = DelegationFactory(
        parent=beijing, slug="chaoyang", name_zh="朝阳", name_en="Chaoyang"
    )
    shanghai = DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    wanted = RegistrationFactory(delegation=chaoyang, organization__name_zh="京东世纪贸易")
    RegistrationFactory(delegation=beijing, organization__name_zh="京东物流", status="withdrawn")
    RegistrationFactory(delegation=shanghai, organization__name_zh="京东上海")
    client.force_login(data_entry)
    params = {
        "app_label": "deals",
        "model_name": "agreement",
        "field_name": "registration",
        "term": "京东",
    }

    scoped = client.get(reverse("admin:autocomplete"), {**params, "delegation": beijing.pk})
    unscoped = client.get(reverse("admin:autocomplete"), params)

    assert [r["id"] for r in scoped.json()["results"]] == [str(wanted.pk)]
    assert len(unscoped.json()["results"]) == 2  # the withdrawn one never


def test_parent_autocomplete_offers_trading_delegations_of_the_same_edition(client, data_entry):
    beijing = DelegationFactory()
    DelegationFactory(parent=beijing, slug="chaoyang", name_zh="朝阳", name_en="Chaoyang")
    DelegationFactory(edition=edition("ciie-2018"))
    client.force_login(data_entry)
    params = {"app_label": "delegations", "model_name": "delegation", "field_name": "parent"}

    scoped = client.get(reverse("admin:autocomplete"), {**params, "edition": beijing.edition_id})
    unscoped = client.get(reverse("admin:autocomplete"), params)

    assert [r["id"] for r in scoped.json()["results"]] == [str(beijing.pk)]
    assert len(unscoped.json()["results"]) == 2  # Beijing at 2018 and at 2019, not Chaoyang


def test_delegation_page_sends_its_id_with_the_buyer_autocomplete(client, data_entry):
    beijing = DelegationFactory()
    client.force_login(data_entry)

    response = client.get(admin_url(Delegation, "change", beijing.pk))

    assert f'data-ajax--url="/admin/autocomplete/?delegation={beijing.pk}"' in (
        response.content.decode()
    )


# ---------------------------------------------------------------------------------------
# The demo login
# ---------------------------------------------------------------------------------------


def _demo_login(*args) -> tuple[str, str]:
    out = StringIO()
    call_command("ensure_demo_login", *args, stdout=out)
    match = re.search(r"Staff login: username (\S+) password (\S+)", out.getvalue())
    assert match, out.getvalue()
    assert "http://127.0.0.1:8000/admin/" in out.getvalue()
    return match.group(1), match.group(2)


def test_demo_login_is_a_reviewer_with_a_new_password_each_run(db, client):
    username, first = _demo_login()
    again, second = _demo_login()

    user = get_user_model().objects.get(username="clerk")
    assert username == again == "clerk"
    assert first != second
    assert len(second) >= 20
    assert not user.check_password(first)
    assert user.check_password(second)
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [REVIEWERS]
    # django-axes checks every login against its lockouts, which needs a request.
    assert client.login(request=HttpRequest(), username="clerk", password=second)
    assert client.get(admin_url(Agreement)).status_code == 200


def test_demo_login_can_name_the_user_and_make_an_administrator(db):
    _demo_login("--username", "admin", "--superuser")
    _demo_login("--username", "clerk")

    users = get_user_model().objects
    assert users.get(username="admin").is_superuser
    assert not users.get(username="clerk").is_superuser
