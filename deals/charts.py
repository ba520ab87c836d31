"""Bar charts of a delegation's headline figures, drawn on the server as inline SVG.

The geometry is computed here, in plain Python and without queries, so that the template
`deals/_chart.html` only prints it: a chart reads without JavaScript, scales down to a
phone through its viewBox, and carries a one-sentence summary and the table of its data
for readers who cannot see it. Build charts per request: every text in them is resolved
in the language active when they are built.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from delegations.models import OrganizationKind

from .stats import BASIS_LABELS, BASIS_NONE, BASIS_PREVIOUS, FIGURE_LABELS, Headline, Share

# The drawing in SVG user units. At 360 units across, a phone that leaves the chart about
# 340 px draws the 13-unit text at 12.3 px; the stylesheet caps the width on a desktop.
WIDTH = 360
PAD = 8
FONT_SIZE = 13
# Below a label's baseline, the gap to its bar.
LABEL_GAP = 4
BAR_HEIGHT = 16
PAIR_BAR_HEIGHT = 14
PAIR_GAP = 3
ROW_GAP = 10
VALUE_GAP = 4
SWATCH = 12
# Rough glyph widths in ems, on the wide side so that an estimate never overflows.
WIDE_EM, DIGIT_EM, CAPITAL_EM, NARROW_EM, LATIN_EM = 1.0, 0.6, 0.7, 0.32, 0.56
NARROW = frozenset(" .,:;'!|()[]ijlrtf-·")
ELLIPSIS = "…"

# Bars beyond this many are folded into one "others" bar (the table keeps them all).
DEFAULT_LIMIT = 12
# The key of that bar: neither a sector's slug nor a country code can be "*".
OTHERS_KEY = "*"
# A summary names at most this many groups level at the top, then only counts them.
NAMED_LEADERS = 3

# The figures compared with the previous edition, in the order of the product's table.
# Amounts are left out: they are published under the disclosure rule, not charted.
COMPARED_FIGURES = (
    "companies_signed",
    "agreements",
    "exhibitors",
    "countries_regions",
    "registered_organizations",
    "participants",
    "companies_visited",
)
# Footnote marks for figures compared on another basis than the previous edition's own.
BASIS_MARKS = ("*", "†", "‡")

NO_DATA = gettext_lazy("No data yet.")
NO_COMPARISON = gettext_lazy("There is no comparison: the previous edition has no records.")

Label = str | Promise


@dataclass(frozen=True)
class Bar:
    """A rectangle of the chart. `previous` bars are hatched and outlined, so that they
    differ from this edition's by more than their colour."""

    x: float
    y: float
    width: float
    height: float
    css: str = "chart-bar"
    previous: bool = False


@dataclass(frozen=True)
class Text:
    """A text of the chart, positioned at its baseline."""

    x: float
    y: float
    text: str
    css: str = "chart-label"
    anchor: str = "start"


@dataclass(frozen=True)
class Cell:
    """A data cell of the table; numbers are aligned on their last digit, text is not."""

    text: str
    numeric: bool = True


@dataclass(frozen=True)
class Row:
    """One row of the chart's data table: its header cell and its other cells."""

    key: str
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Chart:
    """A chart ready to print: the SVG geometry, its summary and its data table."""

    slug: str
    title: str
    summary: str
    empty: bool
    view_box: str = ""
    width: float = WIDTH
    height: float = 0
    font_size: float = FONT_SIZE
    bars: tuple[Bar, ...] = ()
    texts: tuple[Text, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()

    @property
    def hatched(self) -> bool:
        """Whether the chart needs the hatch pattern of previous-edition bars."""
        return any(bar.previous for bar in self.bars)


@dataclass(frozen=True)
class Leader:
    """What a bar chart's summary says: the largest group(s) and the total."""

    labels: tuple[str, ...]
    value: int
    total: int

    def params(self) -> dict[str, object]:
        return {
            "label": self.labels[0],
            "labels": pgettext("list separator", ", ").join(self.labels),
            "count": self.value,
            "value": _number(self.value),
            "total": _number(self.total),
        }


Summarize = Callable[[Leader], str]


# ---------------------------------------------------------------------------------------
# Bar charts of one series
# ---------------------------------------------------------------------------------------


def bar_chart(
    *,
    slug: str,
    title: Label,
    items: Iterable[Share],
    label_heading: Label,
    value_heading: Label,
    summarize: Summarize | None = None,
    limit: int = DEFAULT_LIMIT,
    sort: bool = True,
) -> Chart:
    """Horizontal bars, one per item, each label above its bar and the value after it,
    largest first unless `sort` is false. Past `limit` bars the smallest items are
    folded into one "others" bar; the data table lists every item."""
    items = [
        Share(key=item.key, label=capfirst(str(item.label)), value=int(item.value))
        for item in items
    ]
    title = str(title)
    if sort:
        items.sort(key=lambda item: -item.value)
    columns = (str(label_heading), str(value_heading))
    rows = tuple(
        Row(key=item.key, label=item.label, cells=(Cell(_number(item.value)),)) for item in items
    )
    total = sum(item.value for item in items)
    if total <= 0:
        return Chart(slug=slug, title=title, summary=str(NO_DATA), empty=True)

    shown = _fold(items, limit)
    most = max(item.value for item in items)
    leaders = [item for item in items if item.value == most]
    leader = Leader(
        labels=tuple(item.label for item in leaders), value=leaders[0].value, total=total
    )
    if len(leaders) > NAMED_LEADERS:
        summary = gettext("%(count)s groups share the lead with %(value)s each, of %(total)s.")
        summary %= leader.params() | {"count": _number(len(leaders))}
    elif len(leaders) > 1:
        summary = gettext("%(labels)s share the lead with %(value)s each, of %(total)s.")
        summary %= leader.params()
    else:
        summary = (summarize or _summary)(leader)

    values = [_number(item.value) for item in shown]
    value_room = max(_text_width(value) for value in values) + VALUE_GAP
    plot = math.floor(WIDTH - 2 * PAD - value_room)
    # The scale is set by the named bars: a long tail summed into "others" can outgrow
    # them all and would squash them; its total is printed without a bar.
    top = max(item.value for item in shown if item.key != OTHERS_KEY)
    bars, texts = [], []
    y = PAD
    for item, value in zip(shown, values, strict=True):
        bar_y = y + FONT_SIZE + LABEL_GAP
        if item.key == OTHERS_KEY:
            width = 0
        else:
            width = _round(plot * item.value / top)
            bars.append(Bar(x=PAD, y=bar_y, width=width, height=BAR_HEIGHT, css="chart-bar"))
        texts.append(Text(x=PAD, y=y + FONT_SIZE, text=_fit(item.label, WIDTH - 2 * PAD)))
        texts.append(
            Text(
                x=_round(PAD + width + VALUE_GAP),
                y=_baseline(bar_y, BAR_HEIGHT),
                text=value,
                css="chart-value",
            )
        )
        y = bar_y + BAR_HEIGHT + ROW_GAP
    height = _round(y - ROW_GAP + PAD)
    return Chart(
        slug=slug,
        title=title,
        summary=summary,
        empty=False,
        view_box=f"0 0 {WIDTH} {height}",
        height=height,
        bars=tuple(bars),
        texts=tuple(texts),
        columns=columns,
        rows=rows,
    )


def _fold(items: list[Share], limit: int) -> list[Share]:
    """The first `limit` items and one bar for the rest; folding a single item would
    only rename it, so `limit` + 1 items are all shown. Items level with the first
    folded one are folded too, so that which of equals shows is not arbitrary."""
    if len(items) <= limit + 1:
        return items
    cut = limit
    while cut > 1 and items[cut - 1].value == items[cut].value:
        cut -= 1
    if cut == 1 and items[0].value == items[1].value:
        cut = limit
    shown, rest = items[:cut], items[cut:]
    others = ngettext("%(count)s other", "%(count)s others", len(rest)) % {
        "count": _number(len(rest))
    }
    return [
        *shown,
        Share(key=OTHERS_KEY, label=others, value=sum(item.value for item in rest)),
    ]


def _summary(leader: Leader) -> str:
    return gettext("%(label)s comes first with %(value)s of %(total)s.") % leader.params()


# ---------------------------------------------------------------------------------------
# The charts of the headline page
# ---------------------------------------------------------------------------------------


def sector_chart(*, shares: Sequence[Share], slug: str = "chart-sectors") -> Chart:
    """Agreements by sector, from `stats.agreements_by_sector`."""
    return bar_chart(
        slug=slug,
        title=gettext("Agreements by sector"),
        items=shares,
        label_heading=gettext("sector"),
        value_heading=FIGURE_LABELS["agreements"],
        summarize=lambda leader: (
            ngettext(
                "%(label)s leads with %(value)s agreement of %(total)s.",
                "%(label)s leads with %(value)s agreements of %(total)s.",
                leader.value,
            )
            % leader.params()
        ),
    )


def country_chart(*, shares: Sequence[Share], slug: str = "chart-countries") -> Chart:
    """Exhibitors by country or region, from `stats.exhibitors_by_country`."""
    return bar_chart(
        slug=slug,
        title=gettext("Exhibitors by country or region"),
        items=shares,
        label_heading=gettext("country or region"),
        value_heading=FIGURE_LABELS["exhibitors"],
        summarize=lambda leader: (
            ngettext(
                "%(label)s leads with %(value)s exhibitor of %(total)s.",
                "%(label)s leads with %(value)s exhibitors of %(total)s.",
                leader.value,
            )
            % leader.params()
        ),
    )


def kind_chart(*, headline: Headline, slug: str = "chart-kinds") -> Chart:
    """Registered organizations by kind, from the headline's `organizations_by_kind`."""
    by_kind = headline.figures["organizations_by_kind"].value
    if not isinstance(by_kind, dict):
        raise TypeError("organizations_by_kind must map each kind to its count")
    return bar_chart(
        slug=slug,
        title=gettext("Registered organizations by kind"),
        items=[
            Share(key=kind, label=OrganizationKind(kind).label, value=count)
            for kind, count in by_kind.items()
        ],
        label_heading=gettext("kind"),
        value_heading=FIGURE_LABELS["registered_organizations"],
        summarize=lambda leader: (
            ngettext(
                "%(label)s leads with %(value)s organization of %(total)s.",
                "%(label)s leads with %(value)s organizations of %(total)s.",
                leader.value,
            )
            % leader.params()
        ),
    )


def comparison_chart(*, headline: Headline, slug: str = "chart-comparison") -> Chart:
    """This edition against the previous one: for each figure a pair of bars, the
    previous edition's (hatched) above this one's, scaled to the larger of the two
    because the figures count different things. A figure the previous edition has no
    records for says so instead of drawing its bar."""
    title = gettext("This edition against the previous one")
    figures = [headline.figures[key] for key in COMPARED_FIGURES]
    previous = headline.previous_delegation
    if previous is None or all(figure.previous is None for figure in figures):
        return Chart(slug=slug, title=title, summary=str(NO_COMPARISON), empty=True)

    this_year, last_year = str(headline.edition.year), str(previous.edition.year)
    marks = _basis_marks(figure.basis for figure in figures)
    year_room = max(_text_width(this_year), _text_width(last_year)) + VALUE_GAP
    values = [
        _number(number)
        for figure in figures
        for number in (figure.value, figure.previous)
        if number is not None
    ]
    value_room = max(_text_width(value) for value in values) + VALUE_GAP
    plot = math.floor(WIDTH - 2 * PAD - year_room - value_room)

    bars: list[Bar] = []
    texts: list[Text] = []
    y = PAD
    for series_label, previous_series in (
        (gettext("%(year)s (previous edition)") % {"year": last_year}, True),
        (gettext("%(year)s (this edition)") % {"year": this_year}, False),
    ):
        bars.append(
            Bar(
                x=PAD,
                y=y,
                width=SWATCH,
                height=SWATCH,
                css="chart-bar-previous" if previous_series else "chart-bar",
                previous=previous_series,
            )
        )
        texts.append(
            Text(
                x=PAD + SWATCH + VALUE_GAP,
                y=_baseline(y, SWATCH),
                text=_fit(series_label, WIDTH - 2 * PAD - SWATCH - VALUE_GAP),
                css="chart-legend",
            )
        )
        y += SWATCH + VALUE_GAP + 2
    y += ROW_GAP - VALUE_GAP

    rose = compared = 0
    rows = []
    for figure in figures:
        label = capfirst(str(figure.label))
        mark = marks.get(figure.basis)
        texts.append(Text(x=PAD, y=y + FONT_SIZE, text=_fit(f"{label} {mark}" if mark else label)))
        bar_y = y + FONT_SIZE + LABEL_GAP
        top = max(figure.value, figure.previous or 0)
        for number, year, previous_series in (
            (figure.previous, last_year, True),
            (figure.value, this_year, False),
        ):
            baseline = _baseline(bar_y, PAIR_BAR_HEIGHT)
            texts.append(Text(x=PAD, y=baseline, text=year, css="chart-year"))
            x = PAD + year_room
            if number is None:
                note = _fit(str(BASIS_LABELS[BASIS_NONE]), WIDTH - PAD - x)
                texts.append(Text(x=x, y=baseline, text=note, css="chart-note"))
            else:
                width = _round(plot * number / top) if top else 0.0
                bars.append(
                    Bar(
                        x=x,
                        y=bar_y,
                        width=width,
                        height=PAIR_BAR_HEIGHT,
                        css="chart-bar-previous" if previous_series else "chart-bar",
                        previous=previous_series,
                    )
                )
                texts.append(
                    Text(
                        x=_round(x + width + VALUE_GAP),
                        y=baseline,
                        text=_number(number),
                        css="chart-value" if previous_series else "chart-value chart-value--now",
                    )
                )
            bar_y += PAIR_BAR_HEIGHT + PAIR_GAP
        y = bar_y - PAIR_GAP + ROW_GAP
        if figure.previous is not None:
            compared += 1
            rose += figure.value > figure.previous
        rows.append(
            Row(
                key=figure.key,
                label=label,
                cells=(
                    Cell(_number(figure.previous) if figure.previous is not None else "–"),
                    Cell(_number(figure.value)),
                    Cell(str(figure.basis_label), numeric=False),
                ),
            )
        )
    y -= ROW_GAP
    for basis, mark in marks.items():
        y += FONT_SIZE + LABEL_GAP
        texts.append(Text(x=PAD, y=y, text=_fit(f"{mark} {BASIS_LABELS[basis]}"), css="chart-note"))
    # Room below the last baseline for descenders when the chart ends with a note.
    height = _round(y + PAD + (LABEL_GAP if marks else 0))
    summary = ngettext(
        "%(rose)s of %(compared)s figure rose against %(year)s.",
        "%(rose)s of %(compared)s figures rose against %(year)s.",
        compared,
    ) % {"rose": _number(rose), "compared": _number(compared), "year": last_year}
    return Chart(
        slug=slug,
        title=title,
        summary=summary,
        empty=False,
        view_box=f"0 0 {WIDTH} {height}",
        height=height,
        bars=tuple(bars),
        texts=tuple(texts),
        columns=(gettext("figure"), last_year, this_year, gettext("basis of comparison")),
        rows=tuple(rows),
    )


def _basis_marks(bases: Iterable[str]) -> dict[str, str]:
    """A footnote mark for each basis other than the previous edition's own figures."""
    marks: dict[str, str] = {}
    for basis in bases:
        if basis not in (BASIS_PREVIOUS, BASIS_NONE) and basis not in marks:
            marks[basis] = BASIS_MARKS[len(marks) % len(BASIS_MARKS)]
    return marks


# ---------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _round(value: float) -> float:
    return round(value, 1)


def _baseline(top: float, height: float) -> float:
    """The baseline that centres a line of text on a bar (no dominant-baseline: it is
    not drawn alike everywhere)."""
    return _round(top + height / 2 + FONT_SIZE * 0.35)


def _em(char: str) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return WIDE_EM
    if char in NARROW:
        return NARROW_EM
    if char.isdigit():
        return DIGIT_EM
    if char.isupper() or char in "mw":
        return CAPITAL_EM
    return LATIN_EM


def _text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """An estimate of the drawn width, a little wider than most fonts draw it."""
    return sum(_em(char) for char in text) * font_size


def _fit(text: str, width: float = WIDTH - 2 * PAD) -> str:
    """`text`, cut with an ellipsis where it would run past `width`. The data table
    keeps the whole text."""
    if _text_width(text) <= width:
        return text
    room = width - _text_width(ELLIPSIS)
    used = 0.0
    for end, char in enumerate(text):
        used += _em(char) * FONT_SIZE
        if used > room:
            return text[:end].rstrip() + ELLIPSIS
    return text
