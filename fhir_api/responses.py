"""FHIR JSON responses: content negotiation (``_format``, ``Accept``) and orjson serialisation.

Only JSON is produced. ``application/json`` is answered as such when the client asks for it and not for
``application/fhir+json``; a request that accepts XML only gets a 406 (see ``fhir_api.deps.negotiate``).
"""

from __future__ import annotations

import orjson
from fastapi import Request
from fastapi.responses import Response

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
_JSON_FORMATS = {"json", FHIR_JSON, PLAIN_JSON, "application/json+fhir", "text/json"}
_XML_FORMATS = {"xml", "application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml"}


def _media_types(value: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in value.split(",") if part.strip()]


def choose_media_type(request: Request) -> str | None:
    """The JSON media type to answer with, or None when the client accepts XML only."""
    requested = request.query_params.get("_format")
    if requested:
        fmt = requested.split(";")[0].strip().lower()
        if fmt in _JSON_FORMATS:
            return PLAIN_JSON if fmt == PLAIN_JSON else FHIR_JSON
        return None if fmt in _XML_FORMATS else FHIR_JSON
    types = _media_types(request.headers.get("accept", ""))
    if not types or any(t in (FHIR_JSON, "*/*", "application/*") for t in types):
        return FHIR_JSON
    if any(t in _JSON_FORMATS for t in types):
        return PLAIN_JSON if PLAIN_JSON in types else FHIR_JSON
    return None if all(t in _XML_FORMATS for t in types) else FHIR_JSON


def fhir_json(request: Request, resource: dict, status: int = 200,
              headers: dict[str, str] | None = None) -> Response:
    """``resource`` serialised by orjson with the negotiated JSON media type (``_pretty=true`` indents)."""
    media = choose_media_type(request) or FHIR_JSON
    option = orjson.OPT_INDENT_2 if request.query_params.get("_pretty") == "true" else 0
    return Response(orjson.dumps(resource, option=option), status_code=status,
                    media_type=f"{media}; charset=utf-8", headers=headers)


def fhir_base(request: Request) -> str:
    """The FHIR base URL of this server as the client reached it (``…/fhir``)."""
    return str(request.base_url).rstrip("/") + "/fhir"
