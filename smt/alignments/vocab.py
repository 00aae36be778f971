"""Mapping vocabularies: SSSOM predicates ⇄ FHIR R4 ``equivalence`` ⇄ SKOS mapping properties.

The tables are the single place where the three vocabularies meet (see ``docs/alignments.md`` and the
"Alignments" section of ``docs/rdf-model.md``). Directions follow each standard: an SSSOM row ``S
skos:broadMatch O`` and a FHIR target with ``equivalence = wider`` both say that the *object/target* is
broader than the *subject/source*.
"""

from __future__ import annotations

SKOS = "http://www.w3.org/2004/02/skos/core#"
SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"

BUILTIN_PREFIXES: dict[str, str] = {
    "sssom": SSSOM,
    "semapv": SEMAPV,
    "skos": SKOS,
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcterms": "http://purl.org/dc/terms/",
    "linkml": "https://w3id.org/linkml/",
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
"""Prefixes every SSSOM file may use without declaring them in its ``curie_map``."""

NO_TERM_FOUND = "sssom:NoTermFound"
UNSPECIFIED_LICENSE = "https://w3id.org/sssom/license/unspecified"
UNSPECIFIED_JUSTIFICATION = "semapv:UnspecifiedMatching"

EQUIVALENCES = ("relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact",
                "unmatched", "disjoint")
"""FHIR R4 ``ConceptMapEquivalence`` codes."""

PREDICATE_TO_EQUIVALENCE: dict[str, str] = {
    "skos:exactMatch": "equivalent",
    "skos:closeMatch": "inexact",
    "skos:broadMatch": "wider",
    "skos:narrowMatch": "narrower",
    "skos:relatedMatch": "relatedto",
    "owl:equivalentClass": "equivalent",
    "owl:equivalentProperty": "equivalent",
    "owl:sameAs": "equal",
    "rdfs:subClassOf": "subsumes",
    "rdfs:subPropertyOf": "subsumes",
}
"""SSSOM ``predicate_id`` → FHIR equivalence; any other predicate reads as ``relatedto``."""

EQUIVALENCE_TO_PREDICATE: dict[str, str] = {
    "equivalent": "skos:exactMatch",
    "equal": "skos:exactMatch",
    "inexact": "skos:closeMatch",
    "relatedto": "skos:relatedMatch",
    "wider": "skos:broadMatch",
    "subsumes": "skos:broadMatch",
    "narrower": "skos:narrowMatch",
    "specializes": "skos:narrowMatch",
}
"""FHIR equivalence → SKOS mapping property (CURIE), also the default SSSOM predicate. ``disjoint`` and
``unmatched`` assert the absence of a mapping: they have no SKOS property."""

R5_RELATIONSHIP_TO_EQUIVALENCE: dict[str, str] = {
    "related-to": "relatedto", "equivalent": "equivalent", "source-is-narrower-than-target": "wider",
    "source-is-broader-than-target": "narrower", "not-related-to": "disjoint",
}
"""R5 ``relationship`` codes read as R4 equivalences (ConceptMaps given in R5 form)."""

INVERSE_EQUIVALENCE: dict[str, str] = {
    "wider": "narrower", "narrower": "wider", "subsumes": "specializes", "specializes": "subsumes",
}
"""The equivalence of a mapping read the other way (target → source); the others (equivalent, equal, inexact,
relatedto, disjoint, unmatched) are their own inverse. R4 ConceptMapEquivalence defines wider/narrower and
subsumes/specializes as the target relative to the source, so reading a map backwards swaps them (R5
ConceptMapRelationship: source-is-narrower-than-target ↔ source-is-broader-than-target)."""

NEGATIVE = frozenset({"disjoint", "unmatched"})
"""Equivalences that say "no mapping": a translation that only finds these has ``result = false``."""


def inverse_equivalence(equivalence: str) -> str:
    """The equivalence of the same mapping read from its target to its source."""
    return INVERSE_EQUIVALENCE.get(equivalence, equivalence)


def predicate_for(equivalence: str) -> str | None:
    """The SKOS property (CURIE) of an equivalence, None for ``disjoint``/``unmatched``."""
    return EQUIVALENCE_TO_PREDICATE.get(equivalence)


def equivalence_for(predicate: str, modifier: str | None = None) -> str:
    """The FHIR equivalence an SSSOM predicate (and ``predicate_modifier``) means."""
    if modifier == "Not":
        return "disjoint"
    return PREDICATE_TO_EQUIVALENCE.get(predicate, "relatedto")


def target_equivalence(target: dict) -> str:
    """The R4 equivalence of a ConceptMap target (R5 ``relationship`` accepted); ``relatedto`` when absent."""
    if "equivalence" in target:
        return str(target["equivalence"])
    return R5_RELATIONSHIP_TO_EQUIVALENCE.get(str(target.get("relationship", "")), "relatedto")
