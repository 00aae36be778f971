"""Read access to the RDF store from the server: short-lived read-only handles, RDF formats, graph dumps.

RocksDB lets one process write (the CLI during a load) while others open the store read-only. A read-only
handle sees the store as it was when opened, and opening can fail while the writer is replacing its files
(measured: "IO error: No such file or directory … MANIFEST"), so the server opens a fresh handle per unit of
work (one download generation, one linked-data request, one SPARQL query) and retries the opening briefly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from smt.errors import RdfUnavailable
from smt.store.rdf import DCT, OWL, RDFS, SKOS, SMT, XSD

PREFIXES = {"skos": SKOS, "dct": DCT, "owl": OWL, "rdfs": RDFS, "xsd": XSD, "smt": SMT}
OPEN_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class RdfSyntax:
    """An RDF serialisation we produce: short name, pyoxigraph format, media type and file extension."""

    name: str
    format: ox.RdfFormat
    media_type: str
    extension: str


RDF_SYNTAXES = {
    "turtle": RdfSyntax("turtle", ox.RdfFormat.TURTLE, "text/turtle", ".ttl"),
    "ntriples": RdfSyntax("ntriples", ox.RdfFormat.N_TRIPLES, "application/n-triples", ".nt"),
    "rdfxml": RdfSyntax("rdfxml", ox.RdfFormat.RDF_XML, "application/rdf+xml", ".rdf"),
    "jsonld": RdfSyntax("jsonld", ox.RdfFormat.JSON_LD, "application/ld+json", ".jsonld"),
}
DATASET_SYNTAXES = {
    "trig": RdfSyntax("trig", ox.RdfFormat.TRIG, "application/trig", ".trig"),
    "nquads": RdfSyntax("nquads", ox.RdfFormat.N_QUADS, "application/n-quads", ".nq"),
}


def open_read_only(path: Path, attempts: int = OPEN_ATTEMPTS) -> ox.Store:
    """A read-only handle on the store at ``path``, retrying while a concurrent writer swaps its files."""
    if not path.is_dir():
        raise RdfUnavailable(f"no RDF store at {path}")
    for attempt in range(attempts):
        try:
            return ox.Store.read_only(str(path))
        except (OSError, RuntimeError) as exc:
            if attempt == attempts - 1:
                raise RdfUnavailable(f"the RDF store could not be opened: {exc}") from exc
            time.sleep(0.05 * (attempt + 1))
    raise RdfUnavailable("the RDF store could not be opened")  # pragma: no cover


@contextmanager
def reading(path: Path) -> Iterator[ox.Store]:
    """A read-only store handle for one unit of work (closed when the last reference goes)."""
    yield open_read_only(path)


def dump_graph(path: Path, graph: str, syntax: RdfSyntax, target: Path) -> None:
    """Write one named graph of the store to ``target``."""
    with reading(path) as store:
        prefixes = PREFIXES if syntax.format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        store.dump(str(target), syntax.format, from_graph=ox.NamedNode(graph), prefixes=prefixes)


def serialize(triples: list[ox.Triple] | list[ox.Quad], syntax: RdfSyntax) -> bytes:
    """Triples (or quads, for a dataset syntax) in ``syntax``."""
    prefixes = PREFIXES if syntax.format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML) else None
    return ox.serialize(triples, format=syntax.format, prefixes=prefixes) or b""  # no output file: the bytes
