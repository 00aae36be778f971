"""Errors as FHIR OperationOutcomes: the app's exception handlers and ``FhirError`` (the HTTP layer's own).

An ``SmtError`` answers the status and issue of the answer table (``fhir_api.answers``); ``FhirError`` is for
what only the HTTP layer knows (content types, request shape); request validation and routing errors under
``/fhir`` answer OperationOutcomes too; unexpected exceptions give a 500 OperationOutcome without any stack
trace (the trace goes to the server log only).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fhir_api.answers import error_outcome, status_of
from fhir_api.responses import fhir_json
from smt.errors import SmtError

log = logging.getLogger("fhir_api")
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

    @app.exception_handler(SmtError)
    async def smt_error(request: Request, exc: SmtError) -> Response:
        return fhir_json(request, error_outcome(exc), status=status_of(exc))

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
        return outcome_response(request, exc.status_code, code, text,
                                headers=dict(exc.headers) if exc.headers else None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return outcome_response(request, 500, "exception", "Internal server error")
