"""The text indexes that serve the substring searches on SQLite (`delegations.search`):
the searches answer what `icontains` alone answers, on both databases, for words of any
length, in Chinese and in any case; the indexes follow every way of writing a row; and
SQLite finds the rows through them instead of reading every organization."""

import re

import pytest
from django.contrib import admin
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.test import RequestFactory

from deals.filters import AgreementApiFilterSet
from deals.models import Agreement
from delegations import search
from delegations.filters import OrganizationRecordFilterSet, RegistrationFilterSet
from delegations.models import Organization, Registration
from delegations.search import AGREEMENTS, INDEXES, ORGANIZATIONS, TextIndex
from tests.factories import (
    AgreementFactory,
    OrganizationFactory,
    RegistrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    not search.indexes_serve(connection), reason="the text indexes exist on SQLite only"
)

NAMES = [
    ("寺库控股", "Secoo Holding", "91110000600037341L"),
    ("北京寺库商贸", "Beijing Secoo Trading 000123", None),
    ("上海书店", "Shanghai Bookshop", "91310115MA1K3BTP2B"),
    ("北京博柏利", "Burberry Secoo Partner", None),
    ("华为", "Huawei 0001234", "91440300708461136T"),
    ("École Chinoise", "ÉCOLE Internationale", None),
    ("百分之百", "100% Natural_Foods", None),
]

# Words of one, two, three and more characters, Chinese and Latin, in mixed case,
# several at once, quoted FTS5 syntax, LIKE's wildcards, and a word naming no one.
SEARCHES = [
    "o",
    "北",
    "北京",
    "寺库",
    "寺库商",
    "secoo",
    "SeCoO hOLD",
    "北京 secoo",
    "0001",
    "000123",
    "école",
    "ÉCOLE",
    '"secoo',
    '"secoo hold"',
    "secoo OR bookshop",
    "100%",
    "l_f",
    "s_f",
    "nothing-like-it",
]
# The admin's autocomplete passes its term unchecked, a NUL included (which PostgreSQL
# refuses in any string, searched with or without an index).
_no_nul_on_postgresql = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="PostgreSQL refuses a NUL in a string"
)
ADMIN_SEARCHES = [
    *SEARCHES,
    pytest.param("sec\x00oo", marks=_no_nul_on_postgresql),
    pytest.param("secoo\x00", marks=_no_nul_on_postgresql),
]


def _organizations():
    return [OrganizationFactory(name_zh=zh, name_en=en, credit_code=code) for zh, en, code in NAMES]


def _icontains(model, fields: list[str], value: str) -> set[int]:
    """What the search answered before the index: each word in one of the fields."""
    rows = model.objects.all()
    for word in value.split():
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": word})
        rows = rows.filter(match)
    return set(rows.values_list("pk", flat=True))


def _fts_rows(index: TextIndex, text: str) -> set[int]:
    """The rowids the index itself finds for `text` (in any of its columns)."""
    phrase = '"' + text.replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT rowid FROM "{index.name}" WHERE "{index.name}" MATCH %s', [phrase])
        return {row[0] for row in cursor.fetchall()}


def _integrity_check(index: TextIndex) -> None:
    """FTS5 compares the index with the table's rows (rank 1: the content table too)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{index.name}"("{index.name}", rank) VALUES (\'integrity-check\', 1)'
        )


def _plan(queryset) -> list[str]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [row[-1] for row in cursor.fetchall()]


def _scans(plan: list[str], table: str) -> bool:
    """Whether the plan reads every row of `table` (not its text index, named after it)."""
    return any(re.fullmatch(rf"SCAN {table}( .*)?", line) for line in plan)


# ---------------------------------------------------------------------------------------
# The same answers (both databases)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("words", SEARCHES)
def test_the_organizations_search_answers_what_icontains_alone_answers(words):
    _organizations()
    filterset = OrganizationRecordFilterSet({"q": words}, queryset=Organization.objects.all())
    found = set(filterset.qs.values_list("pk", flat=True))
    assert found == _icontains(Organization, ["name_zh", "name_en"], words)


@pytest.mark.parametrize("words", SEARCHES)
def test_the_registrations_search_answers_what_icontains_alone_answers(words):
    for organization in _organizations():
        RegistrationFactory(organization=organization)
    filterset = RegistrationFilterSet({"q": words}, queryset=Registration.objects.all())
    found = set(filterset.qs.values_list("pk", flat=True))
    fields = ["organization__name_zh", "organization__name_en"]
    assert found == _icontains(Registration, fields, words)


def test_the_searches_find_what_they_should():
    # Not only the same as icontains: the right rows (a check of the comparison itself).
    by_name = {organization.name_en: organization.pk for organization in _organizations()}

    def found(words: str) -> set[int]:
        return set(
            OrganizationRecordFilterSet(
                {"q": words}, queryset=Organization.objects.all()
            ).qs.values_list("pk", flat=True)
        )

    assert found("SECOO hold") == {by_name["Secoo Holding"]}
    assert found("北京 secoo") == {
        by_name["Beijing Secoo Trading 000123"],
        by_name["Burberry Secoo Partner"],
    }
    assert found("寺库商") == {by_name["Beijing Secoo Trading 000123"]}
    assert found("书") == {by_name["Shanghai Bookshop"]}
    assert found("0001") == {by_name["Beijing Secoo Trading 000123"], by_name["Huawei 0001234"]}
    assert found("100%") == {by_name["100% Natural_Foods"]}
    assert found("l_f") == {by_name["100% Natural_Foods"]}
    assert found('"secoo') == set()


@pytest.mark.parametrize("words", ADMIN_SEARCHES)
def test_the_admins_search_answers_what_the_admins_own_search_answers(words):
    # The organizations' admin searches names and the credit code; Django's own search
    # (ModelAdmin's, without the index) is the reference.
    _organizations()
    model_admin = admin.site._registry[Organization]
    request = RequestFactory().get("/admin/delegations/organization/", {"q": words})
    request.user = UserFactory(is_staff=True, is_superuser=True)
    queryset = Organization.objects.all()
    found, _ = model_admin.get_search_results(request, queryset, words)
    expected, _ = admin.ModelAdmin.get_search_results(model_admin, request, queryset, words)
    assert set(found.values_list("pk", flat=True)) == set(expected.values_list("pk", flat=True))


@pytest.mark.parametrize("term", ["600037", "Secoo", "bj-2019", "MA1K3", "库"])
def test_the_agreements_admin_search_answers_as_before(term):
    # The reference, and the names and credit codes of the parties.
    for organization in _organizations():
        AgreementFactory(registration__organization=organization)
    model_admin = admin.site._registry[Agreement]
    request = RequestFactory().get("/admin/deals/agreement/", {"q": term})
    request.user = UserFactory(is_staff=True, is_superuser=True)
    found, _ = model_admin.get_search_results(request, Agreement.objects.all(), term)
    fields = [
        "reference",
        "registration__organization__name_zh",
        "registration__organization__name_en",
        "registration__organization__credit_code",
        "exhibitors__organization__name_zh",
        "exhibitors__organization__name_en",
        "exhibitors__organization__credit_code",
    ]
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__icontains": term})
    expected = set(Agreement.objects.filter(match).values_list("pk", flat=True))
    assert set(found.values_list("pk", flat=True)) == expected
    assert expected


# ---------------------------------------------------------------------------------------
# The indexes follow the rows (SQLite)
# ---------------------------------------------------------------------------------------


@sqlite_only
def test_every_index_and_its_triggers_exist_after_the_migrations():
    # A later migration that rebuilds a table (SQLite's way of altering it) drops its
    # triggers: this fails until it creates them again.
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name, sql FROM sqlite_master")
        schema = {(kind, name): sql for kind, name, sql in cursor.fetchall()}
    for index in INDEXES:
        assert ("table", index.name) in schema
        for name, statement in zip(index.trigger_names(), index.triggers(), strict=True):
            assert schema.get(("trigger", name)) == statement, (
                f"the trigger {name} is missing or changed: a migration that rebuilds "
                f"{index.table} must call delegations.search.create_triggers again"
            )


@sqlite_only
def test_the_organizations_index_follows_inserts_updates_and_deletes():
    organization = OrganizationFactory(name_zh="旧名字", name_en="Oldname Trading")
    assert _fts_rows(ORGANIZATIONS, "oldname") == {organization.pk}

    organization.name_en = "Newname Trading"
    organization.save()
    assert _fts_rows(ORGANIZATIONS, "oldname") == set()
    assert _fts_rows(ORGANIZATIONS, "NEWNAME") == {organization.pk}
    found = OrganizationRecordFilterSet({"q": "newname"}, queryset=Organization.objects.all())
    assert list(found.qs) == [organization]

    Organization.objects.filter(pk=organization.pk).update(
        name_zh="新名字", credit_code="91310115MA1K3BTP2B"
    )
    assert _fts_rows(ORGANIZATIONS, "旧名字") == set()
    assert _fts_rows(ORGANIZATIONS, "新名字") == {organization.pk}
    assert _fts_rows(ORGANIZATIONS, "ma1k3btp") == {organization.pk}
    _integrity_check(ORGANIZATIONS)

    organization.delete()
    assert _fts_rows(ORGANIZATIONS, "newname") == set()
    assert _fts_rows(ORGANIZATIONS, "新名字") == set()
    _integrity_check(ORGANIZATIONS)


@sqlite_only
def test_the_indexes_follow_bulk_writes_and_raw_sql():
    created = Organization.objects.bulk_create(
        [
            Organization(
                name_zh=f"批量企业{n}", name_en=f"Bulkrow {n}", kind="private", country="CN"
            )
            for n in (1, 2)
        ]
    )
    with connection.cursor() as cursor:
        # As the benchmark's load and any other writer outside the ORM writes them.
        cursor.execute(
            "INSERT INTO delegations_organization (created_at, updated_at, illustrative, "
            "name_zh, name_en, kind, country, industry) "
            "VALUES (datetime('now'), datetime('now'), 0, '原始写入', 'Rawrow Ltd', "
            "'private', 'CN', '')"
        )
        raw = cursor.lastrowid
    assert _fts_rows(ORGANIZATIONS, "bulkrow") == {o.pk for o in created}
    assert _fts_rows(ORGANIZATIONS, "原始写入") == {raw}
    Organization.objects.filter(name_en__startswith="Bulkrow").delete()
    assert _fts_rows(ORGANIZATIONS, "bulkrow") == set()
    _integrity_check(ORGANIZATIONS)

    agreement = AgreementFactory(reference="SH-2024-77777")
    assert _fts_rows(AGREEMENTS, "2024-777") == {agreement.pk}
    Agreement.objects.filter(pk=agreement.pk).update(reference="SH-2024-88888")
    assert _fts_rows(AGREEMENTS, "2024-777") == set()
    assert _fts_rows(AGREEMENTS, "sh-2024-888") == {agreement.pk}
    _integrity_check(AGREEMENTS)


@sqlite_only
def test_a_bulk_load_sets_the_triggers_aside_and_rebuilds_the_indexes_before_commit(
    monkeypatch,
):
    kept = OrganizationFactory(name_en="Keptrow Ltd")
    with transaction.atomic(), search.rebuilt_after_bulk_load(connection):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
            assert cursor.fetchone() == (0,)
        loaded = Organization.objects.bulk_create(
            [Organization(name_zh="批量载入", name_en="Loadedrow", kind="private", country="CN")]
        )
        assert _fts_rows(ORGANIZATIONS, "loadedrow") == set()  # not yet
    assert _fts_rows(ORGANIZATIONS, "loadedrow") == {loaded[0].pk}
    assert _fts_rows(ORGANIZATIONS, "keptrow") == {kept.pk}
    _integrity_check(ORGANIZATIONS)
    test_every_index_and_its_triggers_exist_after_the_migrations()  # the triggers are back
    # Outside a transaction (the test itself runs in one: as if it did not).
    wrapper = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its proxy
    monkeypatch.setattr(wrapper, "in_atomic_block", False)
    with (
        pytest.raises(RuntimeError, match="needs a transaction"),
        search.rebuilt_after_bulk_load(wrapper),
    ):
        pass


# ---------------------------------------------------------------------------------------
# SQLite finds the rows through the indexes
# ---------------------------------------------------------------------------------------


@sqlite_only
def test_a_search_of_three_characters_or_more_reads_the_index_not_every_organization():
    OrganizationFactory.create_batch(3)
    searched = OrganizationRecordFilterSet(
        {"q": "secoo 000123"}, queryset=Organization.objects.all()
    ).qs
    plan = _plan(searched)
    assert any(ORGANIZATIONS.name in line for line in plan), plan
    assert not _scans(plan, "delegations_organization"), plan


@sqlite_only
def test_a_word_shorter_than_a_trigram_is_searched_by_reading_every_row():
    OrganizationFactory.create_batch(3)
    searched = OrganizationRecordFilterSet({"q": "北京"}, queryset=Organization.objects.all()).qs
    plan = _plan(searched)
    assert not any(ORGANIZATIONS.name in line for line in plan), plan
    assert _scans(plan, "delegations_organization"), plan


@sqlite_only
def test_the_agreements_search_finds_the_parties_through_the_index():
    AgreementFactory()
    searched = AgreementApiFilterSet({"q": "secoo"}, queryset=Agreement.objects.all()).qs
    plan = _plan(searched)
    assert any(ORGANIZATIONS.name in line for line in plan), plan
    # The organizations are read by key, from the rows the index names (U0: the alias
    # Django gives the table in the subquery).
    assert not any(re.fullmatch(r"SCAN (U0|delegations_organization)( .*)?", x) for x in plan)


@sqlite_only
def test_the_admins_search_of_registrations_reads_the_index():
    RegistrationFactory()
    model_admin = admin.site._registry[Registration]
    request = RequestFactory().get("/admin/delegations/registration/", {"q": "000123"})
    request.user = UserFactory(is_staff=True, is_superuser=True)
    found, _ = model_admin.get_search_results(request, Registration.objects.all(), "000123")
    plan = _plan(found)
    assert any(ORGANIZATIONS.name in line for line in plan), plan
    assert not _scans(plan, "delegations_organization"), plan


# ---------------------------------------------------------------------------------------
# Without the trigram tokenizer, and on PostgreSQL
# ---------------------------------------------------------------------------------------


def test_without_the_trigram_tokenizer_the_search_reads_the_rows_with_the_same_answer(
    monkeypatch,
):
    _organizations()
    expected = _icontains(Organization, ["name_zh", "name_en"], "secoo hold")
    monkeypatch.setattr(search, "trigram_tokenizer_available", lambda: False)
    searched = OrganizationRecordFilterSet(
        {"q": "secoo hold"}, queryset=Organization.objects.all()
    ).qs
    assert ORGANIZATIONS.name not in str(searched.query)
    assert set(searched.values_list("pk", flat=True)) == expected
    # The migrations' operations do nothing then.
    editor = _RecordingEditor()
    search.create_index(editor, ORGANIZATIONS)
    search.drop_index(editor, ORGANIZATIONS)
    assert editor.statements == []


class _RecordingEditor:
    """A schema editor that records what it is asked to run."""

    connection = connection

    def __init__(self):
        self.statements = []

    def execute(self, sql, params=()):
        self.statements.append(sql)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL has no text index")
def test_postgresql_has_no_text_index_and_no_triggers():
    tables = connection.introspection.table_names()
    assert not any(index.name in tables for index in INDEXES)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")
        assert cursor.fetchone() == (0,)
    assert not search.indexes_serve(connection)


@sqlite_only
def test_a_database_migrated_without_the_indexes_is_searched_without_them():
    """A database migrated by a SQLite without the trigram tokenizer has no text index,
    even once a SQLite with one opens it: its searches read the rows, and never name
    a table it lacks."""
    _organizations()
    expected = _icontains(Organization, ["name_zh", "name_en"], "secoo hold")
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{ORGANIZATIONS.name}" RENAME TO "hidden_text_index"')
    search.forget_presence(connection=connection)
    try:
        assert not search.indexes_present(connection)
        searched = OrganizationRecordFilterSet(
            {"q": "secoo hold"}, queryset=Organization.objects.all()
        ).qs
        assert ORGANIZATIONS.name not in str(searched.query)
        assert set(searched.values_list("pk", flat=True)) == expected
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "hidden_text_index" RENAME TO "{ORGANIZATIONS.name}"')
        search.forget_presence(connection=connection)
    assert search.indexes_present(connection)
