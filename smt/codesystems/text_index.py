"""The ``$expand`` text ``filter`` answered by a release's full-text index (``smt.search``), when it has one.

Semantics are those of the search engine's strict pass: every query word (stop words aside) starts a word of
one term of the concept (code, display or designation), compared folded and stemmed, or the query is the
concept's code or a prefix of it. A one-letter word must be a whole word (prefixes are indexed from 2 letters).
No typo or partial passes: a filter narrows a value set, it does not rank.
Code systems without a search index (request ``tx-resource`` code systems, releases compiled before search
indexes) use the Python scan of ``smt.terminology.expand.filters.text_filter``.
"""

from __future__ import annotations

from smt.codesystems.provider import CodeSystemProvider
from smt.index.reader import CodeSystemIndex
from smt.search.query import QueryBuilder, SearchIndex, open_index
from smt.search.service import SEARCH_DIR

FIRST_FETCH = 1_000
"""Documents fetched by the first query; a broader query is run again for all of its documents."""


def search_index_of(provider: CodeSystemProvider) -> SearchIndex | None:
    """The search index next to a stored release's compiled index, or None (in-memory provider, no index)."""
    if not isinstance(provider, CodeSystemIndex):
        return None
    return open_index(provider.path.parent / SEARCH_DIR)


def indexed_text_ids(provider: CodeSystemProvider, text: str) -> set[int] | None:
    """Ids of the provider's concepts matching ``text``, or None when the provider has no search index."""
    index = search_index_of(provider)
    if index is None:
        return None
    builder = QueryBuilder(text)
    query = builder.build("strict") if builder.modes() else None
    if query is None:
        return None
    searcher = index.searcher
    result = searcher.search(query, FIRST_FETCH)
    if result.count > len(result.hits):
        result = searcher.search(query, result.count)
    addresses = [address for _, address in result.hits]
    return set(searcher.fast_field_values("concept", addresses)) if addresses else set()
