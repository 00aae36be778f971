"""OWL download of a code system release: one ``owl:Class`` per concept, ``rdfs:subClassOf`` its parents.

Written as RDF/XML (the OWL 2 exchange syntax every OWL tool reads, Protégé included) from the compiled index.
Labels carry the release language; inactive concepts are ``owl:deprecated``; codes are ``skos:notation``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

import pyoxigraph as ox

from smt.index.reader import CodeSystemIndex
from smt.store.releases import ReleaseInfo

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CLASS = ox.NamedNode(OWL + "Class")
LABEL = ox.NamedNode(RDFS + "label")
SUBCLASS = ox.NamedNode(RDFS + "subClassOf")
NOTATION = ox.NamedNode(SKOS + "notation")
DEFINITION = ox.NamedNode(SKOS + "definition")
DEPRECATED = ox.NamedNode(OWL + "deprecated")
TRUE = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))


def _iri(meta: dict, code: str) -> ox.NamedNode:
    base = meta.get("concept_iri_base") or (meta["url"].rstrip("/") + "/")
    return ox.NamedNode(base + quote(code, safe=""))


def _label(text: str, language: str | None) -> ox.Literal:
    return ox.Literal(text, language=language) if language else ox.Literal(text)


def owl_triples(info: ReleaseInfo, index: CodeSystemIndex) -> Iterator[ox.Triple]:
    """The ontology header, then every concept as a class."""
    meta = index.meta
    language = meta.get("language")
    ontology = ox.NamedNode(f"{meta['url'].rstrip('/')}/owl/{quote(info.version, safe='')}")
    yield ox.Triple(ontology, TYPE, ox.NamedNode(OWL + "Ontology"))
    yield ox.Triple(ontology, ox.NamedNode(OWL + "versionInfo"), ox.Literal(info.version))
    yield ox.Triple(ontology, LABEL, _label(meta.get("title") or info.title, language))
    if meta.get("copyright"):
        yield ox.Triple(ontology, ox.NamedNode("http://purl.org/dc/terms/rights"), ox.Literal(meta["copyright"]))
    codes = {concept.id: concept.code for concept in index.concepts()}
    for concept in index.concepts():
        node = _iri(meta, concept.code)
        yield ox.Triple(node, TYPE, CLASS)
        yield ox.Triple(node, NOTATION, ox.Literal(concept.code))
        if concept.display:
            yield ox.Triple(node, LABEL, _label(concept.display, language))
        if concept.definition:
            yield ox.Triple(node, DEFINITION, _label(concept.definition, language))
        if not concept.active:
            yield ox.Triple(node, DEPRECATED, TRUE)
        for parent in index.parents(concept):
            yield ox.Triple(node, SUBCLASS, _iri(meta, codes[parent.id]))


def write_owl(info: ReleaseInfo, index: CodeSystemIndex, out: BinaryIO) -> None:
    ox.serialize(owl_triples(info, index), out, ox.RdfFormat.RDF_XML)
