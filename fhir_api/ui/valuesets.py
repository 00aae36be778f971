"""Value set pages: ``/valuesets`` (searchable list), ``/valuesets/{key}`` (definition in words, expansion
paged and searchable, versions, downloads, where it is used) and ``/valuesets/{key}/compare``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from fhir_api.ui import resources
from fhir_api.ui.definition import clauses
from fhir_api.ui.expansions import expansion_page
from fhir_api.ui.pages import query, render
from fhir_api.ui.session import visible_registry
from fhir_api.ui.terminologies import release_rows
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def oids(info: ReleaseInfo) -> list[str]:
    """The OIDs a value set release is identified by (its ``urn:oid:`` identifiers)."""
    return [str(i["value"]).removeprefix("urn:oid:") for i in info.resource().get("identifier", [])
            if isinstance(i, dict) and str(i.get("value", "")).startswith("urn:oid:")]


def _systems(info: ReleaseInfo, code_systems: dict[str, resources.Resource]) -> list[str]:
    compose = info.resource().get("compose") or {}
    urls = dict.fromkeys(str(p.get("system")).rstrip("/") for p in compose.get("include", [])
                         if isinstance(p, dict) and p.get("system"))
    return [code_systems[u].title if u in code_systems else u for u in urls]


@router.get("/valuesets", response_class=HTMLResponse)
def value_sets(request: Request, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    registry = visible_registry(request)
    listed = resources.resources(registry, "ValueSet")
    code_systems = {r.url: r for r in resources.resources(registry, "CodeSystem")}
    shown = resources.matching(listed, q, {url: r.title for url, r in code_systems.items()}) if q.strip() \
        else listed
    rows = [{"item": item, "oids": oids(item.default), "systems": _systems(item.default, code_systems)}
            for item in sorted(shown, key=lambda r: r.title.lower())]
    return render(request, "valuesets.html", {"section": "valuesets", "q": q, "rows": rows,
                                              "total": len(listed)})


def users_of(registry: Registry, resource: resources.Resource) -> list[resources.Resource]:
    """The value sets whose default version includes or excludes ``resource`` (any of its versions)."""
    found = []
    for other in resources.resources(registry, "ValueSet"):
        compose = other.default.resource().get("compose") or {}
        refs = {str(ref).partition("|")[0].rstrip("/") for key in ("include", "exclude")
                for part in compose.get(key, []) if isinstance(part, dict) for ref in part.get("valueSet", [])}
        if resource.url in refs and other.url != resource.url:
            found.append(other)
    return found


@router.get("/valuesets/{key}", response_class=HTMLResponse)
def value_set_page(request: Request, key: str, version: str | None = None, filter: str = "",
                   page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    registry = visible_registry(request)
    resource, release = resources.located(registry, "ValueSet", key, version)
    definition = release.resource()
    expansion = expansion_page(request, registry, resource_id=release.id, count=PAGE_SIZE,
                               offset=(page - 1) * PAGE_SIZE, text=filter.strip() or None)
    code_systems = resources.resources(registry, "CodeSystem")
    by_url = {r.url: r for r in code_systems}
    release_oids = oids(release)
    params = {"version": version, "filter": filter}
    return render(request, "valueset.html", {
        "section": "valuesets", "resource": resource, "release": release, "vs": definition,
        "oids": release_oids, "clauses": clauses(definition.get("compose") or {}, code_systems,
                                                  resources.resources(registry, "ValueSet")),
        "expansion": expansion, "filter": filter, "page": page, "pages": -(-expansion.total // PAGE_SIZE),
        "page_href": lambda number: resource.path + query(params, page=number if number > 1 else None),
        "systems": by_url, "rows": release_rows(registry, resource), "users": users_of(registry, resource),
        "links": {
            "fhir": f"/fhir/ValueSet/{release.id}",
            "expand": f"/fhir/ValueSet/{release.id}/$expand",
            "svs": f"/svs/RetrieveValueSet{query(id=release_oids[0], version=release.version)}"
            if release_oids else None,
        },
    })
