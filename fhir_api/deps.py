"""Shared by the routers: the registry and content-negotiation dependencies, and operation registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from fhir_api.errors import FhirError
from fhir_api.responses import choose_media_type
from smt.auth import AuthError
from smt.registry import Registry

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def get_registry(request: Request) -> Registry:
    """The app's registry as this request may see it: drafts only for authenticated curators and admins."""
    registry: Registry = request.app.state.registry
    authorization = request.headers.get("authorization")
    if authorization:
        try:
            request.app.state.authenticator.authenticate(authorization)
        except AuthError:
            return registry.public()
        return registry
    return registry.public()


def negotiate(request: Request) -> None:
    """Refuse requests that accept XML only: this server answers JSON."""
    if choose_media_type(request) is None:
        raise FhirError(406, "not-supported", "Only JSON is supported (_format=json or Accept "
                                              "application/fhir+json)")


def operation_route(router: APIRouter, path: str) -> Callable[[Endpoint], Endpoint]:
    """Register an operation endpoint for GET and POST as two routes (one OpenAPI operation id each)."""

    def register(endpoint: Endpoint) -> Endpoint:
        for method in ("GET", "POST"):
            router.add_api_route(path, endpoint, methods=[method])
        return endpoint

    return register
