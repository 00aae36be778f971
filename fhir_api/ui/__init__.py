"""The web interface: server-rendered pages (Jinja2, DSFR, a little htmx) over the same engines as the API.

``install_ui(app)`` serves ``/static`` (our CSS/JS and the vendored DSFR, htmx and Swagger UI, see
``static/vendor/README.md``), ``/docs`` and the pages. Every page is French first (``?lang=en`` for English),
and every request a page makes stays on this server.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fhir_api.ui import composer, concepts, console, docs, home, search, terminologies, valuesets
from fhir_api.ui.pages import install_page_errors

STATIC_DIR = Path(__file__).parent / "static"


def install_ui(app: FastAPI) -> None:
    """Mount the static files and the page routes (before the API's catch-all write routes)."""
    install_page_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (composer, concepts, console, docs, home, search, terminologies, valuesets):
        app.include_router(module.router)
