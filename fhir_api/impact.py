"""Impact of a new code system version on the stored value sets and concept maps (``smt.publish.impact``).

* ``GET /releases/impact?url=&from=&to=[&format=json|html]``: the report as JSON (or the HTML section of the
  diff page); ``to`` defaults to the version served by default, ``from`` to the version before ``to``.
* ``GET|POST /fhir/CodeSystem/$impact`` (``url``, ``from``, ``to``) and ``/fhir/CodeSystem/{id}/$impact`` (the
  release is ``to``): the same report as a FHIR ``Parameters`` resource. No FHIR or HL7 IG operation compares the
  members of value sets across two versions of a code system (``$expand`` takes one ``system-version`` at a
  time), hence this SMT operation (``docs/api.md``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from fhir_api.answers import status_of
from fhir_api.deps import negotiate, operation_routes, visible_registry
from fhir_api.error_docs import detail_responses
from fhir_api.params import OperationParams
from fhir_api.releases import MAX_NAME, Name
from fhir_api.responses import fhir_json
from smt.errors import InvalidParameter, SmtError
from smt.publish.impact import impact_of
from smt.publish.impact_render import report_html, report_json, report_parameters
from smt.releases.registry import Registry
from smt.terminology import codesystem as engine
from smt.terminology.codesystem import CodeSystemVersion
from smt.terminology.parameters import IMPACT_PARAMETERS, impact_query

router = APIRouter(tags=["publication"])
operations = APIRouter(prefix="/fhir/CodeSystem", dependencies=[Depends(negotiate)])
definitions = APIRouter(prefix="/fhir/OperationDefinition", dependencies=[Depends(negotiate)])

IMPACT_DEFINITION = "https://smt.esante.gouv.fr/fhir/OperationDefinition/CodeSystem-impact"


def _parameter(name: str, use: str, minimum: int, maximum: str, kind: str | None, text: str,
               parts: list[dict] | None = None) -> dict:
    item: dict = {"name": name, "use": use, "min": minimum, "max": maximum, "documentation": text}
    if kind:
        item["type"] = kind
    if parts:
        item["part"] = parts
    return item


OPERATION_DEFINITION: dict = {
    "resourceType": "OperationDefinition", "id": "CodeSystem-impact", "url": IMPACT_DEFINITION,
    "version": "1", "name": "Impact", "title": "Impact of a new code system version", "status": "active",
    "kind": "operation", "publisher": "SMT", "affectsState": False, "code": "impact", "resource": ["CodeSystem"],
    "system": False, "type": True, "instance": True,
    "description": "Which stored value sets change members, which concept maps use codes the new version retires "
                   "or removes, and which resources pin the old version, when a code system goes from one version "
                   "to another (docs/publication.md).",
    "parameter": [
        _parameter("url", "in", 0, "1", "uri", "The code system (required at type level)"),
        _parameter("from", "in", 0, "1", "string", "The old version (default: the version before 'to')"),
        _parameter("to", "in", 0, "1", "string", "The new version (default: the version served by default; at "
                                                 "instance level, the release)"),
        _parameter("system", "out", 1, "1", "uri", "The code system"),
        _parameter("fromVersion", "out", 1, "1", "string", "The old version"),
        _parameter("toVersion", "out", 1, "1", "string", "The new version"),
        _parameter("summary", "out", 1, "1", None, "Counts: value sets checked and changed, maps, pinned, errors"),
        _parameter("valueSet", "out", 0, "*", None, "A value set whose members change: type, url, version, id, "
                                                    "then the Codings added and removed"),
        _parameter("conceptMap", "out", 0, "*", None, "A concept map with retired codes: type, url, version, id, "
                                                      "then source and target parts (concept, change, replacedBy)"),
        _parameter("pinned", "out", 0, "*", None, "A value set or concept map naming the old version"),
        _parameter("error", "out", 0, "*", None, "A value set that could not be expanded, and why"),
    ],
}
"""The definition of ``CodeSystem/$impact`` (served at ``/fhir/OperationDefinition/CodeSystem-impact``)."""


@definitions.get("/CodeSystem-impact")
def impact_definition(request: Request) -> Response:
    """The OperationDefinition of ``CodeSystem/$impact``."""
    return fhir_json(request, OPERATION_DEFINITION)


@router.get("/releases/impact", responses=detail_responses(404))
def impact_report(request: Request, url: Name,
                  from_version: Annotated[str | None, Query(alias="from", max_length=MAX_NAME)] = None,
                  to_version: Annotated[str | None, Query(alias="to", max_length=MAX_NAME)] = None,
                  fmt: Annotated[Literal["json", "html"], Query(alias="format")] = "json") -> Response:
    """Which stored value sets change, which maps point at retired codes, which resources pin the old version."""
    try:
        report = impact_of(visible_registry(request), url, from_version, to_version)
    except SmtError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None
    if fmt == "html":
        return Response(report_html(report), media_type="text/html; charset=utf-8")
    return Response(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2), media_type="application/json")


def _impact(request: Request, params: OperationParams, registry: Registry,
            instance: CodeSystemVersion | None) -> Response:
    url, from_version, to_version = impact_query(params)
    if instance is not None:
        if url and instance.info.id not in {r.id for r in registry.versions_of(url)}:
            raise InvalidParameter(f"url '{url}' does not match CodeSystem/{instance.info.id} ({instance.url})", "url")
        url, to_version = instance.url, to_version or instance.version
    return fhir_json(request, report_parameters(impact_of(registry, url, from_version, to_version)))


operation_routes(operations, "/$impact", _impact, instance=engine.by_id, names=("impact", "impact_instance"),
                 parameters=IMPACT_PARAMETERS)
