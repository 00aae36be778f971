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
expanded term          10 000    same stems as the query with an abbreviation replaced by an expansion
expansion              100       an abbreviation matched through an expansion, not only as a word prefix
expansion phrase       500       an expansion's words in that order ("hypertension artérielle")
expansion words        200       every word of an expansion found as a whole word
=====================  ========  ============================================================

Abbreviations (``smt.search.abbreviations``, only when the builder is asked to expand them): a query word that
is a known abbreviation ("hta", "H.T.A.") matches either itself (a prefix, or the whole word for two letters)
or every word of one of its expansions in the same term; the other query words are still required.

Passes (see ``smt.search.searcher`` for when each runs): ``strict`` (every word must match), ``fuzzy`` (every
word must match, a word may be misspelt: edit distance 1 for 4–7 letters, 2 beyond; 2 500 instead of
5 000), ``partial`` (any word may match: 1 000 per word found).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tantivy

from smt.search import abbreviations, analysis
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
EXPANDED_TERM = 10_000.0
EXPANSION = 100.0
MAX_VARIANTS = 16
"""Expanded texts of one query whose exact-term keys are rewarded (abbreviations with several expansions)."""

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


@dataclass(frozen=True, slots=True)
class Unit:
    """A required part of a query: one word, or a known abbreviation (its words) and its expansions' words."""

    words: tuple[analysis.QueryWord, ...]
    expansions: tuple[tuple[analysis.QueryWord, ...], ...] = ()
    abbreviation: abbreviations.Abbreviation | None = None


@lru_cache(maxsize=4096)
def expansion_words(expansion: str) -> tuple[analysis.QueryWord, ...]:
    """The required words of an expansion ("accident vasculaire cérébral"), positions from 0."""
    return tuple(w for w in analysis.query_words(expansion) if not w.stop)


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

    def __init__(self, text: str, filters: Filters = Filters(), expand: bool = False) -> None:
        """``expand``: known abbreviations also match their expansions (``GET /search``; not a text filter)."""
        self.schema = shared_schema()
        self.text = abbreviations.join_known_dotted(text.strip()) if expand else text.strip()
        self.filters = filters
        self.words = analysis.query_words(self.text)
        self.required = [w for w in self.words if not w.stop]
        self.units = self._units(expand)
        self.expanded = {" ".join(w.text for w in u.words): list(u.abbreviation.expansions)
                         for u in self.units if u.abbreviation is not None}
        """Abbreviations of the query (its folded words) and their expansions."""
        self.plain_required = [w for u in self.units if u.abbreviation is None for w in u.words]
        """The required words that are not abbreviations."""
        self._built: dict[tuple, tantivy.Query | None] = {}

    def _units(self, expand: bool) -> list[Unit]:
        spans = {start: (end, entry) for start, end, entry in
                 abbreviations.find([w.text for w in self.words])} if expand else {}
        units: list[Unit] = []
        number = 0
        while number < len(self.words):
            if number in spans:
                end, entry = spans[number]
                literal = tuple(w for w in self.words[number:end] if not w.stop)
                expansions = tuple(e for e in map(expansion_words, entry.expansions) if e)
                if literal:
                    units.append(Unit(literal, expansions, entry))
                number = end
                continue
            if not self.words[number].stop:
                units.append(Unit((self.words[number],)))
            number += 1
        return units

    def _is_whole(self, unit: Unit, word: analysis.QueryWord) -> bool:
        """A two-letter abbreviation is matched as a whole word ("ep" is not every word starting with "ep")."""
        return unit.abbreviation is not None and not uses_grams(word) and not analysis.is_stop(word.text)

    def modes(self) -> list[str]:
        """The passes worth trying, in order (``partial`` only helps with two words or more)."""
        if not self.text:
            return []
        return [m for m in PASSES if m != "partial" or len(self.units) >= 2]

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

    def _all(self, clauses: list[tantivy.Query]) -> tantivy.Query:
        return clauses[0] if len(clauses) == 1 else Query.boolean_query([(Occur.Must, c) for c in clauses])

    def unit_clause(self, unit: Unit, mode: str, field: str = "grams") -> tantivy.Query:
        """A word, or an abbreviation: itself (its words) or all the words of one of its expansions."""
        if unit.abbreviation is None:
            return self.word_clause(unit.words[0], mode, field)
        literal = self._all([self._term("plain", w.text) if self._is_whole(unit, w)
                             else self.word_clause(w, "strict", field) for w in unit.words])
        expansions = [self._all([self.word_clause(w, "strict", field) for w in e]) for e in unit.expansions]
        return Query.boolean_query([(Occur.Should, c) for c in (literal, *expansions)])

    def text_clause(self, mode: str, field: str = "grams") -> tantivy.Query | None:
        """Every word (``strict``, ``fuzzy``) or any word (``partial``), with a constant score."""
        clauses = [self.unit_clause(u, mode, field) for u in self.units]
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

    def variants(self) -> list[str]:
        """The query with each abbreviation replaced by one of its expansions (``MAX_VARIANTS`` at most)."""
        if not self.expanded:
            return []
        texts = [""]
        for unit in self.units:
            pieces = unit.abbreviation.expansions if unit.abbreviation else [unit.words[0].text]
            texts = [f"{t} {p}" for t in texts for p in pieces][:MAX_VARIANTS]
        return texts

    def expansion_phrases(self) -> list[tuple[analysis.QueryWord, ...]]:
        """Expansions of two words or more (their phrase is rewarded)."""
        return [e for u in self.units for e in u.expansions if len(e) >= 2]

    def bonus_clauses(self, mode: str, phrase: bool | tuple[bool, ...] = True) -> list[tantivy.Query]:
        """Optional clauses that only add to the score of what matched.

        ``phrase``: whether the phrase bonus is cheap enough, for the query and then for each expansion phrase
        (``phrase_is_cheap``), or one answer for all.
        """
        cheap = phrase if isinstance(phrase, tuple) else (phrase,) * (1 + len(self.expansion_phrases()))
        languages = (*analysis.STEMMED_LANGUAGES, "und")
        keys = sorted({analysis.term_key(self.text, lang) for lang in languages})
        bonuses = [self._const(Query.term_set_query(self.schema, "key", keys), EXACT_TERM)]
        expanded = sorted({analysis.term_key(text, lang) for text in self.variants() for lang in languages}
                          - set(keys))
        if expanded:
            bonuses.append(self._const(Query.term_set_query(self.schema, "key", expanded), EXPANDED_TERM))
        if cheap[0] and len(self.words) >= 2:
            first = self.words[0].position
            words: list[str | tuple[int, str]] = [(w.position - first, w.text) for w in self.words]
            bonuses.append(self._const(Query.phrase_query(self.schema, "plain", words, PHRASE_SLOP), PHRASE))
        for expansion, ok in zip(self.expansion_phrases(), cheap[1:], strict=True):
            if ok:
                words = [(w.position - expansion[0].position, w.text) for w in expansion]
                bonuses.append(self._const(Query.phrase_query(self.schema, "plain", words, PHRASE_SLOP), PHRASE))
        bonuses += [self._const(self._term("plain", w.text), EXACT_WORD) for w in self.required]
        for unit in self.units:
            if unit.expansions:
                matched = [self._all([self.word_clause(w, "strict") for w in e]) for e in unit.expansions]
                either = matched[0] if len(matched) == 1 else Query.boolean_query(
                    [(Occur.Should, c) for c in matched])
                bonuses.append(self._const(either, EXPANSION))
        bonuses += [self._const(self._all([self._term("plain", w.text) for w in e]), EXACT_WORD)
                    for u in self.units for e in u.expansions]
        return bonuses

    def breadth(self, searcher: tantivy.Searcher, mode: str) -> int:
        """Upper bound of the terms a pass matches in one index, from the words' document frequencies (an
        abbreviation: its own count plus its expansions' counts)."""

        def count(w: analysis.QueryWord, whole: bool = False) -> int:
            if uses_grams(w):
                return searcher.doc_freq("grams", w.prefix)
            if whole or analysis.is_stop(w.text) or len(w.text) == 1:
                return searcher.doc_freq("plain", w.text)
            return max(BROAD_PREFIX_DOCS, searcher.doc_freq("plain", w.text))

        counts = []
        for unit in self.units:
            found = min(count(w, self._is_whole(unit, w)) for w in unit.words)
            counts.append(found + sum(min(count(w) for w in e) for e in unit.expansions))
        if not counts:
            return 0
        return max(counts) if mode == "partial" else min(counts)

    def phrase_is_cheap(self, searcher: tantivy.Searcher) -> bool | tuple[bool, ...]:
        """Whether a phrase bonus costs little here: its rarest word is in at most ``PHRASE_DOCS`` terms; with
        abbreviations, one answer for the query and one for each expansion phrase.

        A phrase clause is checked on every term holding all its words, not only on the terms that matched.
        """
        def cheap(words: list[analysis.QueryWord] | tuple[analysis.QueryWord, ...]) -> bool:
            return len(words) >= 2 and min(searcher.doc_freq("plain", w.text) for w in words) <= PHRASE_DOCS

        phrases = self.expansion_phrases()
        if not phrases:
            return cheap(self.words)
        return (cheap(self.words), *(cheap(e) for e in phrases))

    def build(self, mode: str, tier: str | None = None, phrase: bool | tuple[bool, ...] = True,
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

    def _build(self, mode: str, tier: str | None, phrase: bool | tuple[bool, ...],
               bonuses: bool) -> tantivy.Query | None:
        text = self.text_clause(mode, tier or "grams")
        codes = self.code_clauses() if mode == "strict" else []
        alternatives = ([text] if text else []) + codes
        if not alternatives:
            return None
        query = alternatives[0] if len(alternatives) == 1 else Query.boolean_query(
            [(Occur.Should, a) for a in alternatives])
        filters = self.filter_clauses()
        words = [w for u in self.units for w in (*u.words, *(x for e in u.expansions for x in e))]
        if tier and (mode != "strict" or not all(uses_grams(w) for w in words)):
            filters.append(self._const(self._term("tier", tier), 0.0))
        if filters:
            query = Query.boolean_query([(Occur.Must, query)] + [(Occur.Must, f) for f in filters])
        for bonus in self.bonus_clauses(mode, phrase) if bonuses else []:
            query = Query.boolean_query([(Occur.Must, query), (Occur.Should, bonus)])
        return query

