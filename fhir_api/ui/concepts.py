"""Concept pages: ``/terminologies/{key}/concepts/{code}[?version=]`` and the children of a concept as an HTML
fragment (``…/children``, unfolded in trees)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from fhir_api.ui import resources
from fhir_api.ui.concept_view import children_nodes, concept_page
from fhir_api.ui.errors import not_found
from fhir_api.ui.pages import render
from fhir_api.ui.session import visible_registry
from smt.releases.registry import Registry
from smt.index.reader import ConceptRecord
from smt.store.releases import ReleaseInfo

router = APIRouter(include_in_schema=False)


def code_system(registry: Registry, key: str, version: str | None) -> tuple[resources.Resource, ReleaseInfo]:
    """The code system of a page address and the release asked for (a ``PageError`` when unknown)."""
    resource = resources.find(registry, "CodeSystem", key)
    if resource is None:
        raise not_found("error.no_terminology", key=key)
    release = resource.release(version)
    if release is None:
        raise not_found("error.no_version", title=resource.title, version=version)
    return resource, release


def _concept(registry: Registry, resource: resources.Resource, release: ReleaseInfo, code: str) -> ConceptRecord:
    concept = registry.index(release).concept(code)
    if concept is None:
        raise not_found("error.no_concept", code=code, title=resource.title, version=release.version)
    return concept


@router.get("/terminologies/{key}/concepts/{code}", response_class=HTMLResponse)
def concept(request: Request, key: str, code: str, version: str | None = None) -> HTMLResponse:
    registry = visible_registry(request)
    resource, release = code_system(registry, key, version)
    page = concept_page(registry, resource, release, _concept(registry, resource, release, code))
    return render(request, "concept.html", {"page": page, "resource": resource, "release": release})


@router.get("/terminologies/{key}/concepts/{code}/children", response_class=HTMLResponse)
def children(request: Request, key: str, code: str, version: str | None = None) -> HTMLResponse:
    registry = visible_registry(request)
    resource, release = code_system(registry, key, version)
    nodes = children_nodes(registry, resource, release, _concept(registry, resource, release, code))
    return render(request, "fragments/tree.html", {"nodes": nodes, "resource": resource, "release": release})
