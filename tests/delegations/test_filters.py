"""The public lists' filter widgets."""

import pytest
from django import forms

from delegations.filters import ManyOptionsSelect
from tests.pages import parse

CHOICES = [
    ("", "all countries and regions"),
    ("CI", "Côte d'Ivoire"),
    ("XX", 'A <b>"made-up"</b> & region'),
    ("JP", "Japan"),
]


def shape(html: str) -> tuple:
    """What a browser reads of a select: its attributes, and each option's value,
    selection and text (the white space between the options left out)."""
    (select,) = parse(html).select("select")
    options = [
        (option.get("value"), "selected" in option.attrs, option.text)
        for option in select.select("option")
    ]
    groups = [group["label"] for group in select.select("optgroup")]
    return select.attrs, options, groups


@pytest.mark.parametrize("value", [None, "", "JP", "XX", "not-a-choice"])
def test_the_select_reads_as_djangos_own(value):
    attrs = {"id": "id_country", "aria-describedby": "id_country-error", "required": True}
    ours = ManyOptionsSelect(choices=CHOICES).render("country", value, attrs)
    django = forms.Select(choices=CHOICES).render("country", value, attrs)

    assert shape(ours) == shape(django)
    # The labels are escaped, never written as markup.
    assert "<b>" not in ours
    assert 'name="country"' in ours


def test_groups_of_options_read_as_djangos_own():
    grouped = [("Asia", [("JP", "Japan"), ("KR", "Korea")]), ("Europe", [("DE", "Germany")])]
    ours = ManyOptionsSelect(choices=grouped).render("country", "KR", {"id": "id_country"})
    django = forms.Select(choices=grouped).render("country", "KR", {"id": "id_country"})

    assert shape(ours) == shape(django)
    assert shape(ours)[2] == ["Asia", "Europe"]
