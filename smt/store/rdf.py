"""The RDF store of record (pyoxigraph, on disk): one named graph per release, plus a registry graph.

Concepts are SKOS: ``skos:Concept`` with ``skos:notation``, ``skos:prefLabel``/``altLabel``/``definition`` with
language tags, ``skos:broader`` and ``skos:inScheme`` (one ``skos:ConceptScheme`` per release). See
``docs/rdf-model.md``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import orjson
import pyoxigraph as ox

from smt.alignments.rdf import conceptmap_triples
from smt.model import CodeSystemRelease, Coding, Concept, ConceptProperty, Release, ResourceRelease
from smt.ntriples import blank, iri, literal, quad, typed
from smt.progress import SILENT, Phase, Progress, counted

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SMT = "https://smt.esante.gouv.fr/def/smt#"
REGISTRY = "urn:smt:registry"
RELEASE_PREFIX = "urn:smt:release:"
DRAFT_REGISTRY_PREFIX = "urn:smt:registry:draft:"
"""A draft's registry entry is in a graph of its own until it is published: whoever may not see the draft sees
neither its graph nor its entry (SPARQL answers over the graphs a reader may see)."""

Triple = tuple[str, str, str]
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")

P_TYPE = iri(RDF + "type")
P_NOTATION = iri(SKOS + "notation")
P_PREF = iri(SKOS + "prefLabel")
P_ALT = iri(SKOS + "altLabel")
P_DEF = iri(SKOS + "definition")
P_BROADER = iri(SKOS + "broader")
P_IN_SCHEME = iri(SKOS + "inScheme")
P_TOP = iri(SKOS + "topConceptOf")
C_CONCEPT = iri(SKOS + "Concept")
C_SCHEME = iri(SKOS + "ConceptScheme")
P_DEPRECATED = iri(OWL + "deprecated")
P_VERSION_INFO = iri(OWL + "versionInfo")
P_TITLE = iri(DCT + "title")
P_PUBLISHER = iri(DCT + "publisher")
P_RIGHTS = iri(DCT + "rights")
P_DESCRIPTION = iri(DCT + "description")
P_ISSUED = iri(DCT + "issued")
P_CREATED = iri(DCT + "created")
P_IDENTIFIER = iri(DCT + "identifier")
P_SOURCE = iri(DCT + "source")
P_LABEL = iri(RDFS + "label")
P_COMMENT = iri(RDFS + "comment")
P_SUBPROPERTY = iri(RDFS + "subPropertyOf")
C_RELEASE = iri(SMT + "Release")
C_VALUE_SET = iri(SMT + "ValueSet")
C_CONCEPT_MAP = iri(SMT + "ConceptMap")
P_CANONICAL = iri(SMT + "canonicalUrl")
P_KIND = iri(SMT + "resourceType")
P_STATUS = iri(SMT + "status")
P_CONCEPT_STATUS = iri(SMT + "conceptStatus")
P_ABSTRACT = iri(SMT + "notSelectable")
P_GRAPH = iri(SMT + "graph")
P_RELEASE_ID = iri(SMT + "releaseId")
P_COUNT = iri(SMT + "conceptCount")
P_SHA256 = iri(SMT + "sha256")
P_SIZE = iri(SMT + "byteSize")
P_WARNING = iri(SMT + "qualityWarning")
P_DESIGNATION = iri(SMT + "designation")
P_VALUE = iri(SMT + "value")
P_CODE = iri(SMT + "code")
P_SYSTEM = iri(SMT + "system")
P_FHIR_JSON = iri(SMT + "fhirResource")
P_MEMBER = iri(SMT + "includesConcept")
P_INACTIVE_LABEL = iri(SMT + "inactiveLabel")

T_BOOLEAN = iri(XSD + "boolean")
T_INTEGER = iri(XSD + "integer")
T_DECIMAL = iri(XSD + "decimal")
T_DATETIME = iri(XSD + "dateTime")
T_ANYURI = iri(XSD + "anyURI")
T_JSON = iri(RDF + "JSON")
TRUE = typed("true", T_BOOLEAN)


def graph_name(release_id: str) -> str:
    """Name of the graph holding a release (and IRI of its ConceptScheme)."""
    return RELEASE_PREFIX + release_id


def registry_graph(release_id: str, status: str) -> str:
    """The graph holding a release's registry entry: the registry graph, or its own graph for a draft."""
    return DRAFT_REGISTRY_PREFIX + release_id if status == "draft" else REGISTRY


def property_iri(url: str, code: str) -> str:
    """Predicate IRI of a code system property: scoped by the code system's canonical URL."""
    return f"{url.rstrip('/')}/property/{code}"


def _property_object(prop: ConceptProperty) -> str:
    value = prop.value
    if isinstance(value, Coding):
        return literal(f"{value.system or ''}|{value.code}")
    if isinstance(value, bool):
        return typed("true" if value else "false", T_BOOLEAN)
    if isinstance(value, int):
        return typed(str(value), T_INTEGER)
    if isinstance(value, float):
        return typed(repr(value), T_DECIMAL)
    if prop.type == "dateTime":
        return typed(str(value), T_DATETIME)
    return literal(str(value))


def _concept_triples(release: CodeSystemRelease, concept: Concept, scheme: str,
                     predicates: dict[str, str], uses: _UsePredicates) -> Iterator[Triple]:
    node = iri(release.concept_iri(concept.code))
    lang = release.language
    yield node, P_TYPE, C_CONCEPT
    yield node, P_IN_SCHEME, scheme
    yield node, P_NOTATION, literal(concept.code)
    yield node, P_PREF, literal(concept.display, lang)
    if concept.definition:
        yield node, P_DEF, literal(concept.definition, lang)
    for parent in concept.parents:
        yield node, P_BROADER, iri(release.concept_iri(parent))
    if not concept.parents:
        yield node, P_TOP, scheme
    if concept.status != "active":
        yield node, P_DEPRECATED, TRUE
        yield node, P_CONCEPT_STATUS, literal(concept.status)
    if concept.abstract:
        yield node, P_ABSTRACT, TRUE
    for designation in concept.designations:
        term = literal(designation.value, designation.language)
        if not designation.active:  # a retired term (SNOMED CT inactive description): kept, not a label
            yield node, P_INACTIVE_LABEL, term
            continue
        if designation.value != concept.display or designation.language != lang:
            yield node, P_ALT, term
        elif designation.use is None:  # the display again, as a designation: not a second SKOS label
            holder = blank()
            yield node, P_DESIGNATION, holder
            yield holder, P_VALUE, term
        if designation.use is None:
            continue
        use_predicate = uses.of(designation.use)
        if use_predicate:
            yield node, use_predicate, term
            continue
        holder = blank()
        yield node, P_DESIGNATION, holder
        yield holder, P_VALUE, term
        if designation.use.system:
            yield holder, P_SYSTEM, typed(designation.use.system, T_ANYURI)
        yield holder, P_CODE, literal(designation.use.code)
    for prop in concept.properties:
        predicate = predicates.get(prop.code) or iri(property_iri(release.url, prop.code))
        yield node, predicate, _property_object(prop)


class _UsePredicates:
    """The predicate of each designation use (``designation_use_predicates``), looked up by the identity of the
    use first: loaders share one ``Coding`` per use, and hashing a dataclass per designation costs seconds on
    millions of terms."""

    def __init__(self, predicates: dict[Coding, str]) -> None:
        self.predicates = predicates
        self.by_identity: dict[int, tuple[Coding, str | None]] = {}

    def of(self, use: Coding) -> str | None:
        found = self.by_identity.get(id(use))
        if found is None or found[0] is not use:
            found = self.by_identity[id(use)] = (use, self.predicates.get(use))
        return found[1]


def graph_omits(release: Release) -> list[str]:
    """What of ``release`` its graph does not hold, so that ``smt recompile`` cannot rebuild it from the graph
    (empty for value sets, concept maps and the code systems of every loader but SNOMED CT)."""
    if isinstance(release, ResourceRelease):
        return []
    omits: dict[str, None] = {}
    if release.tables is not None:
        omits["relationships, concrete values and reference sets"] = None
    declared = {p.code for p in release.properties}
    for concept in release.concepts:
        if concept.extensions:
            omits["concept extensions"] = None
        if _repeated_without_use(concept):
            omits["designations without a use repeating the text of one with a use"] = None
        for designation in concept.designations:
            if designation.id or designation.acceptability or not designation.active:
                omits["description ids, acceptability and inactive terms"] = None
            if designation.extensions or designation.source:
                omits["designation extensions"] = None
            use = designation.use
            if use is not None and use.display and (not use.system or not _ABSOLUTE.match(use.system)
                                                    or "#" in use.system):
                omits["designation use displays"] = None
        for prop in concept.properties:
            if isinstance(prop.value, Coding) and prop.value.display:
                omits["displays of Coding property values"] = None
            if prop.code not in declared and prop.type in ("code", "Coding"):
                omits["types of undeclared properties"] = None
        if "relationships, concrete values and reference sets" in omits:
            break  # SNOMED CT: not rebuildable anyway; no need to scan a million concepts
    return list(omits)


def _repeated_without_use(concept: Concept) -> bool:
    """True when a designation without use has the text and language of one with a use (one label in RDF)."""
    if len(concept.designations) < 2:
        return False
    with_use = {(d.value, d.language) for d in concept.designations if d.use is not None}
    return any(d.use is None and (d.value, d.language) in with_use for d in concept.designations)


def designation_use_predicates(release: CodeSystemRelease) -> dict[Coding, str]:
    """One predicate per designation use whose system is an absolute IRI: ``<{system}#{code}>``.

    Each is declared ``rdfs:subPropertyOf skos:altLabel``. A designation with a use is written with both
    predicates: the store does no RDFS inference, and SKOS clients must find every label as ``skos:altLabel``.
    """
    uses = {d.use for c in release.concepts for d in c.designations if d.use is not None}
    return {
        use: iri(f"{use.system}#{use.code}")
        for use in uses
        if use.system and _ABSOLUTE.match(use.system) and "#" not in use.system
    }


def _use_declarations(uses: dict[Coding, str]) -> Iterator[Triple]:
    for use, predicate in uses.items():
        yield predicate, P_TYPE, iri(OWL + "DatatypeProperty")
        yield predicate, P_SUBPROPERTY, P_ALT
        yield predicate, P_LABEL, literal(use.display or use.code)
        yield predicate, P_CODE, literal(use.code)
        yield predicate, P_SYSTEM, typed(use.system or "", T_ANYURI)


def _scheme_triples(release: CodeSystemRelease, scheme: str) -> Iterator[Triple]:
    yield scheme, P_TYPE, C_SCHEME
    yield scheme, P_CANONICAL, typed(release.url, T_ANYURI)
    yield scheme, P_VERSION_INFO, literal(release.version)
    yield scheme, P_TITLE, literal(release.title, release.language)
    if release.publisher:
        yield scheme, P_PUBLISHER, literal(release.publisher)
    if release.copyright:
        yield scheme, P_RIGHTS, literal(release.copyright)
    if release.description:
        yield scheme, P_DESCRIPTION, literal(release.description, release.language)
    if release.date:
        yield scheme, P_ISSUED, literal(release.date)
    for oid in release.oids:
        yield scheme, P_IDENTIFIER, literal(f"urn:oid:{oid}")
    for prop in release.properties:
        predicate = iri(property_iri(release.url, prop.code))
        yield predicate, P_TYPE, iri(OWL + ("ObjectProperty" if prop.type == "Coding" else "DatatypeProperty"))
        yield predicate, P_LABEL, literal(prop.code)
        if prop.description:
            yield predicate, P_COMMENT, literal(prop.description)


def _resource_triples(release: ResourceRelease, node: str) -> Iterator[Triple]:
    """A value set or concept map: its metadata, enumerated members, and the FHIR resource as rdf:JSON."""
    yield node, P_TYPE, C_VALUE_SET if release.kind == "ValueSet" else C_CONCEPT_MAP
    yield node, P_CANONICAL, typed(release.url, T_ANYURI)
    yield node, P_VERSION_INFO, literal(release.version)
    yield node, P_TITLE, literal(release.title, release.language)
    if release.publisher:
        yield node, P_PUBLISHER, literal(release.publisher)
    if release.description:
        yield node, P_DESCRIPTION, literal(release.description, release.language)
    for oid in release.oids:
        yield node, P_IDENTIFIER, literal(f"urn:oid:{oid}")
    for include in release.resource.get("compose", {}).get("include", []):
        for concept in include.get("concept", []):
            member = blank()
            yield node, P_MEMBER, member
            yield member, P_SYSTEM, typed(include.get("system", ""), T_ANYURI)
            yield member, P_CODE, literal(str(concept["code"]))
            if concept.get("display"):
                yield member, P_LABEL, literal(concept["display"], release.language)
    if release.kind == "ConceptMap":  # SKOS mappings + reified SSSOM provenance (smt.alignments.rdf)
        yield from conceptmap_triples(release.resource, node)
    yield node, P_FHIR_JSON, typed(orjson.dumps(release.resource).decode(), T_JSON)


def release_nquads(release: Release, release_id: str, phase: Phase | None = None) -> Iterator[str]:
    """Every statement of the release's named graph, as N-Quads lines (``phase`` counts the concepts)."""
    graph = iri(graph_name(release_id))
    if isinstance(release, ResourceRelease):
        triples: Iterator[Triple] = _resource_triples(release, graph)
    else:
        predicates = {p.code: iri(property_iri(release.url, p.code)) for p in release.properties}
        uses = designation_use_predicates(release)
        concepts = release.concepts if phase is None else counted(release.concepts, phase, finish=False)
        lookup = _UsePredicates(uses)
        triples = itertools.chain(
            _scheme_triples(release, graph),
            _use_declarations(uses),
            (t for concept in concepts for t in _concept_triples(release, concept, graph, predicates, lookup)),
        )
    for s, p, o in triples:
        yield f"{s} {p} {o} {graph} .\n"


def registry_nquads(release: Release, release_id: str, status: str, loaded_at: str,
                    warnings: list[str]) -> str:
    """The registry entry of a release (in the registry graph), as an N-Quads document."""
    node = iri(graph_name(release_id))
    concept_count = len(release.concepts) if isinstance(release, CodeSystemRelease) else 0
    triples: list[Triple] = [
        (node, P_TYPE, C_RELEASE),
        (node, P_RELEASE_ID, literal(release_id)),
        (node, P_KIND, literal(release.kind)),
        (node, P_CANONICAL, typed(release.url, T_ANYURI)),
        (node, P_VERSION_INFO, literal(release.version)),
        (node, P_STATUS, literal(status)),
        (node, P_GRAPH, node),
        (node, P_COUNT, typed(str(concept_count), T_INTEGER)),
        (node, P_CREATED, typed(loaded_at, T_DATETIME)),
    ]
    if release.publisher:
        triples.append((node, P_PUBLISHER, literal(release.publisher)))
    if release.copyright:
        triples.append((node, P_RIGHTS, literal(release.copyright)))
    if release.date:
        triples.append((node, P_ISSUED, literal(release.date)))
    triples += [(node, P_IDENTIFIER, literal(f"urn:oid:{oid}")) for oid in release.oids]
    for source in release.sources:
        holder = blank()
        triples += [
            (node, P_SOURCE, holder),
            (holder, P_LABEL, literal(source.name)),
            (holder, P_SHA256, literal(source.sha256)),
            (holder, P_SIZE, typed(str(source.size), T_INTEGER)),
        ]
    triples += [(node, P_WARNING, literal(w)) for w in warnings]
    graph = iri(registry_graph(release_id, status))
    return "".join(quad(s, p, o, graph) for s, p, o in triples)


_REGISTRY = ox.NamedNode(REGISTRY)
BULK_STATEMENTS = 100_000
"""Statements per bulk load: bounds the loader's memory (see ``RdfStore.write_releases``)."""


class RdfStore:
    """Thin wrapper over the on-disk pyoxigraph store, opened for one unit of work."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))

    def write_releases(self, releases: list[tuple[Release, str]], progress: Progress = SILENT,
                       label: str = "") -> None:
        """Write release graphs (bulk, not yet registered: invisible until ``register``).

        The statements are written as N-Quads text ``BULK_STATEMENTS`` at a time (phase "RDF graph", in
        concepts) and each chunk is bulk-loaded in a second thread while the next one is written (phase "RDF
        load", in statements): the bulk loader runs in native code without the GIL, so writing and loading
        overlap, and at most two chunks are in memory (pyoxigraph's bulk loader holds a whole input: ≈ 470 MB
        for CIM-10's 560k statements in one call).
        """
        for _, release_id in releases:
            self.store.remove_graph(ox.NamedNode(graph_name(release_id)))
        concepts = sum(len(r.concepts) if isinstance(r, CodeSystemRelease) else 1 for r, _ in releases)
        writing = progress.phase(f"{label}RDF graph", concepts)
        loading = progress.phase(f"{label}RDF load", None)
        lines = (line for release, release_id in releases for line in release_nquads(release, release_id, writing))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smt-rdf-load") as loader:
            pending: Future[None] | None = None
            while chunk := list(itertools.islice(lines, BULK_STATEMENTS)):
                data = "".join(chunk).encode()
                del chunk
                if pending is not None:
                    pending.result()
                pending = loader.submit(self._bulk_load, data, data.count(b"\n"), loading)
                del data
            if pending is not None:
                pending.result()
        writing.finish()
        self.store.flush()
        loading.finish()

    def _bulk_load(self, data: bytes, statements: int, loading: Phase) -> None:
        self.store.bulk_load(data, format=ox.RdfFormat.N_QUADS, lenient=True)
        loading.advance(statements)

    def write_release(self, release: Release, release_id: str) -> None:
        """One release graph (see ``write_releases``)."""
        self.write_releases([(release, release_id)])

    def register(self, nquads: str) -> None:
        """Add a registry entry in one transaction."""
        self.store.load(nquads, format=ox.RdfFormat.N_QUADS)
        self.store.flush()

    def _entry(self, release_id: str) -> list[ox.Quad]:
        """Every statement of a release's registry entry (its sources' blank nodes included), wherever it is."""
        node = ox.NamedNode(graph_name(release_id))
        found: list[ox.Quad] = []
        for graph in (_REGISTRY, ox.NamedNode(DRAFT_REGISTRY_PREFIX + release_id)):
            statements = list(self.store.quads_for_pattern(node, None, None, graph))
            for link in statements:
                if link.predicate.value == DCT + "source" and isinstance(link.object, ox.BlankNode):
                    found += self.store.quads_for_pattern(link.object, None, None, graph)
            found += statements
        return found

    def set_status(self, release_id: str, status: str) -> None:
        """Change the status of a release's registry entry, moving it to the graph of that status."""
        graph = ox.NamedNode(registry_graph(release_id, status))
        status_predicate = SMT + "status"
        self._move_entry(release_id, graph, {status_predicate: ox.Literal(status)})

    def _move_entry(self, release_id: str, graph: ox.NamedNode, replace: dict[str, ox.Literal]) -> None:
        for statement in self._entry(release_id):
            self.store.remove(statement)
            value = replace.get(statement.predicate.value, statement.object)
            self.store.add(ox.Quad(statement.subject, statement.predicate, value, graph))
        self.store.flush()

    def hide_draft_entries(self) -> list[str]:
        """Move the entries of drafts still in the registry graph (stores written before drafts had a graph of
        their own) to their draft graphs; return their release ids."""
        predicate, draft = ox.NamedNode(SMT + "status"), ox.Literal("draft")
        moved = [q.subject.value.removeprefix(RELEASE_PREFIX)
                 for q in self.store.quads_for_pattern(None, predicate, draft, _REGISTRY)
                 if isinstance(q.subject, ox.NamedNode)]
        for release_id in moved:
            self._move_entry(release_id, ox.NamedNode(DRAFT_REGISTRY_PREFIX + release_id), {})
        return moved

    def drop_release(self, release_id: str) -> None:
        """Remove a release graph and its registry entry (blank nodes of its sources included)."""
        for statement in self._entry(release_id):
            self.store.remove(statement)
        node = ox.NamedNode(graph_name(release_id))
        if self.store.contains_named_graph(node):
            self.store.remove_graph(node)
        draft_graph = ox.NamedNode(DRAFT_REGISTRY_PREFIX + release_id)
        if self.store.contains_named_graph(draft_graph):
            self.store.remove_graph(draft_graph)
        self.store.flush()

    def registered_ids(self) -> set[str]:
        """Ids of the releases with a registry entry (published or draft)."""
        predicate = ox.NamedNode(SMT + "releaseId")
        return {q.object.value for q in self.store.quads_for_pattern(None, predicate, None, None)
                if isinstance(q.object, ox.Literal) and isinstance(q.graph_name, ox.NamedNode)
                and (q.graph_name == _REGISTRY or q.graph_name.value.startswith(DRAFT_REGISTRY_PREFIX))}

    def release_graph_ids(self) -> set[str]:
        return {
            g.value.removeprefix(RELEASE_PREFIX)
            for g in self.store.named_graphs()
            if isinstance(g, ox.NamedNode) and g.value.startswith(RELEASE_PREFIX)
        }

    def graph_size(self, release_id: str) -> int:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <urn:smt:release:{release_id}> {{ ?s ?p ?o }} }}"
        solutions = self.store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        return int(next(iter(solutions))["n"].value)

    def close(self) -> None:
        """Flush and release the store (its lock is released even when the flush fails, e.g. on a full disk)."""
        try:
            self.store.flush()
        finally:
            del self.store  # the RocksDB handle (and its lock) goes with its last reference
