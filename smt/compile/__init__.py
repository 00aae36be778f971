"""Compilation of releases into their serving artefacts, outside the store.

The store (``smt.store``) keeps the record: the lock, the work folder, the RDF graph, the atomic commit and the
audit. The artefacts a server reads (the SQLite index, the search index, the FHIR JSON of a value set; later
others) are built here, as named steps, and handed to the store by the composition root (the ``smt`` CLI, the
app's write routes, tests) through ``writable_store``. Each artefact writes its format version into the release
manifest; its reader refuses a release compiled in another format, naming ``smt recompile <id>``
(``smt.compile.rebuild``).
"""

from smt.compile.artefacts import ARTEFACTS, Artefact, compile_release, writable_store

__all__ = ["ARTEFACTS", "Artefact", "compile_release", "writable_store"]
