"""The OpenAPI description of the FHIR interactions: their parameters (typed as the R4 OperationDefinitions and
SearchParameters type them), FHIR JSON and FHIR XML request bodies and answers, and their 4xx OperationOutcomes.

FastAPI cannot see these by itself: operations read their parameters from the query string or from a
``Parameters`` body (``fhir_api.params.read_params``). ``route_docs`` gives the keyword arguments of
``add_api_route`` / the route decorators that declare them, so that clients and schema-driven fuzzers reach
every parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import Response

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
XML_SCHEMA = {"type": "string", "description": "FHIR XML (http://hl7.org/fhir namespace)"}

PARAMETER_TYPES: dict[str, str] = {
    "url": "uri", "valueSet": "Resource", "valueSetVersion": "string", "context": "uri", "filter": "string",
    "count": "integer", "offset": "integer", "activeOnly": "boolean", "excludeNested": "boolean",
    "excludeNotForUI": "boolean", "excludePostCoordinated": "boolean", "includeDesignations": "boolean",
    "designation": "string", "displayLanguage": "code", "includeDefinition": "boolean", "property": "string",
    "system-version": "canonical", "force-system-version": "canonical", "check-system-version": "canonical",
    "default-to-latest-version": "boolean", "default-valueset-version": "canonical", "tx-resource": "Resource",
    "limit": "integer", "useSupplement": "canonical", "code": "code", "system": "uri", "version": "string",
    "systemVersion": "string", "display": "string", "coding": "Coding", "codeableConcept": "CodeableConcept",
    "date": "dateTime", "abstract": "boolean", "inferSystem": "boolean", "lenient-display-validation": "boolean",
    "valueset-membership-only": "boolean", "codeA": "code", "codeB": "code", "codingA": "Coding",
    "codingB": "Coding", "conceptMap": "Resource", "conceptMapVersion": "string", "source": "uri", "target": "uri",
    "targetsystem": "uri", "reverse": "boolean", "validation": "Resource", "name": "string", "concept": "Coding",
    "mode": "code", "format": "code",
}
"""FHIR type of each operation parameter (R4 OperationDefinitions, tx.fhir.org's extensions)."""

_QUERY_SCHEMAS: dict[str, dict] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "minimum": 0},
    "uri": {"type": "string", "format": "uri"},
    "canonical": {"type": "string", "description": "url or url|version"},
    "code": {"type": "string", "pattern": r"^\S+( \S+)*$"},
    "dateTime": {"type": "string", "description": "FHIR dateTime (a year, a month, a day or an instant)"},
    "Coding": {"type": "string", "description": "system|code or system|version|code"},
}
_CODING = {"type": "object", "properties": {k: {"type": "string"} for k in ("system", "version", "code", "display")}}
_VALUE_KEYS: dict[str, tuple[str, dict]] = {
    "boolean": ("valueBoolean", {"type": "boolean"}),
    "integer": ("valueInteger", {"type": "integer"}),
    "uri": ("valueUri", {"type": "string"}),
    "canonical": ("valueCanonical", {"type": "string"}),
    "code": ("valueCode", {"type": "string"}),
    "string": ("valueString", {"type": "string"}),
    "dateTime": ("valueDateTime", {"type": "string"}),
    "Coding": ("valueCoding", _CODING),
    "CodeableConcept": ("valueCodeableConcept", {"type": "object", "properties": {
        "coding": {"type": "array", "items": _CODING}, "text": {"type": "string"}}}),
    "Resource": ("resource", {"type": "object", "required": ["resourceType"],
                              "properties": {"resourceType": {"type": "string"}}}),
}
OPERATION_OUTCOME = {"type": "object", "required": ["resourceType", "issue"], "properties": {
    "resourceType": {"const": "OperationOutcome"},
    "issue": {"type": "array", "items": {"type": "object", "properties": {
        "severity": {"type": "string"}, "code": {"type": "string"}, "diagnostics": {"type": "string"}}}}}}
ERRORS = {
    "400": "Invalid request: a malformed parameter or body (OperationOutcome)",
    "404": "Unknown resource, code system, value set or concept map (OperationOutcome)",
    "406": "A format this server cannot produce was asked for (_format=ttl) (OperationOutcome)",
    "415": "A request body that is neither FHIR JSON nor FHIR XML (OperationOutcome)",
    "4XX": "Any other client error, as an OperationOutcome",
}


def _resource_schema(resource_type: str) -> dict:
    return {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"const": resource_type}}}


def _content(schema: dict) -> dict:
    return {FHIR_JSON: {"schema": schema}, FHIR_XML: {"schema": XML_SCHEMA}}


def query_parameters(names: Iterable[str], types: dict[str, str] | None = None) -> list[dict]:
    """OpenAPI query parameters of the names a GET takes (resources and CodeableConcepts travel in a body only),
    with ``_format`` and ``_pretty``."""
    types = types or PARAMETER_TYPES
    found = []
    for name in names:
        kind = types.get(name, "string")
        if kind in ("Resource", "CodeableConcept"):
            continue
        found.append({"name": name, "in": "query", "required": False,
                      "schema": _QUERY_SCHEMAS.get(kind, {"type": "string"})})
    found.append({"name": "_format", "in": "query", "required": False,
                  "schema": {"type": "string", "enum": ["json", "xml", FHIR_JSON, FHIR_XML, "application/json",
                                                        "application/xml"]}})
    found.append({"name": "_pretty", "in": "query", "required": False, "schema": {"type": "boolean"}})
    return found


def parameters_body(names: Iterable[str]) -> dict:
    """The OpenAPI request body of an operation POST: a ``Parameters`` resource in FHIR JSON or FHIR XML."""
    names = list(names)
    value_keys = {key: schema for name in names for key, schema in [_VALUE_KEYS[PARAMETER_TYPES.get(name, "string")]]}
    item = {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string", "enum": names}, **value_keys}}
    schema = {"type": "object", "required": ["resourceType"], "properties": {
        "resourceType": {"const": "Parameters"}, "parameter": {"type": "array", "items": item}}}
    return {"required": False, "content": {**_content(schema), "application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": {n: {"type": "string"} for n in names}}}}}


def answers(result_type: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a FHIR interaction: its result in FHIR JSON or XML, and the 4xx OperationOutcomes."""
    found: dict[int | str, dict[str, Any]] = {
        status: {"description": f"A {result_type} (FHIR JSON or FHIR XML)", "content": _content(
            _resource_schema(result_type))}}
    for code, text in ERRORS.items():
        found[code] = {"description": text, "content": _content(OPERATION_OUTCOME)}
    return found


def route_docs(result_type: str, names: Iterable[str] = (), *, body: bool = False, status: int = 200,
               types: dict[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments for a FHIR route: typed query parameters (``names``), a ``Parameters`` body when
    ``body``, the result and error answers, and a plain ``Response`` class (no JSON-only schema)."""
    names = list(names)
    extra: dict[str, Any] = {"parameters": query_parameters(names, types)}
    if body:
        extra["requestBody"] = parameters_body(names)
    return {"openapi_extra": extra, "responses": answers(result_type, status), "response_class": Response}


def resource_body(resource_type: str) -> dict[str, Any]:
    """``openapi_extra`` of a write: a ``resource_type`` resource in FHIR JSON or FHIR XML."""
    return {"requestBody": {"required": True, "content": _content(_resource_schema(resource_type))}}
