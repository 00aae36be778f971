"""``GET /fhir/metadata``: the CapabilityStatement, or with ``mode=terminology`` the TerminologyCapabilities.

Only what is implemented is listed: the CapabilityStatement's resources, interactions (read, search-type)
and operations are read from the app's own routes (its OpenAPI paths), so what a router serves is listed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import smt
from fhir_api import codesystem_read, conceptmap
from fhir_api.deps import get_registry, negotiate
from fhir_api.impact import IMPACT_DEFINITION
from fhir_api.openapi_fhir import route_docs
from fhir_api.responses import FORMATS, fhir_base, fhir_json
from fhir_api.searchset import SEARCH_PARAMETERS
from fhir_api.valueset import EXPANSION_CAPABILITIES
from smt.errors import InvalidParameter
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo

router = APIRouter(prefix="/fhir", dependencies=[Depends(negotiate)])

def _release_date() -> str:
    """The date of the installed ``smt`` package (its files' modification date): this build's release date."""
    return datetime.fromtimestamp(Path(smt.__file__).stat().st_mtime, UTC).date().isoformat()


SOFTWARE = {"name": "SMT — Serveur Multi-Terminologies", "version": smt.__version__}
SEARCH_PARAMS = {"CodeSystem": [*SEARCH_PARAMETERS, *codesystem_read.OWN_PARAMETERS],
                 "ValueSet": SEARCH_PARAMETERS, "ConceptMap": [*SEARCH_PARAMETERS, *conceptmap.OWN_PARAMETERS]}
"""Search parameters of each terminology resource type (those the search routes act on)."""
_ROUTE = re.compile(r"/fhir/(?P<type>[A-Z][A-Za-z]+)(?P<id>/\{[^}/]+\})?(?:/\$(?P<op>[a-z-]+))?")
_SYSTEM_OPERATION = re.compile(r"/fhir/\$(?P<op>[a-z-]+)")
SYSTEM_OPERATIONS = {
    "versions": "http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions",
    "closure": "http://hl7.org/fhir/OperationDefinition/ConceptMap-closure",
}
"""Definitions of the system-level operations (``[base]/$op``) this server may serve."""
OWN_OPERATIONS = {("CodeSystem", "impact"): IMPACT_DEFINITION}
"""Definitions of the operations SMT defines itself (no HL7 definition exists)."""
FEATURE = "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature"
TX_TEST_CASES_VERSION = "1.9.3"
"""The version of the HL7 terminology ecosystem test cases (``hl7.fhir.uv.tx-ecosystem``, its
``publication-request.json``) this server is checked against (tests/conformance, docs/conformance.md)."""
FEATURES = (
    ("http://hl7.org/fhir/uv/tx-tests/FeatureDefinition/test-version", {"valueCode": TX_TEST_CASES_VERSION}),
    ("http://hl7.org/fhir/uv/tx-ecosystem/FeatureDefinition/CodeSystemAsParameter", {"valueBoolean": True}),
)
"""Application features the CapabilityStatement declares (tx-ecosystem IG FeatureDefinitions TestCaseVersion
and CodeSystemAsParameter: CodeSystem resources are accepted in ``tx-resource``; FHIRsmith
``tx/workers/metadata.js`` declares the same two)."""
FHIR_VERSIONS = ["4.0"]
"""FHIR versions served (``$versions``; major.minor), the first being the default."""


def _date(registry: Registry) -> str:
    """The date of the latest load (what the capabilities depend on), else today."""
    loaded = [r.loaded_at for r in registry.code_systems()]
    return max(loaded) if loaded else datetime.now(UTC).date().isoformat()


def _common(request: Request, registry: Registry, name: str, title: str) -> dict:
    return {
        "id": "smt", "version": smt.__version__, "name": name, "title": title, "status": "active",
        "experimental": False, "date": _date(registry), "publisher": "SMT", "kind": "instance",
        "software": SOFTWARE,
        "implementation": {"description": "SMT FHIR R4 terminology server", "url": fhir_base(request)},
    }


def served_resources(request: Request) -> list[dict]:
    """CapabilityStatement.rest.resource entries for the resource types the app has routes for."""
    served: dict[str, dict[str, list[str]]] = {}
    for path in request.app.openapi().get("paths", {}):
        match = _ROUTE.fullmatch(path)
        if not match:
            continue
        entry = served.setdefault(match["type"], {"interaction": [], "operation": []})
        kind, name = ("operation", match["op"]) if match["op"] else (
            "interaction", "read" if match["id"] else "search-type")
        if name not in entry[kind]:
            entry[kind].append(name)
    resources = []
    for kind, entry in sorted(served.items()):
        item: dict = {"type": kind, "profile": f"http://hl7.org/fhir/StructureDefinition/{kind}"}
        if entry["interaction"]:
            item["interaction"] = [{"code": code} for code in sorted(entry["interaction"])]
        if "search-type" in entry["interaction"] and kind in SEARCH_PARAMS:
            item["searchParam"] = [{"name": p.name, "definition": p.definition,
                                    "type": "string" if p.type == "text" else p.type} for p in SEARCH_PARAMS[kind]]
        if entry["operation"]:
            item["operation"] = [{"name": op, "definition": OWN_OPERATIONS.get(
                (kind, op), f"http://hl7.org/fhir/OperationDefinition/{kind}-{op}")} for op in entry["operation"]]
        resources.append(item)
    return resources


def system_operations(request: Request) -> list[dict]:
    """CapabilityStatement.rest.operation: the system-level operations the app has routes for."""
    found = [m["op"] for path in request.app.openapi().get("paths", {})
             if (m := _SYSTEM_OPERATION.fullmatch(path))]
    return [{"name": op, "definition": SYSTEM_OPERATIONS.get(op, f"http://hl7.org/fhir/OperationDefinition/{op}")}
            for op in sorted(set(found))]


def feature_extensions() -> list[dict]:
    """The application-feature extensions of ``FEATURES`` (``definition`` and ``value`` sub-extensions)."""
    return [{"url": FEATURE, "extension": [{"url": "definition", "valueCanonical": definition},
                                           {"url": "value", **value}]} for definition, value in FEATURES]


def capability_statement(request: Request, registry: Registry) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        **_common(request, registry, "SMTCapabilityStatement", "SMT FHIR terminology server"),
        "extension": feature_extensions(),
        "url": f"{fhir_base(request)}/CapabilityStatement/smt",
        "software": {**SOFTWARE, "releaseDate": _release_date()},  # R4: only CapabilityStatement has it
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "fhirVersion": "4.0.1",
        "format": FORMATS,
        "rest": [{"mode": "server", "resource": served_resources(request),
                  "operation": system_operations(request)}],
    }


EXT_CONTENT = "http://hl7.org/fhir/5.0/StructureDefinition/extension-TerminologyCapabilities.codeSystem.content"
"""R5 ``TerminologyCapabilities.codeSystem.content`` as an R4 extension: the HL7 ecosystem registry reads it
(FHIRsmith ``registry/crawler.js``) to tell complete code systems from fragments."""


def terminology_capabilities(request: Request, registry: Registry) -> dict:
    systems: dict[str, list[dict]] = {}
    contents: dict[str, str] = {}
    for info in registry.code_systems():
        if info.url not in systems:
            default = registry.resolve(info.url)
            systems[info.url] = [{
                "code": r.version, "isDefault": r.id == default.id, "compositional": False,
                **_language_and_properties(registry, r),
            } for r in registry.versions_of(info.url)]
            contents[info.url] = str(registry.index(default).meta.get("content") or "complete")
    body = {
        "resourceType": "TerminologyCapabilities",
        **_common(request, registry, "SMTTerminologyCapabilities", "SMT terminology capabilities"),
        "codeSystem": [{"extension": [{"url": EXT_CONTENT, "valueCode": contents[url]}], "uri": url,
                        "version": versions, "subsumption": True} for url, versions in sorted(systems.items())],
        "expansion": EXPANSION_CAPABILITIES,
        "validateCode": {"translations": False},
    }
    return {k: v for k, v in body.items() if v != []}


def _language_and_properties(registry: Registry, info: ReleaseInfo) -> dict:
    meta = registry.index(info).meta
    found: dict = {}
    if meta.get("language"):
        found["language"] = [meta["language"]]
    codes = [p["code"] for p in meta.get("properties", [])]
    found["property"] = list(dict.fromkeys(["parent", "child", "inactive", *codes]))
    return found


@router.get("/metadata", **route_docs("CapabilityStatement", ["mode"]))
def metadata(request: Request, mode: str | None = None, registry: Registry = Depends(get_registry)) -> Response:
    if mode in (None, "full", "normative"):
        return fhir_json(request, capability_statement(request, registry))
    if mode == "terminology":
        return fhir_json(request, terminology_capabilities(request, registry))
    raise InvalidParameter(f"Unknown mode '{mode}' (full, normative or terminology)", "mode")


@router.get("/$versions", **route_docs("Parameters"))
def versions(request: Request) -> Response:
    """``$versions``: the FHIR versions this server answers, and its default."""
    return fhir_json(request, {"resourceType": "Parameters", "parameter": [
        *({"name": "version", "valueCode": v} for v in FHIR_VERSIONS),
        {"name": "default", "valueCode": FHIR_VERSIONS[0]}]})
