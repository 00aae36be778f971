"""The web interface: server-rendered pages (Jinja2, DSFR, a little htmx) over the same engines as the API.

``install_ui(app)`` serves ``/static`` (our CSS/JS and the vendored DSFR, htmx and Swagger UI, see
``static/vendor/README.md``), ``/docs`` and the pages. Every page is French first (``?lang=en`` for English),
and every request a page makes stays on this server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from fhir_api.cluster import refusing
from fhir_api.ui import composer, concepts, console, docs, home, search, terminologies, valuesets
from fhir_api.ui.pages import install_page_errors

STATIC_DIR = Path(__file__).parent / "static"
STATIC_MAX_AGE = 86400
"""Seconds a browser keeps a static file before revalidating it (``ETag``/``Last-Modified`` then apply)."""


class CachedStaticFiles(StaticFiles):
    """``StaticFiles`` whose answers say how long a browser may reuse them without asking."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", f"public, max-age={STATIC_MAX_AGE}")
        return response


REPLICA_REFUSAL = ("this server is a read replica: the curator console and saved compositions are served by the "
                   "writer (the load balancer sends them there)")


def install_ui(app: FastAPI, *, replica: bool = False) -> None:
    """Mount the static files and the page routes (before the API's catch-all write routes). A read replica
    serves the pages but refuses (421) the curator console and the composer's save, which need the writer."""
    install_page_errors(app)
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")
    if replica:
        app.include_router(refusing(console.router, 421, REPLICA_REFUSAL))
        app.include_router(refusing(composer.router, 421, REPLICA_REFUSAL, methods={"POST"}))
    for module in (composer, concepts, docs, home, search, terminologies, valuesets, *(() if replica else (console,))):
        app.include_router(module.router)
