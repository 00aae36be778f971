"""Who may write: bearer tokens checked against OpenID Connect JWTs or static tokens, and the role rules.

Reads are anonymous (open licence). Every write needs a token:

* **OIDC** (compatible with Pro Santé Connect or any OpenID provider): ``SMT_OIDC_ISSUER`` plus the signing keys
  from ``SMT_OIDC_JWKS_URL`` or a local ``SMT_OIDC_JWKS_FILE``; optional ``SMT_OIDC_AUDIENCE``. Roles come from
  the claim named by ``SMT_OIDC_ROLES_CLAIM`` (default ``roles``; dotted paths such as ``realm_access.roles``
  work), the publisher a curator acts for from ``SMT_OIDC_PUBLISHER_CLAIM`` (default ``publisher``).
* **Static tokens** for local use: ``SMT_STATIC_TOKENS="token:admin,other:curator:ATIH"`` (token, role, and for
  a curator the publisher).

Roles: ``admin`` may write anything; ``curator`` only releases of its own publisher.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jwt
import orjson

from smt.errors import Forbidden, Unauthenticated

ROLES = ("admin", "curator")


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    roles: frozenset[str]
    publisher: str | None = None

    def may_write(self, publisher: str | None) -> bool:
        """Admins write anything; curators only what their publisher owns."""
        if "admin" in self.roles:
            return True
        return "curator" in self.roles and self.publisher is not None and self.publisher == publisher


def _claim(claims: dict, path: str) -> object:
    value: object = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class AuthSettings:
    issuer: str | None = None
    audience: str | None = None
    jwks_url: str | None = None
    jwks_file: str | None = None
    roles_claim: str = "roles"
    publisher_claim: str = "publisher"
    static_tokens: str = ""

    @classmethod
    def from_env(cls) -> AuthSettings:
        env = os.environ.get
        return cls(
            issuer=env("SMT_OIDC_ISSUER"), audience=env("SMT_OIDC_AUDIENCE"), jwks_url=env("SMT_OIDC_JWKS_URL"),
            jwks_file=env("SMT_OIDC_JWKS_FILE"), roles_claim=env("SMT_OIDC_ROLES_CLAIM", "roles"),
            publisher_claim=env("SMT_OIDC_PUBLISHER_CLAIM", "publisher"),
            static_tokens=env("SMT_STATIC_TOKENS", ""),
        )


class Authenticator:
    """Turns an ``Authorization`` header into a ``Principal`` (or raises ``AuthError``)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings

    @cached_property
    def _static(self) -> dict[str, Principal]:
        principals: dict[str, Principal] = {}
        for item in filter(None, (p.strip() for p in self.settings.static_tokens.split(","))):
            token, role, *rest = item.split(":", 2)
            if role not in ROLES:
                raise ValueError(f"SMT_STATIC_TOKENS: unknown role {role!r}")
            principals[token] = Principal(f"static:{role}", frozenset([role]), rest[0] if rest else None)
        return principals

    @cached_property
    def _jwks_client(self) -> jwt.PyJWKClient | None:
        return jwt.PyJWKClient(self.settings.jwks_url) if self.settings.jwks_url else None

    @cached_property
    def _jwk_set(self) -> jwt.PyJWKSet | None:
        if not self.settings.jwks_file:
            return None
        return jwt.PyJWKSet.from_dict(orjson.loads(Path(self.settings.jwks_file).read_bytes()))

    def _signing_key(self, token: str) -> jwt.PyJWK:
        kid = jwt.get_unverified_header(token).get("kid")
        if self._jwks_client is not None:
            return self._jwks_client.get_signing_key_from_jwt(token)
        if self._jwk_set is not None:
            keys = [k for k in self._jwk_set.keys if kid is None or k.key_id == kid]
            if keys:
                return keys[0]
        raise Unauthenticated("no signing key matches the token")

    def _from_jwt(self, token: str) -> Principal:
        if not self.settings.issuer:
            raise Unauthenticated("invalid token")
        try:
            key = self._signing_key(token)
            claims = jwt.decode(
                token, key.key, algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                issuer=self.settings.issuer, audience=self.settings.audience,
                options={"verify_aud": self.settings.audience is not None, "require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        roles = _claim(claims, self.settings.roles_claim) or []
        publisher = _claim(claims, self.settings.publisher_claim)
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(r for r in (roles if isinstance(roles, list) else [roles]) if r in ROLES),
            publisher=str(publisher) if publisher else None,
        )

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a ``Bearer`` header; 401 when missing or invalid."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("a bearer token is required for this operation")
        token = authorization[7:].strip()
        for known, principal in self._static.items():
            if hmac.compare_digest(known, token):
                return principal
        return self._from_jwt(token)

    def authorise(self, principal: Principal, publisher: str | None) -> None:
        """403 unless ``principal`` may write releases of ``publisher``."""
        if not principal.may_write(publisher):
            raise Forbidden(f"{principal.subject} may not write releases of publisher {publisher!r}")
