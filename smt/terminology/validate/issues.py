"""The ``message`` of a ``$validate-code`` answer and the location of its issues, as tx.fhir.org gives them."""

from __future__ import annotations

from smt.terminology.codesystem import Issue


def issue_path(where: str, name: str) -> str:
    """The location of element ``name`` of the coding at ``where`` ("" for a bare code: ``name`` alone)."""
    return f"{where}.{name}" if where else name


def issues_message(issues: list[Issue]) -> str | None:
    """The ``message``: the texts of the errors and warnings (not information, nor version-mismatch warnings),
    each once, sorted, joined by "; " (FHIRsmith ``checkCodeableConcept``: ``mt.sort()``)."""
    shown = [i for i in issues if i.in_message or (i.in_message is None and i.severity != "information"
                                                   and not (i.severity == "warning" and i.tx_code == "vs-invalid"))]
    return "; ".join(sorted({i.text for i in shown})) or None
