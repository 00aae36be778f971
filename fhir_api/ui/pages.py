"""Rendering a page: the Jinja2 templates, what every page knows (language, messages, the signed-in curator),
and the headers of an HTML answer (a content security policy that keeps every request on this server)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request

from fhir_api.ui import session
from fhir_api.ui.errors import PageError
from fhir_api.ui.i18n import COOKIE, LANGUAGES, Translator, page_language, requested_language

TEMPLATES_DIR = Path(__file__).parent / "templates"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)
"""Every resource of a page comes from this server (DSFR, htmx and Swagger UI are served from ``/static``)."""

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"]), trim_blocks=True,
    lstrip_blocks=True,
)


def query(params: Mapping[str, object] | None = None, **more: object) -> str:
    """``?a=1&b=2`` from the values that are set (None and "" left out; lists give repeated parameters)."""
    items: list[tuple[str, str]] = []
    for key, value in {**(params or {}), **more}.items():
        values = value if isinstance(value, list | tuple) else [value]
        items += [(key, str(v)) for v in values if v is not None and v != "" and v is not False]
    return "?" + urlencode(items) if items else ""


def _switch_links(request: Request, language: str) -> list[dict[str, object]]:
    """The language switch: the same page in each language."""
    links = []
    for other in LANGUAGES:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
        links.append({"lang": other, "href": f"{request.url.path}?{urlencode(params)}", "current": other == language})
    return links


def html_headers(private: bool = False) -> dict[str, str]:
    headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Vary": "Cookie"}
    if private:
        headers["Cache-Control"] = "no-store"
    return headers


def render(request: Request, template: str, context: Mapping[str, object] | None = None, *, status: int = 200,
           private: bool = False) -> HTMLResponse:
    """The page ``template`` in the request's language; ``private`` pages (the console) are never cached."""
    language = page_language(request)
    translate = Translator(language)
    principal = session.principal(request)
    values = {
        "request": request, "lang": language, "t": translate, "number": translate.number, "query": query,
        "languages": _switch_links(request, language), "principal": principal,
        "csrf": session.csrf_token(request) if principal else None, **(context or {}),
    }
    body = environment.get_template(template).render(values)
    response = HTMLResponse(body, status_code=status, headers=html_headers(private or principal is not None))
    if requested_language(request):
        response.set_cookie(COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def install_page_errors(app: FastAPI) -> None:
    """Answer ``PageError`` with an HTML error page in the visitor's language."""

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", {"status": exc.status, "message": exc.message, "values": exc.values},
                      status=exc.status)
