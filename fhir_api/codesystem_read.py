"""CodeSystem read (``GET /fhir/CodeSystem/{id}``) and search (``GET /fhir/CodeSystem?…``).

Each stored release is one CodeSystem resource whose id is the release id. Search: the common parameters of
``fhir_api.searchset`` plus ``system`` (= ``url``), ``content-mode`` and ``code`` (the release has that code);
``_summary`` is ``true`` by default (no concepts; ``false`` adds them; ``count`` gives the total only).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.codesystem_resource import code_system
from fhir_api.deps import get_registry, negotiate
from fhir_api.errors import FhirError
from fhir_api.openapi_fhir import route_docs
from fhir_api.params import OperationParams, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import (
    SP,
    Candidate,
    SearchParameter,
    Shape,
    search_bundle,
    search_docs,
    searchable_fields,
    shape_of,
)
from smt.publish.codesystem_json import code_system_header
from smt.releases.registry import Registry
from smt.terminology.codesystem import CodeSystemVersion, by_id

router = APIRouter(prefix="/fhir/CodeSystem", dependencies=[Depends(negotiate)])

OWN_PARAMETERS = [
    SearchParameter("system", "uri", SP + "CodeSystem-system"),
    SearchParameter("content-mode", "token", SP + "CodeSystem-content-mode"),
    SearchParameter("code", "special", SP + "CodeSystem-code"),
]
"""CodeSystem's own search parameters (besides ``SEARCH_PARAMETERS``)."""


def _build(cs: CodeSystemVersion, shape: Shape) -> dict:
    """The resource, with concepts only when the request shows them (CIM-10 has ~43k)."""
    return code_system(cs, with_concepts=shape.wants("concept"))


def _candidate(cs: CodeSystemVersion) -> Candidate[CodeSystemVersion]:
    header = code_system_header(cs.info, cs.index.meta)
    fields = searchable_fields(header, cs.info.id)
    fields["system"] = fields["url"]
    fields["content-mode"] = [str(cs.index.meta.get("content") or "complete")]
    return Candidate(cs.info.id, fields, cs)


def _has_code(candidate: Candidate[CodeSystemVersion], code: str) -> bool:
    return candidate.item.index.concept(code) is not None


@router.get("", **search_docs(OWN_PARAMETERS))
@router.post("/_search", **search_docs(OWN_PARAMETERS))
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching releases (``_summary=true`` by default)."""
    releases = [CodeSystemVersion(info, registry.index(info)) for info in registry.code_systems()]
    releases.sort(key=lambda cs: (cs.url, cs.info.loaded_at))
    return search_bundle(request, params, "CodeSystem", [_candidate(cs) for cs in releases], _build,
                         own=OWN_PARAMETERS, special={"code": _has_code}, default_summary="true")


@router.get("/{resource_id}", **route_docs("CodeSystem", ["_summary", "_elements"]))
def read(resource_id: str, request: Request, params: OperationParams = Depends(read_params),
         registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one release as a CodeSystem (concepts only when asked: ``_summary=false`` or
    ``_elements`` naming ``concept``)."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on CodeSystem")
    shape = shape_of(params, "true")
    return fhir_json(request, shape.apply(_build(by_id(registry, resource_id), shape)))
