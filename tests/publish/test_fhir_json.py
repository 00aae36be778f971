"""``smt.publish.codesystem_json``: the one concept/metadata → FHIR JSON code of the CodeSystem read and downloads."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import orjson
import pytest

from fhir_api import results
from fhir_api.codesystem_resource import code_system
from smt.compile import writable_store
from smt.index.reader import CodeSystemIndex, DesignationRecord
from smt.model import Coding
from smt.publish import codesystem_json as fhir_json
from smt.publish import fhir_export
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo
from smt.terminology.codesystem import CodeSystemVersion
from tests.terminology.test_engine_codesystem import demo_release


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReleaseInfo, CodeSystemIndex]:
    """Demo 2.0.0 (``AB`` under A and B), loaded with a date that is not a FHIR dateTime."""
    home: Path = tmp_path_factory.mktemp("fhir-json-home")
    writable_store(home).load(dataclasses.replace(demo_release("2.0.0", polyhierarchy=True), date="01/05/2024"))
    registry = Registry(home)
    info = registry.code_systems()[0]
    return info, registry.index(info)


def _concept(index: CodeSystemIndex, code: str, *, export: bool = False) -> dict:
    record = next(c for c in index.concepts() if c.code == code)
    return fhir_json.concept_json(index, record, export=export)


def test_results_helpers_are_the_shared_ones() -> None:
    assert results.coding_json is fhir_json.coding_json
    assert results.typed_value is fhir_json.typed_value


def test_empty_values_are_left_out() -> None:
    assert fhir_json.coding_json(Coding("", "c", "")) == {"code": "c"}
    assert fhir_json.coding_json(Coding(None, "c", "C")) == {"code": "c", "display": "C"}
    designation = DesignationRecord("court", "", Coding("http://x", "short", None))
    assert fhir_json.designation_json(designation) == {"use": {"system": "http://x", "code": "short"},
                                                       "value": "court"}


@pytest.mark.parametrize(("kind", "value", "expected"), [
    ("integer", 2, {"valueInteger": 2}), ("code", 12, {"valueCode": "12"}), ("boolean", False,
     {"valueBoolean": False}), ("unknown", 1.5, {"valueString": "1.5"}),
    ("Coding", Coding("http://loinc.org", "1234-5"), {"valueCoding": {"system": "http://loinc.org", "code": "1234-5"}}),
])
def test_typed_value(kind: str, value: object, expected: dict) -> None:
    assert fhir_json.typed_value(kind, value) == expected


def test_read_form_has_own_properties_and_inactive_only(demo: tuple[ReleaseInfo, CodeSystemIndex]) -> None:
    _, index = demo
    assert _concept(index, "A2") == {"code": "A2", "display": "Alpha deux",
                                     "property": [{"code": "inactive", "valueBoolean": True}]}
    assert _concept(index, "AB") == {"code": "AB", "display": "Alpha-bêta"}
    a1 = _concept(index, "A1")
    assert a1["definition"] == "Premier enfant d'alpha"
    assert a1["property"] == [{"code": "rank", "valueInteger": 1},
                              {"code": "seeAlso", "valueCoding": {"system": "http://loinc.org", "code": "1234-5",
                                                                  "display": "Test"}}]


def test_export_form_adds_parents_status_and_not_selectable(demo: tuple[ReleaseInfo, CodeSystemIndex]) -> None:
    _, index = demo
    assert _concept(index, "A2", export=True)["property"] == [
        {"code": "parent", "valueCode": "A"}, {"code": "status", "valueCode": "inactive"},
        {"code": "inactive", "valueBoolean": True}]
    assert _concept(index, "AB", export=True)["property"] == [
        {"code": "parent", "valueCode": "A"}, {"code": "parent", "valueCode": "B"}]
    # ROOT is abstract and already carries notSelectable: not repeated
    assert _concept(index, "ROOT", export=True)["property"] == [{"code": "notSelectable", "valueBoolean": True}]
    assert _concept(index, "A", export=True)["designation"][1] == {
        "language": "fr", "use": {"system": "http://smt.example.org/designation-use", "code": "short",
                                  "display": "Libellé court"}, "value": "Alpha court"}


def test_property_declarations_keep_the_standard_order(demo: tuple[ReleaseInfo, CodeSystemIndex]) -> None:
    _, index = demo
    declared = fhir_json.property_declarations(index.meta, ("notSelectable", "inactive", "parent", "child"))
    assert [p["code"] for p in declared] == ["notSelectable", "rank", "seeAlso", "parent", "child", "inactive"]
    assert declared[3] == {"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent",
                           "description": "Parent codes", "type": "code"}


def test_read_and_export_share_the_header(demo: tuple[ReleaseInfo, CodeSystemIndex]) -> None:
    info, index = demo
    read = code_system(CodeSystemVersion(info, index), with_concepts=True)
    out = io.BytesIO()
    fhir_export.write_code_system(info, index, out)
    export = orjson.loads(out.getvalue())
    common = fhir_json.code_system_header(info, index.meta)
    assert "date" not in common  # "01/05/2024" is not a FHIR dateTime: left out of both
    for resource in (read, export):
        assert {k: v for k, v in resource.items() if k in common and k != "meta"} == {
            k: v for k, v in common.items() if k != "meta"}
    assert [p["code"] for p in read["property"]][-3:] == ["parent", "child", "inactive"]
    assert [p["code"] for p in export["property"]][-3:] == ["parent", "status", "inactive"]
    assert len(export["concept"]) == index.count == 6
    assert [c["code"] for c in read["concept"]] == [c["code"] for c in export["concept"]]  # both flat here
