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

from smt.index.reader import CodeSystemIndex
from smt.publish import codesystem_json as fhir_json
from smt.publish.members import value_set_members
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo

FHIR_VERSION = "4.0.1"
EXPORT_PROPERTIES = ("parent", "status", "inactive", "notSelectable")
"""The standard concept properties an export declares (those ``concept_json(export=True)`` writes)."""


def code_system_header(info: ReleaseInfo, index: CodeSystemIndex) -> dict:
    """The CodeSystem resource of a release, without its concepts."""
    return {
        **fhir_json.code_system_header(info, index.meta),
        "content": "complete",
        "count": index.count,
        "property": fhir_json.property_declarations(index.meta, EXPORT_PROPERTIES),
    }


def write_code_system(info: ReleaseInfo, index: CodeSystemIndex, out: BinaryIO) -> None:
    """The complete CodeSystem resource, streamed concept by concept."""
    head = orjson.dumps(code_system_header(info, index))
    out.write(head[:-1] + b',"concept":[')
    for number, concept in enumerate(index.concepts()):
        out.write((b"," if number else b"") + orjson.dumps(fhir_json.concept_json(index, concept, export=True)))
    out.write(b"]}")


def write_code_system_ndjson(index: CodeSystemIndex, out: BinaryIO) -> None:
    """One ``CodeSystem.concept`` JSON object per line."""
    for concept in index.concepts():
        out.write(orjson.dumps(fhir_json.concept_json(index, concept, export=True)) + b"\n")


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
