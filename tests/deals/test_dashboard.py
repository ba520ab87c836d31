"""The staff dashboard on the admin's front page, counted on hand-made data: the live
figures, what changed since the last publication, the follow-ups due per owner, the
pipeline of intentions and pledges, the delegation chooser, and its queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from deals.dashboard import (
    LISTED,
    changes_since_publication,
    dashboard_delegation,
    figures_and_changes,
    follow_ups_due,
    pipeline,
    records_changed_since,
)
from deals.models import (
    Agreement,
    AgreementStatus,
    CiftisPledge,
    Exhibitor,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Visit,
)
from deals.services import figures_publish, follow_up_move
from deals.stats import headline_figures
from delegations.models import Delegation, Organization, Registration
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    CiftisPledgeFactory,
    InvestmentIntentionFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
    VisitFactory,
    staff_member,
)
from tests.pages import agreement_in, beijing, district, parse, populate, shanghai, table_rows

INDEX = reverse("admin:index")
# A Wednesday: its ISO week runs from Monday 11 to Sunday 17 November 2019.
TODAY = datetime.date(2019, 11, 13)
SUNDAY = datetime.date(2019, 11, 17)
DAY = datetime.timedelta(days=1)


@pytest.fixture
def data_entry(db):
    return staff_member(DATA_ENTRY)


@pytest.fixture
def reviewer(db):
    return staff_member(REVIEWERS)


def dashboard_page(client, query: str = ""):
    response = client.get(f"{INDEX}{query}")
    assert response.status_code == 200
    return parse(response.content)


def cells(row) -> list[str]:
    return [cell.text for cell in row.select() if cell.tag in ("th", "td")]


def rows_by(page, caption_id: str, attribute: str) -> dict[str, list[str]]:
    """The body rows of a table, by the value of a data attribute, as their cells."""
    return {
        row[attribute]: cells(row)[1:]
        for row in table_rows(page, caption_id)
        if row.get(attribute) is not None
    }


# ---------------------------------------------------------------------------------------
# Which delegation
# ---------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_default_delegation_at_its_latest_edition_with_records(db):
    agreement_in(beijing(2018))
    current = beijing(2019)
    agreement_in(current)
    beijing(2020)  # no records yet
    shanghai()

    choice = dashboard_delegation(requested=None)

    assert choice.delegation == current
    assert set(choice.choices) == set(Delegation.objects.top_level())


def test_another_trading_delegation_is_shown_by_its_key_and_anything_else_is_ignored(db):
    current = beijing(2019)
    agreement_in(current)
    sub = district(current)
    other = shanghai()

    assert dashboard_delegation(requested=str(other.pk)).delegation == other
    assert dashboard_delegation(requested=str(sub.pk)).delegation == current
    assert dashboard_delegation(requested="nonsense").delegation == current
    assert dashboard_delegation(requested="99999999").delegation == current


def test_the_page_offers_the_other_delegations_and_shows_the_one_chosen(client, data_entry):
    current = beijing(2019)
    agreement_in(current)
    district(current)
    other = shanghai()
    client.force_login(data_entry)

    default = dashboard_page(client)
    chosen = dashboard_page(client, f"?delegation={other.pk}")

    options = default.one("select", id="dashboard-delegation").select("option")
    assert {option["value"] for option in options} == {str(current.pk), str(other.pk)}
    assert [o["value"] for o in options if "selected" in o.attrs] == [str(current.pk)]
    assert "Beijing delegation" in default.one("h2", id="dashboard-title").text
    assert "Shanghai delegation" in chosen.one("h2", id="dashboard-title").text
    selected = chosen.one("select", id="dashboard-delegation").select("option", selected=True)
    assert [option["value"] for option in selected] == [str(other.pk)]


def test_without_any_delegation_with_records_the_page_says_so(client, data_entry):
    client.force_login(data_entry)

    page = dashboard_page(client)

    assert page.one("h2", id="dashboard-title").text == "No delegation has records yet."
    assert page.select("caption", id="dashboard-figures") == []


# ---------------------------------------------------------------------------------------
# The live figures
# ---------------------------------------------------------------------------------------


def test_the_live_figures_are_shown_with_their_labels(
    client, data_entry, django_capture_on_commit_callbacks
):
    current = beijing()
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current, amount=Decimal(2_000_000))
        agreement_in(district(current), amount=Decimal(500_000))
        agreement_in(current, status=AgreementStatus.CANCELLED)
    client.force_login(data_entry)

    page = dashboard_page(client)

    figures = rows_by(page, "dashboard-figures", "data-figure")
    assert figures["agreements"][0] == "2"
    assert figures["intended_purchase_usd"][0] == "US$2.5 million"
    assert figures["registered_organizations"][0] == "3"
    assert figures["organizations_by_kind.private"][0] == "3"
    labels = {
        row["data-figure"]: row.one("th").text for row in table_rows(page, "dashboard-figures")
    }
    assert labels["agreements"] == "Agreements"
    assert labels["companies_signed"] == "Companies that signed"
    assert labels["organizations_by_kind.private"] == "Organizations by kind: private enterprise"


def test_a_staff_member_who_may_not_view_agreements_sees_no_figures(client, db):
    current = beijing()
    clerk = UserFactory()
    current.members.add(clerk)
    yesterday = timezone.localdate() - DAY
    agreement = agreement_in(current, owner=clerk, next_action_on=yesterday)
    intention = InvestmentIntentionFactory(
        delegation=current, owner=clerk, next_action_on=yesterday
    )
    clerk.user_permissions.add(
        Permission.objects.get(codename="view_investmentintention"),
        Permission.objects.get(codename="view_ciftispledge"),
    )
    client.force_login(clerk)

    page = dashboard_page(client)

    assert page.select("caption", id="dashboard-figures") == []
    assert page.select("div", id="dashboard-publication-module") == []
    assert page.one("caption", id="dashboard-pipeline-investmentintention")
    assert page.one("caption", id="dashboard-pipeline-ciftispledge")
    listed = [row["data-record"] for row in page.select("tr", data_record=True)]
    assert listed == [f"investmentintention-{intention.pk}"]
    assert f"agreement-{agreement.pk}" not in listed


def test_a_staff_member_without_any_permission_sees_the_index_without_a_dashboard(client, db):
    agreement_in(beijing())
    client.force_login(UserFactory())

    page = dashboard_page(client)

    assert page.select("section", id="dashboard") == []


# ---------------------------------------------------------------------------------------
# What changed since the last publication
# ---------------------------------------------------------------------------------------

RECORDED = (
    Registration,
    Organization,
    Agreement,
    Exhibitor,
    Visit,
    InvestmentIntention,
    CiftisPledge,
)


def backdate(hours: int = 1) -> None:
    """Make every record so far an hour old, so that none looks written after a
    publication made now (a bulk update leaves the timestamps as given)."""
    then = timezone.now() - datetime.timedelta(hours=hours)
    for model in RECORDED:
        model.objects.update(created_at=then, updated_at=then)


def test_a_delegation_never_published_says_so_and_links_reviewers_to_publishing(
    client, data_entry, reviewer
):
    current = beijing()
    agreement_in(current)

    since = changes_since_publication(delegation=current, live=headline_figures(delegation=current))
    client.force_login(reviewer)
    for_reviewer = dashboard_page(client).one("p", id="dashboard-never-published")
    client.force_login(data_entry)
    for_data_entry = dashboard_page(client).one("p", id="dashboard-never-published")

    assert since.publication is None
    assert since.figures == since.records == []
    assert "never been published" in for_reviewer.text
    assert for_reviewer.one("a")["href"] == since.publish_url
    assert for_data_entry.select("a") == []
    assert "Reviewers publish them." in for_data_entry.text


def test_the_figures_that_changed_since_the_publication_show_both_values(db):
    current = beijing()
    first = agreement_in(current, amount=Decimal(1_000_000))
    InvestmentIntentionFactory(delegation=current)
    backdate()
    publication = figures_publish(delegation=current, user=None)

    # A new buyer signs for less; the first agreement is cancelled: still one agreement.
    agreement_in(
        current,
        amount=Decimal(250_000),
        registration=RegistrationFactory(
            delegation=current, organization=OrganizationFactory(kind="state_owned")
        ),
    )
    first.status = AgreementStatus.CANCELLED
    first.save()
    since = changes_since_publication(delegation=current, live=headline_figures(delegation=current))

    assert since.publication == publication
    changed = {
        (change.key, change.part): (change.published, change.live) for change in since.figures
    }
    assert changed == {
        ("intended_purchase_usd", None): (Decimal(1_000_000), Decimal(250_000)),
        ("registered_organizations", None): (1, 2),
        ("participants", None): (1, 2),
        ("organizations_by_kind", "state_owned"): (0, 1),
    }
    shown = {change.key: change for change in since.figures if change.part is None}
    assert shown["intended_purchase_usd"].published_shown == "US$1,000,000"
    assert shown["intended_purchase_usd"].live_shown == "US$250,000"


def test_the_cached_counts_of_records_written_since_follow_every_change(
    db, django_capture_on_commit_callbacks
):
    current = beijing()
    agreement_in(current)
    backdate()
    with django_capture_on_commit_callbacks(execute=True):
        publication = figures_publish(delegation=current, user=None)

    def counted() -> dict:
        figures, since = figures_and_changes(delegation=current)
        assert since.publication == publication
        assert figures.headline.delegation == current
        return {row.model: (row.created, row.changed) for row in since.records}

    assert counted()[Registration] == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        registration = RegistrationFactory(delegation=current)
    assert counted()[Registration] == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        registration.delete()
    assert counted()[Registration] == (0, 0)
    # Read again from the cache: what records_changed_since counts from the records.
    assert counted() == {
        row.model: (row.created, row.changed)
        for row in records_changed_since(delegation=current, since=publication.published_at)
    }


def test_records_created_and_changed_since_the_publication_are_counted_per_kind(db):
    current = beijing()
    agreement_in(current)
    intention = InvestmentIntentionFactory(delegation=current)
    VisitFactory(delegation=current)
    elsewhere = agreement_in(shanghai())
    backdate()
    publication = figures_publish(delegation=current, user=None)

    agreement_in(district(current))  # a registration, its organization, an exhibitor
    follow_up_move(record=intention, to=IntentionStage.NEGOTIATING, user=None)
    CiftisPledgeFactory(source_delegation=district(current))
    elsewhere.notes = "outside the tree"
    elsewhere.save()
    VisitFactory(delegation=shanghai())

    counted = {
        row.model: (row.created, row.changed)
        for row in records_changed_since(delegation=current, since=publication.published_at)
    }

    assert counted == {
        Registration: (1, 0),
        Organization: (3, 0),  # the buyer, the exhibitor's and the pledging organization
        Agreement: (1, 0),
        Exhibitor: (1, 0),
        Visit: (0, 0),
        InvestmentIntention: (0, 1),
        CiftisPledge: (1, 0),
    }


def test_the_page_lists_the_changes_since_the_publication(
    client, data_entry, django_capture_on_commit_callbacks
):
    current = beijing()
    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current)
    backdate()
    with django_capture_on_commit_callbacks(execute=True):
        figures_publish(delegation=current, user=None, as_of=datetime.date(2019, 11, 10))
    client.force_login(data_entry)
    unchanged = dashboard_page(client)

    with django_capture_on_commit_callbacks(execute=True):
        agreement_in(current)
    page = dashboard_page(client)

    assert [cells(row) for row in table_rows(unchanged, "dashboard-changes")] == [
        ["The live figures are as published."]
    ]
    assert "Nov. 10, 2019" in page.one("caption", id="dashboard-changes").text
    changes = rows_by(page, "dashboard-changes", "data-figure")
    assert changes["agreements"] == ["1", "2"]
    assert changes["organizations_by_kind.private"] == ["1", "2"]
    records = rows_by(page, "dashboard-records", "data-records")
    assert records["agreement"] == ["1", "0"]
    assert records["registration"] == ["1", "0"]


# ---------------------------------------------------------------------------------------
# Follow-ups due this week and overdue, per owner
# ---------------------------------------------------------------------------------------


@pytest.fixture
def owners(db):
    return UserFactory(username="alice"), UserFactory(username="bob", first_name="Bob")


def follow_ups_of(
    current: Delegation, alice, bob, *, today: datetime.date = TODAY
) -> dict[str, object]:
    """Records of every kind, due at every distance from `today`, some at a final stage."""
    sunday = today + (6 - today.weekday()) * DAY
    sub = district(current)
    made = {
        "agreement overdue": agreement_in(current, owner=alice, next_action_on=today - DAY),
        "intention today": InvestmentIntentionFactory(
            delegation=current, owner=alice, next_action_on=today
        ),
        "pledge on sunday": CiftisPledgeFactory(
            source_delegation=sub, owner=alice, next_action_on=sunday
        ),
        "intention next monday": InvestmentIntentionFactory(
            delegation=current, owner=alice, next_action_on=sunday + DAY
        ),
        "agreement executed": agreement_in(
            current, owner=alice, next_action_on=today - DAY, status=AgreementStatus.EXECUTED
        ),
        "intention dropped": InvestmentIntentionFactory(
            delegation=current,
            owner=alice,
            next_action_on=today - DAY,
            stage=IntentionStage.DROPPED,
        ),
        "pledge attended": CiftisPledgeFactory(
            source_delegation=current,
            owner=bob,
            next_action_on=today,
            status=PledgeStatus.ATTENDED,
        ),
        "pledge overdue": CiftisPledgeFactory(
            source_delegation=sub,
            owner=bob,
            next_action_on=today - 30 * DAY,
            status=PledgeStatus.REGISTERED,
        ),
        "intention without owner": InvestmentIntentionFactory(
            delegation=sub, next_action_on=today - 2 * DAY
        ),
        "intention without date": InvestmentIntentionFactory(delegation=current, owner=bob),
        "elsewhere": InvestmentIntentionFactory(
            delegation=shanghai(), owner=bob, next_action_on=today
        ),
    }
    return made


def test_follow_ups_are_overdue_or_due_this_week_per_owner_and_final_stages_are_left_out(
    owners,
):
    alice, bob = owners
    current = beijing()
    made = follow_ups_of(current, alice, bob)

    follow_ups = follow_ups_due(delegation=current, today=TODAY)

    assert follow_ups.week_ends == SUNDAY
    by_owner = {
        owner.owner: (
            [item.pk for item in owner.overdue.items],
            [item.pk for item in owner.due.items],
        )
        for owner in follow_ups.owners
    }
    assert by_owner == {
        "alice": (
            [made["agreement overdue"].pk],
            [made["intention today"].pk, made["pledge on sunday"].pk],
        ),
        "Bob": ([made["pledge overdue"].pk], []),
        "no owner": ([made["intention without owner"].pk], []),
    }
    # The owners by name, the records no one owns last.
    assert [owner.owner for owner in follow_ups.owners] == ["alice", "Bob", "no owner"]
    assert (follow_ups.overdue, follow_ups.due) == (3, 2)
    alice_row = follow_ups.owners[0]
    assert (alice_row.overdue.count, alice_row.due.count) == (1, 2)
    assert [item.model for item in alice_row.due.items] == [InvestmentIntention, CiftisPledge]
    assert alice_row.overdue.items[0].url == reverse(
        "admin:deals_agreement_change", args=[made["agreement overdue"].pk]
    )


def test_the_same_record_is_due_this_week_on_monday_and_overdue_the_next_monday(owners):
    alice, _bob = owners
    current = beijing()
    intention = InvestmentIntentionFactory(
        delegation=current, owner=alice, next_action_on=datetime.date(2019, 11, 15)
    )

    monday = follow_ups_due(delegation=current, today=datetime.date(2019, 11, 11))
    sunday = follow_ups_due(delegation=current, today=datetime.date(2019, 11, 17))
    later = follow_ups_due(delegation=current, today=datetime.date(2019, 11, 4))

    assert [item.pk for item in monday.owners[0].due.items] == [intention.pk]
    assert [item.pk for item in sunday.owners[0].overdue.items] == [intention.pk]
    assert later.owners == []


def test_a_long_list_shows_the_earliest_records_of_every_kind_and_counts_the_rest(owners):
    alice, _bob = owners
    current = beijing()
    for n in range(LISTED - 4):
        agreement_in(current, owner=alice, next_action_on=TODAY - (2 * n + 1) * DAY)
        InvestmentIntentionFactory(
            delegation=current, owner=alice, next_action_on=TODAY - (2 * n + 2) * DAY
        )

    group = follow_ups_due(delegation=current, today=TODAY).owners[0].overdue

    assert group.count == 2 * (LISTED - 4)
    assert len(group.items) == LISTED
    assert group.more == LISTED - 8
    dates = [item.next_action_on for item in group.items]
    assert dates == sorted(dates)
    assert dates[0] == TODAY - 2 * (LISTED - 4) * DAY


def test_only_the_kinds_asked_for_are_followed(owners):
    alice, bob = owners
    current = beijing()
    follow_ups_of(current, alice, bob)

    follow_ups = follow_ups_due(delegation=current, today=TODAY, kinds=(CiftisPledge,))

    assert {item.model for owner in follow_ups.owners for item in owner.due.items} == {CiftisPledge}
    assert (follow_ups.overdue, follow_ups.due) == (1, 1)


def test_the_page_lists_the_follow_ups_per_owner_with_links(client, data_entry, owners):
    alice, bob = owners
    current = beijing()
    # The page counts from the real date.
    made = follow_ups_of(current, alice, bob, today=timezone.localdate())
    client.force_login(data_entry)

    page = dashboard_page(client)

    summary = rows_by(page, "dashboard-follow-ups", "data-owner")
    assert summary == {
        str(alice.pk): ["1", "2"],
        str(bob.pk): ["1", "0"],
        "none": ["1", "0"],
        "all": ["3", "2"],
    }
    alice_table = page.one("caption", id=f"follow-ups-{alice.pk}").parent
    listed = [row["data-record"] for row in alice_table.select("tr", data_record=True)]
    assert listed == [
        f"agreement-{made['agreement overdue'].pk}",
        f"investmentintention-{made['intention today'].pk}",
        f"ciftispledge-{made['pledge on sunday'].pk}",
    ]
    link = alice_table.one("tr", data_record=listed[0]).one("a")["href"]
    assert link == reverse("admin:deals_agreement_change", args=[made["agreement overdue"].pk])


# ---------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------


def test_the_pipeline_of_intentions_counts_who_reached_each_stage_and_the_conversions(db):
    current = beijing()
    sub = district(current)
    InvestmentIntentionFactory(delegation=current)  # expressed
    InvestmentIntentionFactory(delegation=sub, stage=IntentionStage.NEGOTIATING)
    InvestmentIntentionFactory(delegation=current, stage=IntentionStage.SIGNED)  # skipped one
    InvestmentIntentionFactory(delegation=current, stage=IntentionStage.LANDED)
    went_far = InvestmentIntentionFactory(delegation=current)
    follow_up_move(record=went_far, to=IntentionStage.NEGOTIATING, user=None)
    follow_up_move(record=went_far, to=IntentionStage.DROPPED, user=None)
    gave_up = InvestmentIntentionFactory(delegation=sub)
    follow_up_move(record=gave_up, to=IntentionStage.DROPPED, user=None)
    InvestmentIntentionFactory(delegation=current, stage=IntentionStage.DROPPED)  # no move
    InvestmentIntentionFactory(delegation=shanghai(), stage=IntentionStage.LANDED)

    result = pipeline(delegation=current, model=InvestmentIntention)

    assert result.total == 7
    assert result.dropped == 3
    assert [
        (stage.stage, stage.reached, stage.current, stage.dropped, stage.conversion)
        for stage in result.stages
    ] == [
        ("expressed", 7, 1, 1, 0.571429),
        ("negotiating", 4, 1, 1, 0.5),
        ("signed", 2, 1, 0, 0.5),
        ("landed", 1, 1, 0, None),
    ]


def test_the_pipeline_of_pledges_counts_a_withdrawal_at_the_stage_it_left(db):
    current = beijing()
    CiftisPledgeFactory(source_delegation=current)
    CiftisPledgeFactory(source_delegation=current, status=PledgeStatus.REGISTERED)
    CiftisPledgeFactory(source_delegation=district(current), status=PledgeStatus.ATTENDED)
    withdrawn = CiftisPledgeFactory(source_delegation=current)
    follow_up_move(record=withdrawn, to=PledgeStatus.REGISTERED, user=None)
    follow_up_move(record=withdrawn, to=PledgeStatus.WITHDRAWN, user=None)

    result = pipeline(delegation=current, model=CiftisPledge)

    assert [(stage.stage, stage.reached, stage.conversion) for stage in result.stages] == [
        ("pledged", 4, 0.75),
        ("registered", 3, 0.333333),
        ("attended", 1, None),
    ]
    assert [stage.dropped for stage in result.stages] == [0, 1, 0]
    assert result.dropped == 1


def test_an_empty_pipeline_has_no_conversion(db):
    result = pipeline(delegation=beijing(), model=InvestmentIntention)

    assert result.total == 0
    assert [stage.conversion for stage in result.stages] == [None] * 4


def test_the_page_shows_the_pipelines_with_their_definition(client, data_entry):
    current = beijing()
    agreement_in(current)
    InvestmentIntentionFactory(delegation=current)
    InvestmentIntentionFactory(delegation=current, stage=IntentionStage.NEGOTIATING)
    client.force_login(data_entry)

    page = dashboard_page(client)

    stages = rows_by(page, "dashboard-pipeline-investmentintention", "data-stage")
    assert stages["expressed"] == ["2", "1", "0", "50.0%"]
    assert stages["negotiating"] == ["1", "1", "0", "0.0%"]
    assert stages["landed"] == ["0", "0", "0", "–"]
    assert stages["dropped_out"] == ["0", ""]
    assert "reached a stage" in page.one("p", id="dashboard-pipeline-definition").text


# ---------------------------------------------------------------------------------------
# The index page: for both staff roles, in a fixed number of queries
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [DATA_ENTRY, REVIEWERS])
def test_the_index_shows_the_dashboard_above_the_apps_for_both_staff_roles(client, db, role):
    current = beijing()
    agreement_in(current)
    client.force_login(staff_member(role))

    page = dashboard_page(client)

    main = page.one("div", id="content-main")
    sections = [node for node in main.children if not isinstance(node, str)]
    assert sections[0]["id"] == "dashboard"
    assert main.one("div", id="spreadsheets-module")
    assert main.select("div", class_="app-deals")
    assert main.select("div", class_="app-delegations")
    assert page.one("caption", id="dashboard-figures")
    assert page.one("caption", id="dashboard-follow-ups")


def test_the_index_is_in_chinese_by_default(client, data_entry, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    agreement_in(beijing())
    client.force_login(data_entry)

    response = client.get(INDEX)

    html = response.content.decode()
    assert response.headers["Content-Language"] == "zh-hans"
    assert "北京交易团" in html
    assert "采购协议" in html  # the figures' labels
    assert "投资意向" in html  # the pipeline's records


def sized_population(size: int) -> Delegation:
    """Beijing with `size` records of every kind, follow-ups of two owners and none,
    moves through the stages, and a publication, then more records written."""
    populate(beijing(2018), 2, start=500)
    current = beijing()
    populate(current, size)
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    today = timezone.localdate()
    for n, model in enumerate((Agreement, InvestmentIntention, CiftisPledge)):
        for index, record in enumerate(model.objects.all()):
            record.owner = (alice, bob, None)[(index + n) % 3]
            record.next_action_on = today + (index % 9 - 5) * DAY
            record.save()
    for index, intention in enumerate(InvestmentIntention.objects.all()):
        follow_up_move(record=intention, to=IntentionStage.NEGOTIATING, user=None)
        if index % 3 == 0:
            follow_up_move(record=intention, to=IntentionStage.DROPPED, user=None)
    figures_publish(delegation=current, user=None)
    populate(current, size // 2, start=size)
    shanghai()
    return current


@pytest.fixture(params=[6, 60], ids=["6 rows", "60 rows"])
def sized(request, db) -> Delegation:
    return sized_population(request.param)


def test_each_part_of_the_dashboard_runs_the_same_queries_whatever_the_rows(
    sized, django_assert_num_queries
):
    live = headline_figures(delegation=sized)

    with django_assert_num_queries(2):  # the choices, the default delegation
        assert dashboard_delegation(requested=None).delegation == sized
    with django_assert_num_queries(2):  # the publication, the records written since
        since = changes_since_publication(delegation=sized, live=live)
    with django_assert_num_queries(3):  # one per kind of record
        follow_ups = follow_ups_due(delegation=sized)
    with django_assert_num_queries(1):
        intentions = pipeline(delegation=sized, model=InvestmentIntention)

    assert since.records_touched > 0
    assert follow_ups.overdue > 0
    assert intentions.total == InvestmentIntention.objects.in_tree(sized).count()


# The index page, with the cache empty and with it filled: a savepoint and its release
# (ATOMIC_REQUESTS), the session, the user and their permissions (two), the admin's log
# of recent actions; then the dashboard: the choice of delegation (two), the
# publication, the figures and the counts of the records written since it (two reads of
# the cache when cached; computed, eight and one, and written otherwise), the follow-ups
# (three) and the pipelines (two).
COLD, WARM = 42, 17


def test_the_index_runs_the_same_queries_whatever_the_rows(
    client, reviewer, sized, django_assert_num_queries
):
    client.force_login(reviewer)
    cache.clear()

    with django_assert_num_queries(COLD):
        cold = client.get(INDEX)
    with django_assert_num_queries(WARM):
        warm = client.get(INDEX)

    assert cold.status_code == warm.status_code == 200
    page = parse(warm.content)
    assert (
        parse(cold.content).one("section", id="dashboard").text
        == page.one("section", id="dashboard").text
    )
    assert len(rows_by(page, "dashboard-follow-ups", "data-owner")) == 4  # 2 owners, none, all
