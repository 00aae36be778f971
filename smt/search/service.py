"""Search across releases: which releases a request covers, one merged ranking, result rows.

``search`` serves ``GET /search``; ``search_concept_ids`` ranks the codes of one release (the unranked set a
``ValueSet/$expand`` text filter keeps is ``smt.search.searcher.matching_concept_ids``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from smt.index.reader import CodeSystemIndex
from smt.releases.registry import Registry, normalise_system, version_key
from smt.search import FORMAT_VERSION, SEARCH_DIR
from smt.search.highlight import Highlighter
from smt.search.query import Filters, QueryBuilder
from smt.search.searcher import Match, SearchIndex, forget_except, open_index, run_passes
from smt.store.releases import ReleaseInfo

MAX_COUNT = 200
"""Results of one page at most."""
MAX_OFFSET = 10_000
"""Deepest page start (as Elasticsearch's ``max_result_window``): beyond, a ranked list is better narrowed
(``system``, ``within``, more words) or read whole from a release download. Costs grow with the offset."""
MAX_TEXT = 500
"""Characters of a query text at most (the query builder makes several clauses per word)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One concept found: its best matching term, highlighted."""

    system: str
    version: str
    code: str
    display: str | None
    matched: str
    language: str
    score: float
    active: bool

    def as_dict(self) -> dict:
        return {
            "system": self.system, "version": self.version, "code": self.code, "display": self.display,
            "matched": self.matched, "language": self.language, "score": round(self.score, 3),
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    results: list[SearchResult]
    expanded: dict[str, list[str]] = field(default_factory=dict)
    """Abbreviations of the query (folded) and the expansions they also matched; empty when none."""

    def as_dict(self) -> dict:
        page = {"total": self.total, "results": [r.as_dict() for r in self.results]}
        if self.expanded:
            page["expanded"] = self.expanded
        return page


def search_path(info: ReleaseInfo) -> Path:
    return info.path / SEARCH_DIR


def release_search_index(info: ReleaseInfo) -> SearchIndex | None:
    """The search index of a release; one compiled in another format is refused (naming ``smt recompile``)."""
    info.require("search", FORMAT_VERSION)
    return open_index(search_path(info))


def select_releases(registry: Registry, system: str | None = None, version: str | None = None) -> list[ReleaseInfo]:
    """Releases a search covers: each code system's default version, the one named, or all (``version=all``).

    A version without a system selects the releases having exactly that version. Unknown systems or versions
    raise ``NotFound``.
    """
    if system:
        if version == "all":
            return registry.versions_of(system)
        return [registry.resolve(system, version or None)]
    code_systems = registry.code_systems()
    if version == "all":
        return code_systems
    if version:
        return [r for r in code_systems if r.version == version]
    urls = sorted({normalise_system(r.url) for r in code_systems})
    return [registry.resolve(url) for url in urls]


def _release_ranks(releases: list[ReleaseInfo]) -> dict[str, int]:
    newest_first = sorted(releases, key=lambda r: version_key(r.version), reverse=True)
    return {r.id: rank for rank, r in enumerate(sorted(newest_first, key=lambda r: r.url))}


def search(registry: Registry, text: str, *, system: str | None = None, version: str | None = None,
           language: str | None = None, active: bool | None = None, within: str | None = None,
           count: int = 20, offset: int = 0) -> SearchPage:
    """Concepts matching ``text`` in the selected releases, best first, one row per concept.

    ``count`` and ``offset`` are clamped to ``[0, MAX_COUNT]`` and ``[0, MAX_OFFSET]`` (the HTTP route refuses
    values beyond); the engine fetches at most what each index holds, whatever the page asked.
    """
    count = max(0, min(count, MAX_COUNT))
    offset = max(0, min(offset, MAX_OFFSET))
    text = text[:MAX_TEXT]
    releases = select_releases(registry, system, version)
    forget_except({search_path(r) for r in registry.code_systems()})
    opened = [(info, index) for info in releases if (index := release_search_index(info))]
    builder = QueryBuilder(text, Filters(language=language, active=active, within=within), expand=True)
    subtrees = [index.subtree(within, registry.index(info)) for info, index in opened] if within else None
    total, hits = run_passes(builder, [index for _, index in opened], offset + count, subtrees)
    ranks = _release_ranks([info for info, _ in opened])
    hits.sort(key=lambda h: (h.rank, -h.match.score, ranks[opened[h.index][0].id], h.match.concept))
    page = hits[offset:offset + count]
    marker = Highlighter(builder.text, fuzzy=any(h.mode != "strict" for h in page),
                         also=[e for expansions in builder.expanded.values() for e in expansions])
    return SearchPage(total, [_result(registry, *opened[h.index], h.match, marker) for h in page], builder.expanded)


def _result(registry: Registry, release: ReleaseInfo, index: SearchIndex, match: Match,
            marker: Highlighter) -> SearchResult:
    concept = registry.index(release).concept_by_id(match.concept)
    term, language = index.stored_term(match.address)
    return SearchResult(
        system=release.url, version=release.version, code=concept.code, display=concept.display,
        matched=marker(term, language), language=language, score=match.score, active=concept.active,
    )


def search_concept_ids(release_info: ReleaseInfo, text: str, limit: int = 1000, *, language: str | None = None,
                       active: bool | None = None, within: str | None = None,
                       index: CodeSystemIndex | None = None) -> list[str]:
    """Codes of the concepts of one release matching ``text``, best first (for ``$expand?filter=``).

    Same analysis and ranking as ``GET /search``. ``index`` (the release's compiled index, e.g.
    ``Registry.index(info)``) is opened from the release folder when not given. A release without a search
    index gives an empty list.
    """
    searcher = release_search_index(release_info)
    if searcher is None or limit <= 0:
        return []
    concepts = index or CodeSystemIndex(release_info.index_path)
    try:
        matches = searcher.search(text, limit, Filters(language=language, active=active, within=within), concepts)
        return [c.code for c in concepts.concepts([m.concept for m in matches.matches])]
    finally:
        if index is None:
            concepts.close()
