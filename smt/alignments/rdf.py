"""RDF of a ConceptMap release: SKOS mapping statements between concept IRIs, with SSSOM-style provenance.

For each mapping (``smt.alignments.model.MapRow``) in the release's named graph:

* ``<source concept> skos:exactMatch|closeMatch|broadMatch|narrowMatch|relatedMatch <target concept>``, the
  property chosen from the FHIR equivalence (``smt.alignments.vocab``; none for ``disjoint``/``unmatched``);
  concept IRIs are those of the code systems' own graphs (``smt.alignments.curies.concept_iri``);
* a reified ``sssom:Mapping`` node, linked from the ConceptMap node by ``sssom:mappings``, with
  ``sssom:subject_id``, ``sssom:predicate_id`` (the SSSOM predicate when the map came from SSSOM), ``sssom:object_id``,
  ``sssom:mapping_justification`` (``semapv:UnspecifiedMatching`` when none is given), labels, ``sssom:comment``,
  ``smt:equivalence`` and every other SSSOM slot the target carries (``sssom:confidence`` as ``xsd:double``,
  dates as ``xsd:date``, authors and other entity references as IRIs).

The ConceptMap node is also an ``sssom:MappingSet`` with the mapping-set slots the resource carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from smt.alignments.curies import concept_iri
from smt.alignments.extensions import DATE_SLOTS, DECIMAL_SLOTS, slot_values
from smt.alignments.model import MapRow, map_rows
from smt.alignments.sssom import ENTITY_SLOTS
from smt.alignments.vocab import BUILTIN_PREFIXES, NO_TERM_FOUND, SSSOM, UNSPECIFIED_JUSTIFICATION, predicate_for
from smt.ntriples import blank, iri, literal, typed

Triple = tuple[str, str, str]

XSD = "http://www.w3.org/2001/XMLSchema#"
SMT = "https://smt.esante.gouv.fr/def/smt#"
P_TYPE = iri("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
C_MAPPING = iri(SSSOM + "Mapping")
C_MAPPING_SET = iri(SSSOM + "MappingSet")
P_MAPPINGS = iri(SSSOM + "mappings")
P_EQUIVALENCE = iri(SMT + "equivalence")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HANDLED = frozenset({"subject_id", "object_id", "predicate_id", "mapping_justification", "subject_label",
                      "object_label", "comment"})


class _Terms:
    """CURIE expansion with the map's ``curie_map`` and the SSSOM built-in prefixes."""

    def __init__(self, curie_map: dict[str, str]) -> None:
        self.curie_map = curie_map
        self.prefixes = {**BUILTIN_PREFIXES, **curie_map}

    def expand(self, value: str) -> str | None:
        if "://" in value or value.startswith("urn:"):
            return value
        prefix, sep, local = value.partition(":")
        expansion = self.prefixes.get(prefix) if sep else None
        return expansion + local if expansion is not None else None

    def value(self, slot: str, text: str) -> str:
        """The RDF term of one slot value: an IRI for entity references, else a (typed) literal."""
        if slot in ENTITY_SLOTS and (expanded := self.expand(text)):
            return iri(expanded)
        if slot in DECIMAL_SLOTS:
            try:
                float(text)
                return typed(text, iri(XSD + "double"))
            except ValueError:
                pass
        if slot in DATE_SLOTS and _DATE.fullmatch(text):
            return typed(text, iri(XSD + "date"))
        return literal(text)

    def slot(self, name: str) -> str:
        return iri(SSSOM + name)


def _concept(terms: _Terms, system: str | None, code: str | None, given: list | None) -> str | None:
    """The concept IRI of one side of a mapping (an explicit SSSOM CURIE wins)."""
    if given and (expanded := terms.expand(str(given[0]))):
        return iri(expanded)
    if system is None or code is None:
        return None
    return iri(concept_iri(system, code, terms.curie_map))


def _mapping_triples(row: MapRow, terms: _Terms, set_node: str) -> Iterator[Triple]:
    subject = _concept(terms, row.source_system, row.source_code, row.slots.get("subject_id"))
    target = _concept(terms, row.target_system, row.target_code, row.slots.get("object_id"))
    skos = predicate_for(row.equivalence)
    if subject and target and skos:
        yield subject, iri(str(terms.expand(skos))), target
    node = blank()
    yield set_node, P_MAPPINGS, node
    yield node, P_TYPE, C_MAPPING
    if subject:
        yield node, terms.slot("subject_id"), subject
    predicate = str((row.slots.get("predicate_id") or [skos or "skos:relatedMatch"])[0])
    yield node, terms.slot("predicate_id"), iri(terms.expand(predicate) or predicate)
    yield node, terms.slot("object_id"), target or iri(str(terms.expand(NO_TERM_FOUND)))
    justification = str((row.slots.get("mapping_justification") or [UNSPECIFIED_JUSTIFICATION])[0])
    yield node, terms.slot("mapping_justification"), terms.value("mapping_justification", justification)
    yield node, P_EQUIVALENCE, literal(row.equivalence)
    labels = (("subject_label", row.slots.get("subject_label") or [row.source_display]),
              ("object_label", [row.target_display]))
    for slot, values in labels:
        if values[0]:
            yield node, terms.slot(slot), literal(str(values[0]))
    if row.comment and not row.comment_generated:
        yield node, terms.slot("comment"), literal(row.comment)
    for slot, values in row.slots.items():
        if slot not in _HANDLED:
            for value in values:
                yield node, terms.slot(slot), terms.value(slot, str(value))


def conceptmap_triples(resource: dict, node: str) -> Iterator[Triple]:
    """The SKOS mapping statements and reified SSSOM mappings of a ConceptMap (``node``: its graph IRI)."""
    set_slots = slot_values(resource.get("extension", []))
    curie_map = (set_slots.pop("curie_map", [None])[0]) or {}
    terms = _Terms({str(k): str(v) for k, v in curie_map.items()})
    yield node, P_TYPE, C_MAPPING_SET
    for slot, values in set_slots.items():
        for value in values:
            if isinstance(value, str):
                yield node, terms.slot(slot), terms.value(slot, value)
    for row in map_rows(resource):
        yield from _mapping_triples(row, terms, node)
