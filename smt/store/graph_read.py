"""A stored release read back from the store of record (its named graph, and its manifest for the metadata the
graph does not repeat), for ``smt recompile``.

The inverse of ``smt.store.rdf``'s writer for what it holds (``graph_omits`` says what it does not). The graph
has no order: concepts come in the order of ``order`` when given (the previous compiled index's), else by
code; designations by language then value; properties in the order the code system declares them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote

import orjson
import pyoxigraph as ox

from smt.errors import SmtError
from smt.model import (
    CodeSystemRelease,
    Coding,
    Concept,
    ConceptProperty,
    Designation,
    PropertyDef,
    PropertyType,
    PropertyValue,
    Release,
    ResourceRelease,
    SourceFile,
)
from smt.store.rdf import RDF, RDFS, SKOS, SMT, XSD, RdfStore, graph_name

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
"""What a pyoxigraph quad holds as subject or object."""

_TYPES: dict[str, PropertyType] = {XSD + "boolean": "boolean", XSD + "integer": "integer", XSD + "decimal": "decimal",
          XSD + "dateTime": "dateTime"}


@dataclass(slots=True)
class _Node:
    """The statements of one subject, by predicate IRI."""

    values: dict[str, list[Term]] = field(default_factory=lambda: defaultdict(list))


def _nodes(store: ox.Store, graph: str) -> dict[Term, _Node]:
    nodes: dict[Term, _Node] = defaultdict(_Node)
    for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
        nodes[q.subject].values[q.predicate.value].append(q.object)
    return nodes


def read_release(rdf: RdfStore, manifest: dict, release_id: str, order: Iterable[str] = ()) -> Release:
    """The release ``release_id`` as its graph and ``manifest`` describe it."""
    nodes = _nodes(rdf.store, graph_name(release_id))
    if not nodes:
        raise SmtError(f"release {release_id} has no graph in the RDF store")
    if manifest["kind"] != "CodeSystem":
        return _resource(nodes, manifest, release_id)
    return _code_system(nodes, manifest, list(order))


def _resource(nodes: dict[Term, _Node], manifest: dict, release_id: str) -> ResourceRelease:
    scheme = nodes[ox.NamedNode(graph_name(release_id))]
    (resource,) = scheme.values[SMT + "fhirResource"]
    return ResourceRelease(
        kind=manifest["kind"], url=manifest["url"], version=manifest["version"], name=manifest.get("name", ""),
        title=manifest.get("title", ""), resource=orjson.loads(_value(resource)), **_common(manifest))


def _common(manifest: dict) -> dict:
    return {
        "publisher": manifest.get("publisher"), "copyright": manifest.get("copyright"),
        "oids": list(manifest.get("oids") or []), "language": manifest.get("language"),
        "status": manifest.get("status", "active"), "date": manifest.get("date"),
        "description": manifest.get("description"), "stats": dict(manifest.get("stats") or {}),
        "sources": [SourceFile(s["name"], s["sha256"], s["size"]) for s in manifest.get("sources", [])],
    }


def _code_system(nodes: dict[Term, _Node], manifest: dict, order: list[str]) -> CodeSystemRelease:
    url = manifest["url"]
    properties = [PropertyDef(p["code"], p["type"], p.get("uri"), p.get("description"))
                  for p in manifest.get("properties", [])]
    declared = {p.code: p for p in properties}
    rank = {p.code: n for n, p in enumerate(properties)}
    uses = _uses(nodes)
    codes = {subject: _value(node.values[SKOS + "notation"][0]) for subject, node in nodes.items()
             if ox.NamedNode(SKOS + "Concept") in node.values[RDF + "type"]}
    prefix = url.rstrip("/") + "/property/"
    concepts = {
        code: _concept(nodes, nodes[subject], code, codes, uses, declared, rank, prefix)
        for subject, code in codes.items()
    }
    position = {code: n for n, code in enumerate(order)}
    ordered = sorted(concepts.values(), key=lambda c: (position.get(c.code, len(position)), c.code))
    return CodeSystemRelease(
        url=url, version=manifest["version"], name=manifest.get("name", ""), title=manifest.get("title", ""),
        concepts=ordered, properties=properties, hierarchy_meaning=manifest.get("hierarchy_meaning"),
        case_sensitive=manifest.get("case_sensitive", True), content=manifest.get("content", "complete"),
        concept_iri_base=manifest.get("concept_iri_base"), warnings=list(manifest.get("warnings", [])),
        **_common(manifest))


def _uses(nodes: dict[Term, _Node]) -> dict[str, Coding]:
    """The designation-use predicates declared in the graph (``rdfs:subPropertyOf skos:altLabel``)."""
    found = {}
    for subject, node in nodes.items():
        if isinstance(subject, ox.NamedNode) and ox.NamedNode(SKOS + "altLabel") in node.values[
                RDFS + "subPropertyOf"]:
            code = _value(node.values[SMT + "code"][0])
            system = _value(node.values[SMT + "system"][0]) or None
            label = _value(node.values[RDFS + "label"][0])
            found[subject.value] = Coding(system, code, label if label != code else None)
    return found


def _concept(nodes: dict[Term, _Node], node: _Node, code: str, codes: dict[Term, str],
             uses: dict[str, Coding], declared: dict[str, PropertyDef], rank: dict[str, int],
             prefix: str) -> Concept:
    values = node.values
    (display,) = values[SKOS + "prefLabel"]
    assert isinstance(display, ox.Literal)
    definition = values[SKOS + "definition"]
    status = values[SMT + "conceptStatus"]
    return Concept(
        code=code, display=display.value, definition=_value(definition[0]) if definition else None,
        designations=_designations(nodes, values, uses),
        properties=_properties(values, declared, rank, prefix),
        parents=sorted(codes[p] for p in values[SKOS + "broader"] if p in codes),
        status=_value(status[0]) if status else "active",  # type: ignore[arg-type]  # written from a ConceptStatus
        abstract=bool(values[SMT + "notSelectable"]),
    )


def _designations(nodes: dict[Term, _Node], values: dict[str, list[Term]],
                  uses: dict[str, Coding]) -> list[Designation]:
    """Designations with a use (use predicates, ``smt:designation`` nodes), then the other ``skos:altLabel``s."""
    found: dict[tuple[str, str | None, Coding | None], None] = {}
    for predicate, use in uses.items():
        for term in values.get(predicate, ()):
            found[(*_label(term), use)] = None
    for holder in values[SMT + "designation"]:
        inner = nodes[holder].values
        code, system = inner[SMT + "code"], inner[SMT + "system"]
        coding = Coding(_value(system[0]) if system else None, _value(code[0])) if code else None
        found[(*_label(inner[SMT + "value"][0]), coding)] = None
    with_use = {(value, language) for value, language, _ in found}
    for term in values[SKOS + "altLabel"]:
        if _label(term) not in with_use:
            found[(*_label(term), None)] = None
    return [Designation(value, language, use) for value, language, use in
            sorted(found, key=lambda d: (d[1] or "", d[0], d[2].code if d[2] else ""))]


def _value(term: Term) -> str:
    """The lexical value of an IRI, blank node or literal (the graphs hold no RDF-star triples)."""
    assert not isinstance(term, ox.Triple)
    return term.value


def _label(term: Term) -> tuple[str, str | None]:
    assert isinstance(term, ox.Literal)
    return term.value, term.language or None


def _properties(values: dict[str, list[Term]], declared: dict[str, PropertyDef], rank: dict[str, int],
                prefix: str) -> list[ConceptProperty]:
    found = []
    for predicate, objects in values.items():
        if not predicate.startswith(prefix):
            continue
        code = unquote(predicate[len(prefix):])
        for term in objects:
            assert isinstance(term, ox.Literal)
            found.append(_property(code, term, declared.get(code)))
    return sorted(found, key=lambda p: (rank.get(p.code, len(rank)), p.code))


def _property(code: str, term: ox.Literal, definition: PropertyDef | None) -> ConceptProperty:
    kind: PropertyType = definition.type if definition else _TYPES.get(term.datatype.value, "string")
    value: PropertyValue = term.value
    if kind == "Coding":
        system, _, code_value = term.value.rpartition("|")
        value = Coding(system or None, code_value)
    elif kind == "boolean":
        value = term.value == "true"
    elif kind == "integer":
        value = int(term.value)
    elif kind == "decimal":
        value = float(term.value)
    return ConceptProperty(code, value, kind)

