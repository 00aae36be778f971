"""Errors as FHIR OperationOutcomes: the ``FhirError`` exception and the app's exception handlers.

Every error under ``/fhir`` answers an OperationOutcome with a fitting status; unexpected exceptions give a
500 OperationOutcome without any stack trace (the trace goes to the server log only).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fhir_api.answers import status_of
from fhir_api.responses import fhir_json
from smt.errors import NotFound, SmtError, TerminologyError

log = logging.getLogger("fhir_api")
MESSAGE_ID_EXTENSION = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
_HTTP_ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 406: "not-supported",
                     415: "not-supported"}


class FhirError(Exception):
    """An error to answer as an OperationOutcome with ``status`` and FHIR issue type ``code``."""

    def __init__(self, status: int, code: str, text: str, *, expression: list[str] | None = None,
                 diagnostics: str | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.code = code
        self.text = text
        self.expression = expression
        self.diagnostics = diagnostics


def issue(code: str, text: str, *, severity: str = "error", diagnostics: str | None = None,
          expression: list[str] | None = None) -> dict:
    """One OperationOutcome.issue; ``diagnostics`` repeats the text unless given (many clients show only it)."""
    item: dict = {"severity": severity, "code": code, "details": {"text": text}, "diagnostics": diagnostics or text}
    if expression:
        item["expression"] = expression
    return item


def operation_outcome(*issues: dict) -> dict:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def outcome_response(request: Request, status: int, code: str, text: str, *,
                     diagnostics: str | None = None, expression: list[str] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    body = operation_outcome(issue(code, text, diagnostics=diagnostics, expression=expression))
    return fhir_json(request, body, status=status, headers=headers)


def _validation_text(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into an OperationOutcome."""

    @app.exception_handler(FhirError)
    async def fhir_error(request: Request, exc: FhirError) -> Response:
        return outcome_response(request, exc.status, exc.code, exc.text, diagnostics=exc.diagnostics,
                                expression=exc.expression)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        if isinstance(exc, TerminologyError):
            return await terminology_error(request, exc)
        return outcome_response(request, 404, "not-found", str(exc))

    @app.exception_handler(TerminologyError)
    async def terminology_error(request: Request, exc: TerminologyError) -> Response:
        item: dict = {"severity": "error", "code": exc.issue_type, "details": {"text": str(exc)}}
        if exc.message_id:
            item["extension"] = [{"url": MESSAGE_ID_EXTENSION, "valueString": exc.message_id}]
        if exc.tx_code:
            item["details"]["coding"] = [{"system": TX_ISSUE_TYPE, "code": exc.tx_code}]
        if exc.location:
            item["expression"] = [exc.location]
        return fhir_json(request, operation_outcome(item), status=status_of(exc))

    @app.exception_handler(SmtError)
    async def smt_error(request: Request, exc: SmtError) -> Response:
        return outcome_response(request, 400, "processing", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return outcome_response(request, 400, "invalid", f"Invalid request: {_validation_text(exc)}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/fhir"):
            return await http_exception_handler(request, exc)
        code = _HTTP_ISSUE_CODES.get(exc.status_code, "processing")
        if exc.status_code == 404:
            text = f"No FHIR endpoint at {request.url.path}"
        elif exc.status_code == 405:
            text = f"Method {request.method} is not supported on {request.url.path}"
        else:
            text = str(exc.detail)
        return outcome_response(request, exc.status_code, code, text, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return outcome_response(request, 500, "exception", "Internal server error")
