"""HTTP transport concerns shared by every interface: response compression and cross-origin access (CORS).

* gzip for bodies of at least 1 KiB when the client accepts it (large expansions, downloads, SPARQL results);
  already-compressed media (zip, gzip: the NPM package, zipped downloads) are sent as they are.
* CORS: browser-based FHIR tools (IG authoring tools, validators, web apps of the vendors) may call the API
  from other origins. ``SMT_CORS_ORIGINS`` lists the allowed origins (comma-separated; ``*`` by default,
  empty to disable). Credentials (cookies) are never used: writes carry a bearer token in ``Authorization``.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 6
"""zlib's own default level (Starlette's default, 9, spends more CPU per answer)."""
EXPOSED_HEADERS = ["Location", "Content-Location", "ETag", "Last-Modified", "Content-Disposition"]


def cors_origins() -> list[str]:
    """Allowed origins from ``SMT_CORS_ORIGINS`` (default ``*``; empty: CORS disabled)."""
    value = os.environ.get("SMT_CORS_ORIGINS", "*")
    return [origin.strip() for origin in value.split(",") if origin.strip()]


def install_transport(app: FastAPI) -> None:
    """Add compression and, unless disabled, CORS to ``app`` (outermost, so that error answers get them too)."""
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    origins = cors_origins()
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["*"], expose_headers=EXPOSED_HEADERS, allow_credentials=False,
                           max_age=86400)
