"""The Simplified Chinese catalog: complete, compiled, and what clerks see in the back
office and in the statistics command when they read Chinese."""

from __future__ import annotations

import ast
import gettext
import json
import re
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django_countries.fields import Country

from deals.models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    CiftisPledge,
    IntentionStage,
    PledgeStatus,
)
from delegations.models import Organization, OrganizationKind, RegistrationStatus
from tests.factories import (
    REVIEWERS,
    AgreementFactory,
    DelegationFactory,
    OrganizationFactory,
    RegistrationFactory,
    edition,
    staff_member,
)

CATALOG_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOG_DIR / "django.po"
MO_FILE = CATALOG_DIR / "django.mo"

# How the catalog is made: the sources only, without line numbers so that it does not
# change with every edit of the code:
#   makemessages -l zh_Hans --ignore=.venv --ignore=tests --ignore=bench --no-location
NOT_SOURCES = [".venv", "tests", "bench"]


# ---------------------------------------------------------------------------------------
# A small .po reader, so that the checks need no gettext tools
# ---------------------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The message's key in a compiled catalog (context, then EOT, then the id)."""
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file, the header (msgid "") first."""
    entries: list[Entry] = []
    entry, target = Entry(), None
    started = False

    def close() -> None:
        nonlocal entry, target, started
        if started:
            entries.append(entry)
        entry, target, started = Entry(), None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line or line.startswith("|"):
                continue
        elif line.startswith("#,"):
            if started:
                close()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        elif line.startswith("#"):
            if started:
                close()
            continue
        match = KEYWORD.match(line)
        if match:
            keyword, index, literal = match.groups()
            if keyword == "msgid" and target is not None and target[0] == "msgstr":
                close()
            started = True
            value = ast.literal_eval(literal)
            if keyword == "msgctxt":
                entry.msgctxt, target = value, ("msgctxt", None)
            elif keyword == "msgid":
                entry.msgid, target = value, ("msgid", None)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = value, ("msgid_plural", None)
            else:
                number = int(index) if index is not None else 0
                entry.msgstr[number], target = value, ("msgstr", number)
        elif line.startswith('"') and target is not None:
            value = ast.literal_eval(line)
            kind, number = target
            if kind == "msgstr":
                entry.msgstr[number] += value
            else:
                setattr(entry, kind, getattr(entry, kind) + value)
        else:
            raise ValueError(f"{path.name}: cannot read the line {raw!r}")
    close()
    return entries


def messages(entries: list[Entry]) -> list[Entry]:
    """The translatable messages: the header and obsolete entries left out."""
    return [entry for entry in entries if entry.msgid and not entry.obsolete]


def header(entries: list[Entry]) -> dict[str, str]:
    (head,) = [entry for entry in entries if entry.msgid == "" and entry.msgctxt is None]
    fields = {}
    for line in head.msgstr[0].splitlines():
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


# %(name)s, %(count)6d, {name}: filled in by name, so a translation may move or repeat
# them. %s, %d, {}: filled in by position, so their order and number must stay.
NAMED = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{\w+\}")
POSITIONAL = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{\}")


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    text = text.replace("%%", "")
    return frozenset(NAMED.findall(text)), tuple(POSITIONAL.findall(NAMED.sub("", text)))


# ---------------------------------------------------------------------------------------
# The catalog file itself
# ---------------------------------------------------------------------------------------


def test_the_reader_sees_an_untranslated_and_a_fuzzy_entry(tmp_path):
    sample = tmp_path / "django.po"
    sample.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        'msgid "done"\nmsgstr "完成"\n\n'
        '#, fuzzy, python-format\nmsgid "guess %(n)d"\nmsgstr "猜 %(n)d"\n\n'
        'msgid "one"\nmsgid_plural ""\n"many"\nmsgstr[0] ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "已删"\n',
        encoding="utf-8",
    )

    entries = messages(read_po(sample))

    assert [(entry.msgid, entry.msgstr, entry.flags) for entry in entries] == [
        ("done", {0: "完成"}, set()),
        ("guess %(n)d", {0: "猜 %(n)d"}, {"fuzzy", "python-format"}),
        ("one", {0: ""}, set()),
    ]
    assert entries[2].msgid_plural == "many"


def test_every_message_of_the_catalog_is_translated_and_none_is_fuzzy():
    entries = read_po(PO_FILE)
    found = messages(entries)

    assert len(found) > 200
    untranslated = [entry.msgid for entry in found if not all(entry.msgstr.values())]
    fuzzy = [entry.msgid or "(header)" for entry in entries if "fuzzy" in entry.flags]
    obsolete = [entry.msgid for entry in entries if entry.obsolete]
    assert untranslated == []
    assert fuzzy == []
    assert obsolete == []


def test_the_catalog_declares_simplified_chinese_with_one_plural_form():
    entries = read_po(PO_FILE)
    fields = header(entries)

    assert fields["Language"] == "zh_Hans"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    plurals = [entry for entry in messages(entries) if entry.msgid_plural is not None]
    assert plurals
    assert all(list(entry.msgstr) == [0] for entry in plurals)


def test_every_translation_keeps_the_placeholders_of_its_message():
    mismatched = []
    checked = [
        entry
        for entry in messages(read_po(PO_FILE))
        if entry.flags & {"python-format", "python-brace-format"}
    ]
    assert len(checked) > 20
    for entry in checked:
        # With one plural form, msgstr[0] serves every count: it answers the plural.
        source = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        expected = placeholders(source)
        if entry.msgid_plural is not None:
            assert placeholders(entry.msgid)[0] <= expected[0], entry.msgid
        for translated in entry.msgstr.values():
            if placeholders(translated) != expected:
                mismatched.append((entry.msgid, translated))
    assert mismatched == []


def test_the_placeholder_check_notices_a_lost_or_renamed_placeholder():
    assert placeholders("%(model)s  %(created)6d created") == placeholders(
        "%(model)s  新建 %(created)6d 条"
    )
    assert placeholders("must be 18 characters, not %(n)d") != placeholders("应为 18 位")
    assert placeholders("%(count)d items") != placeholders("%(number)d 项")
    assert placeholders("%(count)d items") != placeholders("%(count)s 项")
    assert placeholders("{name} and %s") != placeholders("{名} 和 %s")
    assert placeholders("%s of %d") != placeholders("%d 中的 %s")
    assert placeholders("it writes %(model)s") == placeholders("写入%(model)s，无权修改%(model)s")


def test_the_compiled_catalog_holds_exactly_the_translations_of_the_po_file():
    with MO_FILE.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # the parsed messages

    expected = {}
    for entry in messages(read_po(PO_FILE)):
        if entry.msgid_plural is None:
            expected[entry.key] = entry.msgstr[0]
        else:
            for number, translated in entry.msgstr.items():
                expected[(entry.key, number)] = translated
    compiled_messages = {key: value for key, value in catalog.items() if key != ""}
    assert compiled_messages == expected


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext's xgettext")
def test_the_catalog_has_every_message_of_the_code_and_templates(settings, tmp_path, monkeypatch):
    """A fresh makemessages over a copy of the sources finds no message the catalog lacks
    and none it keeps for nothing (run makemessages again, then translate the new ones)."""
    base = Path(settings.BASE_DIR)
    for path in base.iterdir():
        if path.name.startswith(".") or path.name in [*NOT_SOURCES, "locale", "staticfiles"]:
            continue
        if path.is_dir():
            shutil.copytree(path, tmp_path / path.name, ignore=shutil.ignore_patterns("*.pyc"))
        elif path.suffix in {".py", ".html", ".txt"}:
            shutil.copy(path, tmp_path / path.name)
    (tmp_path / "locale").mkdir()
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)

    call_command(
        "makemessages",
        locale=["zh_Hans"],
        ignore_patterns=NOT_SOURCES,
        no_location=True,
        verbosity=0,
    )

    fresh = read_po(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    in_code = {(entry.key, entry.msgid_plural) for entry in messages(fresh)}
    in_catalog = {(entry.key, entry.msgid_plural) for entry in messages(read_po(PO_FILE))}
    assert sorted(in_code - in_catalog) == []
    assert sorted(in_catalog - in_code) == []
    assert ("Exhibitors of the agreement: changes", None) in in_code  # from templates/admin


# ---------------------------------------------------------------------------------------
# Models, choices and country names
# ---------------------------------------------------------------------------------------


def test_model_names_read_in_chinese():
    with translation.override("zh-hans"):
        assert str(Organization._meta.verbose_name) == "组织"
        assert str(Agreement._meta.verbose_name_plural) == "采购协议"
        assert str(CiftisPledge._meta.verbose_name) == "服贸会参会承诺"
        assert str(Organization._meta.get_field("credit_code").verbose_name) == "统一社会信用代码"
        assert str(Agreement._meta.get_field("is_public").verbose_name) == "是否公开"
        assert str(Agreement._meta.get_field("amount").verbose_name) == "意向采购金额"


def test_model_names_stay_english_in_english():
    with translation.override("en"):
        assert str(Organization._meta.verbose_name) == "organization"


def test_organization_kinds_read_as_the_bureau_names_them():
    with translation.override("zh-hans"):
        labels = {kind: str(kind.label) for kind in OrganizationKind}

    assert labels == {
        OrganizationKind.GOVERNMENT: "政府机构",
        OrganizationKind.PUBLIC_INSTITUTION: "事业单位",
        OrganizationKind.INDUSTRY_ASSOCIATION: "行业协会",
        OrganizationKind.STATE_OWNED: "国有企业",
        OrganizationKind.PRIVATE: "民营企业",
        OrganizationKind.HK_MACAO_TAIWAN: "港澳台企业",
        OrganizationKind.FOREIGN_FUNDED: "外资企业",
        OrganizationKind.FOREIGN: "境外机构",
    }


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        (RegistrationStatus, ["已报名", "已参会", "已退出"]),
        (AgreementStatus, ["已签约", "已执行", "已取消"]),
        (AgreementKind, ["采购协议", "战略合作协议"]),
        (IntentionStage, ["已表达", "洽谈中", "已签约", "已落地", "已放弃"]),
        (PledgeStatus, ["已承诺", "已报名", "已参会", "已退出"]),
    ],
)
def test_statuses_and_stages_read_in_chinese(choices, expected):
    with translation.override("zh-hans"):
        assert [str(label) for label in choices.labels] == expected


def test_hong_kong_macao_and_taiwan_are_named_as_regions_of_china():
    with translation.override("zh-hans"):
        names = [Country(code).name for code in ("HK", "MO", "TW")]
    with translation.override("en"):
        english = [Country(code).name for code in ("HK", "MO", "TW")]

    assert names == ["中国香港", "中国澳门", "中国台湾"]
    assert english == ["Hong Kong, China", "Macao, China", "Taiwan, China"]


# ---------------------------------------------------------------------------------------
# The back office
# ---------------------------------------------------------------------------------------


@pytest.fixture
def reviewer_client(db, client):
    reviewer = staff_member(REVIEWERS)
    delegation = DelegationFactory()
    delegation.members.add(reviewer)
    AgreementFactory(
        registration=RegistrationFactory(
            delegation=delegation, organization=OrganizationFactory(name_zh="寺库")
        ),
        kind=AgreementKind.STRATEGIC_COOPERATION,
    )
    client.force_login(reviewer)
    yield client
    # LocaleMiddleware leaves the request's language active in the thread: undo it so
    # that the tests after this one read English again.
    translation.deactivate()


def test_the_admin_index_is_in_chinese_for_a_reviewer_who_reads_chinese(reviewer_client):
    response = reviewer_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    page = response.content.decode()
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    assert "交易团与组织" in page
    assert "签约、走访与跟进" in page
    assert "采购协议" in page
    assert "服贸会参会承诺" in page
    assert "Purchase agreements" not in page
    assert "Delegations and organizations" not in page


def test_the_agreement_list_is_in_chinese_for_a_reviewer_who_reads_chinese(reviewer_client):
    response = reviewer_client.get(
        reverse("admin:deals_agreement_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "寺库" in page
    assert "意向采购金额" in page
    assert "战略合作协议" in page
    assert "已签约" in page
    assert "公开所选协议的金额" in page
    assert "intended purchase amount" not in page.lower()
    assert "strategic cooperation agreement" not in page.lower()


def test_the_admin_stays_english_for_a_reviewer_who_asks_for_english(reviewer_client):
    response = reviewer_client.get(
        reverse("admin:deals_agreement_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )

    page = response.content.decode()
    assert "strategic cooperation agreement" in page.lower()
    assert "战略合作协议" not in page


# ---------------------------------------------------------------------------------------
# The statistics command
# ---------------------------------------------------------------------------------------


@pytest.fixture
def beijing(db):
    """Beijing at CIIE 2019 with three state-owned companies registered and one
    agreement; two organizations took part in 2018."""
    delegation = DelegationFactory()
    for _ in range(3):
        RegistrationFactory(
            delegation=delegation,
            organization=OrganizationFactory(kind=OrganizationKind.STATE_OWNED),
        )
    last_year = DelegationFactory(edition=edition("ciie-2018"))
    for _ in range(2):
        RegistrationFactory(delegation=last_year, status=RegistrationStatus.ATTENDED)
    AgreementFactory(
        registration=RegistrationFactory(delegation=delegation), amount=Decimal("200000000")
    )
    return delegation


def statistics(*args: str) -> str:
    out = StringIO()
    with translation.override("zh-hans"):
        call_command(
            "statistics", "--edition", "CIIE 2019", "--delegation", "北京", *args, stdout=out
        )
    return out.getvalue()


def line_of(output: str, label: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(label + " ")]
    return line


def test_the_statistics_table_prints_chinese_labels(beijing):
    output = statistics()

    lines = output.splitlines()
    assert lines[1] == "比较对象：CIIE 2018。"
    assert lines[3].split() == ["指标", "数值", "上届", "变化", "比较基准"]
    registered = line_of(output, "报名企业和机构")
    assert registered.split()[1:4] == ["4", "2", "+100.0%"]
    assert registered.endswith("对比上届实际参会")
    assert line_of(output, "意向采购金额（美元）").endswith("无可比数据")
    assert line_of(output, "  国有企业").split()[1] == "3"
    for label in ("签约企业", "协议", "展商", "国家和地区", "参会人数", "采购商占比"):
        assert line_of(output, label)
    for label in ("走访企业", "投资意向", "服贸会参会意向", "服贸会参会承诺"):
        assert line_of(output, label)
    assert "registered organizations" not in output


def test_the_statistics_json_keeps_its_machine_keys_in_chinese(beijing):
    data = json.loads(statistics("--json"))

    assert data["registered_organizations"]["basis"] == "previous_edition_attendance"
    assert set(data["organizations_by_kind"]["value"]) == set(OrganizationKind.values)
