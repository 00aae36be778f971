"""The retirement of a NOS concept as the generic retirement properties (``smt.model.RETIREMENT_PROPERTIES``).

A NOS table says when a code stopped being valid (``dateFin``) but not why, nor what replaces it (the ANS
publishes neither): a retired concept with a ``dateFin`` gets ``retirementDate`` = that date and a
``statusReason`` saying the reason is the end of validity the ANS published. Replacements come from curators
(``smt.terminology.retirement``).
"""

from __future__ import annotations

from smt.model import RETIREMENT_DATE, RETIREMENT_PROPERTIES, STATUS_REASON, Concept, ConceptProperty, PropertyDef

END_OF_VALIDITY = "Fin de validité publiée par l'ANS (dateFin) ; la nomenclature ne donne pas de motif"


def add_retirement(concept: Concept) -> bool:
    """Add the retirement properties to a retired concept that has a ``dateFin``; whether it did."""
    if concept.status == "active" or any(p.code == RETIREMENT_DATE for p in concept.properties):
        return False
    end = next((p for p in concept.properties if p.code == "dateFin"), None)
    if end is None:
        return False
    concept.properties.append(ConceptProperty(RETIREMENT_DATE, end.value, "dateTime"))
    if not any(p.code == STATUS_REASON for p in concept.properties):
        concept.properties.append(ConceptProperty(STATUS_REASON, END_OF_VALIDITY, "string"))
    return True


def retirement_declarations(declared: list[PropertyDef], concepts: list[Concept]) -> list[PropertyDef]:
    """The retirement property declarations the concepts use and ``declared`` lacks."""
    used = {p.code for c in concepts for p in c.properties}
    known = {p.code for p in declared}
    return [p for p in RETIREMENT_PROPERTIES if p.code in used and p.code not in known]
