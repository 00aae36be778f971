"""OpenAPI declarations of the error answers routes really give (``responses=`` of a route decorator).

Each status maps to its reason; the body schema says the error format: an OperationOutcome (FHIR-style routes
and every refusal of the request limits), an SVS SOAP fault, or plain text (SPARQL protocol errors).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

REASONS = {
    400: "Invalid request: a parameter out of its documented bounds, malformed or missing",
    401: "A bearer token is required",
    403: "Not allowed",
    404: "Not found",
    406: "No acceptable result format",
    413: "Request body over the limit",
    414: "URL over the limit",
    415: "Unsupported content type",
    431: "Request headers over the limit",
    502: "The SPARQL server queries are forwarded to (SMT_SPARQL_ENDPOINT) does not answer",
    503: "Temporarily unavailable (a SPARQL query stopped by its time or memory limit, too many at once)",
}
"""Why each status is answered (the route's own docstring says when)."""

OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {"type": "array", "items": {"type": "object", "required": ["severity", "code"], "properties": {
            "severity": {"type": "string"}, "code": {"type": "string"}, "diagnostics": {"type": "string"},
            "details": {"type": "object"}, "expression": {"type": "array", "items": {"type": "string"}}}}},
    },
}
LIMITS = (413, 414, 431)
"""Refusals of the request limits middleware, possible on every route."""


def _responses(statuses: tuple[int, ...], content: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {status: {"description": REASONS[status], "content": content} for status in statuses}


def outcome_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``statuses`` answered with an OperationOutcome (plus the request limits' refusals)."""
    content = {"application/fhir+json": {"schema": OUTCOME_SCHEMA}, "application/json": {"schema": OUTCOME_SCHEMA}}
    return _responses(tuple(dict.fromkeys((*statuses, *LIMITS))), content)


def svs_fault_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``statuses`` answered with a SOAP 1.2 fault (IHE SVS), plus the request limits' OperationOutcomes."""
    fault = {"text/xml": {"schema": {"type": "string", "description": "SOAP 1.2 Fault with an IHE subcode"}}}
    return {**_responses(statuses, fault), **outcome_responses()}


DETAIL_SCHEMA: dict[str, Any] = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}


def detail_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``statuses`` answered with FastAPI's ``{"detail": "…"}`` (publication and linked-data routes), plus the
    request limits' OperationOutcomes. A 400 is an OperationOutcome for a parameter out of its bounds, a
    ``detail`` for a value the route itself refuses."""
    detail = {"application/json": {"schema": DETAIL_SCHEMA}}
    either = {"application/json": {"schema": {"oneOf": [OUTCOME_SCHEMA, DETAIL_SCHEMA]}}}
    return {**outcome_responses(), 400: {"description": REASONS[400], "content": either},
            **_responses(statuses, detail)}


def plain_text_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``statuses`` answered with a plain-text message, plus the request limits' OperationOutcomes."""
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {**_responses(statuses, text), **outcome_responses()}


QUERY_POSTS = ("/sparql", "/svs/RetrieveMultipleValueSets")
"""POST routes that are reads (a query in the body)."""


def without_validation_error(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an OpenAPI document) without FastAPI's default 422 ``HTTPValidationError`` on the reads outside
    ``/fhir`` (and the SPARQL and SVS queries): the app answers a parameter out of its bounds with a 400
    OperationOutcome, never that 422. The write routes keep theirs (they do answer 422)."""
    for path, operations in schema.get("paths", {}).items():
        if path.startswith("/fhir"):
            continue
        for method, operation in operations.items():
            if method != "get" and path not in QUERY_POSTS:
                continue
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(answer.get("content", "")):
                del operation["responses"]["422"]
    return schema


def install_error_docs(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document say the error answers the routes outside ``/fhir`` really give."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = without_validation_error(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
