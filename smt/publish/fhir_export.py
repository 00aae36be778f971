"""Release content as FHIR R4 JSON, NDJSON and CSV, built from plain dicts and written by orjson.

A code system export is the complete ``CodeSystem`` (``content: complete``): every concept, flat, with its
designations, properties, ``parent`` codes and, when not active, ``status`` and ``inactive``. It is written
concept by concept so that a large release is never held in memory as one document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from smt.index.reader import CodeSystemIndex, ConceptRecord
from smt.model import Coding, PropertyValue
from smt.publish.members import value_set_members
from smt.registry import Registry
from smt.store.releases import ReleaseInfo

FHIR_VERSION = "4.0.1"
CONCEPT_PROPERTIES = "http://hl7.org/fhir/concept-properties#"
STANDARD_PROPERTIES = {
    "parent": ("code", "Parent codes"),
    "status": ("code", "Status of the concept (active, inactive, retired)"),
    "inactive": ("boolean", "True if the concept is not considered active"),
    "notSelectable": ("boolean", "Grouping concept, not for use in coding"),
}
_VALUE_KEYS = {
    "code": "valueCode", "string": "valueString", "integer": "valueInteger", "boolean": "valueBoolean",
    "dateTime": "valueDateTime", "decimal": "valueDecimal",
}
_HIERARCHY = {"grouped-by", "is-a", "part-of", "classified-with"}


def _coding(coding: Coding) -> dict:
    return {k: v for k, v in (("system", coding.system), ("code", coding.code), ("display", coding.display)) if v}


def _typed(kind: str, value: PropertyValue) -> dict:
    if isinstance(value, Coding):
        return {"valueCoding": _coding(value)}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    key = _VALUE_KEYS.get(kind, "valueString")
    return {key: str(value) if key in ("valueCode", "valueString", "valueDateTime") else value}


def concept_json(index: CodeSystemIndex, concept: ConceptRecord) -> dict:
    """One ``CodeSystem.concept`` (flat: hierarchy as ``parent`` properties)."""
    item: dict = {"code": concept.code}
    if concept.display:
        item["display"] = concept.display
    if concept.definition:
        item["definition"] = concept.definition
    designations = [
        {k: v for k, v in (("language", d.language), ("use", _coding(d.use) if d.use else None), ("value", d.value))
         if v}
        for d in index.designations(concept)
    ]
    if designations:
        item["designation"] = designations
    props = [{"code": p.code, **_typed(p.type, p.value)} for p in index.properties(concept)]
    codes = {p["code"] for p in props}
    props += [{"code": "parent", "valueCode": parent.code} for parent in index.parents(concept)]
    if not concept.active:
        props += [{"code": "status", "valueCode": concept.status}, {"code": "inactive", "valueBoolean": True}]
    if concept.abstract and "notSelectable" not in codes:
        props.append({"code": "notSelectable", "valueBoolean": True})
    if props:
        item["property"] = props
    return item


def _property_declarations(meta: dict) -> list[dict]:
    declared = [{k: v for k, v in p.items() if v} for p in meta.get("properties", [])]
    codes = {p["code"] for p in declared}
    standard = [{"code": code, "uri": CONCEPT_PROPERTIES + code, "description": text, "type": kind}
                for code, (kind, text) in STANDARD_PROPERTIES.items() if code not in codes]
    return declared + standard


def code_system_header(info: ReleaseInfo, index: CodeSystemIndex) -> dict:
    """The CodeSystem resource of a release, without its concepts."""
    meta = index.meta
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
        "date": meta.get("date"),
        "publisher": meta.get("publisher"),
        "description": meta.get("description"),
        "copyright": meta.get("copyright"),
        "caseSensitive": bool(meta.get("case_sensitive", True)),
        "hierarchyMeaning": meta.get("hierarchy_meaning") if meta.get("hierarchy_meaning") in _HIERARCHY else None,
        "content": "complete",
        "count": index.count,
        "property": _property_declarations(meta),
    }
    return {k: v for k, v in resource.items() if v not in (None, [], "")}


def write_code_system(info: ReleaseInfo, index: CodeSystemIndex, out: BinaryIO) -> None:
    """The complete CodeSystem resource, streamed concept by concept."""
    head = orjson.dumps(code_system_header(info, index))
    out.write(head[:-1] + b',"concept":[')
    for number, concept in enumerate(index.concepts()):
        out.write((b"," if number else b"") + orjson.dumps(concept_json(index, concept)))
    out.write(b"]}")


def write_code_system_ndjson(index: CodeSystemIndex, out: BinaryIO) -> None:
    """One ``CodeSystem.concept`` JSON object per line."""
    for concept in index.concepts():
        out.write(orjson.dumps(concept_json(index, concept)) + b"\n")


def _csv_bytes(rows: Iterator[list[str]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def write_code_system_csv(index: CodeSystemIndex, out: BinaryIO) -> None:
    """``code,display,parents,status``; several parents are joined with ``|``."""

    def rows() -> Iterator[list[str]]:
        yield ["code", "display", "parents", "status"]
        for concept in index.concepts():
            parents = "|".join(p.code for p in index.parents(concept))
            yield [concept.code, concept.display or "", parents, concept.status]

    for chunk in _csv_bytes(rows()):
        out.write(chunk)


def value_set_resource(info: ReleaseInfo) -> dict:
    """The stored ValueSet (or ConceptMap) resource, with the release id as resource id."""
    return {**info.resource(), "id": info.id}


def write_resource(info: ReleaseInfo, out: BinaryIO) -> None:
    out.write(orjson.dumps(value_set_resource(info)))


def write_value_set_ndjson(info: ReleaseInfo, registry: Registry, out: BinaryIO) -> None:
    """One ``{"system", "code", "display"}`` object per value set member."""
    members = value_set_members(info.resource(), registry)
    for (system, code), member in sorted(members.items()):
        item = {"system": system, "code": code, "display": member.display, "inactive": member.inactive or None}
        out.write(orjson.dumps({k: v for k, v in item.items() if v is not None}) + b"\n")


def write_value_set_csv(info: ReleaseInfo, registry: Registry, out: BinaryIO) -> None:
    """``system,code,display,status`` for every member of the value set."""
    members = value_set_members(info.resource(), registry)

    def rows() -> Iterator[list[str]]:
        yield ["system", "code", "display", "status"]
        for (system, code), member in sorted(members.items()):
            yield [system, code, member.display or "", "inactive" if member.inactive else "active"]

    for chunk in _csv_bytes(rows()):
        out.write(chunk)
