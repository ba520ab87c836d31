import datetime
import pickle
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from deals.charts import (
    FONT_SIZE,
    OTHERS_KEY,
    PAD,
    WIDTH,
    Chart,
    _text_width,
    bar_chart,
    comparison_chart,
    country_chart,
    kind_chart,
    sector_chart,
)
from deals.stats import (
    BASIS_ATTENDANCE,
    BASIS_NONE,
    BASIS_PREVIOUS,
    FIGURE_LABELS,
    Figure,
    Headline,
    Share,
    agreements_by_sector,
    exhibitors_by_country,
    headline_figures,
)
from delegations.models import Delegation, Edition, OrganizationKind
from tests.factories import (
    AgreementFactory,
    DelegationFactory,
    ExhibitorFactory,
    RegistrationFactory,
    SectorFactory,
    edition,
)

SVG = "{http://www.w3.org/2000/svg}"


def shares(*values: int) -> list[Share]:
    return [
        Share(key=f"k{number}", label=f"Item {number}", value=value)
        for number, value in enumerate(values)
    ]


def chart_of(*values: int, **kwargs) -> Chart:
    kwargs.setdefault("slug", "chart-test")
    kwargs.setdefault("title", "Test")
    kwargs.setdefault("label_heading", "item")
    kwargs.setdefault("value_heading", "count")
    return bar_chart(items=shares(*values), **kwargs)


def value_texts(chart: Chart) -> list[str]:
    return [text.text for text in chart.texts if "chart-value" in text.css]


def label_texts(chart: Chart) -> list[str]:
    return [text.text for text in chart.texts if text.css == "chart-label"]


# ---------------------------------------------------------------------------------------
# Bar charts: geometry
# ---------------------------------------------------------------------------------------


def test_bar_widths_are_proportional_to_the_values():
    chart = chart_of(40, 20, 10, 30)

    widths = [bar.width for bar in chart.bars]
    assert value_texts(chart) == ["40", "30", "20", "10"]
    assert widths[0] / 4 == pytest.approx(widths[3], abs=0.1)
    assert widths[0] * 3 / 4 == pytest.approx(widths[1], abs=0.1)
    assert widths[0] / 2 == pytest.approx(widths[2], abs=0.1)
    assert {bar.x for bar in chart.bars} == {PAD}


def test_the_largest_bar_and_its_value_fit_inside_the_drawing():
    chart = chart_of(1_234_567, 3)

    longest = chart.bars[0]
    value = next(text for text in chart.texts if text.text == "1,234,567")
    assert longest.x + longest.width < value.x
    assert value.x + _text_width(value.text) <= WIDTH - PAD
    assert chart.view_box == f"0 0 {WIDTH} {chart.height}"
    assert max(bar.y + bar.height for bar in chart.bars) < chart.height


def test_bars_do_not_overlap_their_labels():
    chart = chart_of(5, 4, 3)

    labels = [text for text in chart.texts if text.css == "chart-label"]
    for label, bar in zip(labels, chart.bars, strict=True):
        assert label.y <= bar.y
    for upper, lower in zip(chart.bars, chart.bars[1:], strict=False):
        assert upper.y + upper.height < lower.y - FONT_SIZE


def test_a_zero_value_draws_no_bar_but_prints_its_zero():
    chart = chart_of(7, 0)

    assert chart.bars[1].width == 0
    assert value_texts(chart) == ["7", "0"]
    assert [row.cells[0].text for row in chart.rows] == ["7", "0"]


def test_no_items_make_a_chart_that_says_there_is_no_data():
    chart = chart_of()

    assert chart.empty
    assert chart.summary == "No data yet."
    assert chart.bars == ()


def test_only_zero_values_make_a_chart_that_says_there_is_no_data():
    chart = chart_of(0, 0, 0)

    assert chart.empty
    assert chart.summary == "No data yet."


def test_a_long_tail_is_folded_into_one_others_bar():
    chart = chart_of(*range(30, 10, -1), limit=12)

    # Twelve bars, and the others' total printed under its label without a bar.
    assert len(chart.bars) == 12
    assert label_texts(chart)[-1] == "8 others"
    assert value_texts(chart)[-1] == str(sum(range(18, 10, -1)))
    # The table keeps every item, the folded ones included.
    assert len(chart.rows) == 20
    assert chart.rows[-1].label == "Item 19"


def test_one_item_past_the_limit_is_shown_rather_than_folded_alone():
    chart = chart_of(*range(13, 0, -1), limit=12)

    assert len(chart.bars) == 13
    assert OTHERS_KEY not in {row.key for row in chart.rows}
    assert "others" not in " ".join(label_texts(chart))


def test_folding_never_splits_items_of_equal_value():
    chart = chart_of(9, 8, 7, 5, 5, 5, 4, 3, limit=4)

    assert value_texts(chart) == ["9", "8", "7", str(5 + 5 + 5 + 4 + 3)]
    assert label_texts(chart)[-1] == "5 others"


def test_a_long_tail_larger_than_the_leader_does_not_set_the_scale():
    chart = chart_of(10, 5, 4, 4, 4, 4, 4, limit=2)

    assert value_texts(chart) == ["10", "5", "20"]
    assert [bar.width for bar in chart.bars][1] == pytest.approx(chart.bars[0].width / 2, abs=0.1)
    assert len(chart.bars) == 2


def test_the_summary_names_the_leader_and_the_total():
    chart = chart_of(41, 100, 66)

    assert chart.summary == "Item 1 comes first with 100 of 207."


def test_the_summary_names_every_item_level_at_the_top():
    chart = chart_of(41, 41, 3)

    assert chart.summary == "Item 0, Item 1 share the lead with 41 each, of 85."


def test_the_summary_counts_rather_than_names_many_items_level_at_the_top():
    chart = chart_of(*[1] * 32)

    assert chart.summary == "32 groups share the lead with 1 each, of 32."


def test_an_item_keyed_like_the_others_bar_is_not_drawn_as_it():
    chart = bar_chart(
        slug="chart-others",
        title="Test",
        items=[Share(key="others", label="Others", value=3)],
        label_heading="item",
        value_heading="count",
    )

    assert chart.bars[0].css == "chart-bar"


def test_a_long_label_is_cut_in_the_drawing_but_whole_in_the_table():
    name = "Medical equipment, pharmaceuticals, healthcare products and services for elderly care"
    chart = bar_chart(
        slug="chart-long",
        title="Test",
        items=[Share(key="long", label=name, value=3)],
        label_heading="item",
        value_heading="count",
    )

    drawn = label_texts(chart)[0]
    assert drawn.endswith("…")
    assert name.startswith(drawn.removesuffix("…"))
    assert chart.rows[0].label == name


def test_a_short_chinese_label_is_not_cut():
    chart = bar_chart(
        slug="chart-zh",
        title="领域",
        items=[Share(key="med", label="医疗器械及医药保健", value=3)],
        label_heading="领域",
        value_heading="协议",
    )

    assert label_texts(chart) == ["医疗器械及医药保健"]


def test_text_stays_readable_on_a_phone():
    # The drawing scales with the width of the page: at the 340 px a 375 px phone
    # leaves it, its text must still be drawn at 11 px or more.
    assert FONT_SIZE * 340 / WIDTH >= 11


def test_values_are_grouped_in_the_active_language():
    for language in ("en", "zh-hans"):
        with translation.override(language):
            chart = chart_of(10_828, 3_107)
        assert value_texts(chart) == ["10,828", "3,107"]


# ---------------------------------------------------------------------------------------
# The comparison with the previous edition
# ---------------------------------------------------------------------------------------

COMPARED = {
    "companies_signed": (88, 70),
    "agreements": (207, 150),
    "exhibitors": (108, 80),
    "countries_regions": (32, 33),
    "registered_organizations": (3_107, 2_219),
    "participants": (10_828, 5_982),
    "companies_visited": (320, None),
}


def headline_of(
    compared: dict[str, tuple[int, int | None]] | None = None,
    *,
    previous_year: int | None = 2018,
    by_kind: dict[str, int] | None = None,
) -> Headline:
    """A headline put together by hand, without the database."""
    figures = {}
    for key in FIGURE_LABELS:
        value, previous = (compared or COMPARED).get(key, (0, None))
        basis = BASIS_NONE if previous is None else BASIS_PREVIOUS
        if key in ("registered_organizations", "participants") and previous is not None:
            basis = BASIS_ATTENDANCE
        figures[key] = Figure(key=key, value=value, previous=previous, change=None, basis=basis)
    figures["organizations_by_kind"] = Figure(
        key="organizations_by_kind",
        value=by_kind if by_kind is not None else dict.fromkeys(OrganizationKind.values, 0),
        previous=None,
        change=None,
        basis=BASIS_NONE,
    )
    this_edition = Edition(year=2019)
    previous_delegation = (
        Delegation(edition=Edition(year=previous_year)) if previous_year is not None else None
    )
    return Headline(
        delegation=Delegation(edition=this_edition),
        edition=this_edition,
        previous_delegation=previous_delegation,
        figures=figures,
    )


def pairs_of(chart: Chart) -> dict[str, tuple]:
    """Each figure's (previous edition's bar or None, this edition's bar)."""
    bars = iter(chart.bars[2:])  # after the legend's two swatches
    pairs = {}
    for key in COMPARED:
        before = next(bars) if COMPARED[key][1] is not None else None
        pairs[key] = (before, next(bars))
    assert next(bars, None) is None
    return pairs


def test_each_figure_pair_is_scaled_to_its_own_larger_value():
    chart = comparison_chart(headline=headline_of())
    pairs = pairs_of(chart)

    before, now = pairs["agreements"]
    assert before.previous
    assert not now.previous
    assert before.width == pytest.approx(now.width * 150 / 207, abs=0.1)
    participants_before, participants_now = pairs["participants"]
    assert participants_now.width == now.width
    assert participants_before.width == pytest.approx(now.width * 5_982 / 10_828, abs=0.1)
    # A figure that fell: the previous edition's bar is the full one.
    countries_before, countries_now = pairs["countries_regions"]
    assert countries_before.width == now.width
    assert countries_now.width == pytest.approx(now.width * 32 / 33, abs=0.1)


def test_the_comparison_prints_both_numbers_and_marks_the_previous_bars():
    chart = comparison_chart(headline=headline_of())

    printed = [text.text for text in chart.texts]
    for value, previous in COMPARED.values():
        assert f"{value:,}" in printed
        if previous is not None:
            assert f"{previous:,}" in printed
    assert chart.hatched
    assert all(bar.css == "chart-bar-previous" for bar in chart.bars if bar.previous)
    assert "2018 (previous edition)" in printed
    assert "2019 (this edition)" in printed
    assert printed.count("2018") == len(COMPARED)


def test_a_figure_without_a_previous_value_says_so_instead_of_drawing():
    chart = comparison_chart(headline=headline_of())

    notes = [text.text for text in chart.texts if text.css == "chart-note"]
    assert "no comparison" in notes
    visited = next(row for row in chart.rows if row.key == "companies_visited")
    assert [cell.text for cell in visited.cells] == ["–", "320", "no comparison"]
    # The legend's two swatches, six pairs, and this edition's bar alone.
    assert len(chart.bars) == 2 + 6 * 2 + 1


def test_a_figure_on_another_basis_carries_a_footnote():
    chart = comparison_chart(headline=headline_of())

    printed = [text.text for text in chart.texts]
    assert "Participants *" in printed
    assert "* against the previous edition's attendance" in printed
    participants = next(row for row in chart.rows if row.key == "participants")
    assert participants.cells[2].text == "against the previous edition's attendance"


def test_no_previous_edition_makes_a_chart_that_says_there_is_no_comparison():
    chart = comparison_chart(headline=headline_of(previous_year=None))

    assert chart.empty
    assert chart.summary == "There is no comparison: the previous edition has no records."


def test_a_previous_edition_without_records_makes_no_comparison_either():
    nothing_before = {key: (value, None) for key, (value, _previous) in COMPARED.items()}

    chart = comparison_chart(headline=headline_of(nothing_before))

    assert chart.empty


def test_equal_zero_figures_draw_no_bars_without_dividing_by_zero():
    zeros = {key: (0, 0) for key in COMPARED}

    chart = comparison_chart(headline=headline_of(zeros))

    assert not chart.empty
    assert all(bar.width == 0 for bar in chart.bars[2:])
    assert chart.summary == "0 of 7 figures rose against 2018."


def test_the_comparison_summary_counts_the_figures_that_rose():
    chart = comparison_chart(headline=headline_of())

    assert chart.summary == "5 of 6 figures rose against 2018."


def test_the_kind_chart_reads_the_headline_breakdown():
    by_kind = dict.fromkeys(OrganizationKind.values, 0) | {"private": 1_983, "state_owned": 486}

    chart = kind_chart(headline=headline_of(by_kind=by_kind))

    assert label_texts(chart)[:2] == ["Private enterprise", "State-owned enterprise"]
    assert len(chart.rows) == len(OrganizationKind.values)
    assert chart.summary == "Private enterprise leads with 1,983 organizations of 2,469."


def test_the_kind_chart_of_a_delegation_without_registrations_says_there_is_no_data():
    chart = kind_chart(headline=headline_of())

    assert chart.empty


# ---------------------------------------------------------------------------------------
# The data behind the charts
# ---------------------------------------------------------------------------------------


def beijing() -> Delegation:
    return DelegationFactory()


def district(parent: Delegation, slug: str = "chaoyang") -> Delegation:
    return DelegationFactory(
        edition=parent.edition, parent=parent, slug=slug, name_zh=slug, name_en=slug
    )


def agreement_in(delegation: Delegation, **kwargs):
    kwargs.setdefault("registration", RegistrationFactory(delegation=delegation))
    kwargs.setdefault("signed_on", datetime.date(delegation.edition.year, 11, 6))
    return AgreementFactory(**kwargs)


def exhibitor(country: str = "GB"):
    return ExhibitorFactory(organization__country=country)


def counts(result: list[Share]) -> dict[str, int]:
    return {share.key: share.value for share in result}


@pytest.mark.django_db
def test_agreements_by_sector_counts_sub_delegations_and_leaves_out_cancelled_ones():
    delegation = beijing()
    medical = SectorFactory(code="medical", name_zh="医疗器械", name_en="Medical equipment")
    food = SectorFactory(code="food", name_zh="食品", name_en="Food")
    agreement_in(delegation, sector=medical)
    agreement_in(district(delegation), sector=medical)
    agreement_in(delegation, sector=food)
    agreement_in(delegation, sector=food, status="executed")
    agreement_in(delegation, sector=food)
    agreement_in(delegation, sector=medical, status="cancelled")
    agreement_in(delegation, sector=None)
    shanghai = DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    agreement_in(shanghai, sector=medical)
    agreement_in(DelegationFactory(edition=edition("ciie-2018")), sector=medical)

    result = agreements_by_sector(delegation=delegation)

    assert [(share.key, share.value) for share in result] == [
        ("food", 3),
        ("medical", 2),
        ("", 1),
    ]
    assert sum(counts(result).values()) == (
        headline_figures(delegation=delegation).figures["agreements"].value
    )


@pytest.mark.django_db
def test_agreements_without_a_sector_form_their_own_bar():
    delegation = beijing()
    agreement_in(delegation, sector=None)
    agreement_in(delegation, sector=None)
    agreement_in(delegation, sector=SectorFactory())

    result = agreements_by_sector(delegation=delegation)

    assert result[0].key == ""
    assert result[0].value == 2
    with translation.override("en"):
        assert sector_chart(shares=result).rows[0].label == "No sector"


@pytest.mark.django_db
def test_exhibitors_by_country_counts_each_exhibitor_once():
    delegation = beijing()
    british, scottish, japanese = exhibitor("GB"), exhibitor("GB"), exhibitor("JP")
    # Two British exhibitors in one agreement: one country, two exhibitors.
    agreement_in(delegation, exhibitors=[british, scottish])
    # The same exhibitor again, in a sub-delegation's agreement: still one exhibitor.
    agreement_in(district(delegation), exhibitors=[british, japanese])
    # An exhibitor only in a cancelled agreement is not counted.
    agreement_in(delegation, exhibitors=[exhibitor("FR")], status="cancelled")
    shanghai = DelegationFactory(slug="shanghai", name_zh="上海", name_en="Shanghai")
    agreement_in(shanghai, exhibitors=[exhibitor("DE")])

    result = exhibitors_by_country(delegation=delegation)

    assert [(share.key, share.value) for share in result] == [("GB", 2), ("JP", 1)]
    headline = headline_figures(delegation=delegation).figures
    assert sum(counts(result).values()) == headline["exhibitors"].value
    assert len(result) == headline["countries_regions"].value


def populate(delegation: Delegation, *, rows: int) -> None:
    sectors = [SectorFactory() for _ in range(3)]
    units = [delegation, district(delegation, f"unit-{rows}")]
    for number in range(rows):
        agreement_in(
            units[number % 2],
            sector=sectors[number % 3] if number % 4 else None,
            exhibitors=[exhibitor(("GB", "JP", "HK", "US")[number % 4]), exhibitor("FR")],
            status="cancelled" if number % 5 == 0 else "signed",
        )


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [2, 24])
def test_each_breakdown_is_one_query_whatever_the_rows(django_assert_num_queries, rows):
    delegation = beijing()
    populate(delegation, rows=rows)

    with django_assert_num_queries(1):
        by_sector = agreements_by_sector(delegation=delegation)
    with django_assert_num_queries(1):
        by_country = exhibitors_by_country(delegation=delegation)
    with django_assert_num_queries(0):
        for language in ("en", "zh-hans"):
            with translation.override(language):
                labels = [str(share.label) for share in by_sector + by_country]

    assert len(labels) == len(by_sector) + len(by_country) > 0


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [2, 24])
def test_building_and_printing_the_charts_runs_no_query(django_assert_num_queries, rows):
    delegation = beijing()
    populate(delegation, rows=rows)
    by_sector = agreements_by_sector(delegation=delegation)
    by_country = exhibitors_by_country(delegation=delegation)
    headline = headline_figures(delegation=delegation)

    with django_assert_num_queries(0):
        charts = [
            sector_chart(shares=by_sector),
            country_chart(shares=by_country),
            kind_chart(headline=headline),
            comparison_chart(headline=headline),
        ]
        html = "".join(render_to_string("deals/_chart.html", {"chart": c}) for c in charts)

    assert html.count("<figure") == 4


@pytest.mark.django_db
def test_labels_follow_the_active_language():
    delegation = beijing()
    medical = SectorFactory(code="medical", name_zh="医疗器械", name_en="Medical")
    agreement_in(delegation, sector=medical, exhibitors=[exhibitor("HK")])
    by_sector = agreements_by_sector(delegation=delegation)
    by_country = exhibitors_by_country(delegation=delegation)

    with translation.override("en"):
        english = [sector_chart(shares=by_sector), country_chart(shares=by_country)]
    with translation.override("zh-hans"):
        chinese = [sector_chart(shares=by_sector), country_chart(shares=by_country)]

    assert [chart.rows[0].label for chart in english] == ["Medical", "Hong Kong, China"]
    assert [chart.rows[0].label for chart in chinese] == ["医疗器械", "中国香港"]
    assert english[0].columns == ("sector", "agreements")
    with translation.override("zh-hans"):
        assert chinese[0].columns == (gettext("sector"), str(FIGURE_LABELS["agreements"]))
    assert chinese[0].columns != english[0].columns


@pytest.mark.django_db
def test_a_cached_breakdown_still_follows_the_language_it_is_read_in():
    delegation = beijing()
    agreement_in(delegation, exhibitors=[exhibitor("TW")])
    with translation.override("en"):
        stored = pickle.dumps(exhibitors_by_country(delegation=delegation))

    with translation.override("zh-hans"):
        assert str(pickle.loads(stored)[0].label) == "中国台湾"
    with translation.override("en"):
        assert str(pickle.loads(stored)[0].label) == "Taiwan, China"


# ---------------------------------------------------------------------------------------
# The template
# ---------------------------------------------------------------------------------------


def rendered(chart: Chart) -> str:
    return render_to_string("deals/_chart.html", {"chart": chart})


def svg_of(html: str) -> ET.Element:
    match = re.search(r"<svg\b.*?</svg>", html, re.S)
    assert match, html
    return ET.fromstring(match.group(0))


def test_the_template_draws_valid_svg_with_a_title_and_a_description():
    chart = chart_of(41, 30, 0, slug="chart-sectors", title="Agreements & <deals>")

    html = rendered(chart)
    svg = svg_of(html)

    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-sectors-title chart-sectors-desc"
    assert svg.get("viewBox") == chart.view_box
    assert svg.get("width") == "100%"
    assert svg.get("preserveAspectRatio")
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert (title.get("id"), title.text) == ("chart-sectors-title", "Agreements & <deals>")
    assert (desc.get("id"), desc.text) == ("chart-sectors-desc", chart.summary)
    rects = svg.findall(f"{SVG}rect")
    assert [float(rect.get("width")) for rect in rects] == [bar.width for bar in chart.bars]
    assert [text.text for text in svg.findall(f"{SVG}text")] == [t.text for t in chart.texts]
    assert '<figure class="chart" id="chart-sectors">' in html
    assert "<figcaption" in html


def test_the_template_prints_coordinates_unlocalized():
    chart = chart_of(3, 1)

    with translation.override("zh-hans"):
        svg = svg_of(rendered(chart))

    for rect in svg.findall(f"{SVG}rect"):
        for name in ("x", "y", "width", "height"):
            float(rect.get(name))


def test_the_template_carries_the_data_as_a_table():
    chart = chart_of(*range(30, 10, -1), limit=12)

    html = rendered(chart)

    assert "<details" in html
    assert "<summary>Show the data</summary>" in html
    assert "<caption>Test</caption>" in html
    assert html.count('<th scope="col">') == 2
    assert html.count('<th scope="row">') == 20
    assert '<th scope="row">Item 19</th><td>11</td>' in html


def test_the_template_hatches_previous_edition_bars_with_its_own_pattern():
    chart = comparison_chart(headline=headline_of(), slug="chart-yoy")

    html = rendered(chart)
    svg = svg_of(html)

    pattern = svg.find(f"{SVG}defs/{SVG}pattern")
    assert pattern.get("id") == "chart-yoy-hatch"
    hatched = [rect for rect in svg.findall(f"{SVG}rect") if rect.get("fill")]
    assert len(hatched) == 1 + 6
    assert {rect.get("fill") for rect in hatched} == {"url(#chart-yoy-hatch)"}
    assert html.count('<th scope="col">') == 4
    assert '<td class="chart-cell-text">no comparison</td>' in html


def test_an_empty_chart_says_so_and_draws_nothing():
    html = rendered(chart_of())

    assert "<svg" not in html
    assert "No data yet." in html
    assert "<table" not in html


def test_the_template_follows_the_active_language():
    by_kind = dict.fromkeys(OrganizationKind.values, 0) | {"private": 3}
    headline = headline_of(by_kind=by_kind)

    with translation.override("en"):
        english = rendered(kind_chart(headline=headline))
    with translation.override("zh-hans"):
        chinese = rendered(kind_chart(headline=headline))

    assert "Private enterprise" in english
    assert "Show the data" in english
    with translation.override("zh-hans"):
        assert str(OrganizationKind.PRIVATE.label) in chinese
    assert "Private enterprise" not in chinese


# ---------------------------------------------------------------------------------------
# The stylesheet
# ---------------------------------------------------------------------------------------


def contrast(colour: str) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def test_chart_colours_contrast_with_the_white_ground():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "charts.css").read_text()
    colours = dict(re.findall(r"--chart-([a-z]+):\s*(#[0-9a-fA-F]{6})", css))

    assert colours["ground"].lower() == "#ffffff"
    # Bars: 3:1 (non-text contrast); text: 4.5:1.
    assert contrast(colours["bar"]) >= 3
    assert contrast(colours["other"]) >= 3
    assert contrast(colours["text"]) >= 4.5
    assert contrast(colours["muted"]) >= 4.5
    # The hatch of previous-edition bars is drawn in the bar colour, with the same
    # fallback in the template for a page without the stylesheet.
    template = (Path(settings.BASE_DIR) / "templates" / "deals" / "_chart.html").read_text()
    assert f'stroke="{colours["bar"]}"' in template
