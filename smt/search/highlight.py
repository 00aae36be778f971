"""Mark the words of a term that a query matched: ``Insuffisance <b>cardiaque</b>``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

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


class Highlighter:
    """Marks, in result terms, the words that match one query (built once per search)."""

    def __init__(self, query: str, fuzzy: bool = False, tag: str = "b", also: Iterable[str] = ()) -> None:
        """``also``: other texts whose words are marked too (the expansions of the query's abbreviations)."""
        words = analysis.query_words(query)
        words = [w for w in words if not w.stop] or words
        near = list(words)
        words += [w for text in also for w in analysis.query_words(text) if not w.stop]
        self.exact = {w.text for w in words}
        self.prefixes = tuple(p for w in words for p in {w.text, w.prefix} if len(p) >= analysis.MIN_GRAM)
        self.stems = {(lang, stem) for w in words for lang, stem in w.stems.items()}
        self.near = [(w.text, d) for w in near if fuzzy and (d := analysis.fuzzy_distance(w.text))]
        self.open, self.close = f"<{tag}>", f"</{tag}>"

    def matches(self, word: str, language: str) -> bool:
        """Whether one folded word of a term in ``language`` matches the query."""
        if word in self.exact or word.startswith(self.prefixes):
            return True
        if language in analysis.STEMMED_LANGUAGES and (language, analysis.stem(word, language)) in self.stems:
            return True
        return any(edit_distance(word[:len(text) + d], text, d) <= d for text, d in self.near)

    def __call__(self, term: str, language: str) -> str:
        """``term`` as HTML-escaped text with the matching words wrapped in the tag."""
        out: list[str] = []
        last = 0
        for found in _WORD.finditer(term):
            folded = analysis.fold(found.group())
            if folded and self.matches(folded, language):
                out += [html.escape(term[last:found.start()]), self.open, html.escape(found.group()), self.close]
                last = found.end()
        out.append(html.escape(term[last:]))
        return "".join(out)


def highlight(term: str, language: str, query: str, fuzzy: bool = False, tag: str = "b") -> str:
    """``term`` as HTML-escaped text with the words matching ``query`` wrapped in ``<tag>…</tag>``."""
    return Highlighter(query, fuzzy, tag)(term, language)
