"""``SERVICE`` (federated query) in a SPARQL query: found by a lexer, refused unless the endpoint is allowed.

pyoxigraph calls any endpoint a ``SERVICE`` clause names, so a query could make the server send requests to
any address (SSRF). Federation is off unless ``SMT_SPARQL_SERVICE_ALLOW`` lists endpoints (comma-separated
IRIs; an entry ending with ``*`` allows every IRI that starts with what precedes it). The lexer follows the
SPARQL 1.1 terminals: codepoint escapes (``\\u0053ERVICE``) are decoded first, as the grammar requires; strings,
IRIs and comments are skipped; a prefixed name (``ex:service``) or a variable (``?service``) is not the keyword.
A ``SERVICE`` whose endpoint is a variable is always refused. Without an allow-list, the query process also has
no network (``smt.sparql.sandbox``), should a query get past the lexer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from smt.errors import FederationRefused

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN = r"[\w\-\u00B7\u0300-\u036F\u203F-\u2040]"
_LOCAL = rf"(?:{_PN}|:|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?#@%]|\.+(?=(?:{_PN}|:|%|\\)))*"
_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<comment>#[^\n\r]*)"
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<string>'''(?:'{0,2}(?:[^'\\]|\\.))*'''|\"\"\"(?:\"{0,2}(?:[^\"\\]|\\.))*\"\"\""
    r"|'(?:[^'\\\n\r]|\\.)*'|\"(?:[^\"\\\n\r]|\\.)*\")"
    rf"|(?P<var>[?$]{_PN}+)"
    rf"|(?P<pname>(?:[^\W\d_]{_PN}*(?:\.+{_PN}+)*)?:{_LOCAL})"
    rf"|(?P<word>[^\W\d_]{_PN}*)"
    r"|(?P<other>.)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


def decode_codepoints(query: str) -> str:
    """``\\uXXXX`` and ``\\UXXXXXXXX`` replaced by their characters (SPARQL 1.1 §19.2, before parsing)."""
    def char(match: re.Match[str]) -> str:
        value = int(match.group(1) or match.group(2), 16)
        return chr(value) if value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else match.group(0)
    return _CODEPOINT.sub(char, query)


def tokens(query: str) -> Iterator[Token]:
    """The significant tokens of ``query`` (spaces and comments dropped)."""
    for match in _TOKEN.finditer(decode_codepoints(query)):
        kind = match.lastgroup or "other"
        if kind not in ("space", "comment"):
            yield Token(kind, match.group())


def service_endpoints(query: str) -> list[str | None]:
    """The endpoint of every ``SERVICE`` clause: an IRI (prefixed names resolved), or None when it is a variable,
    a relative IRI or an unknown prefix."""
    prefixes: dict[str, str] = {}
    found: list[str | None] = []
    items = list(tokens(query))
    for number, token in enumerate(items):
        if token.kind != "word":
            continue
        keyword = token.text.upper()
        following = items[number + 1:number + 3]
        if keyword == "PREFIX" and len(following) == 2 and following[0].kind == "pname" \
                and following[0].text.endswith(":") and following[1].kind == "iri":
            prefixes[following[0].text[:-1]] = following[1].text[1:-1]
        elif keyword == "SERVICE":
            if following and following[0].kind == "word" and following[0].text.upper() == "SILENT":
                following = following[1:]
            found.append(_endpoint(following[0] if following else None, prefixes))
    return found


def _endpoint(token: Token | None, prefixes: dict[str, str]) -> str | None:
    if token is None:
        return None
    if token.kind == "iri":
        iri = token.text[1:-1]
        return iri if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", iri) else None
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


def allowed_endpoints() -> tuple[str, ...]:
    """``SMT_SPARQL_SERVICE_ALLOW``: endpoint IRIs (``…*``: a prefix) a ``SERVICE`` clause may call."""
    return tuple(item.strip() for item in os.environ.get("SMT_SPARQL_SERVICE_ALLOW", "").split(",") if item.strip())


def is_allowed(endpoint: str, allowed: tuple[str, ...]) -> bool:
    return any(endpoint.startswith(item[:-1]) if item.endswith("*") else endpoint == item for item in allowed)


def check_federation(query: str, allowed: tuple[str, ...]) -> None:
    """Raise ``FederationRefused`` unless every ``SERVICE`` clause of ``query`` names an allowed endpoint."""
    for endpoint in service_endpoints(query):
        if not allowed:
            raise FederationRefused("SERVICE (federated query) is not allowed on this endpoint: it would make the "
                                    "server call another address. An operator may allow endpoints with "
                                    "SMT_SPARQL_SERVICE_ALLOW")
        if endpoint is None:
            raise FederationRefused("SERVICE needs an absolute endpoint IRI here (not a variable, a relative IRI "
                                    "or an undeclared prefix)")
        if not is_allowed(endpoint, allowed):
            raise FederationRefused(f"SERVICE <{endpoint}> is not allowed: the endpoints allowed are "
                                    + ", ".join(allowed))
