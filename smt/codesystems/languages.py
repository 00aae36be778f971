"""Display languages: the tags a ``displayLanguage`` / ``Accept-Language`` value asks for, best first, and the
designation order they give.

A value is parsed once (the parse is cached per value): a request names one language preference, read for
every concept of its answer.
"""

from __future__ import annotations

import re
from functools import lru_cache

from smt.index.reader import DesignationRecord
from smt.model import Coding

PREFERRED_FOR_LANGUAGE = Coding("http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "preferredForLanguage",
                                "Preferred For Language")
"""Designation use of a concept's own display, given as a designation in the code system's language."""
DISPLAY_USES = frozenset({(PREFERRED_FOR_LANGUAGE.system, PREFERRED_FOR_LANGUAGE.code),
                          ("http://snomed.info/sct", "900000000000548007")})
"""Designation uses that make a designation a display (preferred for its language; SNOMED CT's preferred term)."""

_Q = re.compile(r"q\s*=\s*([0-9.]+)")


@lru_cache(maxsize=256)
def _ranked(value: str) -> tuple[str, ...]:
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(value.split(",")):
        tag, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            if match := _Q.fullmatch(param):
                try:
                    quality = float(match.group(1))
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.lower()))
    return tuple(tag for _, _, tag in sorted(ranked))


def language_preferences(value: str | None) -> list[str]:
    """Tags of a ``displayLanguage`` / ``Accept-Language`` value, best first; ``q=0`` tags are dropped."""
    return list(_ranked(value or ""))


def primary(tag: str | None) -> str:
    """The primary language subtag, lower-cased: "fr-CA" → "fr"."""
    return (tag or "").lower().split("-")[0]


def requested_languages_first(records: list[DesignationRecord],
                              display_language: str | None) -> list[DesignationRecord]:
    """Designations in the languages asked for (``displayLanguage`` / ``Accept-Language``) first, in the order
    of preference, the others after; the order within each group is kept. No language asked: unchanged."""
    tags = [t for t in language_preferences(display_language) if t != "*"]
    if not tags:
        return records

    def rank(record: DesignationRecord) -> int:
        language = (record.language or "").lower()
        dialects = {t.lower() for t, _ in record.acceptability}
        for position, tag in enumerate(tags):
            if language == tag or tag in dialects or primary(language) == primary(tag):
                return position
        return len(tags)

    return sorted(records, key=rank)
