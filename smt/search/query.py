"""Search one release's index: query construction, ranking and grouping of hits per concept.

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

Very broad queries (every word starts more than 5 000 terms of a release, e.g. "autres") and the misspelt
words of the fuzzy pass are ranked over short terms first: terms of at most 3, then 6 distinct words (stop
words aside), where the best matches of such queries are. The next tier, and at last the whole index, is
searched only when a tier gives fewer concepts than asked; the total is then an estimate.

Passes, each run only when the previous one found nothing: ``strict`` (every word must match), ``fuzzy``
(every word must match, a word may be misspelt: edit distance 1 for 4–7 letters, 2 beyond; 2 500 instead of
5 000), ``partial`` (any word may match: 1 000 per word found).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import orjson
import tantivy

from smt.index.reader import CodeSystemIndex
from smt.search import analysis
from smt.search.build import META, SCHEMA_VERSION, TIERS, code_key, schema

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

BROAD_DOCS = 5_000
PHRASE_DOCS = 20_000
STATIC_CANDIDATES = 200
TYPO_LENGTH = 6
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
class Match:
    """Best-scoring term of one concept (``concept`` is the concept's ordinal in its release)."""

    score: float
    concept: int
    address: tantivy.DocAddress


@dataclass(slots=True)
class Matches:
    matches: list[Match]
    total: int
    mode: str


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
        if not uses_grams(word):  # "type 2", "vitamine D"; stop words of an all-stop-word query
            return self._term("plain", word.text)
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
        counts = [searcher.doc_freq("grams", w.prefix) if uses_grams(w) else searcher.doc_freq("plain", w.text)
                  for w in self.required]
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


class SearchIndex:
    """An opened release search index (immutable: opened once, shared by all threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.meta: dict = orjson.loads((path / META).read_bytes())
        self.index = tantivy.Index.open(str(path))
        analysis.register(self.index)
        self.searcher = self.index.searcher()

    def concept_of(self, code: str) -> int | None:
        """Ordinal of the concept with this code ("E11.9", "e119"), or None."""
        hits = self.searcher.search(Query.term_query(self.index.schema, "code_key", code_key(code)), 1).hits
        return self.searcher.fast_field_values("concept", [hits[0][1]])[0] if hits else None

    def subtree(self, code: str, concepts: CodeSystemIndex) -> tantivy.Query:
        """Restriction to a concept and its descendants (from the compiled index's closure table)."""
        number = self.concept_of(code)
        if number is None:
            return Query.empty_query()
        return self.concepts_query([number, *concepts.descendant_ids(concepts.concept_by_id(number))])

    def concepts_query(self, numbers: list[int]) -> tantivy.Query:
        """Terms of these concepts. Up to a thousand, one term query each: a term set query walks the whole
        dictionary of the field (milliseconds), a few term queries cost microseconds."""
        if len(numbers) > 1000:
            return Query.term_set_query(self.index.schema, "concept", numbers)
        schema = self.index.schema
        return Query.boolean_query([(Occur.Should, Query.term_query(schema, "concept", n)) for n in numbers])

    def run(self, builder: QueryBuilder, mode: str, limit: int, within: tantivy.Query | None = None) -> Matches:
        """One pass: the best match of each concept (in ``within`` if given), best first, ``limit`` at most."""
        breadth = builder.breadth(self.searcher, mode)
        estimate = round(breadth * self.meta["concepts"] / max(1, self.meta["documents"]))
        broad = breadth > BROAD_DOCS
        if broad and limit == 0:
            return Matches([], estimate, mode)
        phrase = builder.phrase_is_cheap(self.searcher)
        if limit > 0 and (broad or mode == "fuzzy"):
            for tier, _ in TIERS:
                query = builder.build(mode, tier, phrase)
                found = self._collect(query, limit, within) if query is not None else None
                if found and len(found.matches) >= limit:
                    found.total = max(found.total, estimate)
                    return found
            return self._by_static_rank(builder, mode, limit, within, phrase)
        query = builder.build(mode, None, phrase)
        return self._collect(query, limit, within) if query is not None else Matches([], 0, mode)

    def _by_static_rank(self, builder: QueryBuilder, mode: str, limit: int, within: tantivy.Query | None,
                        phrase: bool) -> Matches:
        """Broad query: take the matching terms with the best static weight (displays, short terms), then rank
        their concepts with the full query. Scoring every match would cost far more."""
        matching, query = builder.build(mode, bonuses=False), builder.build(mode, None, phrase)
        if matching is None or query is None:
            return Matches([], 0, mode)
        if within is not None:
            matching = Query.boolean_query([(Occur.Must, matching), (Occur.Must, within)])
        fetch = max(STATIC_CANDIDATES, 4 * limit)
        result = self.searcher.search(matching, fetch, order_by_field="weight")
        addresses = [address for _, address in result.hits]
        concepts = list(dict.fromkeys(self.searcher.fast_field_values("concept", addresses))) if addresses else []
        if not concepts:
            return Matches([], 0, mode)
        found = self._collect(query, limit, self.concepts_query(concepts))
        if result.count > len(result.hits):
            found.total = max(found.total, round(result.count * len(concepts) / len(result.hits)))
        return found

    def _collect(self, query: tantivy.Query, limit: int, within: tantivy.Query | None) -> Matches:
        if within is not None:
            query = Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.const_score_query(within, 0.0))])
        fetch = max(2 * limit + 10, 50)
        while True:
            result = self.searcher.search(query, fetch, weight_by_field="weight")
            addresses = [address for _, address in result.hits]
            concepts = self.searcher.fast_field_values("concept", addresses) if addresses else []
            best: dict[int, Match] = {}
            for (score, address), concept in zip(result.hits, concepts, strict=True):
                if concept not in best:
                    best[concept] = Match(score, concept, address)
            complete = result.count <= fetch
            if complete or len(best) >= limit:
                break
            fetch *= 4
        # beyond what was fetched, the number of concepts is estimated from the documents fetched
        total = len(best) if complete else max(len(best), round(result.count * len(best) / len(result.hits)))
        return Matches(list(best.values())[:limit], total, "strict")

    def search(self, text: str, limit: int, filters: Filters = Filters(),
               concepts: CodeSystemIndex | None = None) -> Matches:
        """Concepts of this index alone matching ``text``, best first (all passes needed).

        ``concepts``, the release's compiled index, is needed for ``filters.within``.
        """
        within = [self.subtree(filters.within, concepts)] if filters.within and concepts else None
        total, hits = run_passes(QueryBuilder(text, filters), [self], limit, within)
        return Matches([hit.match for hit in hits[:limit]], total, hits[0].mode if hits else "strict")

    def stored_term(self, address: tantivy.DocAddress) -> tuple[str, str]:
        """The matched term and its language."""
        doc = self.searcher.doc(address)
        return doc.get_first("plain"), doc.get_first("lang")


@dataclass(frozen=True, slots=True)
class Hit:
    """A concept found in one of several indexes, by a pass (0 strict, 1 fuzzy, 2 partial)."""

    index: int
    match: Match
    mode: str
    rank: int

    def sort_key(self) -> tuple:
        return (self.rank, -self.match.score)


def needs_typo_pass(builder: QueryBuilder, indexes: list[SearchIndex]) -> bool:
    """A word of 6 letters or more that starts no indexed word, though its stem does: more likely a typo than
    a word being typed ("migrane" starts no word, its stem "migran" starts "migrans"; "dysfon" starts words)."""
    return any(len(w.text) >= TYPO_LENGTH and w.prefix != w.text[:analysis.MAX_GRAM]
               and all(i.searcher.doc_freq("grams", w.text[:analysis.MAX_GRAM]) == 0 for i in indexes)
               for w in builder.required)


def run_passes(builder: QueryBuilder, indexes: list[SearchIndex], limit: int,
               within: list[tantivy.Query] | None = None) -> tuple[int, list[Hit]]:
    """Run the passes over several indexes (each restricted by ``within[i]`` if given); return the total and
    the hits, best first.

    A pass runs on every index. The next pass runs when nothing was found, or — from the strict to the fuzzy
    pass — when fewer than ``limit`` concepts were found and a query word is nowhere a whole word
    ("migrane" starts "migrans" but means "migraine"). Hits of a later pass come after those of earlier
    ones; the later passes match supersets, so the total is the last pass's.
    """
    hits: list[Hit] = []
    seen: set[tuple[int, int]] = set()
    total = 0
    for rank, mode in enumerate(builder.modes()):
        found = [(number, index.run(builder, mode, limit, within[number] if within else None))
                 for number, index in enumerate(indexes)]
        total = max(total, sum(matches.total for _, matches in found))
        new = [Hit(number, m, mode, rank) for number, matches in found for m in matches.matches
               if (number, m.concept) not in seen]
        seen.update((hit.index, hit.match.concept) for hit in new)
        hits += sorted(new, key=Hit.sort_key)
        if total and not (mode == "strict" and len(hits) < limit and needs_typo_pass(builder, indexes)):
            break
    return total, hits


_OPEN: dict[Path, SearchIndex] = {}
_LOCK = threading.Lock()


def open_index(path: Path) -> SearchIndex | None:
    """The search index in ``path`` (cached), or None when the release has none of the current schema."""
    index = _OPEN.get(path)
    if index is None:
        try:
            meta = orjson.loads((path / META).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        if meta.get("schema") != SCHEMA_VERSION:
            return None
        with _LOCK:
            index = _OPEN.get(path) or SearchIndex(path)
            _OPEN[path] = index
    return index


def forget_except(live: set[Path]) -> None:
    """Drop cached indexes of releases that are gone."""
    with _LOCK:
        for path in set(_OPEN) - live:
            _OPEN.pop(path, None)
