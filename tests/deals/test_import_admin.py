"""The admin's spreadsheet import (upload, dry run, confirm), its history and a
reviewer's undo, as the two staff roles use them and as a tamperer would try them."""

from __future__ import annotations

import datetime
import io
import re
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from deals.models import ImportRun
from delegations.models import Organization, Registration
from tests.delegations.test_admin import page_text
from tests.factories import (
    DATA_ENTRY,
    REVIEWERS,
    DelegationFactory,
    OrganizationFactory,
    UserFactory,
    staff_member,
)

IMPORT_URL = "admin:deals_importrun_import"

ORGANIZATION_HEADERS = ["名称", "英文名称", "统一社会信用代码", "类型", "国家或地区"]
SHOUGANG = ["首钢集团有限公司", "Shougang Group", "91110000600037341L", "国有企业", "中国"]
SECOO = ["寺库", "Secoo", "", "民营企业", "CN"]


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A workbook as a clerk's spreadsheet program saves it: one sheet per entry."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def organizations_workbook(*rows: list) -> bytes:
    return xlsx({"组织": [ORGANIZATION_HEADERS, *rows]})


def upload(client, content: bytes, *, name: str = "组织.xlsx", sheet: str = "", **extra):
    file = io.BytesIO(content)
    file.name = name
    return client.post(reverse(IMPORT_URL), {"file": file, "sheet": sheet}, **extra)


def confirm(client, run: ImportRun, token: str | None = None, **extra):
    data = {} if token is None else {"token": token}
    return client.post(reverse("admin:deals_importrun_confirm", args=[run.pk]), data, **extra)


def preview_url(run: ImportRun) -> str:
    return reverse("admin:deals_importrun_preview", args=[run.pk])


def token_on(page) -> str:
    (token,) = re.findall(r'name="token" value="([^"]+)"', page.content.decode())
    return token


def imported_names() -> set[str]:
    return set(
        Organization.objects.filter(name_zh__in=[SHOUGANG[0], SECOO[0]]).values_list(
            "name_zh", flat=True
        )
    )


@pytest.fixture
def data_entry(db):
    return staff_member(DATA_ENTRY, username="li.na")


@pytest.fixture
def reviewer(db):
    return staff_member(REVIEWERS, username="zhang.wei")


@pytest.fixture
def previewed(client, data_entry) -> ImportRun:
    """A clean two-row organizations workbook, previewed by data entry, not confirmed."""
    client.force_login(data_entry)
    response = upload(client, organizations_workbook(SHOUGANG, SECOO))
    assert response.status_code == 302, page_text(response)
    return ImportRun.objects.get(user=data_entry)


def imported_by(client, user, content: bytes, **kwargs) -> ImportRun:
    """Upload, preview and confirm, as a clerk does."""
    client.force_login(user)
    response = upload(client, content, **kwargs)
    assert response.status_code == 302, page_text(response)
    run = ImportRun.objects.filter(user=user).latest("pk")
    page = client.get(response.url)
    response = confirm(client, run, token_on(page))
    assert response.status_code == 302, page_text(response)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED
    return run


def with_permissions(*codenames: str):
    user = UserFactory()
    for codename in codenames:
        app_label, name = codename.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=name)
        )
    return user


@pytest.fixture
def chinese():
    yield {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    # LocaleMiddleware leaves the request's language active in the thread.
    translation.deactivate()


# ---------------------------------------------------------------------------------------
# Upload, preview, confirm
# ---------------------------------------------------------------------------------------


def test_upload_page_offers_every_sheet_and_the_whole_workbook(client, data_entry):
    client.force_login(data_entry)

    response = client.get(reverse(IMPORT_URL), {"sheet": "采购协议"})

    assert response.status_code == 200
    text = page_text(response)
    assert "Whole workbook" in text
    for label in (
        "Delegations / 交易团",
        "Organizations / 组织",
        "CIFTIS pledges / 服贸会参会意向",
    ):
        assert label in text
    # A per-model link chooses its sheet, in either language.
    assert '<option value="Agreements" selected>' in response.content.decode()


def test_preview_shows_the_counts_and_writes_nothing(client, previewed):
    response = client.get(preview_url(previewed))

    assert response.status_code == 200
    text = page_text(response)
    assert "Organizations / 组织 2 0 0" in text
    assert 'id="confirm-form"' in response.content.decode()
    assert imported_names() == set()
    assert previewed.status == ImportRun.Status.PREVIEWED
    assert previewed.expires_at > timezone.now()
    assert previewed.token


def test_confirm_imports_the_previewed_file_and_records_who(client, data_entry, previewed):
    page = client.get(preview_url(previewed))

    response = confirm(client, previewed, token_on(page))
    shown = client.get(response.url)

    assert response.status_code == 302
    assert response.url == preview_url(previewed)
    assert imported_names() == {SHOUGANG[0], SECOO[0]}
    text = page_text(shown)
    assert "Imported. Organizations / 组织: 2 created, 0 updated." in text
    assert 'id="confirm-form"' not in shown.content.decode()
    previewed.refresh_from_db()
    assert previewed.status == ImportRun.Status.IMPORTED
    assert previewed.content is None
    assert previewed.token == ""
    created = Organization.history.filter(name_zh__in=[SHOUGANG[0], SECOO[0]])
    assert {(row.history_type, row.history_user) for row in created} == {("+", data_entry)}
    assert {row.history_change_reason for row in created} == {f"import #{previewed.pk}"}


def test_reimporting_the_same_file_leaves_everything_unchanged(client, data_entry):
    content = organizations_workbook(SHOUGANG, SECOO)
    imported_by(client, data_entry, content)

    response = upload(client, content)
    second = client.get(response.url)

    assert "Organizations / 组织 0 0 2" in page_text(second)


def test_a_bad_file_lists_each_row_error_in_both_languages_and_cannot_be_confirmed(
    client, data_entry
):
    client.force_login(data_entry)
    wrong_check_digit = ["坏公司", "", "91110000600037341X", "民营企业", "CN"]
    nowhere = ["无国公司", "", "", "民营企业", "Atlantis"]

    response = upload(client, organizations_workbook(SHOUGANG, wrong_check_digit, nowhere))
    page = client.get(response.url)

    run = ImportRun.objects.get(user=data_entry)
    assert run.status == ImportRun.Status.REFUSED
    assert run.content is None
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="confirm-form"' not in html
    assert 'name="token"' not in html
    errors = re.search(r'<div class="module" id="import-errors">(.*?)</div>', html, re.S)
    rows = [page_text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", errors.group(1), re.S)]
    # Sheet, row as the clerk sees it (header = 1), column, reason in Chinese and English.
    (check_digit,) = [row for row in rows if row.startswith("Organizations / 组织 3 ")]
    (country,) = [row for row in rows if row.startswith("Organizations / 组织 4 ")]
    assert re.search(r"[\u4e00-\u9fff]", check_digit)  # the Chinese reason
    assert re.search(r"check", check_digit, re.I)  # the English one
    assert "Atlantis" in country
    assert Organization.objects.filter(name_zh__in=["首钢集团有限公司", "坏公司"]).count() == 0


def page_text_of(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def test_a_csv_saved_by_chinese_excel_is_previewed_under_the_sheet_its_name_says(
    client, data_entry
):
    client.force_login(data_entry)
    rows = [ORGANIZATION_HEADERS, SHOUGANG, SECOO]
    content = "\r\n".join(",".join(row) for row in rows).encode("gb18030")

    response = upload(client, content, name="组织.csv")
    page = client.get(response.url)

    assert "Organizations / 组织 2 0 0" in page_text(page)
    run = ImportRun.objects.get(user=data_entry)
    assert run.sheet == "Organizations"
    assert 'id="confirm-form"' in page.content.decode()


def test_a_confirmation_that_no_longer_imports_cleanly_writes_nothing_and_says_so(
    client, data_entry
):
    registered = OrganizationFactory(name_zh="京东方科技集团")
    DelegationFactory()
    content = xlsx(
        {
            "报名": [
                ["交易团", "届次", "组织名称", "参会人数"],
                ["北京", "CIIE 2019", "京东方科技集团", 4],
            ]
        }
    )
    client.force_login(data_entry)
    response = upload(client, content)
    run = ImportRun.objects.get(user=data_entry)
    token = token_on(client.get(response.url))
    registered.delete()  # meanwhile, someone removed the organization

    confirmed = confirm(client, run, token)
    page = client.get(confirmed.url)

    assert not Registration.objects.exists()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.REFUSED
    assert run.content is None
    text = page_text(page)
    assert "Nothing was imported" in text
    assert "Imported." not in text
    assert "Registrations / 报名 2 organization" in text


def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_upload_page(client, data_entry):
    client.force_login(data_entry)

    response = upload(client, b"%PDF-1.7 not a spreadsheet", name="report.xlsx")

    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not ImportRun.objects.filter(status=ImportRun.Status.PREVIEWED).exists()


# ---------------------------------------------------------------------------------------
# The confirmation is bound to the previewed upload
# ---------------------------------------------------------------------------------------


def test_confirm_refuses_a_stored_file_that_changed_since_the_preview(client, previewed):
    token = token_on(client.get(preview_url(previewed)))
    ImportRun.objects.filter(pk=previewed.pk).update(
        content=organizations_workbook(SHOUGANG, SECOO, ["第三家公司", "", "", "民营企业", "CN"])
    )

    response = confirm(client, previewed, token)

    assert response.status_code == 400
    assert "nothing was imported" in page_text(response)
    assert imported_names() == set()
    assert not Organization.objects.filter(name_zh="第三家公司").exists()
    previewed.refresh_from_db()
    assert previewed.status == ImportRun.Status.REFUSED
    assert "not the one that was previewed" in previewed.errors[-1]["message_en"]
    assert previewed.content is None


def test_confirm_refuses_a_wrong_token_and_the_right_one_still_works(client, previewed):
    token = token_on(client.get(preview_url(previewed)))

    forged = confirm(client, previewed, "x" * len(token))
    missing = confirm(client, previewed)

    assert forged.status_code == missing.status_code == 400
    assert "does not match the preview" in page_text(forged)
    assert imported_names() == set()
    assert confirm(client, previewed, token).status_code == 302
    assert imported_names() == {SHOUGANG[0], SECOO[0]}


def test_a_token_confirms_once_only(client, previewed):
    token = token_on(client.get(preview_url(previewed)))
    assert confirm(client, previewed, token).status_code == 302
    Organization.objects.filter(name_zh=SECOO[0]).delete()

    again = confirm(client, previewed, token)

    assert again.status_code == 409
    assert "confirmed once only" in page_text(again)
    assert imported_names() == {SHOUGANG[0]}  # not imported a second time


def test_nobody_confirms_someone_elses_preview(client, previewed):
    token = token_on(client.get(preview_url(previewed)))
    client.force_login(staff_member(DATA_ENTRY))

    seen = client.get(preview_url(previewed))
    response = confirm(client, previewed, token)

    assert seen.status_code == response.status_code == 403
    assert "someone else" in page_text(response)
    assert imported_names() == set()
    previewed.refresh_from_db()
    assert previewed.status == ImportRun.Status.PREVIEWED


def test_an_expired_preview_cannot_be_confirmed(client, previewed):
    token = token_on(client.get(preview_url(previewed)))
    ImportRun.objects.filter(pk=previewed.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    page = client.get(preview_url(previewed))
    response = confirm(client, previewed, token)

    assert 'id="confirm-form"' not in page.content.decode()
    assert "expired" in page_text(page)
    assert response.status_code == 410
    assert "expired" in page_text(response)
    assert imported_names() == set()
    previewed.refresh_from_db()
    assert previewed.content is None
    assert previewed.token == ""


def test_the_next_upload_forgets_the_bytes_of_expired_previews(client, previewed):
    ImportRun.objects.filter(pk=previewed.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    upload(client, organizations_workbook(SECOO))

    previewed.refresh_from_db()
    assert previewed.content is None
    assert previewed.token == ""
    assert ImportRun.objects.exclude(pk=previewed.pk).get().content is not None


def test_an_hour_after_the_preview_it_has_expired(client, previewed):
    token = token_on(client.get(preview_url(previewed)))
    later = timezone.now() + datetime.timedelta(hours=1, seconds=1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        response = confirm(client, previewed, token)

    assert response.status_code == 410
    assert imported_names() == set()


def test_confirm_answers_only_a_post(client, previewed):
    token = token_on(client.get(preview_url(previewed)))

    response = client.get(
        reverse("admin:deals_importrun_confirm", args=[previewed.pk]), {"token": token}
    )

    assert response.status_code == 405
    assert imported_names() == set()


def test_a_run_that_does_not_exist_is_a_404(client, previewed):
    missing = ImportRun(pk=previewed.pk + 1000)

    assert client.get(preview_url(missing)).status_code == 404
    response = confirm(client, missing, "anything")
    assert response.status_code == 404
    assert "no such import" in page_text(response)


# ---------------------------------------------------------------------------------------
# Size and permissions, checked before the file is read
# ---------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(client, data_entry, settings):
    settings.EXPO = {**settings.EXPO, "IMPORT_MAX_BYTES": 1000}
    client.force_login(data_entry)
    content = organizations_workbook(SHOUGANG, SECOO)
    assert len(content) > 1000

    with mock.patch("deals.importer.import_file") as engine:
        response = upload(client, content)

    engine.assert_not_called()
    assert response.status_code == 200
    assert "files over 1000 bytes are refused" in page_text(response)
    assert not ImportRun.objects.exists()


def test_staff_without_the_import_permission_is_refused(client, db):
    client.force_login(UserFactory())

    with mock.patch("deals.importer.import_file") as engine:
        page = client.get(reverse(IMPORT_URL))
        posted = upload(client, organizations_workbook(SHOUGANG))

    engine.assert_not_called()
    assert page.status_code == posted.status_code == 403
    assert "You may not import spreadsheets." in page_text(posted)


def test_a_sheet_whose_model_the_user_may_not_change_is_refused_by_name(client, db):
    user = with_permissions(
        "deals.add_importrun", "delegations.add_organization", "delegations.view_organization"
    )
    client.force_login(user)

    with mock.patch("deals.importer.import_file") as engine:
        response = upload(client, organizations_workbook(SHOUGANG), sheet="Organizations")

    engine.assert_not_called()
    assert "You may not import the sheet “Organizations / 组织”" in page_text(response)


def test_a_workbook_with_a_sheet_the_user_may_not_write_is_refused_naming_it(client, db):
    user = with_permissions(
        "deals.add_importrun",
        "delegations.add_organization",
        "delegations.change_organization",
    )
    DelegationFactory()
    client.force_login(user)
    content = xlsx(
        {
            "Organizations": [ORGANIZATION_HEADERS, SHOUGANG],
            "Registrations": [
                ["delegation", "edition", "organization", "participants"],
                ["北京", "CIIE 2019", SHOUGANG[0], 3],
            ],
        }
    )

    response = upload(client, content)

    assert response.status_code == 200
    assert "You may not import the sheet “Registrations / 报名”" in page_text(response)
    run = ImportRun.objects.get(user=user)
    assert run.status == ImportRun.Status.REFUSED
    assert run.content is None
    assert "Registrations / 报名" in run.errors[-1]["message_en"]
    assert imported_names() == set()
    assert not Registration.objects.exists()


def test_the_upload_page_lists_only_the_sheets_the_user_may_import(client, db):
    user = with_permissions(
        "deals.add_importrun", "delegations.add_organization", "delegations.change_organization"
    )
    client.force_login(user)

    response = client.get(reverse(IMPORT_URL))

    links = re.findall(r'href="\?sheet=([^"]+)"', response.content.decode())
    assert links == ["Organizations"]


def test_change_lists_link_to_the_import_of_their_sheet_for_those_who_may(
    client, data_entry, reviewer
):
    viewer = with_permissions("delegations.view_organization")
    url = reverse("admin:delegations_organization_changelist")
    link = f'{reverse(IMPORT_URL)}?sheet=Organizations"'

    client.force_login(data_entry)
    assert link in client.get(url).content.decode()
    client.force_login(viewer)
    assert link not in client.get(url).content.decode()


def test_the_admin_index_links_to_the_import_and_its_history(client, data_entry):
    client.force_login(data_entry)

    response = client.get(reverse("admin:index"))

    html = response.content.decode()
    assert f'href="{reverse(IMPORT_URL)}"' in html
    assert f'href="{reverse("admin:deals_importrun_changelist")}"' in html


# ---------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------


def test_history_lists_who_imported_which_file_with_its_hash_and_result(
    client, data_entry, reviewer
):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG, SECOO))
    client.force_login(reviewer)
    url = reverse("admin:deals_importrun_changelist")

    listed = client.get(url)
    by_hash = client.get(url, {"q": run.sha256[:10]})
    by_other_hash = client.get(url, {"q": "0" * 10})
    refused = client.get(url, {"status__exact": ImportRun.Status.REFUSED})

    text = page_text(listed)
    assert listed.status_code == 200
    assert "li.na" in text
    assert "组织.xlsx" in text
    assert run.sha256[:12] in text
    assert "imported 2 created" in text  # the status, then the counts without zeros
    assert "组织.xlsx" in page_text(by_hash)
    assert "组织.xlsx" not in page_text(by_other_hash)
    assert "组织.xlsx" not in page_text(refused)


def test_history_detail_is_read_only_and_shows_the_counts(client, data_entry):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG, SECOO))

    response = client.get(reverse("admin:deals_importrun_change", args=[run.pk]))

    assert response.status_code == 200
    text = page_text(response)
    assert "Organizations / 组织 2 0 0" in text
    assert run.sha256 in text
    assert 'name="_save"' not in response.content.decode()
    assert "Undo this import" not in text  # data entry does not undo


@pytest.mark.parametrize("who", ["data_entry", "reviewer", "superuser"])
def test_nobody_adds_changes_or_deletes_history_through_the_admin(client, data_entry, who):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG))
    users = {
        "data_entry": data_entry,
        "reviewer": staff_member(REVIEWERS),
        "superuser": UserFactory(username="root", is_superuser=True),
    }
    client.force_login(users[who])

    add = client.post(reverse("admin:deals_importrun_add"), {"filename": "x.csv"})
    change = client.post(
        reverse("admin:deals_importrun_change", args=[run.pk]), {"status": "undone"}
    )
    delete = client.post(reverse("admin:deals_importrun_delete", args=[run.pk]), {"post": "yes"})

    assert add.status_code == change.status_code == delete.status_code == 403
    run.refresh_from_db()
    assert run.status == ImportRun.Status.IMPORTED


# ---------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------


def test_reviewer_undoes_an_import_and_keeps_a_record_edited_since(client, data_entry, reviewer):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG, SECOO))
    edited = Organization.objects.get(name_zh=SECOO[0])
    edited.name_en = "Secoo Holding"
    edited.save()
    client.force_login(reviewer)
    url = reverse("admin:deals_importrun_undo", args=[run.pk])

    detail = client.get(reverse("admin:deals_importrun_change", args=[run.pk]))
    asked = client.get(url)
    done = client.post(url)

    assert f'href="{url}"' in detail.content.decode()
    assert asked.status_code == 200
    assert 'id="undo-form"' in asked.content.decode()
    assert done.status_code == 200
    text = page_text(done)
    assert "Kept, because someone edited them after the import" in text
    kept = re.search(r'<ul id="undo-kept">(.*?)</ul>', done.content.decode(), re.S).group(1)
    assert "Secoo Holding" in kept
    assert "Organizations / 组织 1 0" in text
    assert imported_names() == {SECOO[0]}
    run.refresh_from_db()
    assert run.status == ImportRun.Status.UNDONE
    assert run.undone_by == reviewer


def test_undo_gives_updated_records_their_previous_values_back(client, data_entry, reviewer):
    imported_by(client, data_entry, organizations_workbook(SHOUGANG))
    renamed = [SHOUGANG[0], "Shougang Group Co., Ltd.", *SHOUGANG[2:]]
    run = imported_by(client, data_entry, organizations_workbook(renamed))
    assert Organization.objects.get(name_zh=SHOUGANG[0]).name_en == "Shougang Group Co., Ltd."
    client.force_login(reviewer)

    done = client.post(reverse("admin:deals_importrun_undo", args=[run.pk]))

    assert done.status_code == 200
    assert "Organizations / 组织 0 1" in page_text(done)
    assert Organization.objects.get(name_zh=SHOUGANG[0]).name_en == "Shougang Group"


def test_undoing_twice_says_so_and_changes_nothing(client, data_entry, reviewer):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG, SECOO))
    client.force_login(reviewer)
    url = reverse("admin:deals_importrun_undo", args=[run.pk])
    client.post(url)
    imported_by(client, data_entry, organizations_workbook(SHOUGANG))
    client.force_login(reviewer)

    again = client.post(url, follow=True)

    assert again.status_code == 200
    assert "This import was already undone" in page_text(again)
    assert imported_names() == {SHOUGANG[0]}  # the later import stays


def test_data_entry_cannot_undo(client, data_entry):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG, SECOO))
    url = reverse("admin:deals_importrun_undo", args=[run.pk])

    with mock.patch("deals.importer.undo_import") as undo:
        asked = client.get(url)
        posted = client.post(url)

    undo.assert_not_called()
    assert asked.status_code == posted.status_code == 403
    assert imported_names() == {SHOUGANG[0], SECOO[0]}


# ---------------------------------------------------------------------------------------
# Chinese
# ---------------------------------------------------------------------------------------


def test_the_import_pages_render_in_chinese(client, data_entry, reviewer, chinese):
    run = imported_by(client, data_entry, organizations_workbook(SHOUGANG))
    wrong_check_digit = ["坏公司", "", "91110000600037341X", "民营企业", "CN"]

    form = client.get(reverse(IMPORT_URL), **chinese)
    response = upload(client, organizations_workbook(wrong_check_digit), **chinese)
    preview = client.get(response.url, **chinese)
    history = client.get(reverse("admin:deals_importrun_changelist"), **chinese)
    client.force_login(reviewer)
    detail = client.get(reverse("admin:deals_importrun_change", args=[run.pk]), **chinese)

    for page in (form, preview, history, detail):
        assert page.status_code == 200
        assert page.headers["Content-Language"] == "zh-hans"
        assert "首页" in page.content.decode()  # the admin's own "Home"
    assert "导入表格" in page_text(form)
    assert "原因（中文）" in page_text(preview)
    assert "统一社会信用代码" in page_text(preview)
    assert "撤销本次导入" in page_text(detail)
