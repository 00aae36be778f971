"""Full-text search: French-first analysis, one tantivy index per code system release, ranked queries.

Modules: ``analysis`` (analysers shared by index and query), ``abbreviations`` (French medical abbreviations
expanded at query time), ``build`` (index builder, called at load time),
``query`` (query construction and weights), ``searcher`` (passes, tiers, grouping per concept over release
indexes), ``highlight`` (matched words), ``service`` (releases of a request, result rows; the API's entry).
"""

FORMAT_VERSION = 2
"""Format of a release's search index folder: written in the release manifest and in ``smt-search.json``;
a release whose search index has another format is refused until ``smt recompile <id>``."""

SEARCH_DIR = "search"
"""Folder of a release's search index, next to its ``index.sqlite``."""
