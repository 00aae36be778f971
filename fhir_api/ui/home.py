"""``GET /``: the search box, the catalogue of terminologies and the latest releases."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from fhir_api.ui import resources
from fhir_api.ui.pages import render
from fhir_api.ui.session import visible_registry

router = APIRouter(include_in_schema=False)
LATEST = 10


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    registry = visible_registry(request)
    code_systems = resources.resources(registry, "CodeSystem")
    value_sets = resources.resources(registry, "ValueSet")
    keys = {(r.kind, release.id): r for r in code_systems + value_sets for release in r.releases}
    latest = sorted((info for info in registry.releases() if info.kind in ("CodeSystem", "ValueSet")),
                    key=lambda info: info.loaded_at, reverse=True)[:LATEST]
    return render(request, "home.html", {
        "section": "home", "code_systems": code_systems, "value_set_count": len(value_sets),
        "latest": [(info, keys[(info.kind, info.id)]) for info in latest],
    })
