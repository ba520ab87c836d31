"""Merging two records of one organization: everything moves, collisions are combined,
nothing is lost, the constraints hold and the history says who merged."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client
from django.urls import reverse

from deals.models import (
    Agreement,
    AgreementExhibitor,
    CiftisPledge,
    Exhibitor,
    FollowUpMove,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Visit,
)
from delegations import services
from delegations.models import Organization, Registration, RegistrationStatus
from delegations.services import (
    HANDLED_RELATIONS,
    merge_reason,
    organization_merge,
    organization_merge_preview,
    unhandled_relations,
)
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
    VisitFactory,
    edition,
    staff_member,
)
from tests.pages import beijing, district

pytestmark = pytest.mark.django_db

CODE = "91110000600037341L"
OTHER_CODE = "91440300708461136T"


@pytest.fixture
def reviewer():
    return staff_member(REVIEWERS)


@pytest.fixture
def keep():
    return OrganizationFactory(name_zh="北京首钢有限公司", name_en="")


@pytest.fixture
def remove():
    return OrganizationFactory(name_zh="Shougang Co., Ltd.", name_en="Shougang Co., Ltd.")


def merged(keep, remove, user):
    return organization_merge(keep=keep, remove=remove, user=user)


def latest_version(instance):
    return instance.history.order_by("-history_date", "-history_id").first()


def version_of_deleted(model, pk):
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


# ---------------------------------------------------------------------------------------
# Every relation moves
# ---------------------------------------------------------------------------------------


def test_merge_moves_every_record_of_the_removed_organization(keep, remove, reviewer):
    delegation = beijing()
    registration = RegistrationFactory(delegation=delegation, organization=remove)
    exhibitor = ExhibitorFactory(organization=remove)
    as_buyer = AgreementFactory(registration=registration)
    as_exhibitor = AgreementFactory(
        registration=RegistrationFactory(delegation=delegation), exhibitors=[exhibitor]
    )
    visit = VisitFactory(delegation=delegation, organization=remove)
    intention = InvestmentIntentionFactory(delegation=delegation, organization=remove)
    pledge = CiftisPledgeFactory(source_delegation=delegation, organization=remove)
    removed_pk = remove.pk

    merged(keep, remove, reviewer)

    assert not Organization.objects.filter(pk=removed_pk).exists()
    for record in (registration, exhibitor, visit, intention, pledge):
        record.refresh_from_db()
        assert record.organization_id == keep.pk
    assert Agreement.objects.get(pk=as_buyer.pk).buyer == keep
    assert list(Agreement.objects.get(pk=as_exhibitor.pk).exhibitors.all()) == [exhibitor]


def test_merge_handles_every_relation_to_an_organization():
    accessors = {relation.get_accessor_name() for relation in Organization._meta.related_objects}

    # A relation added to Organization (or to a record a merge combines) fails here
    # until organization_merge carries it over.
    assert accessors == HANDLED_RELATIONS[Organization]
    assert unhandled_relations() == []


def test_merge_refuses_to_run_with_a_relation_it_does_not_handle(
    keep, remove, reviewer, monkeypatch
):
    VisitFactory(organization=remove)
    monkeypatch.setitem(
        HANDLED_RELATIONS, Organization, HANDLED_RELATIONS[Organization] - {"visits"}
    )

    with pytest.raises(ImproperlyConfigured, match=r"deals\.Visit\.organization"):
        merged(keep, remove, reviewer)

    assert Organization.objects.filter(pk=remove.pk).exists()
    assert Visit.objects.get().organization_id == remove.pk


def test_merge_fills_the_kept_organizations_blank_fields(keep, reviewer):
    remove = OrganizationFactory(
        name_zh="首钢",
        name_en="Shougang Group",
        credit_code=CODE,
        industry="钢铁",
        annual_imports_usd=Decimal("25000000"),
    )
    keep.industry = "冶金"
    keep.save()

    report = merged(keep, remove, reviewer)

    keep.refresh_from_db()
    assert (keep.name_zh, keep.name_en, keep.credit_code, keep.industry) == (
        "北京首钢有限公司",
        "Shougang Group",
        CODE,
        "冶金",
    )
    assert keep.annual_imports_usd == Decimal("25000000")
    assert report.filled == ("name_en", "credit_code", "annual_imports_usd")


def test_merge_keeps_a_real_organization_real(reviewer):
    keep = OrganizationFactory(illustrative=True)
    remove = OrganizationFactory(illustrative=False)

    merged(keep, remove, reviewer)

    keep.refresh_from_db()
    assert keep.illustrative is False


# ---------------------------------------------------------------------------------------
# Collisions are combined, nothing is lost
# ---------------------------------------------------------------------------------------


def test_merge_combines_two_registrations_in_one_delegation(keep, remove, reviewer):
    delegation = beijing()
    kept = RegistrationFactory(
        delegation=delegation,
        organization=keep,
        participants=2,
        is_purchaser=False,
        status=RegistrationStatus.REGISTERED,
        registered_on=datetime.date(2019, 10, 10),
    )
    duplicate = RegistrationFactory(
        delegation=delegation,
        organization=remove,
        participants=5,
        is_purchaser=True,
        status=RegistrationStatus.ATTENDED,
        registered_on=datetime.date(2019, 9, 1),
    )
    kept_buyer = AgreementFactory(registration=kept)
    moved_buyer = AgreementFactory(registration=duplicate)

    report = merged(keep, remove, reviewer)

    assert list(Registration.objects.all()) == [kept]
    kept.refresh_from_db()
    assert kept.participants == 5  # the larger count: the same people entered twice
    assert kept.is_purchaser is True
    assert kept.status == RegistrationStatus.ATTENDED
    assert kept.registered_on == datetime.date(2019, 9, 1)
    assert set(kept.agreements.all()) == {kept_buyer, moved_buyer}
    assert report.relation("registrations").combined == 1
    assert report.buyers_repointed == 1


def test_merge_combines_registrations_in_a_delegation_and_its_sub_delegation(
    keep, remove, reviewer
):
    top = beijing()
    sub = district(top)
    kept = RegistrationFactory(delegation=top, organization=keep)
    duplicate = RegistrationFactory(delegation=sub, organization=remove, participants=3)
    agreement = AgreementFactory(registration=duplicate)
    assert agreement.delegation == sub

    merged(keep, remove, reviewer)

    assert list(Registration.objects.all()) == [kept]
    agreement.refresh_from_db()
    assert agreement.registration == kept
    assert agreement.delegation == sub  # recorded where it was
    agreement.full_clean()


def test_merge_combines_registrations_of_a_buyer_who_withdrew_after_signing(keep, remove, reviewer):
    delegation = beijing()
    withdrawn = RegistrationStatus.WITHDRAWN
    kept = RegistrationFactory(delegation=delegation, organization=keep, status=withdrawn)
    duplicate = RegistrationFactory(delegation=delegation, organization=remove, status=withdrawn)
    agreement = AgreementFactory(registration=duplicate)

    merged(keep, remove, reviewer)

    agreement.refresh_from_db()
    assert agreement.registration == kept
    assert Registration.objects.get().status == withdrawn


def test_merge_keeps_registrations_in_different_delegations_apart(keep, remove, reviewer):
    RegistrationFactory(delegation=beijing(2019), organization=keep)
    RegistrationFactory(delegation=beijing(2020), organization=remove)

    report = merged(keep, remove, reviewer)

    assert Registration.objects.filter(organization=keep).count() == 2
    assert report.relation("registrations").moved == 1


def test_merge_combines_two_exhibitor_rows_at_one_edition_and_their_agreements(
    keep, remove, reviewer
):
    area = SectorFactory(code="automobile")
    kept = ExhibitorFactory(organization=keep, booth="", exhibition_area=None)
    duplicate = ExhibitorFactory(organization=remove, booth="5.1A01", exhibition_area=area)
    delegation = beijing()
    with_both = AgreementFactory(
        registration=RegistrationFactory(delegation=delegation), exhibitors=[kept, duplicate]
    )
    with_duplicate = AgreementFactory(
        registration=RegistrationFactory(delegation=delegation), exhibitors=[duplicate]
    )

    report = merged(keep, remove, reviewer)

    assert list(Exhibitor.objects.all()) == [kept]
    kept.refresh_from_db()
    assert (kept.booth, kept.exhibition_area) == ("5.1A01", area)
    assert list(with_both.exhibitors.all()) == [kept]
    assert list(with_duplicate.exhibitors.all()) == [kept]
    assert AgreementExhibitor.objects.count() == 2
    assert (report.parties_moved, report.parties_dropped) == (1, 1)


def test_merge_combines_two_visits_on_one_day(keep, remove, reviewer):
    delegation = beijing()
    day = datetime.date(2019, 11, 6)
    kept = VisitFactory(
        delegation=delegation, organization=keep, visited_on=day, notes="Met the CFO."
    )
    VisitFactory(
        delegation=delegation,
        organization=remove,
        visited_on=day,
        investment_intention=True,
        ciftis_interest=True,
        notes="Interested in Shunyi.",
    )
    VisitFactory(delegation=delegation, organization=remove, visited_on=day.replace(day=7))

    report = merged(keep, remove, reviewer)

    assert Visit.objects.filter(organization=keep).count() == 2
    kept.refresh_from_db()
    assert kept.investment_intention and kept.ciftis_interest
    assert kept.notes == "Met the CFO.\n\nInterested in Shunyi."
    assert (report.relation("visits").moved, report.relation("visits").combined) == (1, 1)


def test_merge_combines_two_intentions_in_one_delegation_with_their_moves(keep, remove, reviewer):
    delegation = beijing()
    sector = SectorFactory(code="medical-healthcare")
    kept = InvestmentIntentionFactory(
        delegation=delegation,
        organization=keep,
        stage=IntentionStage.EXPRESSED,
        amount=Decimal("1000000"),
        currency="USD",
        notes="A plant in Yizhuang.",
    )
    duplicate = InvestmentIntentionFactory(
        delegation=delegation,
        organization=remove,
        stage=IntentionStage.NEGOTIATING,
        sector=sector,
        amount=Decimal("5000000"),
        currency="EUR",
        owner=reviewer,
        next_action_on=datetime.date(2020, 1, 15),
    )
    move = FollowUpMove.objects.create(
        intention=duplicate,
        from_stage=IntentionStage.EXPRESSED,
        to_stage=IntentionStage.NEGOTIATING,
        moved_on=datetime.date(2019, 12, 1),
    )

    report = merged(keep, remove, reviewer)

    assert list(InvestmentIntention.objects.all()) == [kept]
    kept.refresh_from_db()
    assert kept.stage == IntentionStage.NEGOTIATING
    assert kept.sector == sector
    assert (kept.amount, kept.currency) == (Decimal("1000000.00"), "USD")
    assert kept.owner == reviewer
    assert kept.next_action_on == datetime.date(2020, 1, 15)
    # The other amount is not lost: it is in the notes.
    assert kept.notes == (
        "A plant in Yizhuang.\n\nMerged record: intended investment 5000000.00 EUR."
    )
    move.refresh_from_db()
    assert move.intention == kept
    assert report.moves_repointed == 1


def test_merge_keeps_a_live_intention_over_a_dropped_one(keep, remove, reviewer):
    delegation = beijing()
    kept = InvestmentIntentionFactory(
        delegation=delegation, organization=keep, stage=IntentionStage.DROPPED
    )
    InvestmentIntentionFactory(
        delegation=delegation, organization=remove, stage=IntentionStage.SIGNED
    )

    merged(keep, remove, reviewer)

    kept.refresh_from_db()
    assert kept.stage == IntentionStage.SIGNED


def test_merge_combines_two_pledges_to_one_edition(keep, remove, reviewer):
    delegation = beijing()
    kept = CiftisPledgeFactory(
        organization=keep,
        source_delegation=None,
        status=PledgeStatus.PLEDGED,
        pledged_on=datetime.date(2019, 11, 8),
    )
    duplicate = CiftisPledgeFactory(
        organization=remove,
        source_delegation=delegation,
        status=PledgeStatus.REGISTERED,
        pledged_on=datetime.date(2019, 11, 6),
        notes="Booked a booth.",
    )
    move = FollowUpMove.objects.create(
        pledge=duplicate,
        from_stage=PledgeStatus.PLEDGED,
        to_stage=PledgeStatus.REGISTERED,
        moved_on=datetime.date(2020, 3, 1),
    )
    CiftisPledgeFactory(organization=remove, target_edition=edition("ciie-2020"))

    report = merged(keep, remove, reviewer)

    assert CiftisPledge.objects.filter(organization=keep).count() == 2
    kept.refresh_from_db()
    assert kept.status == PledgeStatus.REGISTERED
    assert kept.source_delegation == delegation
    assert kept.pledged_on == datetime.date(2019, 11, 6)
    assert kept.notes == "Booked a booth."
    move.refresh_from_db()
    assert move.pledge == kept
    assert (report.relation("pledges").moved, report.relation("pledges").combined) == (1, 1)


def test_merge_leaves_every_record_valid(keep, remove, reviewer):
    top = beijing()
    RegistrationFactory(delegation=top, organization=keep)
    AgreementFactory(
        registration=RegistrationFactory(delegation=district(top), organization=remove),
        exhibitors=[],
    )
    ExhibitorFactory(organization=keep)
    ExhibitorFactory(organization=remove)
    VisitFactory(delegation=top, organization=keep)
    VisitFactory(delegation=top, organization=remove)
    InvestmentIntentionFactory(delegation=top, organization=keep)
    InvestmentIntentionFactory(delegation=top, organization=remove)
    CiftisPledgeFactory(source_delegation=top, organization=keep)
    CiftisPledgeFactory(source_delegation=top, organization=remove)

    merged(keep, remove, reviewer)

    keep.refresh_from_db()
    keep.full_clean()
    for model in (Registration, Exhibitor, Visit, InvestmentIntention, CiftisPledge):
        rows = list(model.objects.all())
        assert len(rows) == 1, model
        assert rows[0].organization_id == keep.pk
        rows[0].full_clean()
    for agreement in Agreement.objects.all():
        agreement.full_clean()
        assert agreement.buyer == keep


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------


def test_merge_refuses_to_merge_an_organization_with_itself(keep, reviewer):
    with pytest.raises(ValidationError, match="cannot be merged with itself"):
        merged(keep, Organization.objects.get(pk=keep.pk), reviewer)

    assert Organization.objects.filter(pk=keep.pk).exists()


def test_merge_refuses_two_organizations_with_different_credit_codes(reviewer):
    keep = OrganizationFactory(name_zh="首钢", credit_code=CODE)
    remove = OrganizationFactory(name_zh="首钢集团", credit_code=OTHER_CODE)
    RegistrationFactory(organization=remove)

    with pytest.raises(ValidationError, match="different credit codes"):
        merged(keep, remove, reviewer)
    with pytest.raises(ValidationError, match="different credit codes"):
        organization_merge_preview(keep=keep, remove=remove)

    assert Registration.objects.get().organization == remove


def test_merge_of_an_organization_with_a_code_and_one_without(reviewer):
    keep = OrganizationFactory(name_zh="首钢", credit_code=None)
    remove = OrganizationFactory(name_zh="首钢集团", credit_code=CODE)

    merged(keep, remove, reviewer)

    keep.refresh_from_db()
    assert keep.credit_code == CODE


# ---------------------------------------------------------------------------------------
# History, report, figures
# ---------------------------------------------------------------------------------------


def test_merge_is_in_the_history_with_its_user(keep, remove, reviewer):
    delegation = beijing()
    moved = RegistrationFactory(delegation=beijing(2020), organization=remove)
    kept = RegistrationFactory(delegation=delegation, organization=keep)
    combined = RegistrationFactory(delegation=delegation, organization=remove)
    agreement = AgreementFactory(registration=combined)
    reason = merge_reason(keep=keep, remove=remove)
    removed_pk = remove.pk

    merged(keep, remove, reviewer)

    for instance in (moved, kept, agreement, keep):
        version = latest_version(instance)
        assert (version.history_type, version.history_change_reason) == ("~", reason)
        assert version.history_user == reviewer
    for model, pk in ((Registration, combined.pk), (Organization, removed_pk)):
        version = version_of_deleted(model, pk)
        assert (version.history_type, version.history_change_reason) == ("-", reason)
        assert version.history_user == reviewer
    assert latest_version(moved).organization_id == keep.pk


def test_merge_history_records_dropped_and_moved_exhibitor_links(keep, remove, reviewer):
    kept = ExhibitorFactory(organization=keep)
    duplicate = ExhibitorFactory(organization=remove)
    registration = RegistrationFactory(delegation=beijing())
    AgreementFactory(registration=registration, exhibitors=[kept, duplicate])
    AgreementFactory(registration=registration, exhibitors=[duplicate])
    reason = merge_reason(keep=keep, remove=remove)

    merged(keep, remove, reviewer)

    written = AgreementExhibitor.history.filter(history_change_reason=reason)
    assert sorted(written.values_list("history_type", flat=True)) == ["-", "~"]
    assert set(written.values_list("history_user", flat=True)) == {reviewer.pk}
    assert version_of_deleted(Exhibitor, duplicate.pk).history_change_reason == reason


def test_merge_preview_says_what_the_merge_does_and_writes_nothing(keep, remove, reviewer):
    delegation = beijing()
    RegistrationFactory(delegation=delegation, organization=keep)
    RegistrationFactory(delegation=delegation, organization=remove)
    RegistrationFactory(delegation=beijing(2020), organization=remove)
    VisitFactory(organization=remove)

    preview = organization_merge_preview(keep=keep, remove=remove)

    assert Registration.objects.filter(organization=remove).count() == 2
    report = merged(keep, remove, reviewer)
    assert preview == report
    assert (report.moved, report.combined) == (2, 1)
    assert report.relation("visits").moved == 1


def test_merge_refreshes_the_public_figures(keep, remove, reviewer, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "figures_changed", lambda: calls.append(True))

    merged(keep, remove, reviewer)

    assert calls == [True]


# ---------------------------------------------------------------------------------------
# The merge page
# ---------------------------------------------------------------------------------------


def merge_url(organization, other) -> str:
    return reverse("admin:delegations_organization_merge", args=[organization.pk, other.pk])


def company_url(organization) -> str:
    return reverse("admin:delegations_organization_company", args=[organization.pk])


def test_only_reviewers_are_given_the_merge_permission():
    def may_merge(group_name: str) -> bool:
        permissions = Group.objects.get(name=group_name).permissions
        return permissions.filter(codename="merge_organization").exists()

    assert may_merge(REVIEWERS)
    assert not may_merge(DATA_ENTRY)


def test_merge_page_previews_the_merge_for_a_reviewer(client, keep, remove, reviewer):
    RegistrationFactory(delegation=beijing(), organization=remove)
    client.force_login(reviewer)

    response = client.get(merge_url(keep, remove))

    assert response.status_code == 200
    assert response.context["keep"] == keep
    assert response.context["report"].relation("registrations").moved == 1
    assert Organization.objects.filter(pk=remove.pk).exists()


def test_merge_page_keeps_the_other_organization_when_asked(client, keep, remove, reviewer):
    client.force_login(reviewer)

    response = client.get(merge_url(keep, remove) + f"?keep={remove.pk}")

    assert (response.context["keep"], response.context["remove"]) == (remove, keep)


def test_merge_page_merges_on_post_and_shows_the_kept_company_page(client, keep, remove, reviewer):
    registration = RegistrationFactory(delegation=beijing(), organization=keep)
    client.force_login(reviewer)

    response = client.post(merge_url(keep, remove), {"keep": remove.pk}, follow=True)

    assert response.redirect_chain == [(company_url(remove), 302)]
    assert not Organization.objects.filter(pk=keep.pk).exists()
    registration.refresh_from_db()
    assert registration.organization_id == remove.pk
    assert latest_version(registration).history_user == reviewer
    assert "was merged into" in " ".join(str(m) for m in response.context["messages"])


def test_merge_page_shows_a_refusal_instead_of_the_confirmation(client, reviewer):
    keep = OrganizationFactory(credit_code=CODE)
    remove = OrganizationFactory(credit_code=OTHER_CODE)
    client.force_login(reviewer)

    page = client.get(merge_url(keep, remove))
    posted = client.post(merge_url(keep, remove), {"keep": keep.pk}, follow=True)

    assert "different credit codes" in page.context["refusal"]
    assert b'name="keep"' not in page.content
    assert Organization.objects.filter(pk=remove.pk).exists()
    assert "different credit codes" in " ".join(str(m) for m in posted.context["messages"])


def test_data_entry_may_not_merge(client, keep, remove):
    client.force_login(staff_member(DATA_ENTRY))

    assert client.get(merge_url(keep, remove)).status_code == 403
    assert client.post(merge_url(keep, remove), {"keep": keep.pk}).status_code == 403
    assert Organization.objects.filter(pk=remove.pk).exists()


def test_merge_needs_the_forms_csrf_token(keep, remove, reviewer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)

    response = client.post(merge_url(keep, remove), {"keep": keep.pk})

    assert response.status_code == 403
    assert Organization.objects.filter(pk=remove.pk).exists()
