"""Engine results shaped as FHIR ``Parameters`` ($lookup, $validate-code, $subsumes)."""

from __future__ import annotations

from smt.codesystems.lookup import LookupProperty, LookupResult
from smt.index.reader import DesignationRecord
from smt.publish.codesystem_json import coding_json, typed_value  # also imported from here by valueset_json
from smt.terminology.codesystem import Issue, ValidationResult

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"


def _param(name: str, key: str, value: object) -> dict:
    return {"name": name, key: value}


def parameters(*items: dict | None) -> dict:
    return {"resourceType": "Parameters", "parameter": [item for item in items if item]}


def designation_part(designation: DesignationRecord) -> dict:
    part = []
    if designation.language:
        part.append(_param("language", "valueCode", designation.language))
    if designation.use:
        part.append(_param("use", "valueCoding", coding_json(designation.use)))
    if designation.source:
        part.append(_param("source", "valueCanonical", designation.source))
    part.append(_param("value", "valueString", designation.value))
    return {"name": "designation", "part": part}


def property_part(prop: LookupProperty) -> dict:
    part = [_param("code", "valueCode", prop.code), {"name": "value", **typed_value(prop.type, prop.value)}]
    if prop.code_display:
        part.insert(1, _param("code-display", "valueString", prop.code_display))
    if prop.description:
        part.append(_param("description", "valueString", prop.description))
    return {"name": "property", "part": part}


def lookup_parameters(result: LookupResult, used_supplements: list[str] | None = None) -> dict:
    """A ``$lookup`` answer; ``used_supplements`` are echoed as ``used-supplement``."""
    return parameters(
        _param("name", "valueString", result.name),
        _param("version", "valueString", result.version) if result.version else None,
        _param("display", "valueString", result.display or result.code),
        _param("system", "valueUri", result.system),
        _param("code", "valueCode", result.code),
        _param("definition", "valueString", result.definition) if result.definition else None,
        _param("abstract", "valueBoolean", result.abstract),
        *(designation_part(d) for d in result.designations),
        *(property_part(p) for p in result.properties),
        *(_param("used-supplement", "valueCanonical", u) for u in used_supplements or ()),
    )


def issues_outcome(issues: list[Issue]) -> dict:
    """The ``issues`` OperationOutcome of a $validate-code answer."""
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": i.severity,
        "code": i.code,
        "details": {"coding": [{"system": TX_ISSUE_TYPE, "code": i.tx_code}], "text": i.text},
        "expression": [i.expression],
    } for i in issues]}


def validation_parameters(result: ValidationResult) -> dict:
    return parameters(
        _param("result", "valueBoolean", result.result),
        _param("message", "valueString", result.message) if result.message else None,
        _param("display", "valueString", result.display) if result.display else None,
        _param("code", "valueCode", result.code) if result.code else None,
        _param("system", "valueUri", result.system) if result.system else None,
        _param("version", "valueString", result.version) if result.version else None,
        _param("inactive", "valueBoolean", True) if result.inactive else None,
        {"name": "issues", "resource": issues_outcome(result.issues)} if result.issues else None,
        _param("x-caused-by-unknown-system", "valueCanonical", result.unknown_system)
        if result.unknown_system else None,
    )


def subsumes_parameters(outcome: str) -> dict:
    return parameters(_param("outcome", "valueCode", outcome))
