"""Mark the words of a term that a query matched: ``Insuffisance <b>cardiaque</b>``."""

from __future__ import annotations

import html
import re

from smt.search import analysis

_WORD = re.compile(r"[^\W_]+")


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions, stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _matches(word: str, language: str, query: list[analysis.QueryWord], fuzzy: bool) -> bool:
    stem = analysis.stem(word, language) if language in analysis.STEMMED_LANGUAGES else None
    for q in query:
        if word == q.text or (len(q.text) >= 2 and word.startswith(q.text)):
            return True
        if stem and q.stems.get(language) == stem:
            return True
        distance = analysis.fuzzy_distance(q.text) if fuzzy else 0
        if distance and edit_distance(word, q.text, distance) <= distance:
            return True
    return False


def highlight(term: str, language: str, query: str, fuzzy: bool = False, tag: str = "b") -> str:
    """``term`` as HTML-escaped text with the words matching ``query`` wrapped in ``<tag>…</tag>``."""
    words = [w for w in analysis.query_words(query) if not w.stop] or analysis.query_words(query)
    out: list[str] = []
    last = 0
    for found in _WORD.finditer(term):
        folded = analysis.fold(found.group())
        if folded and _matches(folded, language, words, fuzzy):
            out.append(html.escape(term[last:found.start()]))
            out.append(f"<{tag}>{html.escape(found.group())}</{tag}>")
            last = found.end()
    out.append(html.escape(term[last:]))
    return "".join(out)
