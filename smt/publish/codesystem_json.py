"""FHIR R4 JSON for a compiled code system release: the one place its concepts and metadata become JSON.

Both the FHIR API (``GET /fhir/CodeSystem/{id}``, ``$lookup``, ``$expand``) and the downloads
(``smt.publish.fhir_export``) build their ``CodeSystem`` elements, ``Coding`` and ``value[x]`` values here.
Empty values (``None`` and ``""``, which FHIR JSON forbids) are left out.
"""

from __future__ import annotations

import re

from smt.index.reader import CodeSystemIndex, ConceptRecord, DesignationRecord
from smt.model import Coding, PropertyValue
from smt.store.releases import ReleaseInfo

CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
STANDARD_PROPERTIES = {
    "parent": ("code", "Parent codes"),
    "child": ("code", "Child codes"),
    "status": ("code", "Status of the concept (active, inactive, retired)"),
    "inactive": ("boolean", "True if the concept is not considered active"),
    "notSelectable": ("boolean", "Grouping concept, not for use in coding"),
}
"""The FHIR concept properties (``http://hl7.org/fhir/concept-properties``) the server may report."""

_VALUE_KEYS = {
    "code": "valueCode", "string": "valueString", "integer": "valueInteger", "boolean": "valueBoolean",
    "dateTime": "valueDateTime", "decimal": "valueDecimal", "Coding": "valueCoding",
}
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?")
_HIERARCHY = {"grouped-by", "is-a", "part-of", "classified-with"}


def _present(value: object) -> bool:
    return value is not None and value != ""


def coding_json(coding: Coding) -> dict:
    """``{"system", "code", "display"}``, empty elements left out."""
    return {k: v for k, v in (("system", coding.system), ("code", coding.code), ("display", coding.display))
            if _present(v)}


def typed_value(kind: str, value: PropertyValue) -> dict:
    """``{"value<Type>": value}`` for a property value of FHIR type ``kind``."""
    if isinstance(value, Coding):
        return {"valueCoding": coding_json(value)}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    key = _VALUE_KEYS.get(kind, "valueString")
    if key in ("valueCode", "valueString", "valueDateTime"):
        value = str(value)
    return {key: value}


def designation_json(designation: DesignationRecord) -> dict:
    """One ``designation``: ``language``, ``use`` and ``value``."""
    use = coding_json(designation.use) if designation.use else None
    return {k: v for k, v in (("language", designation.language), ("use", use), ("value", designation.value))
            if _present(v)}


def concept_json(index: CodeSystemIndex, concept: ConceptRecord, *, export: bool = False) -> dict:
    """One ``CodeSystem.concept``, without child concepts.

    By default (the API's CodeSystem read) the properties are the release's own plus ``inactive`` when the
    concept is not active; the caller nests concepts or adds ``parent`` properties itself. ``export=True``
    gives the flat form of a complete download: the release's properties, one ``parent`` per parent code,
    ``status`` and ``inactive`` when not active, and ``notSelectable`` for an abstract concept.
    """
    item: dict = {"code": concept.code}
    if concept.display:
        item["display"] = concept.display
    if concept.definition:
        item["definition"] = concept.definition
    designations = [designation_json(d) for d in index.designations(concept)]
    if designations:
        item["designation"] = designations
    props = [{"code": p.code, **typed_value(p.type, p.value)} for p in index.properties(concept)]
    codes = {p["code"] for p in props}
    if export:
        props += [{"code": "parent", "valueCode": parent.code} for parent in index.parents(concept)]
    if not concept.active:
        if export:
            props.append({"code": "status", "valueCode": concept.status})
        props.append({"code": "inactive", "valueBoolean": True})
    if export and concept.abstract and "notSelectable" not in codes:
        props.append({"code": "notSelectable", "valueBoolean": True})
    if props:
        item["property"] = props
    return item


def property_declarations(meta: dict, standard: tuple[str, ...]) -> list[dict]:
    """``CodeSystem.property``: the release's declarations, then the ``standard`` ones it does not declare."""
    declared = [{k: v for k, v in p.items() if _present(v)} for p in meta.get("properties", [])]
    codes = {p["code"] for p in declared}
    return declared + [
        {"code": code, "uri": CONCEPT_PROPERTIES + code, "description": text, "type": kind}
        for code, (kind, text) in STANDARD_PROPERTIES.items() if code in standard and code not in codes
    ]


def code_system_header(info: ReleaseInfo, meta: dict) -> dict:
    """The ``CodeSystem`` elements a release's record and index metadata give, ``resourceType`` to
    ``hierarchyMeaning`` (no ``content``, ``count``, ``property`` or concepts), empty ones left out."""
    hierarchy = meta.get("hierarchy_meaning")
    resource = {
        "resourceType": "CodeSystem",
        "id": info.id,
        "meta": {"lastUpdated": info.loaded_at},
        "url": info.url,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{oid}"} for oid in meta.get("oids", [])],
        "version": info.version,
        "name": meta.get("name") or info.name,
        "title": meta.get("title") or info.title,
        "status": info.status,
        "experimental": False,
        "date": meta.get("date") if _DATE.fullmatch(meta.get("date") or "") else None,
        "publisher": meta.get("publisher"),
        "description": meta.get("description"),
        "copyright": meta.get("copyright"),
        "caseSensitive": bool(meta.get("case_sensitive", True)),
        "hierarchyMeaning": hierarchy if hierarchy in _HIERARCHY else None,
    }
    return {k: v for k, v in resource.items() if v not in (None, [], "")}
