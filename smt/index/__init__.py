"""The compiled per-release SQLite index: ``build`` writes it (a compile step), ``reader`` serves it."""

FORMAT_VERSION = 2
"""Format of ``index.sqlite``: written in the release manifest by the compile step, required by the registry
before it opens the file (a release compiled in another format is refused until ``smt recompile <id>``)."""
