"""FHIR R4 JSON terminology resources → release model, for the loaders and the engines alike.

``codesystem_release`` turns a CodeSystem resource into the release model (nested ``concept`` trees,
``parent``/``child`` properties and ``subsumedBy`` all become parents; ``status``/``inactive`` properties set
the concept status, a ``deprecated`` concept staying active; a concept without display has an empty one;
``notSelectable`` marks abstract concepts; a standard concept property is recognised by its local code or by
the ``concept-properties`` uri its definition gives it, see ``standard_codes``). Value sets and concept maps
are kept as their JSON resource (``ResourceRelease``). The FHIR loader (``loaders.fhir``) reads files with it;
the engines use it for resources passed in requests (``tx-resource``) and supplements. ``standing`` reads a
resource's publication standing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from smt.errors import LoadError
from smt.model import (
    CodeSystemRelease,
    Coding,
    Concept,
    ConceptProperty,
    Designation,
    PropertyDef,
    PropertyValue,
    Release,
    ResourceRelease,
)

RESOURCE_TYPES = ("CodeSystem", "ValueSet", "ConceptMap")
PARENT_PROPERTIES = {"parent", "subsumedBy"}
CHILD_PROPERTIES = {"child"}
STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
RETIRED_STANDINGS = frozenset({"deprecated", "withdrawn", "retired"})
"""Standards statuses that make a designation inactive (kept, but no longer a correct display)."""
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
"""Base of the canonical uris of the standard concept properties (``status``, ``inactive``, ``notSelectable``…)."""
STANDARD_PROPERTIES = ("status", "inactive", "notSelectable")
"""Standard concept properties that change how a concept behaves (its status, whether it may be selected)."""
VALUE_KEYS: dict[str, str] = {
    "valueCode": "code", "valueCoding": "Coding", "valueString": "string", "valueInteger": "integer",
    "valueBoolean": "boolean", "valueDateTime": "dateTime", "valueDecimal": "decimal",
}


def _oids(resource: dict) -> list[str]:
    return [
        ident["value"].removeprefix("urn:oid:")
        for ident in resource.get("identifier", [])
        if isinstance(ident, dict) and str(ident.get("value", "")).startswith("urn:oid:")
    ]


def _property_value(prop: dict, where: str) -> tuple[PropertyValue, str]:
    for key, kind in VALUE_KEYS.items():
        if key in prop:
            value = prop[key]
            if kind == "Coding":
                return Coding(value.get("system"), value.get("code", ""), value.get("display")), kind
            return value, kind
    raise LoadError(f"property '{prop.get('code')}' has no supported value[x]", file=where, field="property")


SUPPLEMENT_SOURCE = "smt-supplement-source"
"""Key ``smt.terminology.supplements.apply`` puts on the designations it merges (never in a stored resource)."""


def _designation(raw: dict) -> Designation:
    use = raw.get("use")
    return Designation(
        value=raw.get("value", ""),
        language=raw.get("language"),
        use=Coding(use.get("system"), use.get("code", ""), use.get("display")) if use else None,
        active=not any(e.get("url") == STANDARDS_STATUS and e.get("valueCode") in RETIRED_STANDINGS
                       for e in raw.get("extension", []) if isinstance(e, dict)),
        source=raw.get(SUPPLEMENT_SOURCE),
        extensions=tuple(e for e in raw.get("extension", []) if isinstance(e, dict)),
    )


def standard_codes(resource: dict) -> dict[str, set[str]]:
    """The local codes of each standard concept property in a CodeSystem: its own name, and any code whose
    definition gives it the standard ``concept-properties`` uri (HL7 tx-ecosystem requirements, "Concept
    Properties": recognised "whatever local code the code system gave it"; suite ``notSelectable``)."""
    codes = {name: {name} for name in STANDARD_PROPERTIES}
    for definition in resource.get("property", []):
        uri, code = definition.get("uri"), definition.get("code")
        if isinstance(uri, str) and isinstance(code, str) and uri.startswith(CONCEPT_PROPERTIES):
            name = uri.removeprefix(CONCEPT_PROPERTIES)
            if name in codes:
                codes[name].add(code)
    return codes


def _status_of(properties: list[ConceptProperty], standard: dict[str, set[str]]) -> str:
    """Concept status: ``retired``/``inactive`` make it inactive; ``deprecated`` is still active in FHIR (its
    use should be reviewed), it stays a ``status`` property."""
    for prop in properties:
        if prop.code in standard["status"] and str(prop.value) in ("retired", "inactive"):
            return str(prop.value)
        if prop.code in standard["inactive"] and prop.value is True:
            return "inactive"
    return "active"


def _standards_status(raw: dict, properties: list[ConceptProperty]) -> None:
    """A concept's ``structuredefinition-standards-status`` extension as its ``status`` property."""
    if any(p.code == "status" for p in properties):
        return
    for ext in raw.get("extension", []):
        if ext.get("url") == STANDARDS_STATUS and ext.get("valueCode"):
            properties.append(ConceptProperty("status", ext["valueCode"], "code"))
            return


def _walk(concepts: list[dict], parent: str | None, where: str, standard: dict[str, set[str]]) -> Iterator[Concept]:
    """Flatten a (possibly nested) concept list; nesting and parent properties both give parents."""
    for number, raw in enumerate(concepts, start=1):
        code = raw.get("code")
        if not isinstance(code, str) or not code.strip():
            raise LoadError(f"concept #{number} has no code", file=where, field="concept.code")
        properties: list[ConceptProperty] = []
        parents: list[str] = [parent] if parent else []
        for prop in raw.get("property", []):
            value, kind = _property_value(prop, where)
            if prop.get("code") in PARENT_PROPERTIES and isinstance(value, str):
                if value not in parents:
                    parents.append(value)
                continue
            if prop.get("code") in CHILD_PROPERTIES:
                continue
            properties.append(ConceptProperty(prop["code"], value, kind))  # type: ignore[arg-type]
        _standards_status(raw, properties)
        abstract = any(p.code in standard["notSelectable"] and p.value is True for p in properties)
        yield Concept(
            code=code,
            display=raw.get("display") or "",
            definition=raw.get("definition"),
            designations=[_designation(d) for d in raw.get("designation", [])],
            properties=properties,
            parents=parents,
            status=_status_of(properties, standard),  # type: ignore[arg-type]
            abstract=abstract,
            origin=f"{where}#concept[{code}]",
            extensions=[e for e in raw.get("extension", []) if isinstance(e, dict)],
        )
        yield from _walk(raw.get("concept", []), code, where, standard)


def _child_links(concepts: list[dict]) -> dict[str, list[str]]:
    """``child`` properties read as the reverse link (child → parent)."""
    links: dict[str, list[str]] = {}
    stack = list(concepts)
    while stack:
        raw = stack.pop()
        for prop in raw.get("property", []):
            if prop.get("code") in CHILD_PROPERTIES and "valueCode" in prop:
                links.setdefault(prop["valueCode"], []).append(raw["code"])
        stack.extend(raw.get("concept", []))
    return links


def codesystem_release(resource: dict, where: str = "CodeSystem", version: str | None = None,
                       ) -> CodeSystemRelease:
    """The release model of a FHIR CodeSystem resource (version ``""`` when it has none: see ``load``)."""
    url = resource.get("url")
    if not url:
        raise LoadError("CodeSystem has no url", file=where, field="url")
    concepts = list(_walk(resource.get("concept", []), None, where, standard_codes(resource)))
    for child, parents in _child_links(resource.get("concept", [])).items():
        for concept in concepts:
            if concept.code == child:
                concept.parents.extend(p for p in parents if p not in concept.parents)
    return CodeSystemRelease(
        **_metadata(resource, url, version),
        concepts=concepts,
        properties=[
            PropertyDef(p["code"], p.get("type", "string"), p.get("uri"), p.get("description"))
            for p in resource.get("property", []) if p.get("code") not in PARENT_PROPERTIES | CHILD_PROPERTIES
        ],
        hierarchy_meaning=resource.get("hierarchyMeaning", "is-a"),
        case_sensitive=bool(resource.get("caseSensitive", True)),
        content=resource.get("content", "complete"),
        stats={"source_codes": len(concepts)},
    )


def resource_release(resource: dict, where: str = "resource", version: str | None = None) -> ResourceRelease:
    """A ValueSet or ConceptMap kept as its JSON (version ``""`` when it has none)."""
    kind = resource["resourceType"]
    url = resource.get("url")
    if not url:
        raise LoadError(f"{kind} has no url", file=where, field="url")
    return ResourceRelease(kind=kind, resource=resource, **_metadata(resource, url, version))


def _metadata(resource: dict, url: str, version: str | None) -> dict[str, Any]:
    """Release fields every terminology resource gives the same way (version ``""`` when it has none)."""
    status = resource.get("status")
    return {
        "url": url,
        "version": version or resource.get("version") or "",
        "name": resource.get("name") or resource.get("id") or url.rsplit("/", 1)[-1],
        "title": resource.get("title") or resource.get("name") or url,
        "publisher": resource.get("publisher"),
        "copyright": resource.get("copyright"),
        "oids": _oids(resource),
        "language": resource.get("language"),
        "status": status if status in ("draft", "active", "retired") else "active",
        "date": resource.get("date"),
        "description": resource.get("description"),
    }


def release_from_resource(resource: dict, where: str, version: str | None = None) -> Release:
    if resource.get("resourceType") == "CodeSystem":
        return codesystem_release(resource, where, version)
    return resource_release(resource, where, version)


def resources_in(document: dict) -> Iterator[dict]:
    """The terminology resources of a JSON document: itself, or the entries of a Bundle."""
    kind = document.get("resourceType")
    if kind == "Bundle":
        for entry in document.get("entry", []):
            resource = entry.get("resource", {})
            if resource.get("resourceType") in RESOURCE_TYPES:
                yield resource
    elif kind in RESOURCE_TYPES:
        yield document


WARNED_STANDINGS = ("deprecated", "withdrawn")
"""Standards statuses a server warns about when a resource it relies on has them."""


def standing(resource: dict, lifecycle: bool = True) -> str | None:
    """The publication standing a user should be told about (deprecated, withdrawn, draft, experimental), or
    None for an ordinary active resource: the ``structuredefinition-standards-status`` extension first, then
    ``status`` (draft), then ``experimental``. ``lifecycle=False`` (value sets, as tx.fhir.org) reports the
    standards status only, not draft/experimental."""
    for ext in resource.get("extension", []) or []:
        if ext.get("url") == STANDARDS_STATUS and ext.get("valueCode") in WARNED_STANDINGS:
            return str(ext["valueCode"])
    if not lifecycle:
        return None
    if resource.get("status") == "draft":
        return "draft"
    if resource.get("experimental") is True:
        return "experimental"
    return None
