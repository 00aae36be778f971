"""IHE SVS HTTP binding: ITI-48 Retrieve Value Set and ITI-60 Retrieve Multiple Value Sets (XML).

``GET /svs/RetrieveValueSet?id=<OID>[&version=][&lang=]`` answers a ``RetrieveValueSetResponse``;
``GET|POST /svs/RetrieveMultipleValueSets?ID=<OID>&DisplayNameContains=…`` answers a
``RetrieveMultipleValueSetsResponse`` (POST takes the same parameters as a form, or a
``RetrieveMultipleValueSetsRequest`` XML element whose attributes are the parameters). Errors are SOAP 1.2
faults with the IHE subcodes (``NAV`` unknown value set, ``VERUNK`` unknown version) and an HTTP status
(404 unknown, 400 bad request, e.g. a parameter over ``MAX_PARAMETER`` characters); never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fhir_api.answers import status_of
from fhir_api.deps import get_registry, visible_registry
from fhir_api.error_docs import svs_fault_responses
from smt.errors import LoadError, NotFound, SmtError, SvsError
from smt.releases.registry import Registry
from smt.svs.repository import CRITERIA, described, find_value_set, normalise_criteria, search
from smt.svs.xml import (
    SVS_NS,
    fault,
    parse_xml,
    retrieve_multiple_value_sets_response,
    retrieve_value_set_response,
)

log = logging.getLogger("fhir_api.svs")
router = APIRouter(prefix="/svs", tags=["IHE SVS"])
XML_TYPES = ("text/xml", "application/xml", "application/soap+xml")
MAX_PARAMETER = 2048
"""Characters of one parameter value at most (an OID, a version, a language, a search text)."""
ERRORS = svs_fault_responses(400, 404)
PARAMETERS = {
    "/RetrieveValueSet": ("id", "version", "lang"),
    "/RetrieveMultipleValueSets": CRITERIA,
}


def _documented(path: str) -> dict:
    """The route's parameters for the OpenAPI document (read from the request, not by FastAPI)."""
    return {"parameters": [{"name": name, "in": "query", "required": False,
                            "schema": {"type": "string", "maxLength": MAX_PARAMETER}} for name in PARAMETERS[path]]}


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="text/xml")


def _answer(action: Callable[[], bytes]) -> Response:
    """Run ``action``; turn every failure into an SVS fault without internals."""
    try:
        return _xml(action())
    except SvsError as exc:
        return _xml(fault(exc.reason, subcode=exc.subcode, code=exc.fault_code, detail=exc.detail), status_of(exc))
    except SmtError as exc:
        reason = "Not found" if isinstance(exc, NotFound) else "Request cannot be processed"
        return _xml(fault(reason, detail=str(exc)), status_of(exc))
    except Exception:
        log.exception("unexpected error in an SVS request")
        return _xml(fault("Internal server error", code="Receiver"), 500)


def _lower(params: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in params.items()}


def _bounded(params: Mapping[str, str]) -> Mapping[str, str]:
    """``params``, unless a value is longer than ``MAX_PARAMETER`` (an ``SvsError``)."""
    for name, value in params.items():
        if len(value) > MAX_PARAMETER:
            raise SvsError("Parameter too long", detail=f"{name} has {len(value):,} characters; at most "
                                                         f"{MAX_PARAMETER:,} are accepted")
    return params


def _retrieve_value_set(registry: Registry, params: Mapping[str, str]) -> bytes:
    args = _lower(_bounded(params))
    if not args.get("id", "").strip():
        raise SvsError("Missing value set id", detail="the id parameter (the value set OID) is required")
    lang = args.get("lang", "").strip() or None
    found = find_value_set(registry, args["id"], args.get("version", "").strip() or None)
    return retrieve_value_set_response(described(registry, found, lang))


def _retrieve_multiple(registry: Registry, params: Mapping[str, str]) -> bytes:
    criteria = normalise_criteria(_bounded(params))
    return retrieve_multiple_value_sets_response(described(registry, f) for f in search(registry, criteria))


@router.get("/RetrieveValueSet", responses=ERRORS, openapi_extra=_documented("/RetrieveValueSet"))
def retrieve_value_set(request: Request) -> Response:
    """ITI-48 Retrieve Value Set (HTTP binding)."""
    registry = visible_registry(request)
    return _answer(lambda: _retrieve_value_set(registry, dict(request.query_params)))


@router.get("/RetrieveMultipleValueSets", responses=ERRORS,
            openapi_extra=_documented("/RetrieveMultipleValueSets"))
def retrieve_multiple_value_sets(request: Request) -> Response:
    """ITI-60 Retrieve Multiple Value Sets with query parameters."""
    registry = visible_registry(request)
    return _answer(lambda: _retrieve_multiple(registry, dict(request.query_params)))


def _xml_request_params(body: bytes) -> dict[str, str]:
    """The attributes of the ``RetrieveMultipleValueSetsRequest`` element of an XML (or SOAP) body."""
    try:
        root = parse_xml(body, "request")
    except LoadError as exc:
        raise SvsError("Malformed XML request", detail=exc.detail) from exc
    element = next(root.iter(f"{{{SVS_NS}}}RetrieveMultipleValueSetsRequest"), None)
    if element is None:
        raise SvsError("No RetrieveMultipleValueSetsRequest element in the request body")
    return {str(k): str(v) for k, v in element.attrib.items()}


@router.post("/RetrieveMultipleValueSets", responses=ERRORS)
async def retrieve_multiple_value_sets_post(request: Request) -> Response:
    """ITI-60 with the parameters in a form body or a ``RetrieveMultipleValueSetsRequest`` XML body."""
    registry = await get_registry(request)
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in XML_TYPES:
            params.update(_xml_request_params(await request.body()))
        else:
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    except SvsError as exc:
        return _xml(fault(exc.reason, detail=exc.detail), status_of(exc))
    return await run_in_threadpool(_answer, lambda: _retrieve_multiple(registry, params))
