"""Checks on a ``displayLanguage`` / ``Accept-Language`` value beyond its ranked tags.

``language_preferences`` (``smt.codesystems.languages``) gives the acceptable tags best first; this module says
whether the value is well formed (``check``) and whether it refuses every other language (``*;q=0``), in which
case a concept with no term in a requested language has no display at all (``only_listed``).
"""

from __future__ import annotations

import re

from smt.codesystems.languages import language_preferences
from smt.errors import InvalidDisplayLanguage

_RANGE = re.compile(r"^\s*(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)\s*(;\s*q\s*=\s*[0-9](\.[0-9]{0,3})?\s*)?$")


def check(value: str | None) -> None:
    """``InvalidDisplayLanguage`` unless ``value`` is a comma-separated list of language ranges."""
    if value is not None and not all(_RANGE.match(part) for part in value.split(",")):
        raise InvalidDisplayLanguage(value)


def only_listed(value: str | None) -> bool:
    """Whether the value refuses the languages it does not list (a ``*`` range with ``q=0``)."""
    for part in (value or "").split(","):
        tag, _, weight = part.partition(";")
        if tag.strip() == "*" and re.fullmatch(r"\s*q\s*=\s*0(\.0*)?\s*", weight or "x"):
            return True
    return False


def accepts(value: str | None, language: str | None) -> bool:
    """Whether ``language`` is acceptable to ``value`` when only listed languages are (primary subtags)."""
    primary = (language or "").lower().split("-")[0]
    return any(tag != "*" and tag.split("-")[0] == primary for tag in language_preferences(value))
