"""The API's shared rules (delegations/api): who may call which endpoint, errors as JSON,
pagination, throttling; and the endpoints of fairs, editions, delegations, organizations
and registrations."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.filters import OrderingFilter
from rest_framework.test import APIClient

from delegations.models import Organization, OrganizationKind, RegistrationStatus
from tests.api import PUBLIC_LISTS, ROLES, STAFF_ENDPOINTS, client_for
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    DelegationFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    edition,
    staff_member,
)
from tests.pages import beijing, district, shanghai

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------
# Who may call what
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PUBLIC_LISTS)
def test_every_public_list_answers_everyone(path, role):
    response = client_for(role).get(path)

    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


@pytest.mark.parametrize("path", PUBLIC_LISTS)
def test_public_endpoints_ignore_credentials_so_they_reveal_nothing_of_passwords(path):
    user = UserFactory(username="clerk", is_staff=True)
    user.set_password("the right password 2019")
    user.save()
    answers = set()
    for password in ("the right password 2019", "a wrong one"):
        client = APIClient()
        basic = base64.b64encode(f"clerk:{password}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {basic}")
        answers.add(client.get(path).status_code)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    answers.add(client.get(path).status_code)

    assert answers == {200}


@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_staff_endpoints_refuse_anonymous_clients_and_basic_authentication(path):
    user = UserFactory(username="clerk", is_staff=True)
    user.set_password("the right password 2019")
    user.save()
    basic = APIClient()
    basic.credentials(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"clerk:the right password 2019").decode()
    )

    assert client_for("anonymous").get(path).status_code == 401
    assert basic.get(path).status_code == 401


@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_staff_endpoints_refuse_users_who_are_not_staff(path):
    response = client_for("outsider").get(path)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_data_entry_reads_and_writes_records_but_deletes_none(path):
    _label, make, reference = STAFF_ENDPOINTS[path]
    record = make()
    client = client_for("data_entry")

    listed = client.get(path)
    created = client.post(path, {}, format="json")
    changed = client.patch(f"{path}{record.pk}/", {}, format="json")
    deleted = client.delete(f"{path}{record.pk}/")

    assert listed.status_code == 200
    if reference:
        # Fairs and editions are reference data: data entry only reads them.
        assert (created.status_code, changed.status_code) == (403, 403)
    else:
        assert created.status_code == 400  # allowed, and told what is missing
        assert changed.status_code == 200
    assert deleted.status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("path", STAFF_ENDPOINTS)
def test_reviewers_read_write_and_delete_records(path):
    _label, make, reference = STAFF_ENDPOINTS[path]
    record = make()
    client = client_for("reviewer")

    assert client.get(path).status_code == 200
    assert client.get(f"{path}{record.pk}/").status_code == 200
    assert client.post(path, {}, format="json").status_code == 400
    assert client.patch(f"{path}{record.pk}/", {}, format="json").status_code == 200
    deleted = client.delete(f"{path}{record.pk}/")
    if reference:
        # Reviewers add and correct reference data; no staff group deletes it.
        assert deleted.status_code == 403
    else:
        assert deleted.status_code == 204
        assert not type(record).objects.filter(pk=record.pk).exists()


def test_a_staff_member_without_a_group_sees_no_records():
    client = client_for(UserFactory(is_staff=True))

    assert client.get("/api/staff/agreements/").status_code == 403


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


def test_a_validation_error_names_each_field_at_fault():
    client = client_for("data_entry")

    response = client.post(
        "/api/staff/registrations/",
        {"delegation": beijing().pk, "participants": 0},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    fields = {error["field"] for error in body["errors"]}
    assert {"organization", "participants"} <= fields
    assert all(error["message"] and error["code"] for error in body["errors"])


def test_the_models_own_rules_apply_to_api_writes():
    parent = beijing()
    organization = OrganizationFactory()
    RegistrationFactory(delegation=parent, organization=organization)
    client = client_for("data_entry")

    response = client.post(
        "/api/staff/registrations/",
        {"delegation": district(parent).pk, "organization": organization.pk, "participants": 2},
        format="json",
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "organization"
    assert "already registered" in error["message"]


def test_a_credit_code_is_checked_as_the_admin_checks_it():
    response = client_for("data_entry").post(
        "/api/staff/organizations/",
        {"name_zh": "测试公司", "kind": "private", "credit_code": "91440300708461136U"},
        format="json",
    )

    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["credit_code"]


def test_deleting_a_record_others_need_is_a_conflict_that_says_which():
    registration = RegistrationFactory()

    response = client_for("reviewer").delete(
        f"/api/staff/organizations/{registration.organization_id}/"
    )

    assert response.status_code == 409
    assert "registrations" in response.json()["detail"]
    assert Organization.objects.filter(pk=registration.organization_id).exists()


def test_an_unknown_record_is_a_json_404():
    response = client_for("reviewer").get("/api/staff/organizations/999999/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_errors_follow_the_clients_language():
    client = client_for("data_entry")

    chinese = client.post(
        "/api/staff/organizations/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    english = client.post("/api/staff/organizations/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert chinese.json()["errors"][0]["message"] == "该字段是必填项。"
    assert english.json()["errors"][0]["message"] == "This field is required."


# ---------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------


def test_a_change_through_the_api_is_in_the_records_history_with_its_author():
    clerk = staff_member(DATA_ENTRY)
    organization = OrganizationFactory(name_zh="旧名称")

    response = client_for(clerk).patch(
        f"/api/staff/organizations/{organization.pk}/", {"name_zh": "新名称"}, format="json"
    )

    assert response.status_code == 200
    latest = organization.history.first()
    assert latest.name_zh == "新名称"
    assert latest.history_user == clerk
    assert latest.history_change_reason == "API"
    assert latest.history_type == "~"


def test_a_deletion_through_the_api_is_in_the_history_too():
    reviewer = staff_member(REVIEWERS)
    organization = OrganizationFactory()

    client_for(reviewer).delete(f"/api/staff/organizations/{organization.pk}/")

    deleted = Organization.history.filter(id=organization.pk).first()
    assert deleted.history_type == "-"
    assert deleted.history_user == reviewer


# ---------------------------------------------------------------------------------------
# Pagination and throttling
# ---------------------------------------------------------------------------------------


def test_lists_are_paginated_with_a_maximum_page_size():
    current = beijing()
    for _ in range(7):
        RegistrationFactory(delegation=current)

    small = APIClient().get("/api/participants/?page_size=3")
    huge = APIClient().get("/api/participants/?page_size=100000")

    assert small.json()["count"] == 7
    assert len(small.json()["results"]) == 3
    assert small.json()["next"].endswith("page=2&page_size=3")
    assert len(huge.json()["results"]) == 7  # capped at 500, and 7 is all there is


def test_a_page_past_the_end_is_a_json_404():
    response = APIClient().get("/api/participants/?page=9")

    assert response.status_code == 404
    assert response.json()["errors"]


def test_anonymous_clients_are_throttled_per_address(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public": "3/minute",
        },
    }
    client = APIClient()

    answers = [client.get("/api/fairs/").status_code for _ in range(3)]
    refused = client.get("/api/fairs/")
    # A header the client makes up does not make it another client.
    dodged = client.get("/api/fairs/", HTTP_X_FORWARDED_FOR="203.0.113.9")
    elsewhere = client.get("/api/fairs/", REMOTE_ADDR="198.51.100.7")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Retry-After" in refused.headers
    assert dodged.status_code == 429
    assert elsewhere.status_code == 200


def test_behind_a_proxy_the_client_address_is_the_one_the_proxy_saw(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "public": "1/minute",
        },
    }
    client = APIClient()

    first = client.get("/api/fairs/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    same = client.get("/api/fairs/", HTTP_X_FORWARDED_FOR="198.51.100.1, 10.0.0.1")
    other = client.get("/api/fairs/", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2")

    assert (first.status_code, same.status_code, other.status_code) == (200, 429, 200)


def test_a_token_is_given_to_staff_for_their_password_and_refused_otherwise():
    clerk = staff_member(DATA_ENTRY, username="clerk")
    clerk.set_password("the right password 2019")
    clerk.save()
    outsider = UserFactory(username="outsider", is_staff=False)
    outsider.set_password("the right password 2019")
    outsider.save()
    client = APIClient()

    granted = client.post(
        "/api/token/", {"username": "clerk", "password": "the right password 2019"}
    )
    wrong = client.post("/api/token/", {"username": "clerk", "password": "wrong"})
    not_staff = client.post(
        "/api/token/", {"username": "outsider", "password": "the right password 2019"}
    )

    assert granted.status_code == 200
    token = granted.json()["token"]
    staff_client = APIClient()
    staff_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert staff_client.get("/api/staff/organizations/").status_code == 200
    assert wrong.status_code == 400
    assert not_staff.status_code == 403


def test_asking_for_tokens_is_throttled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token": "2/minute",
        },
    }
    client = APIClient()

    answers = [
        client.post("/api/token/", {"username": "x", "password": "y"}).status_code for _ in range(3)
    ]

    assert answers == [400, 400, 429]


# ---------------------------------------------------------------------------------------
# Fairs, editions, delegations, participants
# ---------------------------------------------------------------------------------------


def test_editions_filter_by_fair_and_come_latest_first():
    response = APIClient().get("/api/editions/?fair=ciftis")

    slugs = [row["slug"] for row in response.json()["results"]]
    assert slugs and all(slug.startswith("ciftis-") for slug in slugs)
    assert APIClient().get("/api/editions/ciie-2019/").json()["name_en"] == (
        "2nd China International Import Expo"
    )


def test_delegations_filter_by_edition_parent_and_top_level():
    parent = beijing()
    sub = district(parent)
    shanghai()
    beijing(2018)
    client = APIClient()

    at_2019 = client.get("/api/delegations/?edition=ciie-2019").json()["results"]
    top = client.get("/api/delegations/?edition=ciie-2019&top_level=true").json()["results"]
    subs = client.get(f"/api/delegations/?parent={parent.pk}").json()["results"]

    assert {row["slug"] for row in at_2019} == {"beijing", "chaoyang", "shanghai"}
    assert {row["slug"] for row in top} == {"beijing", "shanghai"}
    assert [row["id"] for row in subs] == [sub.pk]


def test_participants_are_the_registrations_not_withdrawn_with_public_fields_only():
    current = beijing()
    kept = RegistrationFactory(
        delegation=current,
        organization=OrganizationFactory(
            credit_code="91110000600037341L", annual_imports_usd=50_000_000
        ),
    )
    RegistrationFactory(delegation=current, status=RegistrationStatus.WITHDRAWN)

    (row,) = APIClient().get("/api/participants/").json()["results"]

    assert row["id"] == kept.pk
    assert row["is_large_importer"] is True
    assert set(row["organization"]) == {"name_zh", "name_en", "kind", "country", "industry"}
    assert "91110000600037341L" not in str(row)


def test_participants_of_a_delegation_include_its_sub_delegations():
    parent = beijing()
    RegistrationFactory(delegation=parent)
    RegistrationFactory(delegation=district(parent))
    RegistrationFactory(delegation=shanghai())

    response = APIClient().get(f"/api/participants/?delegation={parent.pk}")

    assert response.json()["count"] == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=state_owned", ["国有"]),
        ("country=HK", ["香港"]),
        ("purchaser=false", ["贸促会"]),
        ("q=香港", ["香港"]),
        ("participants_min=10", ["国有"]),
        ("registered_on_after=2019-10-01&registered_on_before=2019-10-31", ["香港"]),
        ("edition=ciie-2018", []),
        ("ordering=-participants", ["国有", "香港", "贸促会"]),
    ],
)
def test_participants_filter_and_order(query, expected):
    current = beijing()
    RegistrationFactory(
        delegation=current,
        participants=12,
        organization=OrganizationFactory(name_zh="国有", kind=OrganizationKind.STATE_OWNED),
    )
    RegistrationFactory(
        delegation=current,
        participants=5,
        registered_on=datetime.date(2019, 10, 8),
        organization=OrganizationFactory(
            name_zh="香港", kind=OrganizationKind.HK_MACAO_TAIWAN, country="HK"
        ),
    )
    RegistrationFactory(
        delegation=current,
        is_purchaser=False,
        organization=OrganizationFactory(name_zh="贸促会", kind=OrganizationKind.GOVERNMENT),
    )

    rows = APIClient().get(f"/api/participants/?{query}").json()["results"]

    names = [row["organization"]["name_zh"] for row in rows]
    assert names == expected if query.startswith("ordering") else sorted(names) == sorted(expected)


def test_a_filter_value_of_the_wrong_type_is_a_400_that_names_the_filter():
    response = APIClient().get("/api/participants/?delegation=beijing")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "delegation"


def test_no_public_ordering_reads_a_field_the_list_does_not_offer():
    current = beijing()
    RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_zh="甲", annual_imports_usd=1)
    )
    RegistrationFactory(
        delegation=current, organization=OrganizationFactory(name_zh="乙", annual_imports_usd=9)
    )

    plain = APIClient().get("/api/participants/").json()["results"]
    by_imports = (
        APIClient()
        .get("/api/participants/?ordering=-organization__annual_imports_usd")
        .json()["results"]
    )

    assert by_imports == plain


def test_staff_create_a_delegation_and_its_sub_delegation():
    client = client_for("data_entry")

    parent = client.post(
        "/api/staff/delegations/",
        {"edition": edition().pk, "name_zh": "天津", "name_en": "Tianjin", "slug": "tianjin"},
        format="json",
    )
    sub = client.post(
        "/api/staff/delegations/",
        {
            "edition": edition().pk,
            "parent": parent.json()["id"],
            "name_zh": "滨海新区",
            "slug": "binhai",
        },
        format="json",
    )
    twice = client.post(
        "/api/staff/delegations/",
        {"edition": edition().pk, "name_zh": "天津", "slug": "tianjin-2"},
        format="json",
    )

    assert parent.status_code == 201, parent.json()
    assert sub.status_code == 201, sub.json()
    assert twice.status_code == 400
    assert "already at this edition" in twice.json()["errors"][0]["message"]
    assert DelegationFactory._meta.model.objects.get(slug="binhai").parent_id == parent.json()["id"]


def test_the_admins_session_opens_the_staff_api_with_its_csrf_token():
    clerk = staff_member(DATA_ENTRY)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(clerk)

    read = browser.get("/api/staff/organizations/")
    forged = browser.post(
        "/api/staff/organizations/",
        {"name_zh": "无令牌公司", "kind": "private"},
        content_type="application/json",
    )
    browser.get("/admin/")  # sets the CSRF cookie, as the admin's pages do
    token = browser.cookies["csrftoken"].value
    sent = browser.post(
        "/api/staff/organizations/",
        {"name_zh": "有令牌公司", "kind": "private"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert read.status_code == 200
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    assert sent.status_code == 201


def test_every_ordered_list_names_its_fields_and_no_public_one_orders_by_an_amount():
    checked = 0
    for pattern in get_resolver().url_patterns:
        for view in _views(pattern):
            if OrderingFilter in getattr(view, "filter_backends", ()):
                checked += 1
                assert view.ordering_fields, view
                if not getattr(view, "staff_api", True):
                    confidential = {"amount", "amount_usd", "public_amount_usd", "notes"}
                    assert not confidential & set(view.ordering_fields), view
    assert checked >= 10


def _views(pattern):
    if isinstance(pattern, URLResolver):
        for inner in pattern.url_patterns:
            yield from _views(inner)
        return
    callback = pattern.callback
    view = getattr(callback, "cls", None)
    if view is not None:
        yield view
