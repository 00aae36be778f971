"""Shared by the routers: the registry and content-negotiation dependencies, and operation registration."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fhir_api.errors import FhirError
from fhir_api.openapi_fhir import route_docs
from fhir_api.params import OperationParams, read_params
from fhir_api.responses import choose_media_type
from fhir_api.work import run_cpu_bound
from smt.errors import AuthError
from smt.releases.registry import Registry
from smt.security.auth import Principal

Handler = Callable[[Request, OperationParams, Registry, Any], Response | Awaitable[Response]]
"""An operation's body: ``(request, params, registry, instance)``, ``instance`` None at type level."""
Resolver = Callable[[Registry, str], Any]
"""Turns an instance-level call's resource id into the handler's ``instance``."""


def reader(request: Request) -> Principal | None:
    """The principal of the request's bearer token; None when there is none or it is not valid (an anonymous
    reader). Checking a token may fetch the OIDC keys, so call this from sync code (a worker thread)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    try:
        return request.app.state.authenticator.authenticate(authorization)
    except AuthError:
        return None


def visible_registry(request: Request) -> Registry:
    """The app's registry as this request may see it: drafts only for authenticated curators and admins.

    Checking a token may fetch the OIDC keys, so call this from sync code (FastAPI runs it in a worker thread).
    """
    registry: Registry = request.app.state.registry
    return registry if reader(request) is not None else registry.public()


async def get_registry(request: Request) -> Registry:
    """FastAPI dependency for ``visible_registry``: anonymous reads cost no worker-thread hop."""
    if request.headers.get("authorization"):  # checking a token may fetch the OIDC keys
        return await run_in_threadpool(visible_registry, request)
    return visible_registry(request)  # anonymous: nothing that blocks


async def negotiate(request: Request) -> None:
    """Refuse requests for a format this server cannot produce (406): it answers FHIR JSON and FHIR XML."""
    if choose_media_type(request) is None:
        raise FhirError(406, "not-supported", "This server answers FHIR JSON or FHIR XML (_format=json or "
                                              "_format=xml), not Turtle")


async def _type_level() -> None:
    """The instance of a type-level operation call: none."""
    return None


async def _instance_level(resource_id: str) -> str:
    """The instance of an instance-level operation call: the id in its path."""
    return resource_id


def _same_id(registry: Registry, resource_id: str) -> str:
    return resource_id


Cheap = Callable[[OperationParams], bool]
"""Whether a call of an operation is cheap enough to run on the event loop (``fhir_api.work``)."""


def _endpoint(handler: Handler, resolve: Resolver, instance_id: Callable[..., Any], cheap: Cheap | None,
              ) -> Callable[..., Any]:
    """A route function over ``handler``, run on the event loop (``async def`` handlers, and calls ``cheap``
    accepts) or in the process's pool of CPU threads (``fhir_api.work``)."""

    if inspect.iscoroutinefunction(handler):
        async def endpoint_on_loop(request: Request, params: OperationParams = Depends(read_params),
                                   registry: Registry = Depends(get_registry),
                                   resource_id: str | None = Depends(instance_id)) -> Response:
            answer = handler(request, params, registry, None if resource_id is None else resolve(registry, resource_id))
            return await answer if inspect.isawaitable(answer) else answer

        return endpoint_on_loop

    def call(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
        answer = handler(request, params, registry, None if resource_id is None else resolve(registry, resource_id))
        if inspect.isawaitable(answer):  # a coroutine function takes the branch above
            raise TypeError(f"{handler!r} returned an awaitable from a plain function")
        return answer

    async def endpoint(request: Request, params: OperationParams = Depends(read_params),
                       registry: Registry = Depends(get_registry),
                       resource_id: str | None = Depends(instance_id)) -> Response:
        if cheap is not None and cheap(params):
            return call(request, params, registry, resource_id)
        return await run_cpu_bound(call, request, params, registry, resource_id)

    return endpoint


def operation_routes(router: APIRouter, path: str, handler: Handler, *, names: tuple[str, str],
                     instance: Resolver = _same_id, parameters: Iterable[str] = (), result: str = "Parameters",
                     cheap: Cheap | None = None) -> None:
    """Register an operation at type level (``path``, e.g. ``/$lookup``) and at instance level (``/{resource_id}``
    inserted before the operation), each for GET and POST as separate routes (one OpenAPI operation id each).

    One handler serves all four: ``handler(request, params, registry, instance)``, where ``instance`` is None at
    type level and ``instance(registry, resource_id)`` at instance level (by default the id itself, for handlers
    that look it up in their own order). An ``async def`` handler runs on the event loop, a ``def`` one in the
    process's pool of CPU threads, unless ``cheap(params)`` says the call may run on the event loop. ``names``
    name the type- and instance-level routes (they make the OpenAPI operation ids); ``parameters`` (the
    operation's parameter names) and ``result`` (its resource type) document it in OpenAPI.
    """
    parameters = list(parameters)
    base, _, operation = path.rpartition("/")
    levels = ((path, names[0], _type_level), (f"{base}/{{resource_id}}/{operation}", names[1], _instance_level))
    for route_path, name, instance_id in levels:
        endpoint = _endpoint(handler, instance, instance_id, cheap)
        for method in ("GET", "POST"):
            router.add_api_route(route_path, endpoint, methods=[method], name=name,
                                 **route_docs(result, parameters, body=method == "POST"))
