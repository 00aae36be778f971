"""Linked-data views of the resources the store mints IRIs for (concepts, and any other subject).

A concept IRI (``http://data.esante.gouv.fr/atih/cim10/E11.9``) names the same concept in every version of its
code system; each version is a named graph. A view is the concise bounded description of the IRI (its
statements, and those of the blank nodes they lead to) in the default version's graph, in one named version,
or in every version (``version=all``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from smt.publish.rdf_read import reading
from smt.releases.registry import Registry, version_key
from smt.store.rdf import RDF, RELEASE_PREFIX, SKOS
from smt.store.releases import ReleaseInfo

DEFAULT_ID_BASE = "http://data.esante.gouv.fr/"
ALL_VERSIONS = "all"
_TYPE = ox.NamedNode(RDF + "type")
_BROADER = ox.NamedNode(SKOS + "broader")


def id_base() -> str:
    """The IRI base served under ``/id/`` (``SMT_LINKED_DATA_BASE``, default ``http://data.esante.gouv.fr/``)."""
    base = os.environ.get("SMT_LINKED_DATA_BASE", DEFAULT_ID_BASE)
    return base if base.endswith(("/", "#")) else base + "/"


@dataclass(slots=True)
class View:
    """What the server knows about one IRI, and the statements of the versions chosen for the answer."""

    iri: str
    releases: list[ReleaseInfo]
    chosen: list[ReleaseInfo]
    quads: list[ox.Quad]
    narrower: list[tuple[str, str | None]]

    def triples(self) -> list[ox.Triple]:
        """The statements without their graphs (merged across versions, duplicates removed)."""
        return list(dict.fromkeys(q.triple for q in self.quads))

    def values(self, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]:
        subject = ox.NamedNode(self.iri)
        found = [q.object for q in self.quads if q.subject == subject and q.predicate.value == predicate]
        return list(dict.fromkeys(found))


def _describe(store: ox.Store, subject: ox.NamedNode, graph: ox.NamedNode, into: list[ox.Quad]) -> None:
    """The concise bounded description of ``subject`` in ``graph``: its statements, and blank nodes' ones."""
    pending: list[ox.NamedNode | ox.BlankNode] = [subject]
    seen: set[ox.NamedNode | ox.BlankNode] = {subject}
    while pending:
        for statement in store.quads_for_pattern(pending.pop(), None, None, graph):
            into.append(statement)
            if isinstance(statement.object, ox.BlankNode) and statement.object not in seen:
                seen.add(statement.object)
                pending.append(statement.object)


def _releases_describing(store: ox.Store, iri: str, registry: Registry) -> list[ReleaseInfo]:
    served = {info.id: info for info in registry.releases()}
    ids = {q.graph_name.value.removeprefix(RELEASE_PREFIX)
           for q in store.quads_for_pattern(ox.NamedNode(iri), _TYPE, None, None)
           if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(RELEASE_PREFIX)}
    return sorted((served[i] for i in ids if i in served), key=lambda r: (r.url, version_key(r.version)))


def _choose(registry: Registry, releases: list[ReleaseInfo], version: str | None) -> list[ReleaseInfo]:
    if version == ALL_VERSIONS:
        return releases
    if version:
        return [r for r in releases if r.version == version]
    default = registry.resolve(releases[-1].url, None, releases[-1].kind)
    return [default] if default in releases else [releases[-1]]


def view(rdf_path: Path, registry: Registry, iri: str, version: str | None = None) -> View | None:
    """The view of ``iri``, or None when no served release describes it (or not in ``version``)."""
    subject = ox.NamedNode(iri)
    with reading(rdf_path) as store:
        releases = _releases_describing(store, iri, registry)
        if not releases:
            return None
        chosen = _choose(registry, releases, version)
        if not chosen:
            return None
        quads: list[ox.Quad] = []
        narrower: dict[str, str | None] = {}
        for info in chosen:
            graph = ox.NamedNode(RELEASE_PREFIX + info.id)
            _describe(store, subject, graph, quads)
            for link in store.quads_for_pattern(None, _BROADER, subject, graph):
                child = link.subject
                if not isinstance(child, ox.NamedNode):
                    continue
                label = next(store.quads_for_pattern(child, ox.NamedNode(SKOS + "prefLabel"), None, graph), None)
                text = label.object.value if label and isinstance(label.object, ox.Literal) else None
                narrower.setdefault(child.value, text)
    return View(iri, releases, chosen, quads, sorted(narrower.items()))
