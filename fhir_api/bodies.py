"""Request bodies: a FHIR resource sent as FHIR JSON or FHIR XML, read by its ``Content-Type``.

FHIR R4 http.html §3.1.0.1.10: the body's format is its ``Content-Type``; ``application/fhir+json`` (also
``application/json``, and a body sent with no type) is JSON, ``application/fhir+xml`` (also ``application/xml``,
``text/xml``) is XML. Any other type answers 415 Unsupported Media Type.
"""

from __future__ import annotations

import orjson

from fhir_api.errors import FhirError
from smt.errors import InvalidParameter
from smt.fhir_r4.xml_reader import XmlReadError, from_xml

XML_MEDIA_TYPES = frozenset({"application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir"})


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header, lower case, without parameters."""
    return (content_type or "").split(";")[0].strip().lower()


def decode_body(raw: bytes, content_type: str | None) -> object:
    """The body as FHIR JSON data (XML is converted); 400 when malformed, 415 for another media type."""
    media = media_type(content_type)
    if media in XML_MEDIA_TYPES:
        try:
            return from_xml(raw)
        except XmlReadError as exc:
            raise InvalidParameter(f"The request body is not valid FHIR XML: {exc}") from None
    if media and "json" not in media:
        raise FhirError(415, "not-supported", f"Unsupported content type '{media}': send FHIR JSON "
                                              "(application/fhir+json) or FHIR XML (application/fhir+xml)")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter(f"The request body is not valid JSON: {exc}") from None
