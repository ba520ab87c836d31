"""Validators for identifiers the bureau records: the Unified Social Credit Code."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 31 characters, the Latin letters I, O, S, V and Z left out.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
# GB 11714: the 9-character organization code embedded at positions 9-17.
ORG_CODE_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_check_character(first17: str) -> str:
    """The 18th character of a Unified Social Credit Code whose first 17 are given."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why `code` is not a valid Unified Social Credit Code, or None when it is."""
    if len(code) != 18:
        return _("must be 18 characters, not %(n)d") % {"n": len(code)}
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        return _("contains %(chars)s, which a credit code never uses (no I, O, S, V, Z)") % {
            "chars": ", ".join(f"“{c}”" for c in dict.fromkeys(bad))
        }
    if not code[2:8].isdigit():
        return _("characters 3 to 8 must be digits (the administrative division code)")
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return _("check character is %(got)s but should be %(want)s") % {
            "got": code[17],
            "want": expected,
        }
    return None


def validate_uscc(value: str) -> None:
    problem = uscc_problem(value)
    if problem:
        raise ValidationError(
            _("“%(code)s” is not a valid Unified Social Credit Code: %(problem)s."),
            code="invalid_uscc",
            params={"code": value, "problem": problem},
        )


def organization_code_warning(code: str) -> str | None:
    """A warning when the organization code inside a valid USCC fails its own check.

    Positions 9-17 carry a GB 11714 code with its own check digit. Codes issued in the
    transition years do not always satisfy it, so this is a warning, never a refusal.
    """
    body, check = code[8:16], code[16]
    if not all(c.isdigit() or "A" <= c <= "Z" for c in body):
        return _("the organization code %(oc)s has characters GB 11714 does not use") % {
            "oc": code[8:17]
        }
    values = [int(c) if c.isdigit() else ord(c) - ord("A") + 10 for c in body]
    remainder = 11 - sum(v * w for v, w in zip(values, ORG_CODE_WEIGHTS, strict=True)) % 11
    expected = {10: "X", 11: "0"}.get(remainder, str(remainder))
    if check != expected:
        return _(
            "the organization code %(oc)s inside it has check digit %(got)s, expected %(want)s"
        ) % {
            "oc": code[8:17],
            "got": check,
            "want": expected,
        }
    return None
