"""CodeSystem read (``GET /fhir/CodeSystem/{id}``) and search (``GET /fhir/CodeSystem?…``).

Each stored release is one CodeSystem resource whose id is the release id. Search parameters: ``_id``,
``url`` and ``system`` (normalised: trailing slash, OIDs, aliases), ``version``, ``name`` and ``title``
(case-insensitive, starts-with), ``status``, ``identifier`` (an OID, with or without ``urn:oid:``); result
parameters ``_summary`` (true by default; false adds concepts; count gives the total only), ``_elements``,
``_count`` and ``_offset``. Other parameters are ignored.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.codesystem_resource import code_system, only_elements
from fhir_api.deps import get_registry, negotiate
from fhir_api.errors import FhirError
from fhir_api.params import OperationParams, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import common_tests, matches, searchset
from smt.catalogue.registry import Registry
from smt.errors import InvalidParameter
from smt.terminology.codesystem import CodeSystemVersion, by_id

router = APIRouter(prefix="/fhir/CodeSystem", dependencies=[Depends(negotiate)])

SUMMARY_VALUES = ("true", "false", "text", "data", "count")


def _elements(params: OperationParams) -> list[str]:
    return [e.strip() for value in params.strings("_elements") for e in value.split(",") if e.strip()]


def _shape(cs: CodeSystemVersion, params: OperationParams) -> dict:
    """The resource as ``_summary`` and ``_elements`` ask for it."""
    summary = params.string("_summary") or "true"
    if summary not in SUMMARY_VALUES:
        raise InvalidParameter(f"Unknown _summary value '{summary}'", "_summary")
    elements = _elements(params)
    resource = code_system(cs, with_concepts=summary == "false" or "concept" in elements)
    return only_elements(resource, elements) if elements else resource


def _matches(cs: CodeSystemVersion, params: OperationParams) -> bool:
    info, meta = cs.info, cs.index.meta
    tests = common_tests(info, meta.get("name"), meta.get("title"), meta.get("oids", []))
    tests["system"] = tests["url"]
    return matches(params, tests)


@router.get("")
@router.post("/_search")
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching releases."""
    releases = [CodeSystemVersion(info, registry.index(info)) for info in registry.code_systems()]
    found = [cs for cs in releases if _matches(cs, params)]
    found.sort(key=lambda cs: (cs.url, cs.info.loaded_at))
    return searchset(request, params, "CodeSystem", found, lambda cs: (cs.info.id, _shape(cs, params)))


@router.get("/{resource_id}")
def read(resource_id: str, request: Request, params: OperationParams = Depends(read_params),
         registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one release as a CodeSystem (concepts only when asked)."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on CodeSystem")
    return fhir_json(request, _shape(by_id(registry, resource_id), params))
