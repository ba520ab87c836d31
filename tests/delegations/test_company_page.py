"""The company page: everything the bureau knows about one organization, for staff."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from deals.models import IntentionStage, PledgeStatus
from delegations.models import Organization, RegistrationStatus
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    AgreementFactory,
    CiftisPledgeFactory,
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
from tests.pages import beijing, district, get_page, parse, table_rows

pytestmark = pytest.mark.django_db


def company_url(organization: Organization) -> str:
    return reverse("admin:delegations_organization_company", args=[organization.pk])


def records(page, caption_id: str) -> list[list[str]]:
    """The cells of the table's record rows (the "none recorded" row left out)."""
    return [
        [cell.text for cell in row.elements() if cell.tag in {"th", "td"}]
        for row in table_rows(page, caption_id)
        if row.select("th")
    ]


@pytest.fixture
def company():
    return OrganizationFactory(
        name_zh="北京首钢有限公司",
        name_en="Shougang Co., Ltd.",
        industry="钢铁",
        annual_imports_usd=Decimal("30000000"),
    )


def record_everything(company: Organization, n: int = 0) -> None:
    """One record of every kind for `company` (`n` numbers them apart)."""
    delegation = beijing(2019 + n)
    registration = RegistrationFactory(
        delegation=delegation, organization=company, participants=3 + n
    )
    seller = ExhibitorFactory(edition=delegation.edition)
    AgreementFactory(
        reference=f"BUY-{n}",
        registration=registration,
        exhibitors=[seller],
        amount=Decimal("2500000"),
        is_public=n % 2 == 0,
    )
    exhibitor = ExhibitorFactory(edition=delegation.edition, organization=company, booth=f"B{n}")
    AgreementFactory(
        reference=f"SELL-{n}",
        registration=RegistrationFactory(delegation=district(delegation)),
        exhibitors=[exhibitor],
    )
    VisitFactory(delegation=delegation, organization=company, notes=f"visit {n}")
    InvestmentIntentionFactory(
        delegation=delegation,
        organization=company,
        sector=SectorFactory(code="automobile"),
        stage=IntentionStage.NEGOTIATING,
    )
    CiftisPledgeFactory(
        organization=company,
        source_delegation=delegation,
        target_edition=edition(f"ciie-{2020 + n}"),
        status=PledgeStatus.REGISTERED,
    )


def test_company_page_lists_every_kind_of_record(client, company):
    record_everything(company)
    client.force_login(staff_member(DATA_ENTRY))

    page = get_page(client, company_url(company))

    assert ["Unified Social Credit Code", "–"] in records(page, "organization-caption")
    assert records(page, "registrations-caption") == [
        ["CIIE 2019", "Beijing", "3", "yes", "registered", "–"]
    ]
    buying = records(page, "agreements-as-buyer-caption")
    assert [row[0] for row in buying] == ["BUY-0"]
    assert buying[0][4:] == ["2,500,000.00 USD", "US$2,500,000", "signed", "public"]
    selling = records(page, "agreements-as-exhibitor-caption")
    assert [row[0] for row in selling] == ["SELL-0"]
    assert records(page, "exhibitions-caption") == [["CIIE 2019", "–", "B0"]]
    assert [row[0] for row in records(page, "visits-caption")] == ["Nov. 6, 2019"]
    assert [row[4] for row in records(page, "intentions-caption")] == ["negotiating"]
    assert [row[:3] for row in records(page, "pledges-caption")] == [
        ["CIIE 2020", "Beijing · CIIE 2019", "registered"]
    ]


def test_company_page_shows_records_across_editions(client, company):
    record_everything(company, 0)
    record_everything(company, 1)
    client.force_login(staff_member(DATA_ENTRY))

    page = get_page(client, company_url(company))

    assert [row[0] for row in records(page, "registrations-caption")] == ["CIIE 2020", "CIIE 2019"]
    assert [row[0] for row in records(page, "agreements-as-buyer-caption")] == ["BUY-1", "BUY-0"]
    assert [row[-1] for row in records(page, "agreements-as-buyer-caption")] == [
        "not public",
        "public",
    ]


def test_company_page_shows_the_organizations_history_with_who_changed_what(client, company):
    clerk = staff_member(DATA_ENTRY)
    company.industry = "冶金"
    company._history_user = clerk
    company.save()
    client.force_login(clerk)

    page = get_page(client, company_url(company))

    rows = records(page, "history-caption")
    assert [row[1:4] for row in rows] == [
        ["changed", "industry", clerk.username],
        ["created", "–", "–"],
    ]


def test_company_page_suggests_duplicates_with_a_merge_link_for_reviewers(client, company):
    duplicate = OrganizationFactory(name_zh="首钢", name_en="SHOUGANG LIMITED")
    OrganizationFactory(name_zh="北京银行", name_en="Bank of Beijing")
    merge = reverse("admin:delegations_organization_merge", args=[company.pk, duplicate.pk])

    client.force_login(staff_member(REVIEWERS))
    page = get_page(client, company_url(company))
    client.force_login(staff_member(DATA_ENTRY))
    without_merge = get_page(client, company_url(company))

    assert [row[0] for row in records(page, "duplicates-caption")] == ["首钢"]
    assert page.one("a", class_="merge-link")["href"] == merge
    assert [row[0] for row in records(without_merge, "duplicates-caption")] == ["首钢"]
    assert without_merge.select("a", class_="merge-link") == []


def test_company_page_says_when_nothing_is_recorded(client, company):
    client.force_login(staff_member(DATA_ENTRY))

    page = get_page(client, company_url(company))

    for caption in ("registrations", "agreements-as-buyer", "visits", "pledges", "duplicates"):
        assert records(page, f"{caption}-caption") == []
        assert len(table_rows(page, f"{caption}-caption")) == 1


@pytest.mark.parametrize("more", [0, 3])
def test_company_page_costs_the_same_queries_however_many_records(
    client, company, django_assert_num_queries, more
):
    for n in range(1 + more):
        record_everything(company, n)
    for n in range(1 + more * 10):
        company.industry = f"行业{n}"
        company.save()
    for n in range(1 + more):
        OrganizationFactory(name_zh=f"Shougang{' ' * n} Group", name_en="")
    RegistrationFactory(
        delegation=beijing(2019),
        status=RegistrationStatus.WITHDRAWN,
        organization=OrganizationFactory(name_zh="北京银行"),
    )
    client.force_login(staff_member(REVIEWERS))
    client.get(company_url(company))

    with django_assert_num_queries(17):
        response = client.get(company_url(company))

    assert response.status_code == 200
    assert len(response.context["file"].registrations) == 1 + more
    assert len(response.context["file"].duplicates) == 1 + more


def test_company_page_is_for_staff_who_may_view_organizations(client, company):
    client.force_login(UserFactory(is_staff=True))  # staff, but no permissions
    assert client.get(company_url(company)).status_code == 403

    client.force_login(UserFactory(is_staff=False))
    response = client.get(company_url(company))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_company_page_of_an_unknown_organization_is_not_found(client):
    client.force_login(staff_member(DATA_ENTRY))

    assert client.get("/admin/delegations/organization/999999/company/").status_code == 404


def test_organization_pages_link_to_the_company_page(client, company):
    client.force_login(staff_member(DATA_ENTRY))

    change = client.get(reverse("admin:delegations_organization_change", args=[company.pk]))
    changelist = client.get(reverse("admin:delegations_organization_changelist"))

    assert parse(change.content).one("a", class_="company-link")["href"] == company_url(company)
    assert company_url(company) in changelist.content.decode()
