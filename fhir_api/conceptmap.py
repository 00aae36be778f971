"""ConceptMap routes: read, search, ``$translate``, ``$export`` (SSSOM or FHIR JSON) and ``$closure``.

Each stored ConceptMap release is one resource whose id is the release id.

* ``GET /fhir/ConceptMap?…`` — searchset Bundle; ``url``, ``version``, ``name``, ``title``, ``status``,
  ``_id``, ``identifier``, ``source``/``target`` (the map's value sets), ``source-system``/``target-system``
  (a group's systems), ``source-code``/``target-code``; ``_summary=true`` leaves the groups out,
  ``_summary=count`` gives the total only; ``_count``/``_offset`` page.
* ``GET|POST /fhir/ConceptMap[/{id}]/$translate`` — R4 parameters (``url``, ``conceptMap``,
  ``conceptMapVersion``, ``code``+``system``+``version``, ``coding``, ``codeableConcept``, ``source``,
  ``target``, ``targetsystem``, ``reverse``); maps given as ``tx-resource`` are consulted too. The answer is
  R4: ``result``, ``message``, ``match`` (``equivalence``, ``concept``, ``source`` = the map's
  ``url|version``). A request written with R5 names (``sourceCode``, ``targetCode``, ``sourceSystem``,
  ``targetSystem``, ``sourceCoding``…) gets the R5 match parts instead: ``originMap``, and for a reverse
  look-up ``source`` = the mapped source concept, ``concept`` = the given one.
* ``GET /fhir/ConceptMap/{id}/$export?format=sssom|json`` — SSSOM/TSV (``smt.alignments.conceptmap_to_sssom``)
  or the FHIR resource; ``GET /fhir/ConceptMap/$export?url=…[&version=…]`` the same for a map named by URL,
  implicit SNOMED CT maps (``http://snomed.info/sct?fhir_cm=…``) included.
* ``POST /fhir/$closure`` — closure table maintenance (``smt.terminology.closure``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from fhir_api.deps import get_registry, negotiate, operation_routes
from fhir_api.errors import FhirError
from fhir_api.params import CodingValue, OperationParams, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import common_tests, matches, resource_identifiers, searchset
from smt.alignments import conceptmap_to_sssom
from smt.catalogue.registry import Registry, normalise_system
from smt.codesystems.snomed.maps import implicit_map
from smt.errors import InvalidParameter, MissingParameter, NotFound, NotSupported
from smt.store.releases import ReleaseInfo
from smt.terminology.closure import ClosureConcept, closure, closure_conceptmap
from smt.terminology.parameters import MAX_CLOSURE_VERSION, translate_query
from smt.terminology.translate import Concept, Match, TranslateResult, candidate_maps, stored_index
from smt.terminology.translate import translate as run_translate

router = APIRouter(prefix="/fhir", dependencies=[Depends(negotiate)])

SSSOM_MEDIA_TYPE = "text/tab-separated-values; charset=utf-8"


# -- stored maps ----------------------------------------------------------------------------------------------


def _stored(registry: Registry, resource_id: str) -> ReleaseInfo:
    for info in registry.releases():
        if info.kind == "ConceptMap" and info.id == resource_id:
            return info
    raise NotFound(f"ConceptMap/{resource_id} is not known to this server")


def _resource(info: ReleaseInfo, summary: bool = False) -> dict:
    resource = {"resourceType": "ConceptMap", "id": info.id,
                **{k: v for k, v in stored_index(info).resource.items() if k not in ("resourceType", "id")}}
    if summary:
        resource.pop("group", None)
    return resource


# -- $translate ---------------------------------------------------------------------------------------------


def _coding_json(concept: Concept) -> dict:
    return {k: v for k, v in (("system", concept.system), ("version", concept.version), ("code", concept.code),
                              ("display", concept.display)) if v}


def _match_r4(match: Match) -> dict:
    part: list[dict] = [{"name": "equivalence", "valueCode": match.equivalence}]
    if match.concept:
        part.append({"name": "concept", "valueCoding": _coding_json(match.concept)})
    if match.origin:
        part.append({"name": "source", "valueUri": match.origin})
    return {"name": "match", "part": part}


def _match_r5(match: Match, reverse: bool) -> dict:
    concept = match.given if reverse else match.concept
    part: list[dict] = []
    if concept:
        part.append({"name": "concept", "valueCoding": _coding_json(concept)})
    part.append({"name": "equivalence", "valueCode": match.equivalence})
    if match.origin:
        part.append({"name": "originMap", "valueCanonical": match.origin})
    if reverse and match.concept:
        part.append({"name": "source", "valueCoding": _coding_json(match.concept)})
    return {"name": "match", "part": part}


def _match(match: Match, r5: bool, reverse: bool) -> dict:
    item = _match_r5(match, reverse) if r5 else _match_r4(match)
    return {"name": "match", "extension": list(match.extensions), "part": item["part"]} if match.extensions else item


def translate_parameters(result: TranslateResult, r5: bool = False, reverse: bool = False) -> dict:
    """The ``Parameters`` answer of ``$translate`` (a match keeps its mapping's extensions, e.g. SNOMED CT map
    group, priority, rule and advice)."""
    items: list[dict] = [{"name": "result", "valueBoolean": result.result}]
    if result.message:
        items.append({"name": "message", "valueString": result.message})
    items += [_match(m, r5, reverse) for m in result.matches]
    return {"resourceType": "Parameters", "parameter": items}


def _translate(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    query, r5 = translate_query(params)
    if not query.codings:
        raise MissingParameter("$translate needs a code and system, a coding or a codeableConcept", "code")
    given = params.resources("conceptMap") + params.resources("tx-resource")
    if resource_id is not None:
        maps = [stored_index(_stored(registry, resource_id))]
    else:
        maps = candidate_maps(registry, params.string("url"), params.string("conceptMapVersion"), given, query)
    result = run_translate(maps, query)
    return fhir_json(request, translate_parameters(result, r5, query.reverse))


operation_routes(router, "/ConceptMap/$translate", _translate, names=("translate_type", "translate_instance"))


# -- $closure -----------------------------------------------------------------------------------------------


@router.post("/$closure")
def closure_operation(request: Request, params: OperationParams = Depends(read_params),
                      registry: Registry = Depends(get_registry)) -> Response:
    """Closure table maintenance: name (required), concept*, version (resynchronise)."""
    name = params.string("name")
    if not name:
        raise MissingParameter("$closure needs a 'name'", "name")
    concepts = []
    for value in params.all("concept"):
        coding = value if isinstance(value, CodingValue) else None
        if coding is None or not coding.system or not coding.code:
            raise InvalidParameter("Every 'concept' must be a Coding with a system and a code", "concept")
        concepts.append(ClosureConcept(coding.system, coding.code, coding.version))
    version = params.integer("version", 0, MAX_CLOSURE_VERSION) if params.string("version") else None
    return fhir_json(request, closure_conceptmap(closure(registry, name, concepts, version)))


# -- $export ------------------------------------------------------------------------------------------------


def _export(request: Request, resource: dict, name: str, export_format: str) -> Response:
    kind = export_format.lower()
    if kind in ("sssom", "tsv", "sssom-tsv"):
        return Response(conceptmap_to_sssom(resource), media_type=SSSOM_MEDIA_TYPE,
                        headers={"content-disposition": f'attachment; filename="{name}.sssom.tsv"'})
    if kind in ("json", "fhir", "fhir+json", "application/fhir+json"):
        return fhir_json(request, resource)
    raise NotSupported(f"Unknown export format '{export_format}' (sssom or json)", "format")


@router.get("/ConceptMap/$export")
def export_type(request: Request, url: str | None = None, version: str | None = None,
                export_format: str = Query("json", alias="format"),
                registry: Registry = Depends(get_registry)) -> Response:
    """A map named by ``url`` (+ ``version``) — stored, or implicit SNOMED CT (``…?fhir_cm=``) — exported."""
    if not url:
        raise MissingParameter("$export needs the map's 'url' (or use ConceptMap/{id}/$export)", "url")
    implicit = implicit_map(registry, url)
    if implicit is not None:
        return _export(request, implicit, "snomed-" + url.rsplit("=", 1)[-1], export_format)
    info = registry.resolve(url, version, kind="ConceptMap")
    return _export(request, _resource(info), info.id, export_format)


@router.get("/ConceptMap/{resource_id}/$export")
def export(resource_id: str, request: Request, export_format: str = Query("json", alias="format"),
           registry: Registry = Depends(get_registry)) -> Response:
    """The map as SSSOM/TSV (``format=sssom``) or as its FHIR JSON resource (``format=json``)."""
    info = _stored(registry, resource_id)
    return _export(request, _resource(info), info.id, export_format)


# -- read and search ----------------------------------------------------------------------------------------


def _groups(resource: dict, key: str) -> set[str]:
    return {normalise_system(str(g[key])) for g in resource.get("group", []) or [] if g.get(key)}


def _scope(resource: dict, side: str) -> set[str]:
    keys = (f"{side}Uri", f"{side}Canonical", f"{side}ScopeUri", f"{side}ScopeCanonical")
    return {str(resource[k]) for k in keys if resource.get(k)}


def _matches(info: ReleaseInfo, resource: dict, params: OperationParams) -> bool:
    tests = common_tests(info, resource.get("name"), resource.get("title"), resource_identifiers(resource))
    tests |= {
        "source": lambda v: v in _scope(resource, "source"),
        "target": lambda v: v in _scope(resource, "target"),
        "source-system": lambda v: normalise_system(v) in _groups(resource, "source"),
        "target-system": lambda v: normalise_system(v) in _groups(resource, "target"),
        "source-code": lambda v: v in stored_index(info).forward,
        "target-code": lambda v: v in stored_index(info).backward,
    }
    return matches(params, tests)


@router.get("/ConceptMap")
@router.post("/ConceptMap/_search")
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching stored concept maps."""
    summary = params.string("_summary") or "false"
    if summary not in ("true", "false", "count", "data", "text"):
        raise InvalidParameter(f"Unknown _summary value '{summary}'", "_summary")
    found = [info for info in registry.releases() if info.kind == "ConceptMap"
             and _matches(info, stored_index(info).resource, params)]
    return searchset(request, params, "ConceptMap", found, lambda info: (info.id, _resource(info, summary == "true")))


@router.get("/ConceptMap/{resource_id}")
def read(resource_id: str, request: Request, registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one stored concept map release."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on ConceptMap")
    return fhir_json(request, _resource(_stored(registry, resource_id)))
