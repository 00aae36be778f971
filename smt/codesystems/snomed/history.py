"""What a stored SNOMED CT release says of its inactive concepts: the historical associations that name a
replacement, and the concept inactivation indicator (the index's reference set members, active ones only)."""

from __future__ import annotations

from smt.codesystems.provider import Replacement
from smt.codesystems.snomed.maps import ASSOCIATION_EQUIVALENCE
from smt.index.reader import CodeSystemIndex

REPLACEMENT_ASSOCIATIONS = {
    "900000000000526001": "REPLACED BY",
    "900000000000527005": "SAME AS",
    "1186921001": "POSSIBLY REPLACED BY",
    "900000000000523009": "POSSIBLY EQUIVALENT TO",
    "1186924009": "PARTIALLY EQUIVALENT TO",
    "900000000000530003": "ALTERNATIVE",
}
"""Historical association reference sets that name what to use instead (not WAS A, MOVED TO/FROM, REFERS TO)."""
INACTIVATION_INDICATOR = "900000000000489007"


def _replacement(refset: str, fields: dict | None) -> Replacement | None:
    target = (fields or {}).get("targetComponentId")
    if refset not in REPLACEMENT_ASSOCIATIONS or not target:
        return None
    return Replacement(str(target), equivalence=ASSOCIATION_EQUIVALENCE.get(refset, "relatedto"),
                       source=f"SNOMED CT {REPLACEMENT_ASSOCIATIONS[refset]} association")


def replacements(index: CodeSystemIndex, code: str) -> list[Replacement]:
    return [r for m in index.memberships(code) if (r := _replacement(m.refset, m.fields)) is not None]


def inactivation_reason(index: CodeSystemIndex, code: str) -> str | None:
    for member in index.memberships(code):
        value = (member.fields or {}).get("valueId")
        if member.refset == INACTIVATION_INDICATOR and value:
            found = index.concept(str(value))
            return found.display if found is not None and found.display else str(value)
    return None


def all_replacements(index: CodeSystemIndex) -> dict[str, list[Replacement]]:
    found: dict[str, list[Replacement]] = {}
    for refset in REPLACEMENT_ASSOCIATIONS:
        for member in index.refset_members(refset):
            if (item := _replacement(refset, member.fields)) is not None:
                found.setdefault(member.referenced, []).append(item)
    return found
