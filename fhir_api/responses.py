"""FHIR responses: content negotiation (``_format``, ``Accept``) and serialisation as FHIR JSON or FHIR XML.

The rules (FHIR R4 http.html §3.1.0.1.10 "Content Types and encodings" and §3.1.0.1.11 ``_format``):

* ``_format`` overrides ``Accept``: ``json``, ``application/json``, ``application/fhir+json`` mean JSON; ``xml``,
  ``text/xml``, ``application/xml``, ``application/fhir+xml`` mean XML (a ``+`` decoded as a space is read back);
  ``ttl``/``text/turtle`` (RDF) is answered 406 Not Acceptable. Other values, and no preference at all, give JSON.
* ``Accept`` is negotiated as RFC 9110 says (quality values, specificity; ``smt.publish.conneg``); ``*/*`` and
  ``application/*`` mean FHIR JSON, the server's default.
* The answer's media type is ``application/fhir+json`` or ``application/fhir+xml``, or the plain
  ``application/json`` / ``application/xml`` when the client asked for exactly that.

The choice is made once per response, in ``fhir_json``; JSON answers go straight to orjson.
"""

from __future__ import annotations

from functools import lru_cache

import orjson
from fastapi import Request
from fastapi.responses import Response
from lxml import etree

from smt.fhir_r4.xml_writer import XmlWriteError, to_xml
from smt.publish.conneg import negotiate

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
FHIR_XML = "application/fhir+xml"
PLAIN_XML = "application/xml"
FORMATS = [FHIR_JSON, "json", FHIR_XML, "xml"]
"""What ``CapabilityStatement.format`` lists."""

_FORMAT_VALUES = {
    "json": FHIR_JSON, FHIR_JSON: FHIR_JSON, PLAIN_JSON: PLAIN_JSON, "application/json+fhir": FHIR_JSON,
    "text/json": FHIR_JSON,
    "xml": FHIR_XML, FHIR_XML: FHIR_XML, PLAIN_XML: PLAIN_XML, "text/xml": FHIR_XML, "application/xml+fhir": FHIR_XML,
}
"""``_format`` values and ``Accept`` media types → the media type answered."""
_UNSUPPORTED_FORMATS = frozenset({"ttl", "text/turtle", "application/fhir+turtle", "application/x-turtle"})
_ACCEPT_OFFERS = [FHIR_JSON, PLAIN_JSON, "application/json+fhir", "text/json",
                  FHIR_XML, PLAIN_XML, "text/xml", "application/xml+fhir"]
_XML_ANSWERS = frozenset({FHIR_XML, PLAIN_XML})


def choose_media_type(request: Request) -> str | None:
    """The media type to answer with; None when the client asks for a format this server cannot produce."""
    requested = request.query_params.get("_format")
    if requested:
        fmt = requested.split(";")[0].strip().lower().replace(" ", "+")
        return None if fmt in _UNSUPPORTED_FORMATS else _FORMAT_VALUES.get(fmt, FHIR_JSON)
    accept = request.headers.get("accept")
    return _accepted(accept) if accept else FHIR_JSON


@lru_cache(maxsize=512)
def _accepted(accept: str) -> str:
    """The answer's media type for an ``Accept`` header (clients repeat theirs: negotiated once per header)."""
    return _FORMAT_VALUES.get(negotiate(accept, _ACCEPT_OFFERS) or FHIR_JSON, FHIR_JSON)


def _pretty_xml(body: bytes) -> bytes:
    tree = etree.fromstring(body)
    etree.indent(tree, space="  ")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def fhir_json(request: Request, resource: dict, status: int = 200,
              headers: dict[str, str] | None = None) -> Response:
    """``resource`` in the negotiated format: FHIR JSON (orjson) or FHIR XML (``smt.fhir_r4``); ``_pretty=true``
    indents. A body that is not a FHIR resource (a load report) stays JSON whatever was asked."""
    media = choose_media_type(request) or FHIR_JSON
    pretty = request.query_params.get("_pretty") == "true"
    if media in _XML_ANSWERS:
        try:
            body = to_xml(resource)
        except XmlWriteError:
            media = FHIR_JSON
        else:
            return Response(_pretty_xml(body) if pretty else body, status_code=status,
                            media_type=f"{media}; charset=utf-8", headers=headers)
    return Response(orjson.dumps(resource, option=orjson.OPT_INDENT_2 if pretty else 0), status_code=status,
                    media_type=f"{media}; charset=utf-8", headers=headers)


def fhir_base(request: Request) -> str:
    """The FHIR base URL of this server as the client reached it (``…/fhir``)."""
    return str(request.base_url).rstrip("/") + "/fhir"
