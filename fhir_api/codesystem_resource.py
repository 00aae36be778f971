"""A stored release as a FHIR R4 CodeSystem resource.

Concepts are included only when asked (``_summary=false`` or ``_elements`` naming ``concept``): CIM-10 has
~43k concepts, so a plain read answers the metadata only, tagged SUBSETTED, with ``content`` still telling
what the server holds ("complete"). Concepts are nested by hierarchy when every concept has at most one
parent, and otherwise listed flat with ``parent`` properties.
"""

from __future__ import annotations

from smt.fhir_r4.elements import SUBSETTED
from smt.index.reader import CodeSystemIndex
from smt.publish.codesystem_json import code_system_header, concept_json, property_declarations
from smt.terminology.codesystem import CodeSystemVersion

READ_PROPERTIES = ("parent", "child", "inactive")
"""The standard concept properties a read declares (those $lookup reports)."""
_CONTENT = {"not-present", "example", "fragment", "complete", "supplement"}


def code_system(cs: CodeSystemVersion, with_concepts: bool = False) -> dict:
    """The CodeSystem resource of one release."""
    meta = cs.index.meta
    resource: dict = {
        **code_system_header(cs.info, meta),
        "content": meta.get("content") if meta.get("content") in _CONTENT else "complete",
        "count": meta.get("count", cs.info.count),
        "property": property_declarations(meta, READ_PROPERTIES),
    }
    if with_concepts:
        resource["concept"] = concepts(cs.index)
    else:
        resource["meta"]["tag"] = [SUBSETTED]
    return {k: v for k, v in resource.items() if v not in (None, [], "")}


def concepts(index: CodeSystemIndex) -> list[dict]:
    """Every concept: nested when the hierarchy is a forest, else flat with ``parent`` properties."""
    records = list(index.concepts())
    parents = {c.id: [p.code for p in index.parents(c)] for c in records}
    items = {c.id: concept_json(index, c) for c in records}
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
