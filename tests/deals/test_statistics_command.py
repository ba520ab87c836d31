import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from deals.stats import headline_figures
from tests.factories import (
    AgreementFactory,
    DelegationFactory,
    RegistrationFactory,
    edition,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def beijing():
    """Beijing at CIIE 2019 with 7 organizations registered, 5 of which took part in
    2018, and one agreement that has nothing to compare with."""
    delegation = DelegationFactory()
    last_year = DelegationFactory(edition=edition("ciie-2018"))
    for _ in range(7):
        RegistrationFactory(delegation=delegation, participants=2)
    for _ in range(5):
        RegistrationFactory(delegation=last_year, status="attended")
    AgreementFactory(
        registration=RegistrationFactory(delegation=delegation), amount=Decimal("710000000")
    )
    DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    DelegationFactory(
        parent=delegation, slug="chaoyang", name_zh="朝阳区", name_en="Chaoyang District"
    )
    return delegation


def statistics(*args: str) -> str:
    out = StringIO()
    call_command("statistics", *args, stdout=out)
    return out.getvalue()


def line_of(output: str, label: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(label + " ")]
    return line


def test_the_table_shows_value_previous_change_and_basis_of_each_figure(beijing):
    output = statistics("--edition", "CIIE 2019", "--delegation", "Beijing")

    assert "Compared with CIIE 2018." in output
    registered = line_of(output, "registered organizations")
    assert registered.split()[2:5] == ["8", "5", "+60.0%"]
    assert registered.endswith("against the previous edition's attendance")
    amount = line_of(output, "intended purchase amount (US$)")
    assert "US$710,000,000.00" in amount
    assert amount.endswith("no comparison")
    assert line_of(output, "purchasers").split()[1:3] == ["100.0%", "100.0%"]
    assert "  private enterprise" in output


def test_the_table_says_so_when_the_delegation_has_no_previous_edition(beijing):
    output = statistics("--edition", "ciie-2018", "--delegation", "beijing")

    assert "No previous edition of this delegation to compare with." in output
    assert line_of(output, "registered organizations").endswith("no comparison")


@pytest.mark.parametrize(
    ("edition_name", "delegation_name"),
    [
        ("第二届进博会", "北京"),
        ("2019年进博会", "北京"),
        ("CIIE 2019", "Beijing"),
        ("2nd CIIE", "BEIJING"),
        ("ciie-2019", "beijing"),
    ],
)
def test_json_names_the_edition_and_delegation_in_either_language(
    beijing, edition_name, delegation_name
):
    output = statistics("--edition", edition_name, "--delegation", delegation_name, "--json")

    data = json.loads(output)
    assert data == json.loads(json.dumps(headline_figures(delegation=beijing).as_json()))
    assert data["delegation"]["name_zh"] == "北京"
    assert data["edition"]["slug"] == "ciie-2019"
    # 8 / 5 - 1, without float noise such as 0.6000000000000001.
    assert data["registered_organizations"]["change"] == 0.6


def test_json_keeps_chinese_readable(beijing):
    output = statistics("--edition", "ciie-2019", "--delegation", "北京", "--json")

    assert '"name_zh": "北京"' in output
    assert "\\u" not in output


def test_an_unknown_edition_is_named_and_the_known_ones_listed(beijing):
    with pytest.raises(CommandError) as caught:
        statistics("--edition", "CIIE 2030", "--delegation", "Beijing")

    message = str(caught.value)
    assert "“CIIE 2030”" in message
    assert "ciie-2018, ciie-2019" in message
    assert "ciftis-2020" in message
    assert caught.value.returncode != 0


@pytest.mark.parametrize("name", ["Tianjin", "天津", "朝阳区"])
def test_an_unknown_delegation_is_named_and_the_top_level_ones_listed(beijing, name):
    with pytest.raises(CommandError) as caught:
        statistics("--edition", "CIIE 2019", "--delegation", name)

    message = str(caught.value)
    assert f"“{name}” at CIIE 2019" in message
    assert "北京 (Beijing)" in message
    assert "上海 (Shanghai)" in message
    assert "Chaoyang" not in message


def test_a_delegation_of_another_edition_is_not_found(beijing):
    with pytest.raises(CommandError) as caught:
        statistics("--edition", "CIIE 2020", "--delegation", "Beijing")

    assert "No delegation is recorded at CIIE 2020." in str(caught.value)


def test_an_unknown_name_on_the_command_line_exits_with_a_non_zero_status(beijing, capsys):
    # System checks are another test's business; here only the exit status counts.
    argv = ["manage.py", "statistics", "--skip-checks", "--edition", "x", "--delegation", "y"]
    utility = ManagementUtility(argv)
    with pytest.raises(SystemExit) as caught:
        utility.execute()

    assert caught.value.code != 0
    assert "No fair edition is called “x”" in capsys.readouterr().err


def test_the_help_names_the_options(capsys):
    with pytest.raises(SystemExit) as caught:
        ManagementUtility(["manage.py", "statistics", "--help"]).execute()

    assert caught.value.code == 0
    help_text = capsys.readouterr().out
    assert "--edition" in help_text
    assert "--delegation" in help_text
    assert "headline figures" in help_text
