"""Figures as people read them, in the active language: 3,107; 91.5%; +33.0%;
US$2.66 billion in English and 26.57亿美元 in Chinese, where amounts are counted in
万 (10⁴) and 亿 (10⁸)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext

Number = int | float | Decimal


def chinese() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def number(value: Number | None, places: int | None = None) -> str:
    if value is None:
        return "–"
    if places is not None:
        # Django's number_format cuts the decimals off: 8.28 would print as 8.2.
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return number_format(value, decimal_pos=places, force_grouping=True)


def percent(fraction: float | None, places: int = 1) -> str:
    """0.915 → 91.5%."""
    if fraction is None:
        return "–"
    return f"{number(Decimal(str(fraction)) * 100, places)}%"


def signed_percent(fraction: float | None, places: int = 1) -> str:
    """0.33 → +33.0%, -0.03 → −3.0% (with a true minus sign)."""
    if fraction is None:
        return "–"
    sign = "+" if fraction > 0 else "−" if fraction < 0 else "±"
    return f"{sign}{percent(abs(fraction), places)}"


def usd(value: Number | None) -> str:
    """The whole amount: US$2,657,000,000."""
    if value is None:
        return "–"
    return f"US${number(Decimal(value).quantize(Decimal(1)))}"


def usd_compact(value: Number | None) -> str:
    """An amount as the bureau writes it in prose: US$2.66 billion, 26.57亿美元."""
    if value is None:
        return "–"
    amount = Decimal(value)
    if chinese():
        found = _unit(amount, [(Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")])
        if found:
            scale, unit = found
            return f"{_trimmed(amount / scale)}{unit}美元"
        return f"{number(amount.quantize(Decimal(1)))}美元"
    found = _unit(
        amount,
        [(Decimal(10) ** 9, gettext("billion")), (Decimal(10) ** 6, gettext("million"))],
    )
    if found:
        scale, unit = found
        return f"US${_trimmed(amount / scale)} {unit}"
    return usd(amount)


def _unit(amount: Decimal, units: list[tuple[Decimal, str]]) -> tuple[Decimal, str] | None:
    """The largest of `units` (largest first) that `amount` reaches once rounded as the
    unit below would print it (to its hundredths; whole dollars below the smallest), so
    that 999,999,999 reads US$1 billion rather than US$1,000 million."""
    for index, (scale, unit) in enumerate(units):
        step = units[index + 1][0] / 100 if index + 1 < len(units) else Decimal(1)
        if abs((amount / step).quantize(Decimal(1))) * step >= scale:
            return scale, unit
    return None


def _trimmed(amount: Decimal) -> str:
    """Two decimals at most, without trailing zeros: 2.66, 10, 1.5."""
    text = number(amount.quantize(Decimal("0.01")), 2)
    decimal_sep = number(Decimal("0.5"), 1)[1]
    if decimal_sep in text:
        text = text.rstrip("0").rstrip(decimal_sep)
    return text
