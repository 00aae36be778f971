"""Shared by the routers: the registry and content-negotiation dependencies, and operation registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from fhir_api.errors import FhirError
from fhir_api.responses import choose_media_type
from smt.auth import AuthError
from smt.registry import Registry

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def visible_registry(request: Request) -> Registry:
    """The app's registry as this request may see it: drafts only for authenticated curators and admins.

    Checking a token may fetch the OIDC keys, so call this from sync code (FastAPI runs it in a worker thread).
    """
    registry: Registry = request.app.state.registry
    authorization = request.headers.get("authorization")
    if authorization:
        try:
            request.app.state.authenticator.authenticate(authorization)
        except AuthError:
            return registry.public()
        return registry
    return registry.public()


async def get_registry(request: Request) -> Registry:
    """FastAPI dependency for ``visible_registry``: anonymous reads cost no worker-thread hop."""
    if request.headers.get("authorization"):
        return await run_in_threadpool(visible_registry, request)
    registry: Registry = request.app.state.registry
    return registry.public()


async def negotiate(request: Request) -> None:
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
