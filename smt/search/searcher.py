"""Search release indexes: which passes and which tiers run, grouping per concept, the open-index cache.

A pass runs on every release searched; the next pass runs only when nothing was found, or — from ``strict``
to ``fuzzy`` — when fewer concepts than asked were found and a query word looks misspelt rather than
unfinished ("migrane": it starts no indexed word although its stem "migran" starts "migrans"). Hits of a later
pass come after all those of earlier passes.

Very broad queries (every word starts more than 5 000 terms of a release, e.g. "autres") and the fuzzy pass
are ranked over short terms first: terms of at most 3, then 6 distinct words (stop words aside), where the best
matches of such queries are. When a tier gives fewer concepts than asked, the 200 matching terms of best static
weight (displays, then shorter terms) are taken from the whole index and their concepts ranked with the full
query. Scoring every match of such a query would cost tens of milliseconds on millions of terms. The total is
then an estimate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import orjson
import tantivy

from smt.index.reader import CodeSystemIndex
from smt.index.sets import BitMap
from smt.search import FORMAT_VERSION, analysis
from smt.search.build import META, TIERS, code_key
from smt.search.query import BROAD_PREFIX_DOCS, Filters, Occur, Query, QueryBuilder

BROAD_DOCS = 5_000
STATIC_CANDIDATES = 200
TYPO_LENGTH = 6


def concept_ordinals(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[int]:
    """The ``concept`` fast field (every document has one) of the documents at ``addresses``, in order."""
    return [int(value or 0) for value in searcher.fast_field_values("concept", addresses)]


def hit_count(result: tantivy.SearchResult) -> int:
    """How many documents matched (tantivy counts them by default)."""
    return int(result.count)  # type: ignore[attr-defined]  # tantivy's stub omits SearchResult.count


@dataclass(frozen=True, slots=True)
class Match:
    """Best-scoring term of one concept (``concept`` is the concept's ordinal in its release)."""

    score: float
    concept: int
    address: tantivy.DocAddress


@dataclass(slots=True)
class Matches:
    """The best matches of one search or pass, and the number of concepts matching (maybe estimated)."""

    matches: list[Match]
    total: int
    mode: str = "strict"


class SearchIndex:
    """An opened release search index (immutable: opened once, shared by all threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.meta: dict = orjson.loads((path / META).read_bytes())
        self.documents = max(1, int(self.meta["documents"]))
        """Terms indexed: no search fetches more (tantivy sizes its top-k buffer from the number asked)."""
        self.index = tantivy.Index.open(str(path))
        analysis.register(self.index)
        self.searcher = self.index.searcher()

    def concept_of(self, code: str) -> int | None:
        """Ordinal of the concept with this code ("E11.9", "e119"), or None."""
        hits = self.searcher.search(Query.term_query(self.index.schema, "code_key", code_key(code)), 1).hits
        return concept_ordinals(self.searcher, [hits[0][1]])[0] if hits else None

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
        documents = self.documents
        estimate = 0 if breadth >= BROAD_PREFIX_DOCS else round(min(breadth, documents) * self.meta["concepts"]
                                                                / documents)
        broad = min(breadth, documents) > BROAD_DOCS
        if broad and limit == 0:
            return Matches([], estimate, mode)
        phrase = builder.phrase_is_cheap(self.searcher)
        if limit > 0 and (broad or mode == "fuzzy"):
            for tier, _ in TIERS:
                query = builder.build(mode, tier, phrase)
                found = self._collect(query, limit, within, mode) if query is not None else None
                if found and len(found.matches) >= limit:
                    found.total = max(found.total, estimate)
                    return found
            return self._by_static_rank(builder, mode, limit, within, phrase)
        query = builder.build(mode, None, phrase)
        return self._collect(query, limit, within, mode) if query is not None else Matches([], 0, mode)

    def _by_static_rank(self, builder: QueryBuilder, mode: str, limit: int, within: tantivy.Query | None,
                        phrase: bool | tuple[bool, ...]) -> Matches:
        """Broad query: take the matching terms with the best static weight (displays, short terms), then rank
        their concepts with the full query. Scoring every match would cost far more."""
        matching, query = builder.build(mode, bonuses=False), builder.build(mode, None, phrase)
        if matching is None or query is None:
            return Matches([], 0, mode)
        if within is not None:
            matching = Query.boolean_query([(Occur.Must, matching), (Occur.Must, within)])
        fetch = self._bounded(max(STATIC_CANDIDATES, 4 * limit))
        result = self.searcher.search(matching, fetch, order_by_field="weight")
        addresses = [address for _, address in result.hits]
        concepts = list(dict.fromkeys(concept_ordinals(self.searcher, addresses))) if addresses else []
        if not concepts:
            return Matches([], 0, mode)
        found = self._collect(query, limit, self.concepts_query(concepts), mode)
        if hit_count(result) > len(result.hits):
            found.total = max(found.total, round(hit_count(result) * len(concepts) / len(result.hits)))
        return found

    def _collect(self, query: tantivy.Query, limit: int, within: tantivy.Query | None, mode: str) -> Matches:
        if within is not None:
            query = Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.const_score_query(within, 0.0))])
        fetch = self._bounded(max(2 * limit + 10, 50))
        while True:
            result = self.searcher.search(query, fetch, weight_by_field="weight")
            addresses = [address for _, address in result.hits]
            concepts = concept_ordinals(self.searcher, addresses) if addresses else []
            best: dict[int, Match] = {}
            for (score, address), concept in zip(result.hits, concepts, strict=True):
                if concept not in best:
                    best[concept] = Match(score, concept, address)
            complete = hit_count(result) <= fetch
            if complete or len(best) >= limit:
                break
            fetch = self._bounded(fetch * 4)
        # beyond what was fetched, the number of concepts is estimated from the documents fetched
        total = len(best) if complete else max(len(best), round(hit_count(result) * len(best) / len(result.hits)))
        return Matches(list(best.values())[:limit], total, mode)

    def _bounded(self, fetch: int) -> int:
        """``fetch`` documents at most, and never more than the index holds: a deep page (``offset`` +
        ``count``) costs what the hits cost, not what the request asks for."""
        return min(fetch, self.documents)

    def search(self, text: str, limit: int, filters: Filters = Filters(),
               concepts: CodeSystemIndex | None = None) -> Matches:
        """Concepts of this index alone matching ``text``, best first (all passes needed).

        ``concepts``, the release's compiled index, is needed for ``filters.within``.
        """
        if filters.within and concepts is None:
            raise ValueError("the within filter needs the release's compiled index (concepts=)")
        within = [self.subtree(filters.within, concepts)] if filters.within and concepts else None
        total, hits = run_passes(QueryBuilder(text, filters, expand=True), [self], limit, within)
        return Matches([hit.match for hit in hits[:limit]], total, hits[0].mode if hits else "strict")

    def stored_term(self, address: tantivy.DocAddress) -> tuple[str, str]:
        """The matched term and its language."""
        doc = self.searcher.doc(address)
        return str(doc.get_first("plain") or ""), str(doc.get_first("lang") or "")


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
    a word being typed ("migrane" starts no word, its stem "migran" starts "migrans"; "dysfon" starts words).
    Known abbreviations are not typos."""
    return any(len(w.text) >= TYPO_LENGTH and w.prefix != w.text[:analysis.MAX_GRAM]
               and all(i.searcher.doc_freq("grams", w.text[:analysis.MAX_GRAM]) == 0 for i in indexes)
               for w in builder.plain_required)


def run_passes(builder: QueryBuilder, indexes: list[SearchIndex], limit: int,
               within: list[tantivy.Query] | None = None) -> tuple[int, list[Hit]]:
    """Run the passes over several indexes (each restricted by ``within[i]`` if given); return the total and
    the hits, best first (see the module docstring). Later passes match supersets: the total is the last's.
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


_OPEN: dict[Path, tuple[int, SearchIndex]] = {}
_LOCK = threading.Lock()


def open_index(path: Path) -> SearchIndex | None:
    """The search index in ``path``, or None when the release has none of the current schema.

    Opened indexes are cached by folder and identified by the inode of their ``smt-search.json``: a release
    removed and loaded again under the same id is a new folder, hence reopened.
    """
    try:
        identity = (path / META).stat().st_ino
    except FileNotFoundError:
        return None
    cached = _OPEN.get(path)
    if cached and cached[0] == identity:
        return cached[1]
    try:
        meta = orjson.loads((path / META).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    if meta.get("schema") != FORMAT_VERSION:
        return None
    with _LOCK:
        cached = _OPEN.get(path)
        if not cached or cached[0] != identity:
            cached = _OPEN[path] = (identity, SearchIndex(path))
    return cached[1]


def matching_concept_ids(search_dir: Path, text: str) -> BitMap | None:
    """Ordinals (compiled-index ids) of every concept whose terms match ``text`` in the strict pass: each word
    starts a word of one term (folded, stemmed), or ``text`` is the code or starts it. Unranked, no typo or
    partial pass: the membership test of a text filter. None when ``search_dir`` holds no search index, or the
    text no word the index searches (only stop words): the caller then compares the terms itself.
    """
    index = open_index(search_dir)
    builder = QueryBuilder(text)
    query = builder.build("strict", bonuses=False) if index and builder.modes() else None
    if index is None or query is None:
        return None
    result = index.searcher.search(query, 1000)
    if hit_count(result) > len(result.hits):
        result = index.searcher.search(query, hit_count(result))
    addresses = [address for _, address in result.hits]
    return BitMap(concept_ordinals(index.searcher, addresses)) if addresses else BitMap()


def forget_except(live: set[Path]) -> None:
    """Drop cached indexes of releases that are gone."""
    with _LOCK:
        for path in set(_OPEN) - live:
            _OPEN.pop(path, None)
