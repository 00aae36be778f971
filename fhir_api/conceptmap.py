"""ConceptMap routes: read, search, ``$translate``, ``$export`` (SSSOM or FHIR JSON) and ``$closure``.

Each stored ConceptMap release is one resource whose id is the release id.

* ``GET /fhir/ConceptMap?…`` — searchset Bundle: the common parameters of ``fhir_api.searchset`` plus
  ``source``/``target`` (the map's value sets), ``source-system``/``target-system`` (a group's systems),
  ``source-code``/``target-code``.
* ``GET|POST /fhir/ConceptMap[/{id}]/$translate`` — R4 parameters (``url``, ``conceptMap``,
  ``conceptMapVersion``, ``code``+``system``+``version``, ``coding``, ``codeableConcept``, ``source``,
  ``target``, ``targetsystem``, ``reverse``); maps given as ``tx-resource`` are consulted too. The answer is
  R4: ``result``, ``message``, ``match`` (``equivalence``, ``concept``, ``source`` = the map's
  ``url|version``). A request written with R5 names (``sourceCode``, ``targetCode``, ``sourceSystem``,
  ``targetSystem``, ``sourceCoding``…) gets the R5 match parts instead: ``originMap``, and for a reverse
  look-up ``source`` = the mapped source concept, ``concept`` = the given one.
* ``GET /fhir/ConceptMap/{id}/$export?format=sssom|json`` — SSSOM/TSV (``smt.alignments.conceptmap_to_sssom``)
  or the FHIR resource; ``GET /fhir/ConceptMap/$export?url=…[&version=…]`` the same for a map named by URL,
  implicit maps included: SNOMED CT's (``http://snomed.info/sct?fhir_cm=…``) and the replaced-by map of any code
  system (``{system}?fhir_cm=replaced-by``).
* ``POST /fhir/$closure`` — closure table maintenance (``smt.terminology.closure``).
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from fhir_api.deps import get_registry, negotiate, operation_routes
from fhir_api.errors import FhirError
from fhir_api.openapi_fhir import route_docs
from fhir_api.params import CodingValue, OperationParams, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import SP, Candidate, SearchParameter, search_bundle, search_docs, searchable_fields, shape_of
from smt.alignments import conceptmap_to_sssom
from smt.errors import InvalidParameter, MissingParameter, NotFound, NotSupported
from smt.releases.oids import resolve_system_oid
from smt.releases.registry import Registry, normalise_system
from smt.store.releases import ReleaseInfo
from smt.terminology.closure import ClosureConcept, closure, closure_conceptmap
from smt.terminology.implicit_maps import implicit_concept_map, implicit_name
from smt.terminology.parameters import MAX_CLOSURE_VERSION, translate_query
from smt.terminology.translate import (
    Concept,
    Match,
    TranslateResult,
    candidate_maps,
    equivalence_from_given,
    stored_index,
)
from smt.terminology.translate import translate as run_translate

router = APIRouter(prefix="/fhir", dependencies=[Depends(negotiate)])

SSSOM_MEDIA_TYPE = "text/tab-separated-values; charset=utf-8"


# -- stored maps ----------------------------------------------------------------------------------------------


def _stored(registry: Registry, resource_id: str) -> ReleaseInfo:
    for info in registry.releases():
        if info.kind == "ConceptMap" and info.id == resource_id:
            return info
    raise NotFound(f"ConceptMap/{resource_id} is not known to this server")


def _resource(info: ReleaseInfo) -> dict:
    return {"resourceType": "ConceptMap", "id": info.id,
            **{k: v for k, v in stored_index(info).resource.items() if k not in ("resourceType", "id")},
            "status": info.status}


# -- $translate ---------------------------------------------------------------------------------------------


def _coding_json(concept: Concept) -> dict:
    return {k: v for k, v in (("system", concept.system), ("version", concept.version), ("code", concept.code),
                              ("display", concept.display)) if v}


def _match_r4(match: Match, reverse: bool) -> dict:
    part: list[dict] = [{"name": "equivalence", "valueCode": equivalence_from_given(match, reverse)}]
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
    item = _match_r5(match, reverse) if r5 else _match_r4(match, reverse)
    return {"name": "match", "extension": list(match.extensions), "part": item["part"]} if match.extensions else item


def translate_parameters(result: TranslateResult, r5: bool = False, reverse: bool = False) -> dict:
    """The ``Parameters`` answer of ``$translate`` (a match keeps its mapping's extensions, e.g. SNOMED CT map
    group, priority, rule and advice)."""
    items: list[dict] = [{"name": "result", "valueBoolean": result.result}]
    if result.message:
        items.append({"name": "message", "valueString": result.message})
    items += [_match(m, r5, reverse) for m in result.matches]
    return {"resourceType": "Parameters", "parameter": items}


def _by_oid(registry: Registry, system: str | None) -> str | None:
    """A system written ``urn:oid:…`` as the canonical URL the catalogue or a stored release gives that OID."""
    if system and system.startswith("urn:oid:"):
        return resolve_system_oid(system, registry) or system
    return system


def _translate(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    query, r5 = translate_query(params)
    query.codings = [replace(c, system=_by_oid(registry, c.system)) for c in query.codings]
    query.result_system = _by_oid(registry, query.result_system)
    if not query.codings:
        raise MissingParameter("$translate needs a code and system, a coding or a codeableConcept", "code")
    given = params.resources("conceptMap") + params.resources("tx-resource")
    if resource_id is not None:
        maps = [stored_index(_stored(registry, resource_id))]
    else:
        maps = candidate_maps(registry, params.string("url"), params.string("conceptMapVersion"), given, query)
    result = run_translate(maps, query)
    return fhir_json(request, translate_parameters(result, r5, query.reverse))


TRANSLATE_PARAMETERS = ("url", "conceptMap", "conceptMapVersion", "code", "system", "version", "source", "coding",
                        "codeableConcept", "target", "targetsystem", "reverse", "tx-resource")
operation_routes(router, "/ConceptMap/$translate", _translate, names=("translate_type", "translate_instance"),
                 parameters=TRANSLATE_PARAMETERS)


# -- $closure -----------------------------------------------------------------------------------------------


@router.post("/$closure", **route_docs("ConceptMap", ["name", "concept", "version"], body=True))
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


EXPORT_DOCS = route_docs("ConceptMap")
EXPORT_DOCS["responses"][200]["content"][SSSOM_MEDIA_TYPE.split(";")[0]] = {"schema": {"type": "string"}}


@router.get("/ConceptMap/$export", **EXPORT_DOCS)
def export_type(request: Request, url: str | None = None, version: str | None = None,
                export_format: str = Query("json", alias="format"),
                registry: Registry = Depends(get_registry)) -> Response:
    """A map named by ``url`` (+ ``version``) — stored, or implicit (``…?fhir_cm=``) — exported."""
    if not url:
        raise MissingParameter("$export needs the map's 'url' (or use ConceptMap/{id}/$export)", "url")
    implicit = implicit_concept_map(registry, url)
    if implicit is not None:
        return _export(request, implicit, implicit_name(url), export_format)
    info = registry.resolve(url, version, kind="ConceptMap")
    return _export(request, _resource(info), info.id, export_format)


@router.get("/ConceptMap/{resource_id}/$export", **EXPORT_DOCS)
def export(resource_id: str, request: Request, export_format: str = Query("json", alias="format"),
           registry: Registry = Depends(get_registry)) -> Response:
    """The map as SSSOM/TSV (``format=sssom``) or as its FHIR JSON resource (``format=json``)."""
    info = _stored(registry, resource_id)
    return _export(request, _resource(info), info.id, export_format)


# -- read and search ----------------------------------------------------------------------------------------


OWN_PARAMETERS = [
    SearchParameter("source", "uri", SP + "ConceptMap-source"),
    SearchParameter("target", "uri", SP + "ConceptMap-target"),
    SearchParameter("source-uri", "uri", SP + "ConceptMap-source-uri"),
    SearchParameter("target-uri", "uri", SP + "ConceptMap-target-uri"),
    SearchParameter("source-system", "uri", SP + "ConceptMap-source-system"),
    SearchParameter("target-system", "uri", SP + "ConceptMap-target-system"),
    SearchParameter("source-code", "special", SP + "ConceptMap-source-code"),
    SearchParameter("target-code", "special", SP + "ConceptMap-target-code"),
]
"""ConceptMap's own search parameters (besides ``SEARCH_PARAMETERS``)."""


def _candidate(info: ReleaseInfo) -> Candidate[ReleaseInfo]:
    resource = stored_index(info).resource
    fields = {**searchable_fields(resource, info.id), "status": [info.status]}
    for side in ("source", "target"):
        scope = [str(resource[k]) for k in (f"{side}Uri", f"{side}Canonical") if resource.get(k)]
        fields[side] = fields[f"{side}-uri"] = scope
        fields[f"{side}-system"] = [normalise_system(str(g[side])) for g in resource.get("group", []) or []
                                    if g.get(side)]
    return Candidate(info.id, fields, info)


SPECIAL = {"source-code": lambda c, code: code in stored_index(c.item).forward,
           "target-code": lambda c, code: code in stored_index(c.item).backward}


@router.get("/ConceptMap", **search_docs(OWN_PARAMETERS))
@router.post("/ConceptMap/_search", **search_docs(OWN_PARAMETERS))
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching stored concept maps."""
    found = [_candidate(info) for info in registry.releases() if info.kind == "ConceptMap"]
    return search_bundle(request, params, "ConceptMap", found, lambda info, _: _resource(info),
                         own=OWN_PARAMETERS, special=SPECIAL)


@router.get("/ConceptMap/{resource_id}", **route_docs("ConceptMap", ["_summary", "_elements"]))
def read(resource_id: str, request: Request, params: OperationParams = Depends(read_params),
         registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one stored concept map release (``_summary`` and ``_elements`` apply)."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on ConceptMap")
    return fhir_json(request, shape_of(params).apply(_resource(_stored(registry, resource_id))))
