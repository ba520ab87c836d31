"""Organizations recorded twice: the same company written once in Chinese and once in
English, with and without its credit code, with a space, a bracket or a company suffix
more or less. Suggestions only; a reviewer decides and merges
(`delegations.services.organization_merge`).

Two records are suggested when a name of one (Chinese or English field, whichever
language was typed into it) has the same *key* as a name of the other. The key is the
name case-folded, made half-width (NFKC), without spaces, punctuation, brackets and
trailing company suffixes and legal forms. Two records that both carry a credit code are
never suggested: codes are unique, so they are different legal entities."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from .models import Organization

# Trailing legal forms and company words, longest first so that 股份有限公司 goes
# before 有限公司 and that before 公司. Stripped repeatedly: 集团有限公司 loses both.
CHINESE_SUFFIXES = (
    "有限责任公司",
    "股份有限公司",
    "集团有限公司",
    "股份公司",
    "有限公司",
    "总公司",
    "集团",
    "公司",
)
# Whole words only, after dots are dropped (S.A. is "sa", Co.,Ltd. is "co ltd").
ENGLISH_SUFFIXES = frozenset(
    {
        "ab",
        "ag",
        "as",
        "bv",
        "co",
        "company",
        "corp",
        "corporation",
        "gmbh",
        "group",
        "holding",
        "holdings",
        "inc",
        "incorporated",
        "kg",
        "limited",
        "llc",
        "llp",
        "ltd",
        "nv",
        "oy",
        "plc",
        "pte",
        "pty",
        "sa",
        "sarl",
        "sas",
        "spa",
        "srl",
    }
)
# A key this short says too little to suggest anything.
MIN_KEY_LENGTH = 2
# The per-organization lookup narrows the candidates in SQL with the first letters of
# the key; more would cost the database more than they save.
PREFILTER_LENGTH = 12

_DOTS = re.compile(r"[.·・]")
_WORD = re.compile(r"\w+")


def name_key(name: str) -> str:
    """The key two names of one organization share: `西门子（中国）有限公司` and
    `西门子(中国) 有限公司` are both `西门子中国`; `Siemens Co., Ltd.` is `siemens`."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = _DOTS.sub("", text)
    # Words are runs of letters and digits: spaces, punctuation, brackets and
    # symbols (full-width ones were made half-width above) only separate them.
    words = _WORD.findall(text.replace("_", " "))
    changed = True
    while changed and words:
        changed = False
        if len(words) > 1 and words[-1] in ENGLISH_SUFFIXES:
            words.pop()
            changed = True
            continue
        last = words[-1]
        for suffix in CHINESE_SUFFIXES:
            if last.endswith(suffix) and (len(last) > len(suffix) or len(words) > 1):
                last = last.removesuffix(suffix)
                if last:
                    words[-1] = last
                else:
                    words.pop()
                changed = True
                break
    key = "".join(words)
    return key if len(key) >= MIN_KEY_LENGTH else ""


def organization_keys(name_zh: str, name_en: str) -> frozenset[str]:
    """The keys of an organization's two names (one, when they agree; none when blank)."""
    return frozenset(key for key in (name_key(name_zh), name_key(name_en)) if key)


def may_be_same(code: str | None, other_code: str | None) -> bool:
    """Whether two records may be one organization as far as their credit codes go."""
    return not (code and other_code)


@dataclass(frozen=True)
class Duplicate:
    """A likely duplicate of an organization, and the key their names share."""

    organization: Organization
    key: str


def duplicates_of(organization: Organization) -> list[Duplicate]:
    """The other organizations likely to be `organization` recorded again, by name.

    One query: the database keeps the names that hold the first letters of a key in
    order (in any case, half- or full-width, whatever comes between them), which every
    name with that key does, and the keys of those few are compared here."""
    keys = organization_keys(organization.name_zh, organization.name_en)
    if not keys:
        return []
    candidates = Q()
    for key in keys:
        pattern = _subsequence_pattern(key[:PREFILTER_LENGTH])
        candidates |= Q(name_zh__iregex=pattern) | Q(name_en__iregex=pattern)
    others = Organization.objects.filter(candidates).exclude(pk=organization.pk)
    if organization.credit_code:
        others = others.filter(credit_code__isnull=True)
    found = []
    for other in others.order_by("name_zh", "pk"):
        shared = keys & organization_keys(other.name_zh, other.name_en)
        if shared and may_be_same(organization.credit_code, other.credit_code):
            found.append(Duplicate(organization=other, key=min(shared)))
    return found


@dataclass(frozen=True)
class DuplicatePair:
    """Two organizations likely to be one, the lower key (id) first, and the name key
    they share."""

    first_id: int
    second_id: int
    key: str


def duplicate_pairs(
    organizations: Iterable[tuple[int, str, str, str | None]] | None = None,
) -> list[DuplicatePair]:
    """Every pair of organizations likely to be one, ordered by their keys.

    One pass over (pk, name_zh, name_en, credit_code) rows, all organizations by
    default, grouping them by key: the work grows with the organizations and the pairs
    found, never with every pair of organizations."""
    if organizations is None:
        organizations = Organization.objects.order_by("pk").values_list(
            "pk", "name_zh", "name_en", "credit_code"
        )
    groups: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
    for pk, name_zh, name_en, code in organizations:
        for key in organization_keys(name_zh, name_en):
            groups[key].append((pk, code))
    pairs: dict[tuple[int, int], str] = {}
    for key in sorted(groups):
        members = groups[key]
        for index, (pk, code) in enumerate(members):
            for other_pk, other_code in members[index + 1 :]:
                if may_be_same(code, other_code):
                    pairs.setdefault((min(pk, other_pk), max(pk, other_pk)), key)
    return [DuplicatePair(first, second, key) for (first, second), key in pairs.items()]


# ---------------------------------------------------------------------------------------
# The SQL pre-filter
# ---------------------------------------------------------------------------------------


def _variants(char: str) -> str:
    """The forms a character of a key may have in a stored name, for a regex class."""
    forms = {char}
    if char.isascii() and char.isalnum():
        forms |= {char.upper(), chr(ord(char) + 0xFEE0), chr(ord(char.upper()) + 0xFEE0)}
    return "".join(sorted(forms))


def _subsequence_pattern(key: str) -> str:
    """A regex matching names that hold the characters of `key` in order, whatever
    lies between them. Each gap is `[^x]*` before the next `x`, not `.*`: the match
    never backtracks, so it costs the length of the name whatever the key."""
    parts = []
    for index, char in enumerate(key):
        forms = re.escape(_variants(char))
        if index:
            parts.append(f"[^{forms}]*")
        parts.append(f"[{forms}]")
    return "".join(parts)
