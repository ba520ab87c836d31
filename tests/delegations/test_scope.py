"""Per-delegation scope (delegations.scope) on every surface: a clerk of Beijing cannot
list, see, change, delete, export, import or create Shanghai's records; a member of
Beijing sees its sub-delegation's; the organizer's staff see everything."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from deals.importer import import_file
from deals.models import (
    Agreement,
    CiftisPledge,
    FollowUpMove,
    ImportRun,
    InvestmentIntention,
    Publication,
    Visit,
)
from deals.services import figures_publish
from delegations.models import Delegation, Registration
from delegations.scope import delegations_for, in_scope, out_of_scope_field, scope, sees_all
from tests.api import client_for
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    ExhibitorFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    VisitFactory,
    edition,
    staff_member,
)
from tests.files import csv_bytes
from tests.pages import agreement_in, beijing, district, shanghai

pytestmark = pytest.mark.django_db


@dataclass
class Records:
    """One record of each scoped kind in a delegation."""

    registration: Registration
    agreement: Agreement
    visit: Visit
    intention: InvestmentIntention
    pledge: CiftisPledge


def records_of(delegation: Delegation, tag: str) -> Records:
    registration = RegistrationFactory(
        delegation=delegation, organization=OrganizationFactory(name_zh=f"{tag}采购商")
    )
    agreement = agreement_in(delegation, reference=f"{tag}-1", registration=registration)
    return Records(
        registration=registration,
        agreement=agreement,
        visit=VisitFactory(delegation=delegation, organization=OrganizationFactory()),
        intention=InvestmentIntentionFactory(
            delegation=delegation, organization=OrganizationFactory()
        ),
        pledge=CiftisPledgeFactory(
            source_delegation=delegation, organization=OrganizationFactory(country="EE")
        ),
    )


@dataclass
class World:
    beijing: Delegation
    chaoyang: Delegation
    shanghai: Delegation
    mine: Records
    sub: Records
    theirs: Records
    clerk: object
    reviewer: object
    sub_clerk: object
    organizer: object


@pytest.fixture
def world() -> World:
    bj = beijing()
    cy = district(bj)
    sh = shanghai()
    organizer = UserFactory(username="organizer")
    organizer.groups.add(*staff_member(REVIEWERS, username="template").groups.all())
    organizer.user_permissions.add(Permission.objects.get(codename="view_all_delegations"))
    return World(
        beijing=bj,
        chaoyang=cy,
        shanghai=sh,
        mine=records_of(bj, "BJ"),
        sub=records_of(cy, "CY"),
        theirs=records_of(sh, "SH"),
        clerk=staff_member(DATA_ENTRY, username="bj.clerk", delegations=[bj]),
        reviewer=staff_member(REVIEWERS, username="bj.reviewer", delegations=[bj]),
        sub_clerk=staff_member(DATA_ENTRY, username="cy.clerk", delegations=[cy]),
        organizer=organizer,
    )


# ---------------------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------------------


def test_a_member_sees_their_delegation_and_its_sub_delegations(world):
    assert set(delegations_for(world.clerk)) == {world.beijing, world.chaoyang}
    assert set(delegations_for(world.sub_clerk)) == {world.chaoyang}


def test_the_organizer_and_superusers_see_every_delegation(world):
    root = UserFactory(username="root", is_superuser=True)
    assert sees_all(world.organizer) and sees_all(root)
    assert set(delegations_for(world.organizer)) == set(Delegation.objects.all())
    assert not sees_all(world.clerk)


def test_staff_of_no_delegation_see_no_record(world):
    nobody = staff_member(DATA_ENTRY, username="nobody", delegations=[])
    for model in (Registration, Agreement, Visit, InvestmentIntention, CiftisPledge):
        assert not scope(model.objects.all(), nobody).exists()


def test_every_kind_of_record_is_scoped_by_its_delegation(world):
    for model, attribute in [
        (Registration, "registration"),
        (Agreement, "agreement"),
        (Visit, "visit"),
        (InvestmentIntention, "intention"),
        (CiftisPledge, "pledge"),
    ]:
        seen = set(scope(model.objects.all(), world.clerk))
        mine = {getattr(world.mine, attribute), getattr(world.sub, attribute)}
        assert seen == mine, model
        assert set(scope(model.objects.all(), world.sub_clerk)) == {getattr(world.sub, attribute)}
        assert in_scope(world.clerk, getattr(world.sub, attribute))
        assert not in_scope(world.clerk, getattr(world.theirs, attribute))


def test_a_follow_up_move_and_a_publication_follow_their_record(world):
    from deals.services import follow_up_move

    theirs = follow_up_move(record=world.theirs.intention, to="negotiating", user=None)
    mine = follow_up_move(record=world.mine.intention, to="negotiating", user=None)
    assert list(scope(FollowUpMove.objects.all(), world.clerk)) == [mine]
    assert theirs in scope(FollowUpMove.objects.all(), world.organizer)
    figures_publish(delegation=world.shanghai, user=None, as_of=datetime.date(2019, 11, 11))
    assert not scope(Publication.objects.all(), world.clerk).exists()


def test_a_new_record_outside_the_delegations_names_its_field(world):
    visit = Visit(delegation=world.shanghai, organization=OrganizationFactory())
    assert out_of_scope_field(world.clerk, visit) == "delegation"
    assert out_of_scope_field(world.organizer, visit) is None
    top = Delegation(edition=world.beijing.edition, name_zh="天津", slug="tianjin")
    assert out_of_scope_field(world.clerk, top) == "parent"
    top.parent = world.beijing
    assert out_of_scope_field(world.clerk, top) is None
    pledge = CiftisPledge(target_edition=edition("ciftis-2020"), organization=OrganizationFactory())
    assert out_of_scope_field(world.clerk, pledge) == "source_delegation"


# ---------------------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------------------


def admin_url(record, page: str = "change") -> str:
    opts = record._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    return reverse(name) if page in ("changelist", "add") else reverse(name, args=[record.pk])


def test_the_admin_lists_only_the_members_records(client, world):
    client.force_login(world.clerk)
    for attribute in ("registration", "agreement", "visit", "intention", "pledge"):
        record = getattr(world.mine, attribute)
        page = client.get(admin_url(record, "changelist")).content.decode()
        assert admin_url(record) in page
        assert admin_url(getattr(world.sub, attribute)) in page
        assert admin_url(getattr(world.theirs, attribute)) not in page, attribute


def test_another_delegations_record_is_not_found_in_the_admin(client, world):
    client.force_login(world.reviewer)
    for attribute in ("registration", "agreement", "visit", "intention", "pledge"):
        theirs = getattr(world.theirs, attribute)
        for page in ("change", "delete"):
            response = client.get(admin_url(theirs, page))
            # As for a record that does not exist: back to the index, "does not exist".
            assert response.status_code == 302, (attribute, page)
            assert response.url == reverse("admin:index")
        assert client.get(admin_url(theirs, "history")).status_code == 404
        response = client.post(admin_url(theirs, "delete"), {"post": "yes"})
        assert response.status_code == 302
        assert type(theirs).objects.filter(pk=theirs.pk).exists(), attribute
        before = type(theirs).objects.filter(pk=theirs.pk).values().get()
        assert client.post(admin_url(theirs), {"notes": "changed"}).status_code == 302
        assert type(theirs).objects.filter(pk=theirs.pk).values().get() == before
    assert client.get(admin_url(world.mine.agreement)).status_code == 200
    assert client.get(admin_url(world.sub.agreement)).status_code == 200


def test_a_followed_record_of_another_delegation_cannot_be_moved(client, world):
    client.force_login(world.reviewer)
    theirs = world.theirs.intention
    url = reverse("admin:deals_investmentintention_move", args=[theirs.pk])
    response = client.post(url, {"to": "negotiating", "moved_on": "2019-11-20"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.stage == "expressed"


def test_a_clerk_picks_among_their_delegations_only(client, world):
    client.force_login(world.clerk)
    form = client.get(admin_url(world.mine.visit, "add")).context["adminform"].form
    assert set(form.fields["delegation"].queryset) == {world.beijing, world.chaoyang}
    response = client.post(
        admin_url(world.mine.visit, "add"),
        {
            "delegation": world.shanghai.pk,
            "organization": OrganizationFactory().pk,
            "visited_on": "2019-11-07",
        },
    )
    assert response.status_code == 200
    assert "delegation" in response.context["adminform"].form.errors
    assert not Visit.objects.filter(delegation=world.shanghai, visited_on="2019-11-07").exists()


def test_the_delegation_autocomplete_offers_the_members_delegations(client, world):
    client.force_login(world.clerk)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "deals", "model_name": "visit", "field_name": "delegation", "term": ""},
    )
    offered = {int(item["id"]) for item in response.json()["results"]}
    assert offered == {world.beijing.pk, world.chaoyang.pk}


def test_a_clerk_cannot_add_a_trading_delegation_but_may_add_a_sub_delegation(client, world):
    client.force_login(world.reviewer)
    url = reverse("admin:delegations_delegation_add")
    data = {
        "edition": world.beijing.edition_id,
        "name_zh": "海淀区",
        "slug": "haidian",
        "registrations-TOTAL_FORMS": 0,
        "registrations-INITIAL_FORMS": 0,
        "agreements-TOTAL_FORMS": 0,
        "agreements-INITIAL_FORMS": 0,
        "sub_delegations-TOTAL_FORMS": 0,
        "sub_delegations-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    response = client.post(url, {**data, "parent": world.beijing.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Delegation.objects.get(slug="haidian").parent == world.beijing


def test_only_who_manages_staff_accounts_gives_a_delegations_membership(client, world):
    url = admin_url(world.beijing)
    colleague = staff_member(DATA_ENTRY, username="colleague")
    client.force_login(world.reviewer)
    form = client.get(url).context["adminform"].form
    assert "members" not in form.fields  # shown, read-only
    page = client.get(url).context["adminform"]
    data = {
        **{name: value for name, value in page.form.initial.items() if value is not None},
        "members": [colleague.pk],
        "registrations-TOTAL_FORMS": 0,
        "registrations-INITIAL_FORMS": 0,
        "agreements-TOTAL_FORMS": 0,
        "agreements-INITIAL_FORMS": 0,
        "sub_delegations-TOTAL_FORMS": 0,
        "sub_delegations-INITIAL_FORMS": 0,
    }
    data.pop("id", None)
    client.post(url, data)
    assert not world.beijing.members.filter(pk=colleague.pk).exists()

    admin = UserFactory(username="accounts", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert "members" in client.get(url).context["adminform"].form.fields


def test_the_admin_export_holds_the_members_records_only(client, world):
    client.force_login(world.clerk)
    response = client.post(
        reverse("admin:deals_agreement_export"), {"format": "1", "resource": "0"}
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    cells = {str(cell) for row in workbook.active.iter_rows(values_only=True) for cell in row}
    assert {"BJ-1", "CY-1"} <= cells
    assert "SH-1" not in cells


def test_the_dashboard_shows_the_members_delegations_only(client, world):
    client.force_login(world.clerk)
    response = client.get(reverse("admin:index"), {"delegation": world.shanghai.pk})
    dashboard = response.context["dashboard"]
    assert dashboard.delegation == world.beijing
    assert world.shanghai not in dashboard.choice.choices
    client.force_login(world.sub_clerk)
    dashboard = client.get(reverse("admin:index")).context["dashboard"]
    assert dashboard.delegation == world.chaoyang
    assert dashboard.choice.choices == [world.chaoyang]


def test_a_reviewer_publishes_their_delegations_figures_only(client, world):
    client.force_login(world.reviewer)
    url = reverse("admin:deals_publication_publish")
    response = client.post(
        url, {"delegation": world.shanghai.pk, "as_of": "2019-11-11", "confirm": "yes"}
    )
    assert response.status_code == 200
    assert "delegation" in response.context["form"].errors
    assert not Publication.objects.exists()
    response = client.post(
        url, {"delegation": world.beijing.pk, "as_of": "2019-11-11", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert Publication.objects.get().delegation == world.beijing


def test_the_company_page_lists_the_members_records_only(client, world):
    client.force_login(world.clerk)
    shared = world.mine.registration.organization
    RegistrationFactory(delegation=world.shanghai, organization=shared)
    url = reverse("admin:delegations_organization_company", args=[shared.pk])
    file = client.get(url).context["file"]
    assert [registration.delegation for registration in file.registrations] == [world.beijing]


def test_organizations_with_other_delegations_records_are_merged_by_the_organizer(client, world):
    reviewer = world.reviewer
    reviewer.user_permissions.add(Permission.objects.get(codename="merge_organization"))
    client.force_login(reviewer)
    mine = world.mine.registration.organization
    theirs = world.theirs.registration.organization
    url = reverse("admin:delegations_organization_merge", args=[mine.pk, theirs.pk])
    assert client.post(url, {"keep": mine.pk}).status_code == 403
    assert Registration.objects.filter(organization=theirs).exists()


def test_the_organizer_sees_every_delegations_records_in_the_admin(client, world):
    client.force_login(world.organizer)
    page = client.get(admin_url(world.mine.agreement, "changelist")).content.decode()
    for records in (world.mine, world.sub, world.theirs):
        assert admin_url(records.agreement) in page
    assert client.get(admin_url(world.theirs.agreement)).status_code == 200


# ---------------------------------------------------------------------------------------
# The staff API
# ---------------------------------------------------------------------------------------

API = {
    "registration": "/api/staff/registrations/",
    "agreement": "/api/staff/agreements/",
    "visit": "/api/staff/visits/",
    "intention": "/api/staff/investment-intentions/",
    "pledge": "/api/staff/ciftis-pledges/",
}


def test_the_staff_api_lists_only_the_members_records(world):
    client = client_for(world.clerk)
    for attribute, path in API.items():
        listed = {row["id"] for row in client.get(path).json()["results"]}
        expected = {getattr(world.mine, attribute).pk, getattr(world.sub, attribute).pk}
        assert listed == expected, attribute


def test_another_delegations_record_is_404_in_the_staff_api(world):
    client = client_for(world.reviewer)
    for attribute, path in API.items():
        theirs = getattr(world.theirs, attribute)
        assert client.get(f"{path}{theirs.pk}/").status_code == 404
        assert client.patch(f"{path}{theirs.pk}/", {}, format="json").status_code == 404
        assert client.delete(f"{path}{theirs.pk}/").status_code == 404
        assert type(theirs).objects.filter(pk=theirs.pk).exists()
    response = client.post(
        f"{API['intention']}{world.theirs.intention.pk}/move/", {"to": "dropped"}
    )
    assert response.status_code == 404


def test_a_clerk_cannot_create_a_record_in_another_delegation_by_the_api(world):
    client = client_for(world.clerk)
    organization = OrganizationFactory()
    response = client.post(
        API["visit"],
        {
            "delegation": world.shanghai.pk,
            "organization": organization.pk,
            "visited_on": "2019-11-07",
        },
        format="json",
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["delegation"]
    response = client.post(
        API["visit"],
        {
            "delegation": world.chaoyang.pk,
            "organization": organization.pk,
            "visited_on": "2019-11-07",
        },
        format="json",
    )
    assert response.status_code == 201


def test_a_clerk_cannot_move_a_record_into_another_delegation_by_the_api(world):
    client = client_for(world.clerk)
    visit = world.mine.visit
    response = client.patch(
        f"{API['visit']}{visit.pk}/", {"delegation": world.shanghai.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "delegation"
    visit.refresh_from_db()
    assert visit.delegation == world.beijing


def test_a_pledge_without_a_source_delegation_is_the_organizers(world):
    client = client_for(world.clerk)
    data = {
        "target_edition": edition("ciftis-2020").pk,
        "organization": OrganizationFactory(country="EE").pk,
    }
    response = client.post(API["pledge"], data, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "source_delegation"
    assert client_for(world.organizer).post(API["pledge"], data, format="json").status_code == 201


def test_a_clerk_cannot_create_a_trading_delegation_by_the_api(world):
    client = client_for(world.reviewer)
    data = {"edition": world.beijing.edition_id, "name_zh": "天津", "slug": "tianjin"}
    response = client.post("/api/staff/delegations/", data, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    response = client.post(
        "/api/staff/delegations/", {**data, "parent": world.beijing.pk}, format="json"
    )
    assert response.status_code == 201


def test_live_figures_are_the_members_delegations_only(world):
    path = "/api/staff/statistics/ciie-2019/{}/"
    assert client_for(world.clerk).get(path.format("beijing")).status_code == 200
    assert client_for(world.clerk).get(path.format("shanghai")).status_code == 404
    # The parent's figures count the other sub-delegations' records.
    assert client_for(world.sub_clerk).get(path.format("beijing")).status_code == 404
    assert client_for(world.organizer).get(path.format("shanghai")).status_code == 200


def test_the_organizer_sees_every_record_in_the_staff_api(world):
    client = client_for(world.organizer)
    listed = {row["id"] for row in client.get(API["agreement"]).json()["results"]}
    assert listed == {world.mine.agreement.pk, world.sub.agreement.pk, world.theirs.agreement.pk}


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------

VISITS = ["delegation", "edition", "organization", "visited_on"]


def test_a_row_of_another_delegation_is_a_row_error_naming_it(world):
    organization = world.mine.visit.organization
    rows = [
        VISITS,
        ["北京", "CIIE 2019", organization.name_zh, "2019-11-08"],
        ["上海", "CIIE 2019", organization.name_zh, "2019-11-08"],
    ]
    result = import_file(csv_bytes(rows), filename="visits.csv", user=world.clerk, dry_run=False)
    (error,) = result.errors
    assert error.row == 3
    assert "上海" in error.message_en and "not one of your delegations" in error.message_en
    assert not Visit.objects.filter(visited_on="2019-11-08").exists()


def test_a_sub_delegations_rows_import_for_its_parents_member(world):
    name = world.chaoyang.name_zh
    rows = [VISITS, [name, "CIIE 2019", world.mine.visit.organization.name_zh, "2019-11-08"]]
    result = import_file(csv_bytes(rows), filename="visits.csv", user=world.clerk, dry_run=False)
    assert result.ok, [str(error) for error in result.errors]
    assert Visit.objects.get(visited_on="2019-11-08").delegation == world.chaoyang


def test_an_agreement_of_another_delegation_is_not_taken_over_by_its_reference(world):
    ExhibitorFactory(organization=OrganizationFactory(name_zh="三星电子"))
    header = ["reference", "delegation", "edition", "buyer", "exhibitors", "amount", "currency"]
    row = ["SH-1", "北京", "CIIE 2019", "BJ采购商", "三星电子", "1000", "USD"]
    result = import_file(
        csv_bytes([header, row]), filename="agreements.csv", user=world.reviewer, dry_run=False
    )
    (error,) = result.errors
    assert error.row == 2 and "上海" in error.message_en
    world.theirs.agreement.refresh_from_db()
    assert world.theirs.agreement.delegation == world.shanghai


def test_a_clerk_imports_sub_delegations_but_no_trading_delegation(world):
    header = ["edition", "name", "parent"]
    result = import_file(
        csv_bytes([header, ["CIIE 2019", "天津", ""]]),
        filename="delegations.csv",
        user=world.reviewer,
        dry_run=False,
    )
    assert "organizer" in result.errors[0].message_en
    result = import_file(
        csv_bytes([header, ["CIIE 2019", "上海", ""]]),
        filename="delegations.csv",
        user=world.reviewer,
        dry_run=False,
    )
    assert "not one of your delegations" in result.errors[0].message_en
    result = import_file(
        csv_bytes([header, ["CIIE 2019", "海淀区", "北京"]]),
        filename="delegations.csv",
        user=world.reviewer,
        dry_run=False,
    )
    assert result.ok
    assert Delegation.objects.get(name_zh="海淀区").parent == world.beijing


def test_the_admin_import_is_scoped_to_the_user(client, world):
    client.force_login(world.clerk)
    organization = world.mine.visit.organization
    file = io.BytesIO(
        csv_bytes([VISITS, ["上海", "CIIE 2019", organization.name_zh, "2019-11-08"]])
    )
    file.name = "visits.csv"
    response = client.post(reverse("admin:deals_importrun_import"), {"file": file, "sheet": ""})
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert run.status == ImportRun.Status.REFUSED
    assert "not one of your delegations" in run.errors[0]["message_en"]


def test_the_import_command_is_scoped_by_user_and_unscoped_without(world, tmp_path):
    organization = world.mine.visit.organization
    path = tmp_path / "visits.csv"
    path.write_bytes(csv_bytes([VISITS, ["上海", "CIIE 2019", organization.name_zh, "2019-11-08"]]))
    with pytest.raises(CommandError):
        call_command(
            "import_workbook",
            str(path),
            user="bj.clerk",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    assert not Visit.objects.filter(visited_on="2019-11-08").exists()
    call_command("import_workbook", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert Visit.objects.get(visited_on="2019-11-08").delegation == world.shanghai


def test_imports_of_other_delegations_staff_are_not_listed_or_undone(client, world):
    shanghai_clerk = staff_member(DATA_ENTRY, username="sh.clerk", delegations=[world.shanghai])
    theirs = ImportRun.objects.create(
        user=shanghai_clerk, filename="sh.csv", sha256="0" * 64, size=1
    )
    mine = ImportRun.objects.create(user=world.clerk, filename="bj.csv", sha256="1" * 64, size=1)
    assert list(scope(ImportRun.objects.all(), world.reviewer)) == [mine]
    client.force_login(world.reviewer)
    undo = reverse("admin:deals_importrun_undo", args=[theirs.pk])
    assert client.post(undo).status_code == 404


# ---------------------------------------------------------------------------------------
# The public site: not scoped, but a staff preview of live figures is
# ---------------------------------------------------------------------------------------


def test_staff_preview_the_live_figures_of_their_delegations_only(client, world):
    figures_publish(delegation=world.shanghai, user=None, as_of=datetime.date(2019, 11, 11))
    client.force_login(world.clerk)
    theirs = client.get(
        reverse("deals:headline", args=["ciie-2019", "shanghai"]), {"figures": "live"}
    )
    assert theirs.status_code == 200
    assert theirs.context["shown"].live is False  # the published figures, as the public's
    mine = client.get(reverse("deals:headline", args=["ciie-2019", "beijing"]), {"figures": "live"})
    assert mine.context["shown"].live is True
    client.logout()
    public = client.get(reverse("deals:headline", args=["ciie-2019", "shanghai"]))
    assert public.status_code == 200 and public.context["shown"].live is False


def test_a_sub_delegations_member_edits_it_but_does_not_detach_it(world):
    client = client_for(world.sub_clerk)
    path = f"/api/staff/delegations/{world.chaoyang.pk}/"
    assert client.patch(path, {"name_en": "Chaoyang"}, format="json").status_code == 200
    response = client.patch(path, {"parent": None}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    world.chaoyang.refresh_from_db()
    assert world.chaoyang.parent == world.beijing
    result = import_file(
        csv_bytes([["edition", "name", "parent"], ["CIIE 2019", world.chaoyang.name_zh, ""]]),
        filename="delegations.csv",
        user=world.sub_clerk,
        dry_run=False,
    )
    assert [error.column for error in result.errors] == ["parent / 上级交易团"]
    world.chaoyang.refresh_from_db()
    assert world.chaoyang.parent == world.beijing
