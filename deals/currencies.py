"""ISO 4217 currencies in use, from the Unicode CLDR data that Babel maintains."""

import datetime
from functools import cache

from babel import Locale
from babel.numbers import get_currency_name, get_currency_precision, get_territory_currencies
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

USD = "USD"
# Spellings clerks use that are not ISO 4217 codes; RMB is the contract's alias of CNY.
ALIASES = {"RMB": "CNY", "US$": "USD", "$": "USD", "人民币": "CNY", "美元": "USD", "欧元": "EUR"}


@cache
def currency_codes() -> frozenset[str]:
    """Codes that are legal tender somewhere today: no test (XTS), no-currency (XXX),
    metal, fund or withdrawn codes, and not the offshore yuan CNH, which is no ISO code."""
    today = datetime.date.today()
    codes: set[str] = set()
    for territory in Locale("en").territories:
        if territory.isalpha():
            codes.update(get_territory_currencies(territory, today, tender=True))
    return frozenset(codes)


def normalize_currency(value: str) -> str:
    text = value.strip()
    return ALIASES.get(text.upper(), ALIASES.get(text, text.upper()))


def validate_currency(value: str) -> None:
    if value not in currency_codes():
        raise ValidationError(
            _("“%(code)s” is not an ISO 4217 currency code in use (for example USD, CNY, EUR)."),
            code="unknown_currency",
            params={"code": value},
        )


def currency_decimals(code: str) -> int:
    """Minor units of a currency: 2 for USD, 0 for JPY, 3 for BHD."""
    return get_currency_precision(code)


def currency_name(code: str) -> str:
    locale = "en" if (get_language() or "zh-hans").startswith("en") else "zh_Hans_CN"
    return get_currency_name(code, locale=locale)


def currency_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} · {currency_name(code)}") for code in sorted(currency_codes())]
