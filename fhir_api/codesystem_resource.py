"""A stored release as a FHIR R4 CodeSystem resource.

Concepts are included only when asked (``_summary=false`` or ``_elements`` naming ``concept``): CIM-10 has
~43k concepts, so a plain read answers the metadata only, tagged SUBSETTED, with ``content`` still telling
what the server holds ("complete"). Concepts are nested by hierarchy when every concept has at most one
parent, and otherwise listed flat with ``parent`` properties.
"""

from __future__ import annotations

import re

from fhir_api.results import coding_json, typed_value
from smt.engines.codesystem import CodeSystemVersion
from smt.index.reader import CodeSystemIndex, ConceptRecord

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED",
             "display": "Resource encoded in summary mode"}
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
STANDARD_PROPERTIES = [
    {"code": "parent", "uri": CONCEPT_PROPERTIES + "parent", "description": "Parent codes", "type": "code"},
    {"code": "child", "uri": CONCEPT_PROPERTIES + "child", "description": "Child codes", "type": "code"},
    {"code": "inactive", "uri": CONCEPT_PROPERTIES + "inactive", "description": "True if the concept is "
     "not considered active", "type": "boolean"},
]
MANDATORY_ELEMENTS = ("resourceType", "id", "meta", "status", "content")
_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?")
_HIERARCHY = {"grouped-by", "is-a", "part-of", "classified-with"}
_CONTENT = {"not-present", "example", "fragment", "complete", "supplement"}


def property_declarations(meta: dict) -> list[dict]:
    """The release's properties, plus parent/child/inactive that $lookup reports."""
    declared = [{k: v for k, v in p.items() if v is not None} for p in meta.get("properties", [])]
    codes = {p["code"] for p in declared}
    return declared + [p for p in STANDARD_PROPERTIES if p["code"] not in codes]


def code_system(cs: CodeSystemVersion, with_concepts: bool = False) -> dict:
    """The CodeSystem resource of one release."""
    meta = cs.index.meta
    resource: dict = {
        "resourceType": "CodeSystem",
        "id": cs.info.id,
        "meta": {"lastUpdated": cs.info.loaded_at},
        "url": cs.url,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{oid}"} for oid in meta.get("oids", [])],
        "version": cs.version,
        "name": meta.get("name") or cs.info.name,
        "title": meta.get("title") or cs.info.title,
        "status": cs.info.status,
        "experimental": False,
        "date": meta.get("date") if _DATE.fullmatch(meta.get("date") or "") else None,
        "publisher": meta.get("publisher"),
        "description": meta.get("description"),
        "copyright": meta.get("copyright"),
        "caseSensitive": bool(meta.get("case_sensitive", True)),
        "hierarchyMeaning": meta.get("hierarchy_meaning") if meta.get("hierarchy_meaning") in _HIERARCHY else None,
        "content": meta.get("content") if meta.get("content") in _CONTENT else "complete",
        "count": meta.get("count", cs.info.count),
        "property": property_declarations(meta),
    }
    if with_concepts:
        resource["concept"] = concepts(cs.index)
    else:
        resource["meta"]["tag"] = [SUBSETTED]
    return {k: v for k, v in resource.items() if v not in (None, [], "")}


def only_elements(resource: dict, elements: list[str]) -> dict:
    """``_elements``: the named top-level elements plus the mandatory ones."""
    keep = set(elements) | set(MANDATORY_ELEMENTS)
    return {k: v for k, v in resource.items() if k in keep}


def _concept_json(index: CodeSystemIndex, concept: ConceptRecord) -> dict:
    item: dict = {"code": concept.code}
    if concept.display:
        item["display"] = concept.display
    if concept.definition:
        item["definition"] = concept.definition
    designations = [
        {k: v for k, v in (("language", d.language), ("use", coding_json(d.use) if d.use else None),
                           ("value", d.value)) if v is not None}
        for d in index.designations(concept)
    ]
    if designations:
        item["designation"] = designations
    props = [{"code": p.code, **typed_value(p.type, p.value)} for p in index.properties(concept)]
    if not concept.active:
        props.append({"code": "inactive", "valueBoolean": True})
    if props:
        item["property"] = props
    return item


def concepts(index: CodeSystemIndex) -> list[dict]:
    """Every concept: nested when the hierarchy is a forest, else flat with ``parent`` properties."""
    records = list(index.concepts())
    parents = {c.id: [p.code for p in index.parents(c)] for c in records}
    items = {c.id: _concept_json(index, c) for c in records}
    if any(len(codes) > 1 for codes in parents.values()):
        for record in records:
            extra = [{"code": "parent", "valueCode": code} for code in parents[record.id]]
            if extra:
                items[record.id]["property"] = items[record.id].get("property", []) + extra
        return [items[c.id] for c in records]
    by_code = {c.code: c.id for c in records}
    roots: list[dict] = []
    for record in records:
        codes = parents[record.id]
        if codes:
            items[by_code[codes[0]]].setdefault("concept", []).append(items[record.id])
        else:
            roots.append(items[record.id])
    return roots
