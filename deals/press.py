"""The bureau's press paragraph, written from the computed figures in each language.

Each sentence is one translatable message with named placeholders, so that the Chinese
reads as Chinese (its word order, 万/亿 amounts) rather than as a word-for-word rendering.
A sentence whose figures are all zero is left out, and a change is mentioned only where
the previous edition has data, with its basis.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, ngettext, npgettext

from delegations.models import Delegation

from . import formatting as fmt
from .stats import BASIS_ATTENDANCE, BASIS_NONE, Figure, Headline

LANGUAGES = ("zh-hans", "en")


@dataclass(frozen=True)
class PressParagraph:
    language: str
    language_name: str
    text: str


def press_paragraphs(*, headline: Headline) -> list[PressParagraph]:
    """The paragraph in every language of the site, Chinese first."""
    names = dict(settings.LANGUAGES)
    paragraphs = []
    for language in LANGUAGES:
        with translation.override(language):
            paragraphs.append(
                PressParagraph(
                    language=language,
                    language_name=names[language],
                    text=press_paragraph(headline=headline),
                )
            )
    return paragraphs


def press_paragraph(*, headline: Headline) -> str:
    """The paragraph in the active language."""
    figures = headline.figures
    delegation = headline.delegation
    value = {key: figure.value for key, figure in figures.items()}
    names = {
        "delegation": _delegation_name(delegation),
        "edition": headline.edition.name,
        "organizer": delegation.top.organizer or _delegation_name(delegation),
    }
    sentences = []
    if value["agreements"]:
        companies, agreements = value["companies_signed"], value["agreements"]
        exhibitors, countries = value["exhibitors"], value["countries_regions"]
        sentences.append(
            gettext(
                "%(companies)s from the %(delegation)s delegation to the %(edition)s signed "
                "%(agreements)s with %(exhibitors)s from %(countries)s."
            )
            % {
                **names,
                "companies": _companies(companies),
                "agreements": _counted(
                    ngettext(
                        "%(count)s purchase agreement", "%(count)s purchase agreements", agreements
                    ),
                    agreements,
                ),
                "exhibitors": _counted(
                    ngettext("%(count)s exhibitor", "%(count)s exhibitors", exhibitors),
                    exhibitors,
                ),
                "countries": _countries(countries),
            }
        )
        amount = figures["intended_purchase_usd"]
        if amount.change is not None:
            sentences.append(
                gettext("The intended purchase amount is %(amount)s, %(change)s year on year.")
                % {"amount": fmt.usd_compact(amount.value), "change": _change(amount)}
            )
        else:
            sentences.append(
                gettext("The intended purchase amount is %(amount)s.")
                % {"amount": fmt.usd_compact(amount.value)}
            )
    if value["registered_organizations"]:
        organizations, participants = figures["registered_organizations"], figures["participants"]
        numbers = {
            **names,
            "organizations": _counted(
                npgettext(
                    "registered in a delegation",
                    "%(count)s organization",
                    "%(count)s organizations",
                    organizations.value,
                ),
                organizations.value,
            ),
            "participants": _counted(
                ngettext("%(count)s participant", "%(count)s participants", participants.value),
                participants.value,
            ),
        }
        if organizations.basis != BASIS_NONE and None not in (
            organizations.change,
            participants.change,
        ):
            if organizations.basis == BASIS_ATTENDANCE:
                message = gettext(
                    "%(organizations)s with %(participants)s registered in the %(delegation)s "
                    "delegation, %(organizations_change)s and %(participants_change)s "
                    "respectively compared with the participation of the previous edition."
                )
            else:
                message = gettext(
                    "%(organizations)s with %(participants)s registered in the %(delegation)s "
                    "delegation, %(organizations_change)s and %(participants_change)s "
                    "respectively compared with the registrations of the previous edition."
                )
            numbers.update(
                organizations_change=_change(organizations),
                participants_change=_change(participants),
            )
        else:
            message = gettext(
                "%(organizations)s with %(participants)s registered in the %(delegation)s "
                "delegation."
            )
        sentences.append(message % numbers)
        large = value["large_importers"]
        sentences.append(
            ngettext(
                "%(share)s of them are purchasers, and %(large)s imports more than "
                "%(threshold)s a year.",
                "%(share)s of them are purchasers, and %(large)s import more than "
                "%(threshold)s a year.",
                large,
            )
            % {
                "share": fmt.percent(value["purchaser_share"]),
                "large": fmt.number(large),
                "threshold": fmt.usd_compact(settings.EXPO["LARGE_IMPORTER_USD"]),
            }
        )
    if value["companies_visited"]:
        intentions = value["investment_intentions"]
        sentences.append(
            gettext(
                "During the expo, %(organizer)s visited %(visited)s; %(intentions)s to invest "
                "in %(city)s and %(interest)s expressed interest in CIFTIS."
            )
            % {
                **names,
                "city": _delegation_name(delegation.top),
                "visited": _companies(value["companies_visited"]),
                "intentions": _counted(
                    ngettext("%(count)s of them intends", "%(count)s of them intend", intentions),
                    intentions,
                ),
                "interest": fmt.number(value["ciftis_interest"]),
            }
        )
    if value["ciftis_pledges"]:
        pledges = value["ciftis_pledges"]
        sentences.append(
            gettext("%(pledges)s from %(countries)s pledged to attend the next CIFTIS.")
            % {
                "pledges": _counted(
                    npgettext(
                        "pledging to attend CIFTIS",
                        "%(count)s organization",
                        "%(count)s organizations",
                        pledges,
                    ),
                    pledges,
                ),
                "countries": _countries(value["ciftis_pledge_countries"]),
            }
        )
        attended = value.get("ciftis_pledges_attended") or 0
        if attended:
            sentences.append(
                ngettext(
                    "%(attended)s of them attended.", "%(attended)s of them attended.", attended
                )
                % {"attended": fmt.number(attended)}
            )
    if not sentences:
        return gettext("Nothing has been recorded for the %(delegation)s delegation yet.") % names
    return ("" if fmt.chinese() else " ").join(sentences)


# Each count is a noun phrase that agrees with its own number ("1 exhibitor", "108
# exhibitors"; 108家参展商): a sentence holds several counts, and gettext's plural forms
# follow one number only.
def _counted(phrase: str, count: int) -> str:
    return phrase % {"count": fmt.number(count)}


def _companies(count: int) -> str:
    return _counted(ngettext("%(count)s company", "%(count)s companies", count), count)


def _countries(count: int) -> str:
    return _counted(
        ngettext("%(count)s country or region", "%(count)s countries and regions", count), count
    )


def _delegation_name(delegation: Delegation) -> str:
    # 北京 and 北京交易团 both name the delegation; the sentence adds 交易团 itself.
    if fmt.chinese():
        return delegation.name_zh.removesuffix("交易团")
    return delegation.name


def _change(figure: Figure) -> str:
    change = figure.change
    percent = fmt.percent(abs(change))
    if change > 0:
        return gettext("up %(percent)s") % {"percent": percent}
    if change < 0:
        return gettext("down %(percent)s") % {"percent": percent}
    return gettext("unchanged")
