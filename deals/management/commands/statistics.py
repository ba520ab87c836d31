"""Print a delegation's headline figures at an edition, as a table or as JSON.

python manage.py statistics --edition "CIIE 2019" --delegation Beijing
python manage.py statistics --edition 第二届进博会 --delegation 北京 --json
"""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext_lazy as _

from deals.stats import BASIS_LABELS, FIGURE_LABELS, Figure, Headline, headline_figures
from delegations.models import Delegation, Edition, OrganizationKind

NOTHING = "-"


class Command(BaseCommand):
    # argparse needs plain strings: translated when the parser is built, not at import.
    @property
    def help(self) -> str:
        return str(
            _(
                "Print the headline figures of a delegation (its sub-delegations included) at "
                "a fair edition, with the change against the previous edition."
            )
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--edition",
            required=True,
            help=str(_("The fair edition: CIIE 2019, ciie-2019, 2nd CIIE, 第二届进博会, ...")),
        )
        parser.add_argument(
            "--delegation",
            required=True,
            help=str(
                _("The delegation's Chinese or English name or its slug: 北京, Beijing, beijing")
            ),
        )
        parser.add_argument("--json", action="store_true", help=str(_("Print JSON, not a table.")))

    def handle(self, *args, **options) -> None:
        edition = find_edition(options["edition"])
        delegation = find_delegation(options["delegation"], edition=edition)
        headline = headline_figures(delegation=delegation)
        if options["json"]:
            self.stdout.write(as_json_text(headline))
        else:
            self.stdout.write(as_table(headline))


def find_edition(text: str) -> Edition:
    try:
        return Edition.objects.lookup(text)
    except Edition.DoesNotExist:
        known = ", ".join(
            Edition.objects.order_by("fair__code", "starts_on").values_list("slug", flat=True)
        )
        raise CommandError(
            _("No fair edition is called “%(text)s”. Known editions: %(known)s.")
            % {"text": text, "known": known}
        ) from None


def find_delegation(text: str, *, edition: Edition) -> Delegation:
    delegations = Delegation.objects.top_level()
    try:
        return delegations.lookup(text, edition=edition)
    except Delegation.DoesNotExist:
        names = [
            f"{zh} ({en})" if en else zh
            for zh, en in delegations.filter(edition=edition)
            .order_by("slug")
            .values_list("name_zh", "name_en")
        ]
        if names:
            known = _("Delegations at %(edition)s: %(names)s.") % {
                "edition": edition,
                "names": ", ".join(names),
            }
        else:
            known = _("No delegation is recorded at %(edition)s.") % {"edition": edition}
        raise CommandError(
            _("No delegation is called “%(text)s” at %(edition)s. %(known)s")
            % {"text": text, "edition": edition, "known": known}
        ) from None


def as_json_text(headline: Headline) -> str:
    return json.dumps(headline.as_json(), ensure_ascii=False, indent=2)


def as_table(headline: Headline) -> str:
    previous = headline.previous_delegation
    title = f"{headline.delegation.name} · {headline.edition}"
    if previous is not None:
        subtitle = _("Compared with %(edition)s.") % {"edition": previous.edition}
    else:
        subtitle = _("No previous edition of this delegation to compare with.")
    rows = [[_("figure"), _("value"), _("previous"), _("change"), _("basis")]]
    for figure in headline.figures.values():
        rows.extend(figure_rows(figure))
    return "\n".join([title, str(subtitle), "", *table_lines(rows)])


def figure_rows(figure: Figure) -> list[list[str]]:
    label = str(FIGURE_LABELS[figure.key])
    basis = str(BASIS_LABELS[figure.basis])
    if not isinstance(figure.value, dict):
        return [
            [
                label,
                number(figure.value),
                number(figure.previous),
                percentage_change(figure.change),
                basis,
            ]
        ]
    # A breakdown: a heading row, then one indented row per part.
    rows = [[label, "", "", "", basis]]
    previous = figure.previous or {}
    changes = figure.change or {}
    for part, value in figure.value.items():
        rows.append(
            [
                f"  {OrganizationKind(part).label}",
                number(value),
                number(previous.get(part)),
                percentage_change(changes.get(part)),
                "",
            ]
        )
    return rows


def number(value: int | Decimal | float | None) -> str:
    if value is None:
        return NOTHING
    if isinstance(value, Decimal):
        return f"US${value:,.2f}"
    if isinstance(value, float):
        return f"{value:.1%}"
    return f"{value:,}"


def percentage_change(change: float | None) -> str:
    return NOTHING if change is None else f"{change:+.1%}"


def table_lines(rows: list[list[str]]) -> list[str]:
    """Rows padded into columns; Chinese characters take two columns of a terminal."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(width(row[column]) for row in cells) for column in range(len(cells[0]))]
    lines = []
    for row in cells:
        padded = []
        for column, cell in enumerate(row):
            pad = " " * (widths[column] - width(cell))
            # Numbers to the right, words to the left.
            padded.append(pad + cell if 0 < column < 4 else cell + pad)
        lines.append("  ".join(padded).rstrip())
    return lines


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
