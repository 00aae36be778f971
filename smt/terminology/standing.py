"""Publication standing of the resources an operation relies on: how it is reported.

A server warns when an expansion or a validation relies on a draft, experimental, deprecated or withdrawn
resource (``warning-<standing>`` expansion parameters, ``status-check`` information issues), as tx.fhir.org
does; the standing itself is read from the resource by ``smt.formats.fhir_json.standing``.
"""

from __future__ import annotations


def status_text(kind: str, canonical: str, value: str) -> str:
    """The information issue text: "Reference to draft CodeSystem url|version"."""
    return f"Reference to {value} {kind} {canonical}"
