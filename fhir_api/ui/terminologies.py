"""Code system pages: ``/terminologies/{key}`` (versions, downloads, quality warnings, feeds, the hierarchy's
top) and ``/terminologies/{key}/compare?from=&to=`` (what changed between two versions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.background import BackgroundTask
from starlette.requests import Request

from fhir_api.ui import resources
from fhir_api.ui.compare import PAGE_SIZE, compare, warm
from fhir_api.ui.concept_view import children_nodes
from fhir_api.ui.errors import PageError
from fhir_api.ui.pages import query, render
from fhir_api.ui.session import visible_registry
from smt.errors import SmtError
from smt.publish.diff import CHANGE_TYPES
from smt.publish.exports import formats_for
from smt.publish.links import changes_path, download_path, release_path
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo

router = APIRouter(include_in_schema=False)
MAX_ROOTS = 200


def release_date(registry: Registry, info: ReleaseInfo) -> str | None:
    """The date a release gives itself (its code system's or value set's ``date``), as ``YYYY-MM-DD``."""
    date = registry.index(info).meta.get("date") if info.kind == "CodeSystem" else info.resource().get("date")
    return str(date)[:10] if date else None


def release_rows(registry: Registry, resource: resources.Resource) -> list[dict[str, object]]:
    """Each version, newest first, with its date and downloads (every format the server offers for it)."""
    return [{"info": info, "date": release_date(registry, info), "manifest": release_path(info.id),
             "downloads": [(fmt.name, fmt.label, download_path(info.id, fmt.name)) for fmt in formats_for(info)]}
            for info in reversed(resource.releases)]


@router.get("/terminologies/{key}", response_class=HTMLResponse)
def terminology(request: Request, key: str) -> HTMLResponse:
    registry = visible_registry(request)
    resource, release = resources.located(registry, "CodeSystem", key, None)
    meta = registry.index(release).meta
    roots = children_nodes(registry, resource, release, None)
    response = render(request, "terminology.html", {
        "resource": resource, "meta": meta, "rows": release_rows(registry, resource), "roots": roots[:MAX_ROOTS],
        "more_roots": max(0, len(roots) - MAX_ROOTS),
        "changes_links": [(info.version, changes_path(resource.url, info.version, 0, 1000))
                          for info in reversed(resource.releases[:-1])],
    })
    if len(resource.releases) > 1:  # the comparison the page offers by default, computed once it is sent
        response.background = BackgroundTask(warm, registry, resource.url, resource.releases[-2].version,
                                             resource.releases[-1].version)
    return response


@router.get("/terminologies/{key}/compare", response_class=HTMLResponse)
@router.get("/valuesets/{key}/compare", response_class=HTMLResponse)
def compare_versions(request: Request, key: str, old: Annotated[str, Query(alias="from")] = "",
                     new: Annotated[str, Query(alias="to")] = "", change: str = "", q: str = "",
                     page: Annotated[int, Query(ge=1)] = 1) -> HTMLResponse:
    """The comparison of two versions of a code system or (``/valuesets/…``) of a value set."""
    registry = visible_registry(request)
    kind = "ValueSet" if request.url.path.startswith("/valuesets/") else "CodeSystem"
    resource, _ = resources.located(registry, kind, key, None)
    return comparison_page(request, registry, resource, old, new, change, q, page)


def comparison_page(request: Request, registry: Registry, resource: resources.Resource, old: str, new: str,
                    change: str, q: str, page: int) -> HTMLResponse:
    """The comparison page of a code system or value set (the form alone until two versions are chosen)."""
    versions = [r.version for r in resource.releases]
    old = old or (versions[-2] if len(versions) > 1 else versions[-1])
    new = new or versions[-1]
    try:
        result = compare(registry, resource, old, new, change or None, q, page)
    except SmtError as exc:
        raise PageError(404, "compare.error", message=str(exc)) from None
    params = {"from": old, "to": new, "change": change, "q": q}
    return render(request, "compare.html", {
        "resource": resource, "versions": versions, "old": old, "new": new, "change": change, "q": q,
        "result": result, "change_types": CHANGE_TYPES, "page": page, "pages": -(-result.matching // PAGE_SIZE),
        "params": params,
        "page_href": lambda number: f"{resource.path}/compare" + query(params, page=number if number > 1 else None),
        "type_href": lambda kind: f"{resource.path}/compare" + query(params, change=kind),
    })
