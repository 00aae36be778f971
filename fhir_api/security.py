"""HTTP security: bearer-token dependency for writes, security headers (size limits: ``fhir_api.limits``)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_api.limits import RequestLimitsMiddleware
from smt.security.auth import Authenticator, AuthSettings, Principal


def authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def require_writer(request: Request) -> Principal:
    """FastAPI dependency: the authenticated principal of a write request (401 otherwise)."""
    return authenticator(request).authenticate(request.headers.get("authorization"))


def authorise(request: Request, principal: Principal, publisher: str | None) -> None:
    """403 unless ``principal`` may write releases of ``publisher``."""
    authenticator(request).authorise(principal, publisher)


SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityMiddleware:
    """Pure ASGI middleware: security headers on every HTTP response.

    Written against ASGI directly (not ``BaseHTTPMiddleware``) so that it adds no task or stream copy to a
    request: a ``$subsumes`` answer costs well under a millisecond and this layer must not dominate it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        https = scope.get("scheme") == "https" or headers.get("x-forwarded-proto") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = list(message.get("headers", ()))
                present = {name.lower() for name, _ in sent}
                extra = SECURITY_HEADERS + ((HSTS,) if https else ())
                sent.extend(item for item in extra if item[0] not in present)
                message = {**message, "headers": sent}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security(app: FastAPI) -> None:
    """Request limits (414, 431, 413 OperationOutcomes), then security headers on every response (limits'
    refusals included)."""
    app.state.authenticator = Authenticator(AuthSettings.from_env())
    app.add_middleware(RequestLimitsMiddleware)
    app.add_middleware(SecurityMiddleware)
