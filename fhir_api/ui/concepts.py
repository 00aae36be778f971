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
from smt.index.reader import ConceptRecord
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo

router = APIRouter(include_in_schema=False)


def _located(request: Request, key: str, code: str, version: str | None
             ) -> tuple[Registry, resources.Resource, ReleaseInfo, ConceptRecord]:
    """The concept of a page address in the release asked for (``PageError`` 404 when unknown)."""
    registry = visible_registry(request)
    resource, release = resources.located(registry, "CodeSystem", key, version)
    concept = registry.index(release).concept(code)
    if concept is None:
        raise not_found("error.no_concept", code=code, title=resource.title, version=release.version)
    return registry, resource, release, concept


@router.get("/terminologies/{key}/concepts/{code}", response_class=HTMLResponse)
def concept(request: Request, key: str, code: str, version: str | None = None) -> HTMLResponse:
    registry, resource, release, found = _located(request, key, code, version)
    page = concept_page(registry, resource, release, found)
    return render(request, "concept.html", {"page": page, "resource": resource, "release": release})


@router.get("/terminologies/{key}/concepts/{code}/children", response_class=HTMLResponse)
def children(request: Request, key: str, code: str, version: str | None = None) -> HTMLResponse:
    registry, resource, release, found = _located(request, key, code, version)
    nodes = children_nodes(registry, resource, release, found)
    return render(request, "fragments/tree.html", {"nodes": nodes, "resource": resource, "release": release})
