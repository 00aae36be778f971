"""Matching description terms against ECL search terms (``match:`` word prefixes, ``wild:`` patterns)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import partial

from smt.ecl import ast

_WORD_SPLIT = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(fold(text)) if w]


def wild_regex(raw: str) -> re.Pattern[str]:
    """Regex for a ``wild:`` pattern (raw text between the quotes): ``*`` matches anything, ``\\*`` a star."""
    parts: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            parts.append(re.escape(fold(raw[i + 1])))
            i += 2
            continue
        parts.append(".*" if ch == "*" else re.escape(fold(ch)))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _matches_wild(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.fullmatch(fold(text)) is not None


def _prefixes_match_text(wanted: list[str], text: str) -> bool:
    return _prefixes_match(wanted, _words(text))


def term_matcher(terms: tuple[ast.SearchTerm, ...]) -> Callable[[str], bool]:
    """A predicate true for a description term that matches any of ``terms``."""
    checks: list[Callable[[str], bool]] = []
    for term in terms:
        if term.kind == "wild":
            pattern = wild_regex(term.text)
            checks.append(partial(_matches_wild, pattern))
        else:
            checks.append(partial(_prefixes_match_text, _words(term.text)))
    return lambda text: any(check(text) for check in checks)


def value_matcher(terms: tuple[ast.SearchTerm, ...]) -> Callable[[str], bool]:
    """A predicate for a string value (concrete value, refset field): equal to a ``match`` term (ignoring case
    and accents) or matching a ``wild`` pattern, for any of ``terms``."""
    exact = {fold(t.text) for t in terms if t.kind == "match"}
    patterns = [wild_regex(t.text) for t in terms if t.kind == "wild"]
    return lambda text: fold(text) in exact or any(p.fullmatch(fold(text)) for p in patterns)


def _prefixes_match(wanted: list[str], words: list[str]) -> bool:
    """Every wanted word is the prefix of some word of the term."""
    return all(any(word.startswith(prefix) for word in words) for prefix in wanted)


def compare(left: object, op: ast.Comparison, right: object) -> bool:
    """``left op right`` for numbers, strings or booleans; False when the types cannot be compared."""
    try:
        if op == "=":
            return left == right
        if op == "!=":
            return left != right
        if op == "<":
            return left < right  # type: ignore[operator]
        if op == "<=":
            return left <= right  # type: ignore[operator]
        if op == ">":
            return left > right  # type: ignore[operator]
        return left >= right  # type: ignore[operator]
    except TypeError:
        return False


def as_number(value: object) -> Decimal | None:
    """A concrete value as a number (``#12.5`` or ``12.5``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.removeprefix("#"))
        except InvalidOperation:
            return None
    return None
