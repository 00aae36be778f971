"""SNOMED CT terms (descriptions) as designations: which ones an expansion shows, and in which order.

An expansion with ``includeDesignations`` shows a concept's fully specified name first, then its preferred
terms (the synonyms some language reference set marks preferred), as tx.fhir.org does; acceptable synonyms are
left to ``$lookup`` (every active term) and to the ``designation`` parameter, which selects among all terms.
Designations without dialect acceptability (other code systems) are kept as they are.
"""

from __future__ import annotations

from smt.index.reader import DesignationRecord

FSN = "900000000000003001"


def is_fsn(designation: DesignationRecord) -> bool:
    return designation.use is not None and designation.use.code == FSN


def expansion_designations(records: list[DesignationRecord]) -> list[DesignationRecord]:
    """The FSNs, then the preferred terms, in load order; records with no acceptability at all are returned as
    given (not SNOMED CT terms)."""
    if not any(r.acceptability for r in records):
        return records
    preferred = [r for r in records if not is_fsn(r) and any(a == "preferred" for _, a in r.acceptability)]
    return [r for r in records if is_fsn(r)] + preferred


def preferred_dialect(records: list[DesignationRecord], display: str | None) -> str | None:
    """The dialect (en-US…) in which ``display`` is the preferred term, if any."""
    for record in records:
        if record.value == display:
            for tag, acceptability in record.acceptability:
                if acceptability == "preferred":
                    return tag
    return None
