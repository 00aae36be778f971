"""Query construction: the tantivy query of each pass of a search, with fixed weights.

Scores are sums of fixed weights (no BM25), so they mean the same in every release and can be merged. The
sum is multiplied by the term's static weight: ×2 for a concept's display (preferred term), and a brevity
factor of at most ×1.0014 so that shorter terms come first among equals.

=====================  ========  ============================================================
component              weight    when
=====================  ========  ============================================================
code match             400 000   the query is the concept's code ("E11.9", "e119")
code prefix            200 000   the code starts with the query ("E11" → E11.x)
exact term             20 000    same stems as the term, in any order, stop words aside
words                  5 000     every query word starts a word of the term (after stemming)
phrase                 500       the words appear in that order, at most 2 other words between
exact word             200       each query word found as a whole word
=====================  ========  ============================================================

Passes (see ``smt.search.searcher`` for when each runs): ``strict`` (every word must match), ``fuzzy`` (every
word must match, a word may be misspelt: edit distance 1 for 4–7 letters, 2 beyond; 2 500 instead of
5 000), ``partial`` (any word may match: 1 000 per word found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tantivy

from smt.search import analysis
from smt.search.build import code_key, schema

Query = tantivy.Query
Occur = tantivy.Occur

CODE_EXACT = 400_000.0
CODE_PREFIX = 200_000.0
EXACT_TERM = 20_000.0
WORDS = 5_000.0
FUZZY_WORDS = 2_500.0
PARTIAL_WORD = 1_000.0
PHRASE = 500.0
EXACT_WORD = 200.0

PHRASE_DOCS = 20_000
BROAD_PREFIX_DOCS = 1_000_000
"""Assumed breadth of a two-letter word prefix (not indexed, so not counted): always a broad query."""
PASSES = ("strict", "fuzzy", "partial")
PHRASE_SLOP = 2
_CODE_LIKE = re.compile(r"[A-Za-z0-9+\-.*/_]{1,20}")


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions inside a release: term language, concept status, subtree (a code: it and its descendants)."""

    language: str | None = None
    active: bool | None = None
    within: str | None = None


def uses_grams(word: analysis.QueryWord) -> bool:
    """Whether a query word is matched as a word prefix (else as a whole word: short words, stop words)."""
    return len(word.prefix) >= analysis.MIN_GRAM and not analysis.is_stop(word.text)


def is_code_like(text: str) -> bool:
    """A single token with a digit, or typed in capitals ("E11.9", "-30", "SA11", "PROC")."""
    return bool(_CODE_LIKE.fullmatch(text)) and (any(c.isdigit() for c in text) or text.isupper())


@lru_cache(maxsize=1)
def shared_schema() -> tantivy.Schema:
    """The schema of every search index of this schema version: queries are built once for all releases."""
    return schema()


class QueryBuilder:
    """Builds the tantivy query of each pass of one search (valid for every index of the current schema)."""

    def __init__(self, text: str, filters: Filters = Filters()) -> None:
        self.schema = shared_schema()
        self.text = text.strip()
        self.filters = filters
        self.words = analysis.query_words(self.text)
        self.required = [w for w in self.words if not w.stop]
        self._built: dict[tuple, tantivy.Query | None] = {}

    def modes(self) -> list[str]:
        """The passes worth trying, in order (``partial`` only helps with two words or more)."""
        if not self.text:
            return []
        return [m for m in PASSES if m != "partial" or len(self.required) >= 2]

    def _const(self, query: tantivy.Query, score: float) -> tantivy.Query:
        return Query.const_score_query(query, score)

    def _term(self, field: str, value: object) -> tantivy.Query:
        return Query.term_query(self.schema, field, value)

    def word_clause(self, word: analysis.QueryWord, mode: str, field: str = "grams") -> tantivy.Query:
        """Terms with a word starting like ``word`` (in the fallback passes: or nearly like it)."""
        if analysis.is_stop(word.text) or len(word.text) == 1:  # stop words of an all-stop-word query; "type 2"
            return self._term("plain", word.text)
        if not uses_grams(word):  # two letters: too short to be indexed as a prefix, expanded on the words
            return Query.fuzzy_term_query(self.schema, "plain", word.text, 0, True, True)
        starts = self._term(field, word.prefix)
        if mode == "strict" or not (distance := analysis.fuzzy_distance(word.text)):
            return starts
        near = Query.fuzzy_term_query(self.schema, "plain", word.text, distance, True, False)
        return Query.boolean_query([(Occur.Should, starts), (Occur.Should, near)])

    def text_clause(self, mode: str, field: str = "grams") -> tantivy.Query | None:
        """Every word (``strict``, ``fuzzy``) or any word (``partial``), with a constant score."""
        clauses = [self.word_clause(w, mode, field) for w in self.required]
        if not clauses:
            return None
        if mode == "partial":
            return Query.boolean_query([(Occur.Should, self._const(c, PARTIAL_WORD)) for c in clauses])
        matching = clauses[0] if len(clauses) == 1 else Query.boolean_query([(Occur.Must, c) for c in clauses])
        return self._const(matching, WORDS if mode == "strict" else FUZZY_WORDS)

    def code_clauses(self) -> list[tantivy.Query]:
        if not is_code_like(self.text):
            return []
        key = code_key(self.text)
        clauses = [self._const(self._term("code_key", key), CODE_EXACT)]
        if len(key) >= 2 and any(c.isdigit() for c in key):
            prefix = Query.fuzzy_term_query(self.schema, "code_key", key, 0, True, True)
            clauses.append(self._const(prefix, CODE_PREFIX))
        return clauses

    def filter_clauses(self) -> list[tantivy.Query]:
        f = self.filters
        clauses = []
        if f.language:
            clauses.append(self._term("lang", analysis.primary_language(f.language)))
        if f.active is not None:
            clauses.append(self._term("active", f.active))
        return [self._const(c, 0.0) for c in clauses]

    def bonus_clauses(self, mode: str, phrase: bool = True) -> list[tantivy.Query]:
        """Optional clauses that only add to the score of what matched."""
        keys = sorted({analysis.term_key(self.text, lang) for lang in (*analysis.STEMMED_LANGUAGES, "und")})
        bonuses = [self._const(Query.term_set_query(self.schema, "key", keys), EXACT_TERM)]
        if phrase and len(self.words) >= 2:
            first = self.words[0].position
            words = [(w.position - first, w.text) for w in self.words]
            bonuses.append(self._const(Query.phrase_query(self.schema, "plain", words, PHRASE_SLOP), PHRASE))
        bonuses += [self._const(self._term("plain", w.text), EXACT_WORD) for w in self.required]
        return bonuses

    def breadth(self, searcher: tantivy.Searcher, mode: str) -> int:
        """Upper bound of the terms a pass matches in one index, from the words' document frequencies."""
        counts = [searcher.doc_freq("grams", w.prefix) if uses_grams(w)
                  else searcher.doc_freq("plain", w.text) if analysis.is_stop(w.text) or len(w.text) == 1
                  else max(BROAD_PREFIX_DOCS, searcher.doc_freq("plain", w.text)) for w in self.required]
        if not counts:
            return 0
        return max(counts) if mode == "partial" else min(counts)

    def phrase_is_cheap(self, searcher: tantivy.Searcher) -> bool:
        """Whether a phrase bonus costs little here: its rarest word is in at most ``PHRASE_DOCS`` terms.

        A phrase clause is checked on every term holding all its words, not only on the terms that matched.
        """
        return len(self.words) >= 2 and min(searcher.doc_freq("plain", w.text) for w in self.words) <= PHRASE_DOCS

    def build(self, mode: str, tier: str | None = None, phrase: bool = True,
              bonuses: bool = True) -> tantivy.Query | None:
        """The query of one pass (over one tier of short terms, or all), or None when it cannot match.

        Without ``bonuses`` the query only says what matches (constant score). Each optional clause gets its
        own level of nesting: an optional clause alone is advanced with skips to the documents that matched,
        while several optional clauses together would be scanned in full.
        """
        key = (mode, tier, phrase, bonuses)
        if key not in self._built:
            self._built[key] = self._build(mode, tier, phrase, bonuses)
        return self._built[key]

    def _build(self, mode: str, tier: str | None, phrase: bool, bonuses: bool) -> tantivy.Query | None:
        text = self.text_clause(mode, tier or "grams")
        codes = self.code_clauses() if mode == "strict" else []
        alternatives = ([text] if text else []) + codes
        if not alternatives:
            return None
        query = alternatives[0] if len(alternatives) == 1 else Query.boolean_query(
            [(Occur.Should, a) for a in alternatives])
        filters = self.filter_clauses()
        if tier and (mode != "strict" or not all(uses_grams(w) for w in self.required)):
            filters.append(self._const(self._term("tier", tier), 0.0))
        if filters:
            query = Query.boolean_query([(Occur.Must, query)] + [(Occur.Must, f) for f in filters])
        for bonus in self.bonus_clauses(mode, phrase) if bonuses else []:
            query = Query.boolean_query([(Occur.Must, query), (Occur.Should, bonus)])
        return query


def __getattr__(name: str) -> object:
    """``SearchIndex`` and ``open_index`` live in ``smt.search.searcher``; still importable from here."""
    if name in ("SearchIndex", "open_index"):
        from smt.search import searcher

        return getattr(searcher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
