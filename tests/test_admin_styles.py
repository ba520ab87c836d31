import pytest
from django.contrib.staticfiles import finders

from tests.factories import REVIEWERS, staff_member


@pytest.mark.django_db
def test_every_admin_page_loads_the_chinese_font_stack(client):
    client.force_login(staff_member(REVIEWERS))

    for url in ["/admin/", "/admin/deals/agreement/", "/admin/deals/importrun/import/"]:
        response = client.get(url)
        assert response.status_code == 200
        assert "css/admin.css" in response.content.decode()
    stylesheet = finders.find("css/admin.css")
    assert stylesheet is not None
    with open(stylesheet, encoding="utf-8") as css:
        assert "Microsoft YaHei" in css.read()
