"""The ``message`` of a ``$validate-code`` answer and the location of its issues, as tx.fhir.org gives them."""

from __future__ import annotations

from smt.terminology.codesystem import Issue

_MESSAGE_ORDER: dict[str, float] = {
    "not-found": 0, "invalid-data": 0.5, "code-comment": 1, "code-rule": 2, "vs-invalid": 3, "version-error": 4,
    "not-in-vs": 5, "invalid-code": 6, "invalid-display": 7,
}
"""The order of the issue texts in the ``message``, by tx-issue-type code (others last)."""


def issue_path(where: str, name: str) -> str:
    """The location of element ``name`` of the coding at ``where`` ("" for a bare code: ``name`` alone)."""
    return f"{where}.{name}" if where else name


def issues_message(issues: list[Issue]) -> str | None:
    """The ``message``: the issue texts in tx.fhir.org order (not information, nor version-mismatch warnings)."""
    shown = [i for i in issues if i.in_message or (i.in_message is None and i.severity != "information"
                                                   and not (i.severity == "warning" and i.tx_code == "vs-invalid"))]
    ordered = sorted(shown, key=lambda i: _MESSAGE_ORDER.get(i.tx_code, 9))
    return "; ".join(dict.fromkeys(i.text for i in ordered)) or None
