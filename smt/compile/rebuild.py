"""``smt recompile <id>``: rebuild a stored release's artefacts from the store of record.

The release is read back from its RDF graph and its manifest (``smt.store.graph_read``), compiled with the
current ``ARTEFACTS`` and swapped in under the same id (``ReleaseStore.recompile``). A release whose graph does
not hold everything its artefacts need (SNOMED CT: relationships, reference sets, description ids; see
``smt.store.rdf.graph_omits``) is refused with what is missing: load it again from its sources with
``smt load … --replace``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from smt.compile.artefacts import writable_store
from smt.errors import SmtError
from smt.model import Release
from smt.progress import SILENT, Progress
from smt.store.graph_read import read_release
from smt.store.rdf import RdfStore
from smt.store.releases import ReleaseInfo

_INDEX_EVIDENCE = {
    "relationships, concrete values and reference sets":
        "SELECT 1 FROM relationship UNION ALL SELECT 1 FROM refset_member LIMIT 1",
    "description ids, acceptability and inactive terms":
        "SELECT 1 FROM designation WHERE ref IS NOT NULL OR acceptability IS NOT NULL OR active = 0 LIMIT 1",
    "concept extensions": "SELECT 1 FROM concept_extension LIMIT 1",
    "designations that repeat the display (written to the graph since artefact versions are recorded)":
        "SELECT 1 FROM designation JOIN concept ON concept.id = designation.concept WHERE use_code IS NULL "
        "AND value = concept.display AND language IS :language LIMIT 1",
}
"""For a manifest written before ``graph_omits`` was recorded: what its previous index shows the graph lacks."""


class NotRebuildable(SmtError):
    """The store of record does not hold what a release's artefacts need."""


def recompile(home: Path, release_id: str, progress: Progress = SILENT) -> ReleaseInfo:
    """Rebuild the artefacts of release ``release_id`` of the store at ``home``; answer its new registry entry."""
    store = writable_store(home)

    def read(info: ReleaseInfo, rdf: RdfStore) -> Release:
        missing = omitted(info)
        if missing:
            raise NotRebuildable(
                f"release {info.id} ({info.url} version {info.version}) cannot be rebuilt from its RDF graph, "
                f"which does not hold its {', '.join(missing)}: load it again from its source files with "
                f"`smt load … --replace`")
        return read_release(rdf, info.manifest, info.id, previous_order(info))

    return store.recompile(release_id, read, progress=progress)


def omitted(info: ReleaseInfo) -> list[str]:
    """What the release's graph does not hold (from its manifest, else from its previous index)."""
    if "graph_omits" in info.manifest:
        return list(info.manifest["graph_omits"])
    if info.kind != "CodeSystem":
        return []
    found = []
    for what, query in _INDEX_EVIDENCE.items():
        try:
            with _open(info.index_path) as db:
                if db.execute(query, {"language": info.manifest.get("language")}).fetchone() is not None:
                    found.append(what)
        except sqlite3.Error:
            continue  # that table or column did not exist then: nothing of it to lose
    return found


def previous_order(info: ReleaseInfo) -> list[str]:
    """The concept codes in the order of the previous compiled index (load order), when it can be read."""
    if info.kind != "CodeSystem":
        return []
    try:
        with _open(info.index_path) as db:
            return [row[0] for row in db.execute("SELECT code FROM concept ORDER BY id")]
    except sqlite3.Error:
        return []


class _open:
    """A read-only SQLite connection to an index file, closed on exit (``sqlite3``'s own context only commits)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise sqlite3.OperationalError(f"no index at {path}")
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *_: object) -> None:
        self.db.close()
