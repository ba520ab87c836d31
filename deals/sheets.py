"""The spreadsheet contract as data: every sheet, its columns with their Chinese headers
and aliases, and the parsers that read the values a clerk types.

The contract itself is `docs/spreadsheets.md`. It may grow (new optional columns, more
aliases, more accepted spellings) but never break: a header or a value accepted once is
accepted for good. The importer (`deals.importer`), the exports and the blank templates
all read their sheets and headers from here.
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from typing import Any

from django.db.models import Model, TextChoices
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from django_countries.data import COUNTRIES as OFFICIAL_COUNTRY_NAMES

from delegations.models import (
    Delegation,
    Organization,
    OrganizationKind,
    Registration,
    RegistrationStatus,
)
from delegations.validators import uscc_problem

from .currencies import currency_codes, currency_decimals, normalize_currency
from .formulas import escape_formula, unescape_formula
from .models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    CiftisPledge,
    ExchangeRate,
    Exhibitor,
    IntentionStage,
    InvestmentIntention,
    PledgeStatus,
    Visit,
)

__all__ = [
    "SHEETS",
    "Bilingual",
    "CellError",
    "Column",
    "Message",
    "Sheet",
    "escape_formula",
    "label_key",
    "parse_amount",
    "parse_choice",
    "parse_country",
    "parse_credit_code",
    "parse_currency",
    "parse_date",
    "parse_integer",
    "parse_rate",
    "parse_text",
    "parse_yes_no",
    "sheet_named",
    "unescape_formula",
]

ZH = "zh-hans"
EN = "en"


# ---------------------------------------------------------------------------------------
# Messages in both languages
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bilingual:
    """A name that exists in both languages (a sheet, a column), shown in the active one."""

    zh: str
    en: str

    def __str__(self) -> str:
        language = translation.get_language() or ZH
        return self.en if language.startswith("en") else self.zh


class Message:
    """A translatable message with its values, rendered in Chinese and in English.

    `gettext_lazy(...) % values` would be rendered at once in the active language; a
    clerk's answer needs both, so the template and the values are kept apart until then.
    """

    def __init__(self, template, **values: Any) -> None:
        self.template = template
        self.values = values

    def render(self, language: str) -> str:
        with translation.override(language):
            text = str(self.template)
            if not self.values:
                return text
            return text % {name: _rendered(value) for name, value in self.values.items()}

    @property
    def zh(self) -> str:
        return self.render(ZH)

    @property
    def en(self) -> str:
        return self.render(EN)

    def __str__(self) -> str:
        return self.render(translation.get_language() or ZH)


def _rendered(value: Any) -> Any:
    if isinstance(value, Message):
        return value.render(translation.get_language() or ZH)
    if callable(value):  # text that is made in the active language when it is asked for
        return str(value())
    if isinstance(value, int | float | Decimal):
        return value
    return str(value)


class CellError(ValueError):
    """A value a parser cannot accept, with the reason in Chinese (.zh) and English (.en)."""

    def __init__(self, template, **values: Any) -> None:
        self.message = Message(template, **values)
        super().__init__(self.message.en)

    @property
    def zh(self) -> str:
        return self.message.zh

    @property
    def en(self) -> str:
        return self.message.en


# ---------------------------------------------------------------------------------------
# Normalising what clerks type
# ---------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def label_key(text: str) -> str:
    """A header or sheet name as compared: full-width forms made plain (NFKC), case
    folded, `_` and `-` read as spaces, runs of spaces made one, a trailing `*` (the
    mark of a required column in some templates) dropped."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = text.replace("_", " ").replace("-", " ")
    return _SPACES.sub(" ", text).strip().rstrip("*").strip()


def plain(text: str) -> str:
    """A value as compared for names: full-width forms made plain, case folded, runs of
    spaces made one, surrounding spaces gone."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value: Any) -> str:
    """A text cell: surrounding spaces gone, the `'` that escapes a formula dropped.
    A number typed into a text column is read as it shows (2019, not 2019.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(_("This cell holds no usable value."))
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return unescape_formula(str(value).strip())


# ---------------------------------------------------------------------------------------
# Yes / no
# ---------------------------------------------------------------------------------------

YES = frozenset({"yes", "y", "true", "1", "是", "t"})
NO = frozenset({"no", "n", "false", "0", "否", "f"})


def parse_yes_no(value: Any) -> bool:
    """`yes/no`, `y/n`, `true/false`, `1/0`, `是/否`, or a spreadsheet's TRUE/FALSE.
    Anything else is an error, never a silent no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = plain(parse_text(value))
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError(
        _("“%(value)s” is not yes or no: write yes/no, y/n, true/false, 1/0 or 是/否."),
        value=parse_text(value),
    )


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_TIME = r"(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
DATE_FORMS = [
    # 2019-11-05, 2019/11/5, 2019.11.5, with a midnight time as some programs add it
    (re.compile(rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_TIME}$"), False),
    # 2019年11月5日
    (re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?$"), False),
    # 5 Nov 2019, 05-Nov-2019, 5 November 2019
    (re.compile(r"^(?P<d>\d{1,2})[ -](?P<mon>[a-z]{3,9})\.?,?[ -](?P<y>\d{4})$"), True),
    # Nov 5, 2019, November 5th 2019
    (re.compile(r"^(?P<mon>[a-z]{3,9})\.? (?P<d>\d{1,2})(?:st|nd|rd|th)?,? (?P<y>\d{4})$"), True),
    # 20191105
    (re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"), False),
]
EXCEL_EPOCH = datetime.date(1899, 12, 30)
# Day numbers of a spreadsheet that lost its date format: 1954 to 2119.
EXCEL_SERIALS = range(20_000, 80_000)


def parse_date(value: Any) -> datetime.date:
    """`2019-11-05`, `2019/11/5`, `2019.11.5`, `5 Nov 2019`, `Nov 5, 2019`,
    `2019年11月5日`, `20191105`, or a real spreadsheet date."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and float(value).is_integer():
            number = int(value)
            if 19_000_101 <= number <= 21_001_231:
                return parse_date(str(number))
            if number in EXCEL_SERIALS:
                return EXCEL_EPOCH + datetime.timedelta(days=number)
        raise _not_a_date(value)
    text = unicodedata.normalize("NFKC", parse_text(value)).strip().casefold()
    for pattern, named_month in DATE_FORMS:
        found = pattern.match(text)
        if not found:
            continue
        parts = found.groupdict()
        month = MONTHS.get(parts["mon"]) if named_month else int(parts["m"])
        if month is None:
            break
        try:
            return datetime.date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            raise CellError(_("“%(value)s” is not a day of the calendar."), value=value) from None
    raise _not_a_date(value)


def _not_a_date(value: Any) -> CellError:
    return CellError(
        _(
            "“%(value)s” is not a date: write it as 2019-11-05, 2019/11/5, 5 Nov 2019 "
            "or 2019年11月5日."
        ),
        value=parse_text(value) if not isinstance(value, float) else value,
    )


# ---------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\d+(?:\.\d+)?(?:e[+-]?\d+)?$|^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_NEGATIVE = re.compile(r"^(?:[-−]\s*\S+|\(\s*[\d.,]+\s*\))$")
# Amounts are stored with 18 digits, two of them after the point.
AMOUNT_LIMIT = Decimal(10) ** 16


def _decimal(value: Any) -> Decimal:
    """A number cell as a Decimal, or a CellError that says why it is not one."""
    if isinstance(value, bool):
        raise CellError(_("“%(value)s” is not a number."), value=parse_text(value))
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(_("This number is too large or not a number."))
        number = Decimal(repr(value))
    else:
        text = unicodedata.normalize("NFKC", parse_text(value)).replace(" ", "").casefold()
        if _NEGATIVE.match(text):
            raise CellError(_("“%(value)s” is negative; it must be at least 0."), value=text)
        if text.startswith("+"):
            text = text[1:]
        if not _NUMBER.match(text):
            raise CellError(
                _(
                    "“%(value)s” is not a number: write it as 710000000, 710,000,000 "
                    "or 710000000.00."
                ),
                value=parse_text(value),
            )
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern above rules it out
            raise CellError(_("“%(value)s” is not a number."), value=text) from None
    if not number.is_finite():
        raise CellError(_("This number is too large or not a number."))
    if number < 0:
        raise CellError(_("“%(value)s” is negative; it must be at least 0."), value=number)
    if abs(number.adjusted()) > 30:
        return number
    # Written out without trailing zeros (710000000.00 and 710000000.0 are 710000000),
    # as the model's decimal validator counts them.
    return Decimal(format(number.normalize(), "f"))


def decimal_places(number: Decimal) -> int:
    """Places after the point that matter: 1.50 has one, 100.00 none."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_amount(value: Any, currency: str | None = None) -> Decimal:
    """`710000000`, `710,000,000` or `710000000.00`, at least 0, with no more decimals
    than the currency has (JPY none, USD two, BHD three) and than an amount keeps (two)."""
    number = _decimal(value)
    if number >= AMOUNT_LIMIT:
        raise CellError(
            _("%(value)s is too large for an amount (at most 16 digits before the point)."),
            value=_shown(number),
        )
    check_decimals(number, currency)
    return number


def check_decimals(number: Decimal, currency: str | None) -> None:
    """CellError when `number` has more decimals than `currency` has, or than the two an
    amount is kept with."""
    places = decimal_places(number)
    if currency and places > currency_decimals(currency):
        raise CellError(
            _("%(value)s has more decimals than %(currency)s has (%(places)s)."),
            value=_shown(number),
            currency=currency,
            places=currency_decimals(currency),
        )
    if places > 2:
        raise CellError(
            _("%(value)s has more than two decimals; amounts are kept to the hundredth."),
            value=_shown(number),
        )


def parse_integer(value: Any) -> int:
    """A whole number: `12`, `1,200`, or a spreadsheet's 12.0."""
    number = _decimal(value)
    if number != number.to_integral_value():
        raise CellError(_("%(value)s is not a whole number."), value=_shown(number))
    if number > 2_147_483_647:
        raise CellError(_("%(value)s is too large."), value=_shown(number))
    return int(number)


def parse_rate(value: Any) -> Decimal:
    """US dollars per unit of a currency: more than 0, at most eight decimals."""
    number = _decimal(value)
    if number <= 0:
        raise CellError(_("A rate must be more than zero."))
    if decimal_places(number) > 8 or number >= Decimal(10) ** 10:
        raise CellError(
            _(
                "%(value)s is not a rate we can keep: at most 10 digits before the point "
                "and 8 after."
            ),
            value=_shown(number),
        )
    return number


def _shown(number: Decimal) -> str:
    return format(number, "f") if abs(number.adjusted()) < 30 else format(number, "E")


# ---------------------------------------------------------------------------------------
# Credit codes
# ---------------------------------------------------------------------------------------


def parse_credit_code(value: Any) -> str:
    """A Unified Social Credit Code: 18 characters with a valid check character. A code
    that arrives as a number was typed into a number column, which keeps 15 digits at
    most: the column must be formatted as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(
            _(
                "The credit code arrived as a number (%(value)s), which loses digits. Format "
                "the column as text and type the code again."
            ),
            value=parse_text(value),
        )
    code = unicodedata.normalize("NFKC", parse_text(value)).replace(" ", "").upper()
    if uscc_problem(code):
        raise CellError(
            _("“%(code)s” is not a valid Unified Social Credit Code: %(problem)s."),
            code=code,
            problem=lambda: uscc_problem(code),
        )
    return code


# ---------------------------------------------------------------------------------------
# Currencies and countries
# ---------------------------------------------------------------------------------------


def parse_currency(value: Any) -> str:
    """An ISO 4217 code in use (`CNY`, `EUR`), or `RMB` for CNY; `XXX`, `CNH` and
    withdrawn codes are refused."""
    text = parse_text(value)
    code = normalize_currency(unicodedata.normalize("NFKC", text))
    if code not in currency_codes():
        raise CellError(
            _(
                "“%(value)s” is not an ISO 4217 currency code in use: write USD, CNY (or RMB), "
                "EUR, JPY, ..."
            ),
            value=text,
        )
    return code


# Forms clerks write that the country list does not hold. Hong Kong, Macao and Taiwan
# are regions of China, whichever form is used.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "GB": (
        "UK",
        "U.K.",
        "Britain",
        "Great Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "英格兰",
        "大不列颠",
    ),
    "US": ("US", "U.S.", "USA", "U.S.A.", "United States", "America", "美利坚合众国", "美國"),
    "CN": (
        "PRC",
        "P.R.C.",
        "P.R. China",
        "People's Republic of China",
        "Mainland China",
        "中华人民共和国",
        "中国大陆",
        "中國",
    ),
    "HK": (
        "Hong Kong",
        "Hongkong",
        "Hong Kong SAR",
        "HKSAR",
        "Hong Kong SAR, China",
        "Hong Kong (China)",
        "香港",
        "中国香港特别行政区",
        "香港特别行政区",
    ),
    "MO": (
        "Macao",
        "Macau",
        "Macao SAR",
        "Macau SAR",
        "Macau, China",
        "Macao (China)",
        "Macau (China)",
        "澳门",
        "澳門",
        "中国澳门特别行政区",
        "澳门特别行政区",
    ),
    "TW": (
        "Taiwan",
        "Taiwan (China)",
        "Taiwan Province of China",
        "Chinese Taipei",
        "台湾",
        "臺灣",
        "台湾地区",
        "中国台湾地区",
    ),
    "KR": (
        "Korea",
        "Republic of Korea",
        "Korea, Republic of",
        "ROK",
        "S. Korea",
        "大韩民国",
        "南韩",
        "韓國",
    ),
    "KP": ("DPRK", "Democratic People's Republic of Korea", "N. Korea"),
    "RU": ("Russian Federation", "俄罗斯联邦"),
    "VN": ("Viet Nam",),
    "CZ": ("Czech Republic", "Czechia", "捷克共和国"),
    "TR": ("Turkey", "Turkiye"),
    "AE": ("UAE", "U.A.E.", "Emirates", "阿联酋"),
    "NL": ("Holland", "The Netherlands", "尼德兰"),
    "IR": ("Islamic Republic of Iran",),
    "LA": ("Lao PDR", "Lao"),
    "SY": ("Syrian Arab Republic",),
    "MD": ("Republic of Moldova",),
    "TZ": ("United Republic of Tanzania",),
    "BO": ("Plurinational State of Bolivia",),
    "VE": ("Bolivarian Republic of Venezuela",),
    "BN": ("Brunei Darussalam",),
    "CI": ("Ivory Coast", "Cote d'Ivoire"),
    "MM": ("Burma",),
    "SZ": ("Swaziland", "Eswatini"),
    "MK": ("Macedonia", "North Macedonia", "北马其顿"),
    "CV": ("Cape Verde",),
    "VA": ("Vatican", "Holy See"),
    "SA": ("KSA",),
    "DE": ("Deutschland",),
}


def country_key(text: str) -> str:
    """A country's name as compared: plain forms, no accents, no dots, commas or
    brackets, no leading `the`."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[.,()（）]", " ", text.replace(".", "").replace("’", "'"))
    text = _SPACES.sub(" ", text).strip()
    return text.removeprefix("the ")


@cache
def country_index() -> dict[str, str]:
    """Every accepted spelling of every country or region, to its ISO alpha-2 code.
    The first claim wins: our aliases, then the names shown in either language, then
    django-countries' common, old and official names."""
    index: dict[str, str] = {}

    def claim(name: str, code: str) -> None:
        key = country_key(name)
        if key:
            index.setdefault(key, code)

    codes = [country.code for country in countries]
    for code in codes:
        claim(code, code)
        alpha3 = countries.alpha3(code)
        if alpha3:
            claim(alpha3, code)
    for code, names in COUNTRY_ALIASES.items():
        for name in names:
            claim(name, code)
    for language in (EN, ZH):
        with translation.override(language):
            for country in countries:
                claim(str(country.name), country.code)
    for language in (EN, ZH):
        with translation.override(language):
            for code, name in countries.COMMON_NAMES.items():
                claim(str(name), code)
            for code, names in countries.OLD_NAMES.items():
                for name in names:
                    claim(str(name), code)
    with translation.override(EN):
        for code, name in OFFICIAL_COUNTRY_NAMES.items():
            claim(str(name), code)
    return index


def parse_country(value: Any) -> str:
    """An ISO 3166 alpha-2 code from a code (`GB`, `GBR`) or a common English or Chinese
    name (`U.K.`, `United Kingdom`, `英国`; `Hong Kong, China`, `中国香港`)."""
    text = parse_text(value)
    code = country_index().get(country_key(text))
    if code is None:
        raise CellError(
            _(
                "“%(value)s” is not a country or region we know: write its ISO code (GB) "
                "or its name (United Kingdom, 英国)."
            ),
            value=text,
        )
    return code


# ---------------------------------------------------------------------------------------
# Closed lists: kinds, statuses, stages
# ---------------------------------------------------------------------------------------

# The contract's Chinese labels, accepted whatever the translation catalog says.
CHOICE_ALIASES: dict[type[TextChoices], dict[str, tuple[str, ...]]] = {
    OrganizationKind: {
        "government": ("政府机构", "government organisation", "政府"),
        "public_institution": ("事业单位",),
        "industry_association": ("行业协会", "industrial association", "association", "协会"),
        "state_owned": ("国有企业", "state-owned", "soe", "国企"),
        "private": ("民营企业", "private company", "私营企业", "民企"),
        "hk_macao_taiwan": ("港澳台企业", "港澳台"),
        "foreign_funded": ("外资企业", "foreign-funded", "外企"),
        "foreign": ("境外机构", "foreign organisation", "境外企业"),
    },
    RegistrationStatus: {
        "registered": ("已报名", "报名"),
        "attended": ("已参会", "参会"),
        "withdrawn": ("已退出", "退出"),
    },
    AgreementKind: {
        "purchase": ("采购协议", "采购"),
        "strategic_cooperation": ("战略合作协议", "战略合作", "strategic cooperation"),
    },
    AgreementStatus: {
        "signed": ("已签约", "签约"),
        "executed": ("已执行", "执行"),
        "cancelled": ("已取消", "取消", "canceled"),
    },
    IntentionStage: {
        "expressed": ("已表达", "有意向", "意向"),
        "negotiating": ("洽谈中", "洽谈"),
        "signed": ("已签约", "签约"),
        "landed": ("已落地", "落地"),
        "dropped": ("已放弃", "放弃"),
    },
    PledgeStatus: {
        "pledged": ("已承诺", "承诺"),
        "registered": ("已报名", "报名"),
        "attended": ("已参会", "参会"),
        "withdrawn": ("已退出", "退出"),
    },
}


@cache
def choice_index(choices: type[TextChoices]) -> dict[str, str]:
    """Every accepted spelling of a closed list's values: the key, the English and
    Chinese labels, the contract's aliases."""
    index: dict[str, str] = {}
    for value in choices.values:
        index.setdefault(label_key(value), value)
    for value, aliases in CHOICE_ALIASES.get(choices, {}).items():
        for alias in aliases:
            index.setdefault(label_key(alias), value)
    for language in (EN, ZH):
        with translation.override(language):
            for value, label in choices.choices:
                index.setdefault(label_key(str(label)), value)
    return index


def parse_choice(value: Any, choices: type[TextChoices]) -> str:
    """A value of a closed list, by its key or its English or Chinese label."""
    text = parse_text(value)
    found = choice_index(choices).get(label_key(text))
    if found is None:
        raise CellError(
            _("“%(value)s” is not one of: %(accepted)s."),
            value=text,
            accepted=Message(
                _("%(keys)s (or their Chinese names)"), keys=", ".join(choices.values)
            ),
        )
    return found


# ---------------------------------------------------------------------------------------
# The sheets and their columns
# ---------------------------------------------------------------------------------------

Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its English key (the English header), its Chinese header,
    other headers accepted for it, and how its cells are read."""

    key: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    is_key: bool = False
    parser: Parser = parse_text
    # What a cell may hold, for templates and documentation.
    help: str = ""
    # Written on export for the reader, ignored on import (computed by the product).
    computed: bool = False
    # A column the contract does not list: one of the project's extensions.
    extension: bool = False

    @property
    def label(self) -> Bilingual:
        return Bilingual(zh=self.zh, en=self.key)

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this column, as written."""
        return (self.key, self.zh, *self.aliases)


@dataclass(frozen=True)
class Sheet:
    """A sheet of the contract: its English and Chinese names and the model it fills."""

    name_en: str
    name_zh: str
    model: type[Model]
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    extension: bool = False
    _by_key: dict[str, Column] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {column.key: column for column in self.columns})

    def __str__(self) -> str:
        return f"{self.name_en} / {self.name_zh}"

    @property
    def label(self) -> Bilingual:
        return Bilingual(zh=self.name_zh, en=self.name_en)

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def has_column(self, key: str) -> bool:
        return key in self._by_key

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.required)

    @property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.is_key)

    def header_index(self) -> dict[str, Column]:
        """Every accepted header of the sheet, compared as `label_key` does, to its column."""
        return _header_index(self)


@cache
def _header_index(sheet: Sheet) -> dict[str, Column]:
    index: dict[str, Column] = {}
    for column in sheet.columns:
        for header in column.headers:
            index.setdefault(label_key(header), column)
    return index


YES_NO = _("yes/no, y/n, true/false, 1/0, 是/否")
DATE = _("a date: 2019-11-05, 2019/11/5, 5 Nov 2019, 2019年11月5日")
EDITION = _("a fair edition: CIIE 2019, 第二届进博会, 2nd CIIE")
AMOUNT = _("a number at least 0: 710000000, 710,000,000 or 710000000.00")
COUNTRY = _("an ISO code or a name: GB, United Kingdom, U.K., 英国; HK, Hong Kong, China, 中国香港")
CURRENCY = _("an ISO 4217 code (USD, CNY, EUR, ...; RMB is read as CNY); USD when empty")
ORGANIZATION = _("the organization's Chinese or English name, as recorded")
CREDIT_CODE = _("18 characters, check character verified")


def yes_no_column(key: str, zh: str, *aliases: str, **options: Any) -> Column:
    return Column(key, zh, aliases, parser=parse_yes_no, help=YES_NO, **options)


def choice_column(
    key: str, zh: str, choices: type[TextChoices], *aliases: str, **options: Any
) -> Column:
    return Column(
        key,
        zh,
        aliases,
        parser=partial(parse_choice, choices=choices),
        help=", ".join(choices.values),
        **options,
    )


def illustrative_column() -> Column:
    return yes_no_column(
        "illustrative", "示例数据", "demo", "demo data", "illustrative data", extension=True
    )


def edition_column(key: str = "edition", zh: str = "届次", *aliases: str, **options) -> Column:
    return Column(
        key,
        zh,
        ("fair edition", "展会届次", "届别", *aliases),
        required=True,
        help=EDITION,
        **options,
    )


def delegation_column(**options: Any) -> Column:
    return Column(
        "delegation",
        "交易团",
        ("delegation name", "交易团名称", "所属交易团"),
        required=True,
        help=_("the delegation's Chinese or English name, e.g. Beijing / 北京"),
        **options,
    )


def organization_column(**options: Any) -> Column:
    return Column(
        "organization",
        "组织名称",
        ("organisation", "organization name", "company", "组织", "单位名称", "企业名称"),
        required=True,
        help=ORGANIZATION,
        **options,
    )


def credit_code_column(
    key: str = "credit_code", zh: str = "统一社会信用代码", *aliases: str, **options
) -> Column:
    return Column(
        key,
        zh,
        aliases or ("uscc", "unified social credit code", "信用代码", "社会信用代码"),
        parser=parse_credit_code,
        help=CREDIT_CODE,
        **options,
    )


def country_column(**options: Any) -> Column:
    return Column(
        "country",
        "国家或地区",
        ("country or region", "country/region", "region", "国家/地区", "国家地区", "国家", "国别"),
        parser=parse_country,
        help=COUNTRY,
        **options,
    )


def currency_column() -> Column:
    return Column(
        "currency", "币种", ("货币", "currency code"), parser=parse_currency, help=CURRENCY
    )


def sector_column(key: str = "sector", zh: str = "领域", *aliases: str) -> Column:
    return Column(
        key, zh, aliases or ("行业领域",), help=_("a sector the bureau keeps, by name or code")
    )


SHEETS: list[Sheet] = [
    Sheet(
        "Delegations",
        "交易团",
        Delegation,
        (
            edition_column(is_key=True),
            Column(
                "name",
                "名称",
                ("delegation", "delegation name", "交易团名称", "中文名称", "name zh"),
                required=True,
                is_key=True,
                help=_("e.g. Beijing / 北京; either name matches afterwards"),
            ),
            Column("name_en", "英文名称", ("english name",)),
            Column(
                "organizer",
                "组织单位",
                ("organiser", "organizing authority", "organising authority", "主办单位"),
            ),
            Column(
                "organizer_en",
                "组织单位英文名称",
                ("organizer (english)", "organiser en", "组织单位(英文)"),
                extension=True,
            ),
            Column(
                "parent",
                "上级交易团",
                ("parent delegation", "上级", "所属交易团"),
                help=_("for a sub-delegation (交易分团): the delegation it belongs to"),
            ),
            illustrative_column(),
        ),
        aliases=("delegation", "交易团名单"),
    ),
    Sheet(
        "Organizations",
        "组织",
        Organization,
        (
            Column(
                "name",
                "名称",
                (
                    "organization",
                    "organisation",
                    "组织名称",
                    "单位名称",
                    "企业名称",
                    "中文名称",
                    "name zh",
                ),
                required=True,
                help=_("Chinese or original name"),
            ),
            Column("name_en", "英文名称", ("english name",)),
            credit_code_column(is_key=True),
            choice_column(
                "kind",
                "类型",
                OrganizationKind,
                "organization kind",
                "组织类型",
                "单位类型",
                "企业类型",
                required=True,
            ),
            country_column(),
            Column("industry", "行业", ("所属行业",)),
            Column(
                "annual_imports_usd",
                "年进口额（美元）",
                ("annual imports", "annual imports (usd)", "yearly imports", "年进口额"),
                parser=parse_amount,
                help=_("yearly imports in US$, a number at least 0"),
            ),
            illustrative_column(),
        ),
        aliases=("organisations", "organization", "组织名单", "单位"),
    ),
    Sheet(
        "Registrations",
        "报名",
        Registration,
        (
            delegation_column(is_key=True),
            edition_column(is_key=True),
            organization_column(is_key=True),
            credit_code_column(),
            Column(
                "participants",
                "参会人数",
                ("participant count", "number of participants", "人数"),
                required=True,
                parser=parse_integer,
                help=_("a whole number, at least 1"),
            ),
            yes_no_column("purchaser", "是否采购商", "is purchaser", "采购商"),
            choice_column("status", "状态", RegistrationStatus, "registration status", "报名状态"),
            Column(
                "registered_on",
                "报名日期",
                ("registration date", "date registered"),
                parser=parse_date,
                help=DATE,
            ),
            illustrative_column(),
        ),
        aliases=("registration", "报名名单"),
    ),
    Sheet(
        "Exhibitors",
        "展商",
        Exhibitor,
        (
            edition_column(is_key=True),
            Column(
                "name",
                "展商名称",
                ("exhibitor", "exhibitor name", "展商", "名称", "企业名称", "参展商"),
                required=True,
                is_key=True,
                help=_("created as an organization if unknown"),
            ),
            Column("name_en", "英文名称", ("english name",)),
            credit_code_column(extension=True),
            country_column(required=True),
            sector_column("exhibition_area", "展区", "exhibition area", "area", "展区名称"),
            Column("booth", "展位", ("booth number", "stand", "展位号"), extension=True),
            illustrative_column(),
        ),
        aliases=("exhibitor", "参展商"),
    ),
    Sheet(
        "Exchange rates",
        "汇率",
        ExchangeRate,
        (
            Column(
                "currency",
                "币种",
                ("货币", "currency code"),
                required=True,
                is_key=True,
                parser=parse_currency,
                help=CURRENCY,
            ),
            Column(
                "valid_on",
                "生效日期",
                ("valid from", "date", "日期", "起始日期"),
                required=True,
                is_key=True,
                parser=parse_date,
                help=DATE,
            ),
            Column(
                "usd_per_unit",
                "美元汇率",
                ("rate", "usd rate", "us$ per unit", "汇率", "兑美元汇率"),
                required=True,
                parser=parse_rate,
                help=_("US$ per one unit of the currency, e.g. 0.1420"),
            ),
            Column("source", "来源", ("rate source", "数据来源")),
        ),
        aliases=("rates", "exchange rate", "汇率表"),
        extension=True,
    ),
    Sheet(
        "Agreements",
        "采购协议",
        Agreement,
        (
            Column(
                "reference",
                "协议编号",
                (
                    "agreement number",
                    "agreement no",
                    "agreement reference",
                    "number",
                    "编号",
                    "协议号",
                ),
                required=True,
                is_key=True,
                help=_("unique"),
            ),
            delegation_column(),
            edition_column(),
            Column(
                "buyer",
                "采购方",
                ("buyer name", "purchaser", "采购商", "采购单位", "采购企业"),
                required=True,
                help=_("must be registered in that delegation at that edition"),
            ),
            credit_code_column(
                "buyer_credit_code",
                "采购方统一社会信用代码",
                "buyer uscc",
                "采购方信用代码",
                extension=True,
            ),
            Column(
                "exhibitors",
                "展商",
                ("exhibitor", "exhibitor names", "sellers", "seller", "展商名称", "参展商"),
                required=True,
                help=_("one or more exhibitor names of that edition, separated by ; or ；"),
            ),
            choice_column("kind", "协议类型", AgreementKind, "agreement kind", "type", "类型"),
            sector_column(),
            Column(
                "amount",
                "金额",
                ("intended amount", "purchase amount", "意向金额", "意向采购金额", "采购金额"),
                required=True,
                parser=parse_amount,
                help=AMOUNT,
            ),
            currency_column(),
            Column(
                "signed_on",
                "签约日期",
                ("date signed", "signing date", "signed", "签约时间"),
                parser=parse_date,
                help=DATE,
            ),
            choice_column("status", "状态", AgreementStatus, "agreement status", "协议状态"),
            yes_no_column("public", "是否公开", "is public", "amount public", "公开"),
            Column(
                "amount_usd",
                "折合美元",
                ("amount (usd)", "us$ equivalent", "美元金额"),
                help=_("computed at the rate of the signing day; ignored on import"),
                computed=True,
                extension=True,
            ),
            illustrative_column(),
        ),
        aliases=("purchase agreements", "agreement", "协议", "签约"),
    ),
    Sheet(
        "Visits",
        "走访",
        Visit,
        (
            delegation_column(is_key=True),
            edition_column(is_key=True),
            organization_column(is_key=True),
            credit_code_column(extension=True),
            Column(
                "visited_on",
                "走访日期",
                ("visit date", "date visited", "date", "日期"),
                required=True,
                is_key=True,
                parser=parse_date,
                help=DATE,
            ),
            Column(
                "visited_by",
                "走访单位",
                ("visitor", "sub-delegation", "sub delegation", "交易分团"),
                help=_("a sub-delegation of the delegation; the delegation itself when empty"),
            ),
            yes_no_column("investment_intention", "有投资意向", "investment intention", "投资意向"),
            yes_no_column(
                "ciftis_interest",
                "有意参加服贸会",
                "ciftis interest",
                "interested in ciftis",
                "服贸会意向",
            ),
            Column("notes", "备注", ("note", "remarks", "说明")),
            illustrative_column(),
        ),
        aliases=("company visits", "visit", "企业走访"),
    ),
    Sheet(
        "Investment intentions",
        "投资意向",
        InvestmentIntention,
        (
            delegation_column(is_key=True),
            edition_column(is_key=True),
            organization_column(is_key=True),
            credit_code_column(extension=True),
            sector_column(),
            Column(
                "amount",
                "金额",
                ("intended investment", "investment amount", "投资金额", "意向金额"),
                parser=parse_amount,
                help=AMOUNT,
            ),
            currency_column(),
            choice_column("stage", "阶段", IntentionStage, "进展", "进展阶段"),
            illustrative_column(),
        ),
        aliases=("intentions", "investment intention", "投资意向名单"),
    ),
    Sheet(
        "CIFTIS pledges",
        "服贸会参会意向",
        CiftisPledge,
        (
            edition_column(
                "fair_edition", "目标展会", "target edition", "target fair", "目标届次", is_key=True
            ),
            organization_column(is_key=True),
            credit_code_column(extension=True),
            country_column(required=True),
            Column(
                "source_delegation",
                "来源交易团",
                ("source delegation", "delegation", "交易团"),
                help=_("the delegation the pledge was made to"),
            ),
            Column(
                "source_edition",
                "来源届次",
                ("source edition", "届次"),
                help=_("the edition at which it was made, e.g. CIIE 2019"),
            ),
            choice_column("status", "状态", PledgeStatus, "pledge status"),
            Column(
                "pledged_on",
                "承诺日期",
                ("pledge date", "date pledged"),
                parser=parse_date,
                help=DATE,
            ),
            illustrative_column(),
        ),
        aliases=("pledges", "ciftis pledge", "服贸会承诺", "服贸会参会承诺"),
    ),
]


@cache
def _sheet_index() -> dict[str, Sheet]:
    index: dict[str, Sheet] = {}
    for sheet in SHEETS:
        for name in (sheet.name_en, sheet.name_zh, *sheet.aliases):
            index.setdefault(label_key(name), sheet)
    return index


def sheet_names() -> Bilingual:
    """The accepted sheet names, for messages: `Delegations / 交易团, ...` in English,
    `交易团（Delegations）、...` in Chinese."""
    return Bilingual(
        zh="、".join(f"{sheet.name_zh}（{sheet.name_en}）" for sheet in SHEETS),
        en=", ".join(str(sheet) for sheet in SHEETS),
    )


def sheet_named(name: str) -> Sheet:
    """The sheet of the contract called `name` in English or Chinese (case and spaces
    do not matter); KeyError naming the accepted names otherwise."""
    found = _sheet_index().get(label_key(name or ""))
    if found is None:
        raise KeyError(
            f"No sheet of the contract is called “{name}”; the sheets are: {sheet_names().en}."
        )
    return found


def sheet_for_model(model: type[Model]) -> Sheet | None:
    return next((sheet for sheet in SHEETS if sheet.model is model), None)
