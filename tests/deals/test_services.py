"""Follow-up after the expo (deals/services.py): agreements, investment intentions and
CIFTIS pledges move through their stages, dated, checked and kept, from the service,
the admin, the API and the spreadsheet import; a pledge follows its organization's
registration at the pledged edition."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from deals.importer import import_file, undo_import
from deals.models import (
    Agreement,
    AgreementStatus,
    CiftisPledge,
    FollowUpMove,
    ImportRun,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
)
from deals.services import STAGES, follow_up_move, pledges_follow_registrations
from delegations.models import Delegation, Registration, RegistrationStatus
from tests.api import client_for
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    edition,
    of_the_organizer,
    staff_member,
)
from tests.files import csv_bytes
from tests.pages import agreement_in, beijing

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def make(kind: str):
    if kind == "agreement":
        return agreement_in(beijing())
    if kind == "intention":
        return InvestmentIntentionFactory(delegation=beijing())
    return CiftisPledgeFactory(source_delegation=beijing())


# Every move each stage allows, and some it refuses.
ALLOWED = [
    ("agreement", AgreementStatus.SIGNED, AgreementStatus.EXECUTED),
    ("agreement", AgreementStatus.SIGNED, AgreementStatus.CANCELLED),
    ("intention", IntentionStage.EXPRESSED, IntentionStage.NEGOTIATING),
    ("intention", IntentionStage.EXPRESSED, IntentionStage.SIGNED),
    ("intention", IntentionStage.EXPRESSED, IntentionStage.LANDED),
    ("intention", IntentionStage.EXPRESSED, IntentionStage.DROPPED),
    ("intention", IntentionStage.NEGOTIATING, IntentionStage.SIGNED),
    ("intention", IntentionStage.NEGOTIATING, IntentionStage.LANDED),
    ("intention", IntentionStage.NEGOTIATING, IntentionStage.DROPPED),
    ("intention", IntentionStage.SIGNED, IntentionStage.LANDED),
    ("intention", IntentionStage.SIGNED, IntentionStage.DROPPED),
    ("pledge", PledgeStatus.PLEDGED, PledgeStatus.REGISTERED),
    ("pledge", PledgeStatus.PLEDGED, PledgeStatus.ATTENDED),
    ("pledge", PledgeStatus.PLEDGED, PledgeStatus.WITHDRAWN),
    ("pledge", PledgeStatus.REGISTERED, PledgeStatus.ATTENDED),
    ("pledge", PledgeStatus.REGISTERED, PledgeStatus.WITHDRAWN),
]
REFUSED = [
    ("agreement", AgreementStatus.EXECUTED, AgreementStatus.SIGNED, "final"),
    ("agreement", AgreementStatus.EXECUTED, AgreementStatus.CANCELLED, "final"),
    ("agreement", AgreementStatus.CANCELLED, AgreementStatus.SIGNED, "final"),
    ("agreement", AgreementStatus.CANCELLED, AgreementStatus.EXECUTED, "final"),
    ("agreement", AgreementStatus.SIGNED, AgreementStatus.SIGNED, "already"),
    ("agreement", AgreementStatus.SIGNED, "lost", "not a stage"),
    ("intention", IntentionStage.NEGOTIATING, IntentionStage.EXPRESSED, "back"),
    ("intention", IntentionStage.SIGNED, IntentionStage.NEGOTIATING, "back"),
    ("intention", IntentionStage.LANDED, IntentionStage.DROPPED, "final"),
    ("intention", IntentionStage.DROPPED, IntentionStage.EXPRESSED, "final"),
    ("pledge", PledgeStatus.REGISTERED, PledgeStatus.PLEDGED, "back"),
    ("pledge", PledgeStatus.ATTENDED, PledgeStatus.WITHDRAWN, "final"),
    ("pledge", PledgeStatus.WITHDRAWN, PledgeStatus.PLEDGED, "final"),
]


def at_stage(kind: str, stage: str):
    record = make(kind)
    field = STAGES[type(record)].field
    type(record).objects.filter(pk=record.pk).update(**{field: stage})
    return type(record).objects.get(pk=record.pk)


@pytest.mark.parametrize(("kind", "current", "to"), ALLOWED)
def test_every_move_a_stage_allows_is_made_dated_and_kept(kind, current, to):
    record = at_stage(kind, current)
    clerk = staff_member(DATA_ENTRY)

    move = follow_up_move(record=record, to=to, moved_on=YESTERDAY, note="called them", user=clerk)

    stored = type(record).objects.get(pk=record.pk)
    assert getattr(stored, STAGES[type(record)].field) == to
    assert (move.from_stage, move.to_stage, move.moved_on) == (current, to, YESTERDAY)
    assert (move.recorded_by, move.note) == (clerk, "called them")
    assert list(FollowUpMove.objects.of(stored)) == [move]
    latest = stored.history.first()
    assert latest.history_user == clerk
    assert latest.history_change_reason.startswith("moved to")


@pytest.mark.parametrize(("kind", "current", "to", "why"), REFUSED)
def test_a_move_the_stage_does_not_allow_is_refused_and_changes_nothing(kind, current, to, why):
    record = at_stage(kind, current)

    with pytest.raises(ValidationError) as refused:
        follow_up_move(record=record, to=to, user=None)

    message = " ".join(refused.value.message_dict["to"])
    assert why in message
    stored = type(record).objects.get(pk=record.pk)
    assert getattr(stored, STAGES[type(record)].field) == current
    assert not FollowUpMove.objects.exists()


def test_a_move_cannot_be_dated_ahead():
    agreement = make("agreement")

    with pytest.raises(ValidationError) as refused:
        follow_up_move(
            record=agreement,
            to=AgreementStatus.EXECUTED,
            moved_on=TODAY + datetime.timedelta(days=1),
            user=None,
        )

    assert "moved_on" in refused.value.message_dict
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.SIGNED


def test_a_move_sets_the_next_action_and_a_final_stage_clears_it():
    intention = InvestmentIntentionFactory(delegation=beijing())
    next_week = TODAY + datetime.timedelta(days=7)

    follow_up_move(
        record=intention, to=IntentionStage.NEGOTIATING, next_action_on=next_week, user=None
    )
    assert InvestmentIntention.objects.get(pk=intention.pk).next_action_on == next_week
    follow_up_move(record=intention, to=IntentionStage.DROPPED, user=None)

    assert InvestmentIntention.objects.get(pk=intention.pk).next_action_on is None


def test_moves_are_listed_newest_first_and_name_their_stages():
    pledge = make("pledge")
    follow_up_move(record=pledge, to=PledgeStatus.REGISTERED, moved_on=YESTERDAY, user=None)
    follow_up_move(record=pledge, to=PledgeStatus.ATTENDED, moved_on=TODAY, user=None)

    moves = list(FollowUpMove.objects.of(pledge))

    assert [(move.from_stage, move.to_stage) for move in moves] == [
        ("registered", "attended"),
        ("pledged", "registered"),
    ]
    assert (moves[0].from_label, moves[0].to_label) == ("registered", "attended")


# ---------------------------------------------------------------------------------------
# A pledge follows its organization's registration
# ---------------------------------------------------------------------------------------


@pytest.fixture
def ciftis_2020() -> Delegation:
    return Delegation.objects.create(
        edition=edition("ciftis-2020"), name_zh="北京", name_en="Beijing", slug="beijing"
    )


def test_a_pledge_turns_registered_then_attended_as_its_organization_is_recorded(ciftis_2020):
    organization = OrganizationFactory(country="EE")
    pledge = CiftisPledgeFactory(source_delegation=beijing(), organization=organization)
    clerk = staff_member(DATA_ENTRY)

    registration = RegistrationFactory(delegation=ciftis_2020, organization=organization)
    pledges_follow_registrations(
        registrations=Registration.objects.filter(pk=registration.pk), user=clerk
    )
    assert CiftisPledge.objects.get(pk=pledge.pk).status == PledgeStatus.REGISTERED

    registration.status = RegistrationStatus.ATTENDED
    registration.save()
    pledges_follow_registrations(
        registrations=Registration.objects.filter(pk=registration.pk), user=clerk
    )

    assert CiftisPledge.objects.get(pk=pledge.pk).status == PledgeStatus.ATTENDED
    assert [move.to_stage for move in FollowUpMove.objects.of(pledge)] == [
        "attended",
        "registered",
    ]


def test_only_the_pledges_to_that_edition_and_still_open_follow(ciftis_2020):
    organization = OrganizationFactory(country="EE")
    withdrawn = CiftisPledgeFactory(organization=organization, status=PledgeStatus.WITHDRAWN)
    elsewhere = CiftisPledgeFactory(organization=OrganizationFactory(country="JM"))
    registration = RegistrationFactory(
        delegation=ciftis_2020, organization=organization, status=RegistrationStatus.ATTENDED
    )

    moves = pledges_follow_registrations(
        registrations=Registration.objects.filter(pk=registration.pk), user=None
    )

    assert moves == []
    assert CiftisPledge.objects.get(pk=withdrawn.pk).status == PledgeStatus.WITHDRAWN
    assert CiftisPledge.objects.get(pk=elsewhere.pk).status == PledgeStatus.PLEDGED


def test_a_registration_saved_in_the_admin_moves_the_pledge(client, ciftis_2020):
    organization = OrganizationFactory(country="EE")
    pledge = CiftisPledgeFactory(organization=organization)
    client.force_login(staff_member(DATA_ENTRY))

    response = client.post(
        reverse("admin:delegations_registration_add"),
        {
            "delegation": ciftis_2020.pk,
            "organization": organization.pk,
            "participants": 2,
            "is_purchaser": "on",
            "status": RegistrationStatus.ATTENDED,
            "illustrative": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert CiftisPledge.objects.get(pk=pledge.pk).status == PledgeStatus.ATTENDED


def test_a_registration_written_through_the_api_moves_the_pledge(ciftis_2020):
    organization = OrganizationFactory(country="EE")
    pledge = CiftisPledgeFactory(organization=organization)

    response = client_for("data_entry").post(
        "/api/staff/registrations/",
        {"delegation": ciftis_2020.pk, "organization": organization.pk, "participants": 1},
        format="json",
    )

    assert response.status_code == 201
    assert CiftisPledge.objects.get(pk=pledge.pk).status == PledgeStatus.REGISTERED


# ---------------------------------------------------------------------------------------
# The admin
# ---------------------------------------------------------------------------------------


def move_url(record) -> str:
    return reverse(f"admin:deals_{type(record)._meta.model_name}_move", args=[record.pk])


def test_the_stage_is_read_only_on_the_change_form_and_the_move_page_is_linked(client):
    agreement = make("agreement")
    client.force_login(staff_member(DATA_ENTRY))

    page = client.get(reverse("admin:deals_agreement_change", args=[agreement.pk]))

    html = page.content.decode()
    assert 'name="status"' not in html
    assert move_url(agreement) in html


def test_the_move_page_offers_the_allowed_stages_and_records_the_move(client):
    intention = InvestmentIntentionFactory(delegation=beijing())
    clerk = staff_member(DATA_ENTRY)
    client.force_login(clerk)

    page = client.get(move_url(intention))
    options = page.context["form"].fields["to"].choices
    response = client.post(
        move_url(intention),
        {"to": "negotiating", "moved_on": YESTERDAY.isoformat(), "note": "first meeting"},
    )

    assert [value for value, _label in options] == ["negotiating", "signed", "landed", "dropped"]
    assert response.status_code == 302
    move = FollowUpMove.objects.get()
    assert (move.intention_id, move.to_stage, move.recorded_by) == (
        intention.pk,
        "negotiating",
        clerk,
    )


def test_the_moves_are_listed_on_the_record_for_whoever_may_view_it(client):
    intention = InvestmentIntentionFactory(delegation=beijing())
    follow_up_move(record=intention, to=IntentionStage.NEGOTIATING, user=None, note="first meeting")
    client.force_login(staff_member(DATA_ENTRY))

    page = client.get(reverse("admin:deals_investmentintention_change", args=[intention.pk]))

    assert page.status_code == 200
    assert "first meeting" in page.content.decode()


def test_the_move_page_refuses_a_date_ahead_with_the_reason(client):
    agreement = make("agreement")
    client.force_login(staff_member(DATA_ENTRY))

    response = client.post(
        move_url(agreement),
        {"to": "executed", "moved_on": (TODAY + datetime.timedelta(days=3)).isoformat()},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["moved_on"]
    assert not FollowUpMove.objects.exists()


def test_a_final_stage_offers_no_move(client):
    agreement = at_stage("agreement", AgreementStatus.CANCELLED)
    client.force_login(staff_member(REVIEWERS))

    page = client.get(move_url(agreement))

    assert "final" in page.content.decode()
    assert page.context["final"] is True


def test_moving_needs_the_change_permission(client):
    agreement = make("agreement")
    viewer = of_the_organizer(UserFactory(is_staff=True))
    viewer.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    client.force_login(viewer)

    assert client.get(move_url(agreement)).status_code == 403
    assert client.post(move_url(agreement), {"to": "executed"}).status_code == 403


# ---------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------


def test_the_api_moves_a_record_and_lists_its_moves():
    pledge = make("pledge")
    clerk = staff_member(DATA_ENTRY)
    client = client_for(clerk)

    moved = client.post(
        f"/api/staff/ciftis-pledges/{pledge.pk}/move/",
        {"to": "registered", "moved_on": YESTERDAY.isoformat(), "note": "signed up"},
        format="json",
    )
    record = client.get(f"/api/staff/ciftis-pledges/{pledge.pk}/").json()

    assert moved.status_code == 201
    assert moved.json()["to_stage"] == "registered"
    assert record["status"] == "registered"
    assert [move["to_stage"] for move in record["moves"]] == ["registered"]
    assert record["moves"][0]["recorded_by"] == clerk.pk


def test_the_api_refuses_a_move_the_stage_does_not_allow_naming_the_field():
    agreement = at_stage("agreement", AgreementStatus.EXECUTED)

    response = client_for("data_entry").post(
        f"/api/staff/agreements/{agreement.pk}/move/", {"to": "signed"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "to"
    assert "final" in response.json()["errors"][0]["message"]


def test_the_api_changes_a_stage_only_by_a_move():
    agreement = make("agreement")
    client = client_for("data_entry")

    changed = client.patch(
        f"/api/staff/agreements/{agreement.pk}/", {"status": "executed"}, format="json"
    )
    same = client.patch(
        f"/api/staff/agreements/{agreement.pk}/", {"status": "signed", "notes": "x"}, format="json"
    )

    assert changed.status_code == 400
    assert changed.json()["errors"][0]["field"] == "status"
    assert same.status_code == 200
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.SIGNED


def test_moving_through_the_api_needs_the_change_permission():
    agreement = make("agreement")
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agreement"))

    response = client_for(viewer).post(
        f"/api/staff/agreements/{agreement.pk}/move/", {"to": "executed"}, format="json"
    )

    assert response.status_code == 403


# ---------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------

INTENTIONS = ["delegation", "edition", "organization", "stage"]


def intention_sheet(stage: str, name: str = "博世") -> bytes:
    return csv_bytes([INTENTIONS, ["北京", "CIIE 2019", name, stage]])


@pytest.fixture
def bosch() -> InvestmentIntention:
    return InvestmentIntentionFactory(
        delegation=beijing(), organization=OrganizationFactory(name_zh="博世", country="CN")
    )


def test_an_import_that_moves_a_stage_records_the_move_with_its_run(bosch):
    clerk = staff_member(REVIEWERS)

    result = import_file(
        intention_sheet("negotiating"), filename="投资意向.csv", dry_run=False, user=clerk
    )

    assert result.written, [str(error) for error in result.errors]
    move = FollowUpMove.objects.get()
    assert (move.intention_id, move.from_stage, move.to_stage) == (
        bosch.pk,
        "expressed",
        "negotiating",
    )
    assert (move.recorded_by, move.import_run) == (clerk, result.run)
    assert move.moved_on == TODAY


def test_an_import_that_moves_a_stage_back_is_refused_at_its_row_and_column(bosch):
    InvestmentIntention.objects.filter(pk=bosch.pk).update(stage=IntentionStage.SIGNED)

    result = import_file(intention_sheet("negotiating"), filename="投资意向.csv", dry_run=True)

    (error,) = result.errors
    assert (error.row, error.column.split(" / ")[0]) == (2, "stage")
    assert "back" in error.message_en
    assert "退回" in error.message_zh


def test_undoing_an_import_takes_its_moves_back(bosch):
    reviewer = staff_member(REVIEWERS)
    result = import_file(
        intention_sheet("negotiating"), filename="投资意向.csv", dry_run=False, user=reviewer
    )

    undo_import(ImportRun.objects.get(pk=result.run.pk), user=reviewer)

    assert InvestmentIntention.objects.get(pk=bosch.pk).stage == IntentionStage.EXPRESSED
    assert not FollowUpMove.objects.exists()


def test_an_imported_registration_at_the_pledged_edition_moves_the_pledge(ciftis_2020):
    organization = OrganizationFactory(name_zh="爱沙尼亚企业局", country="EE")
    pledge = CiftisPledgeFactory(organization=organization)
    rows = [
        ["delegation", "edition", "organization", "participants", "status"],
        ["北京", "CIFTIS 2020", "爱沙尼亚企业局", "3", "attended"],
    ]

    result = import_file(
        csv_bytes(rows), filename="报名.csv", dry_run=False, user=staff_member(DATA_ENTRY)
    )

    assert result.written, [str(error) for error in result.errors]
    assert CiftisPledge.objects.get(pk=pledge.pk).status == PledgeStatus.ATTENDED
    assert FollowUpMove.objects.get().import_run == result.run
