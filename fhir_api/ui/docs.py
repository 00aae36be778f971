"""``GET /docs``: the OpenAPI description in Swagger UI, served from this server (no CDN: works offline)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from fhir_api.ui.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return render(request, "docs.html", {"section": "api", "openapi_url": request.app.openapi_url})
