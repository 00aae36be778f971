"""Concept extensions that a terminology server turns into expansion properties or echoes in expansions.

FHIR R5 defines concept properties for what R4 code systems and value sets say with extensions: the order
(``codesystem-conceptOrder`` / ``valueset-conceptOrder``), a label (``codesystem-label`` /
``valueset-label``) and a weight (``itemWeight``). An expansion gives them as ``contains.property`` (``order``,
``label``, ``weight``), a value set's own value replacing the code system's. Rendering extensions
(``rendering-style``, ``rendering-xhtml``) of a code system concept are copied onto ``contains``, and known
designation extensions (``coding-sctdescid``, ``structuredefinition-standards-status``…) onto its designations.
"""

from __future__ import annotations

from collections.abc import Iterable

SD = "http://hl7.org/fhir/StructureDefinition/"
CONCEPT_PROPERTY_URI = "http://hl7.org/fhir/concept-properties#"

PROPERTY_EXTENSIONS: dict[str, tuple[str, str]] = {
    SD + "codesystem-conceptOrder": ("order", "decimal"),
    SD + "valueset-conceptOrder": ("order", "decimal"),
    SD + "codesystem-label": ("label", "string"),
    SD + "valueset-label": ("label", "string"),
    SD + "itemWeight": ("weight", "decimal"),
}
"""Extension URL → (property code, FHIR type of the property value)."""

PROPERTY_URIS: dict[str, str] = {
    "order": CONCEPT_PROPERTY_URI + "order",
    "label": CONCEPT_PROPERTY_URI + "label",
    "weight": CONCEPT_PROPERTY_URI + "itemWeight",
    "status": CONCEPT_PROPERTY_URI + "status",
}
"""URIs of the standard concept properties an expansion declares in ``expansion.property``."""

ECHOED_EXTENSIONS = frozenset({SD + "rendering-style", SD + "rendering-xhtml"})
"""Code system concept extensions copied onto the expansion's ``contains``."""

DESIGNATION_EXTENSIONS = frozenset({
    SD + "coding-sctdescid", SD + "structuredefinition-standards-status", SD + "rendering-style",
    SD + "rendering-xhtml", SD + "rendering-markdown",
})
"""Designation extensions echoed in expansions (others, unknown to the server, are ignored)."""


def designation_extensions(extensions: Iterable[dict]) -> tuple[dict, ...]:
    """The known extensions of a designation, the ones an expansion echoes."""
    return tuple(e for e in extensions if isinstance(e, dict) and e.get("url") in DESIGNATION_EXTENSIONS)


def _value(extension: dict) -> object | None:
    return next((v for k, v in extension.items() if k.startswith("value")), None)


def extension_properties(*layers: Iterable[dict]) -> dict[str, tuple[object, str]]:
    """``{code: (value, type)}`` of the property extensions; a later layer (the value set) wins."""
    found: dict[str, tuple[object, str]] = {}
    for extensions in layers:
        for extension in extensions:
            mapped = PROPERTY_EXTENSIONS.get(str(extension.get("url")))
            value = _value(extension)
            if mapped is not None and value is not None:
                found[mapped[0]] = (value, mapped[1])
    return found


def echoed_extensions(code_system: Iterable[dict], value_set: Iterable[dict]) -> list[dict]:
    """The code system concept's rendering extensions, then the value set's own, one per URL (the value set's
    replacing the code system's)."""
    own = list(value_set)
    overridden = {e.get("url") for e in own}
    kept = [e for e in code_system if e.get("url") in ECHOED_EXTENSIONS and e.get("url") not in overridden]
    return kept + own
