"""Publication standing of a terminology resource: draft, experimental, deprecated, withdrawn.

A server warns when an expansion or a validation relies on such a resource (``warning-<standing>``
expansion parameters, ``status-check`` information issues), as tx.fhir.org does. The standing comes from the
``structuredefinition-standards-status`` extension (deprecated, withdrawn…), then ``status`` (draft), then
``experimental``.
"""

from __future__ import annotations

STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
WARNED = ("deprecated", "withdrawn")


def standing(resource: dict, lifecycle: bool = True) -> str | None:
    """The standing a user should be told about, or None for an ordinary active resource.

    ``lifecycle=False`` (value sets, as tx.fhir.org) reports the standards status only, not draft/experimental.
    """
    for ext in resource.get("extension", []) or []:
        if ext.get("url") == STANDARDS_STATUS and ext.get("valueCode") in WARNED:
            return str(ext["valueCode"])
    if not lifecycle:
        return None
    if resource.get("status") == "draft":
        return "draft"
    if resource.get("experimental") is True:
        return "experimental"
    return None


def status_text(kind: str, canonical: str, value: str) -> str:
    """The information issue text: "Reference to draft CodeSystem url|version"."""
    return f"Reference to {value} {kind} {canonical}"
