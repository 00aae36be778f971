"""Shared by the routers: the registry and content-negotiation dependencies, and operation registration."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fhir_api.errors import FhirError
from fhir_api.openapi_fhir import route_docs
from fhir_api.params import OperationParams, read_params
from fhir_api.responses import choose_media_type
from fhir_api.work import run_cpu_bound
from smt.codesystems.snomed.expression import written_as_expression
from smt.errors import AuthError, SmtError
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


def _same_id(registry: Registry, resource_id: str) -> str:
    return resource_id


Cheap = Callable[[OperationParams], bool]
"""Whether a call of an operation is cheap enough to run on the event loop (``fhir_api.work``)."""


def one_plain_code(params: OperationParams) -> bool:
    """Whether a call is about one plain code (no request resources or supplements, no post-coordinated
    expression): a few indexed reads, cheaper than the hop to a thread, so it runs on the event loop
    (``fhir_api.work``)."""
    if any(name in params for name in ("tx-resource", "useSupplement", "codeableConcept", "valueSet")):
        return False
    try:
        codes = params.strings("code")
        coding = params.coding("coding")
    except SmtError:  # the handler reports it
        return False
    if coding is not None:
        codes.append(coding.code or "")
    return len(codes) == 1 and not written_as_expression(codes[0])


def _endpoint(handler: Handler, resolve: Resolver, instance_level: bool, cheap: Cheap | None) -> Callable[..., Any]:
    """A route function over ``handler``, run on the event loop (``async def`` handlers, and calls ``cheap``
    accepts) or in the process's pool of CPU threads (``fhir_api.work``).

    It reads the parameters and the registry itself rather than through FastAPI dependencies: solving each
    dependency costs more per request than a ``$lookup`` does in SQLite (ADR 0020)."""

    async def answer(request: Request, resource_id: str | None) -> Response:
        params = await read_params(request)
        registry = await get_registry(request)
        if inspect.iscoroutinefunction(handler):
            result = handler(request, params, registry, None if resource_id is None else resolve(registry, resource_id))
            return await result if inspect.isawaitable(result) else result
        if cheap is not None and cheap(params):
            return call(request, params, registry, resource_id)
        return await run_cpu_bound(call, request, params, registry, resource_id)

    def call(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
        result = handler(request, params, registry, None if resource_id is None else resolve(registry, resource_id))
        if inspect.isawaitable(result):  # a coroutine function is awaited in answer()
            raise TypeError(f"{handler!r} returned an awaitable from a plain function")
        return result

    if instance_level:
        async def instance_endpoint(request: Request, resource_id: str) -> Response:
            return await answer(request, resource_id)

        return instance_endpoint

    async def type_endpoint(request: Request) -> Response:
        return await answer(request, None)

    return type_endpoint


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
    levels = ((path, names[0], False), (f"{base}/{{resource_id}}/{operation}", names[1], True))
    for route_path, name, instance_level in levels:
        endpoint = _endpoint(handler, instance, instance_level, cheap)
        for method in ("GET", "POST"):
            router.add_api_route(route_path, endpoint, methods=[method], name=name,
                                 **route_docs(result, parameters, body=method == "POST"))
