"""Text that a spreadsheet program would run as a formula, escaped on export and
restored on import so that a round trip gives back exactly what was stored."""

from __future__ import annotations

# A cell whose text starts with one of these is run as a formula by Excel, LibreOffice
# or Google Sheets (tab and carriage return are how an attacker hides one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    # Quotes already in front count too, so that text stored as `'=1` is exported as
    # `''=1` and comes back as `'=1`, not as `=1`.
    return text.lstrip("'").startswith(FORMULA_STARTS)


def escape_formula(value):
    """Text that starts like a formula gets a leading `'`; anything else (numbers, dates,
    None, other text) is returned unchanged."""
    if isinstance(value, str) and _looks_like_formula(value):
        return "'" + value
    return value


def unescape_formula(value):
    """Undo `escape_formula`: drop one `'` in front of text that starts like a formula,
    and only there (`'hello` stays `'hello`)."""
    if isinstance(value, str) and value.startswith("'") and _looks_like_formula(value[1:]):
        return value[1:]
    return value
