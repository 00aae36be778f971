"""``GET /find``: concepts matching words (``smt.search``, as ``GET /search``), and the code systems and value
sets whose names match, with filters and paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.requests import Request

from fhir_api.ui import resources
from fhir_api.ui.concept_links import concept_path
from fhir_api.ui.pages import query, render
from fhir_api.ui.session import visible_registry
from smt.errors import SmtError
from smt.search.service import SearchResult, search

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
LANGUAGES = ("fr", "en", "nl")


@dataclass(frozen=True, slots=True)
class Row:
    result: SearchResult
    resource: resources.Resource | None
    href: str

    @property
    def matched(self) -> str:
        """The matched term, HTML-escaped by the search engine, its matched words in ``<mark>``."""
        return self.result.matched.replace("<b>", "<mark>").replace("</b>", "</mark>")


@router.get("/find", response_class=HTMLResponse)
def find(request: Request, q: Annotated[str, Query(max_length=500)] = "", system: str = "", version: str = "",
         lang: Annotated[str, Query(alias="language")] = "", active: bool = False, within: str = "",
         page: Annotated[int, Query(ge=1, le=500)] = 1) -> HTMLResponse:
    registry = visible_registry(request)
    code_systems = resources.resources(registry, "CodeSystem")
    by_url = {r.url: r for r in code_systems}
    chosen = resources.find(registry, "CodeSystem", system) if system else None
    filters = {"q": q, "system": system, "version": version, "language": lang, "active": "true" if active else "",
               "within": within}
    context: dict[str, object] = {
        "section": "search", "q": q, "filters": filters, "code_systems": code_systems, "chosen": chosen,
        "languages_offered": LANGUAGES, "rows": [], "total": 0, "page": page, "pages": 0, "error": None,
        "expanded": {}, "matching": [],
    }
    if q.strip():
        try:
            found = search(registry, q, system=chosen.url if chosen else (system or None), version=version or None,
                           language=lang or None, active=True if active else None, within=within.strip() or None,
                           count=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        except SmtError as exc:
            context["error"] = str(exc)
        else:
            rows = []
            for result in found.results:
                resource = by_url.get(result.system) or resources.for_url(registry, "CodeSystem", result.system)
                rows.append(Row(result, resource, concept_path(resource, result.code, result.version)
                                if resource else ""))
            context.update(rows=rows, total=found.total, pages=-(-found.total // PAGE_SIZE),
                           expanded=found.expanded)
        if page == 1 and not system:
            context["matching"] = resources.matching(code_systems + resources.resources(registry, "ValueSet"), q,
                                                     {r.url: r.title for r in code_systems})
    context["page_href"] = lambda number: "/find" + query(filters, page=number if number > 1 else None)
    return render(request, "search.html", context)
