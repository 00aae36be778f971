"""Curators signed in to the web interface: the write API's bearer token kept in a cookie, and CSRF tokens.

Signing in checks the pasted token (static token or OIDC JWT) exactly as a write request's ``Authorization``
header is checked, then keeps it in an HttpOnly, SameSite=Strict cookie. Every state-changing form carries a
CSRF token that must equal a second cookie set at sign-in (double submit): another site can neither read it
nor, SameSite=Strict, send the cookies at all.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi.responses import Response
from starlette.requests import Request

from fhir_api.ui.errors import PageError
from smt.errors import AuthError
from smt.releases.registry import Registry
from smt.security.auth import Authenticator, Principal

TOKEN_COOKIE = "smt_session"
CSRF_COOKIE = "smt_csrf"
CSRF_FIELD = "csrf"
_UNSET = object()


def _authenticator(request: Request) -> Authenticator:
    return request.app.state.authenticator


def check_token(request: Request, token: str) -> Principal:
    """The principal of a token pasted in the sign-in form (``AuthError`` when it is not valid)."""
    return _authenticator(request).authenticate(f"Bearer {token.strip()}")


def principal(request: Request) -> Principal | None:
    """The curator signed in with this request's cookie, or None (checked once per request)."""
    found = getattr(request.state, "principal", _UNSET)
    if found is _UNSET:
        token = request.cookies.get(TOKEN_COOKIE)
        found = None
        if token:
            try:
                found = check_token(request, token)
            except AuthError:
                found = None
        request.state.principal = found
    return found  # type: ignore[return-value]  # the sentinel is replaced above


def bearer(request: Request) -> str | None:
    """The ``Authorization`` value equivalent to the session cookie (None when not signed in)."""
    token = request.cookies.get(TOKEN_COOKIE)
    return f"Bearer {token}" if token and principal(request) else None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def sign_in(request: Request, response: Response, token: str) -> None:
    """Keep ``token`` (already checked) and a fresh CSRF token in cookies."""
    secure = _secure(request)
    response.set_cookie(TOKEN_COOKIE, token.strip(), httponly=True, samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=True, samesite="strict", secure=secure,
                        path="/")


def sign_out(response: Response) -> None:
    for name in (TOKEN_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/")


def csrf_token(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE)


def check_csrf(request: Request, submitted: str | None) -> None:
    """403 unless the form's CSRF token equals the cookie's."""
    expected = csrf_token(request)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise PageError(403, "error.csrf")


def require_curator(request: Request) -> Principal:
    """The signed-in curator (401 when nobody is signed in)."""
    found = principal(request)
    if found is None:
        raise PageError(401, "error.sign_in_first")
    return found


def visible_registry(request: Request) -> Registry:
    """The registry as this visitor may see it: draft releases only for a signed-in curator."""
    registry: Registry = request.app.state.registry
    return registry if principal(request) is not None else registry.public()
