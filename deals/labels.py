"""Names computed into cached values (breakdowns, group totals) that are printed in the
language active where they are printed, not where they were computed.

Django's lazy strings would do that, but unpickling one rebuilds its proxy class
(`django.utils.functional.lazy` runs again), about 0.7 ms each: a cached breakdown by
country holds some 180 of them, which made reading it from the cache cost more than
the page's queries. These are plain values: cheap to pickle, resolved by `str()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django_countries import countries

from delegations.models import bilingual

# Module-level, never an attribute of a pickled value.
UNKNOWN_COUNTRY = _("unknown country or region")


@dataclass(frozen=True, slots=True)
class BilingualName:
    """A name with its Chinese and English forms (a sector's, say)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return bilingual(self.zh, self.en)


@dataclass(frozen=True, slots=True)
class CountryName:
    """A country or region by its code, named by django-countries (which applies
    settings.COUNTRIES_OVERRIDE to Hong Kong, Macao and Taiwan), or "unknown country or
    region" where the code is empty or unknown."""

    code: str

    def __str__(self) -> str:
        return (countries.name(self.code) if self.code else "") or str(UNKNOWN_COUNTRY)


# What a breakdown's group may be labelled with.
Name = BilingualName | CountryName
