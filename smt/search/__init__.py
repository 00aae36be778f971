"""Full-text search: French-first analysis, one tantivy index per code system release, ranked queries.

Modules: ``analysis`` (analysers shared by index and query), ``build`` (index builder, called at load time),
``query`` (one release's searcher), ``highlight`` (matched words), ``service`` (across releases; the API).
"""
