"""HTTP security: bearer-token dependency for writes, security headers, request size limit."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fhir_api.errors import FhirError, outcome_response
from smt.auth import Authenticator, AuthError, AuthSettings, Principal

DEFAULT_MAX_REQUEST_BYTES = 1 << 30  # 1 GiB: a full SNOMED CT edition zip fits


def max_request_bytes() -> int:
    return int(os.environ.get("SMT_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES))


def authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def require_writer(request: Request) -> Principal:
    """FastAPI dependency: the authenticated principal of a write request (401 otherwise)."""
    try:
        return authenticator(request).authenticate(request.headers.get("authorization"))
    except AuthError as exc:
        raise FhirError(exc.status, "login" if exc.status == 401 else "forbidden", str(exc)) from exc


def authorise(request: Request, principal: Principal, publisher: str | None) -> None:
    """403 unless ``principal`` may write releases of ``publisher``."""
    try:
        authenticator(request).authorise(principal, publisher)
    except AuthError as exc:
        raise FhirError(exc.status, "forbidden", str(exc)) from exc


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def install_security(app: FastAPI) -> None:
    """Security headers on every response; 413 for bodies over ``SMT_MAX_REQUEST_BYTES``."""
    app.state.authenticator = Authenticator(AuthSettings.from_env())

    @app.middleware("http")
    async def headers_and_limits(request: Request,
                                 call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_request_bytes():
            return outcome_response(request, 413, "too-costly",
                                    f"request body over the limit of {max_request_bytes()} bytes")
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if _https(request):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
