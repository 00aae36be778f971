"""Linked data: every IRI the store mints dereferences, with content negotiation.

``GET /concept?iri=<IRI>[&version=<v>|all][&format=…]`` answers the IRI's description: Turtle, JSON-LD,
N-Triples, RDF/XML (the default version's statements, one version's, or all versions' merged), TriG and
N-Quads (named graphs kept), or HTML: for a concept of a served code system, ``303 See Other`` to its page in
the web interface (``/terminologies/{key}/concepts/{code}``), else a small page. ``GET /id/{path}`` serves
IRIs under the configured base (``SMT_LINKED_DATA_BASE``, default ``http://data.esante.gouv.fr/``): the IRI
names a concept, not a document, so it answers ``303 See Other`` to its description at ``/concept`` (to the
concept's page directly when a browser asks for HTML).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from fhir_api.answers import status_of
from fhir_api.deps import visible_registry
from fhir_api.error_docs import detail_responses
from fhir_api.releases import conditional
from fhir_api.ui.concept_links import page_for_iri
from smt.errors import RdfUnavailable
from smt.publish.concept_html import concept_href, render
from smt.publish.conneg import negotiate
from smt.publish.http_cache import Validators, file_time
from smt.publish.linked_data import ALL_VERSIONS, View, id_base, view
from smt.publish.rdf_read import DATASET_SYNTAXES, RDF_SYNTAXES, serialize
from smt.releases.registry import Registry
from smt.store.releases import MANIFEST

router = APIRouter(tags=["linked data"])
MAX_IRI = 4096
"""Characters of an IRI or version parameter at most."""
SYNTAXES = {**RDF_SYNTAXES, **DATASET_SYNTAXES}
HTML = "text/html"
OFFERS = [*(s.media_type for s in SYNTAXES.values()), HTML, "application/xhtml+xml"]


def _media_type(request: Request, fmt: str | None) -> str:
    if fmt:
        if fmt == "html":
            return HTML
        if fmt not in SYNTAXES:
            raise HTTPException(400, f"unknown format {fmt}; formats: {', '.join([*SYNTAXES, 'html'])}")
        return SYNTAXES[fmt].media_type
    chosen = negotiate(request.headers.get("accept"), OFFERS)
    if chosen is None:
        raise HTTPException(406, "acceptable formats: " + ", ".join(OFFERS))
    return HTML if chosen == "application/xhtml+xml" else chosen


def _view(registry: Registry, iri: str, version: str | None) -> View | None:
    try:
        return view(registry.store.rdf_dir, registry, iri, version)
    except RdfUnavailable as exc:
        raise HTTPException(status_of(exc), str(exc)) from None
    except ValueError as exc:  # not an IRI
        raise HTTPException(400, f"invalid IRI {iri!r}: {exc}") from None


def _validators(found: View, media_type: str) -> Validators:
    tag = "|".join(f"{r.id}:{r.status}" for r in found.chosen) + f"|{found.iri}|{media_type}"
    modified = max(file_time(r.path / MANIFEST) for r in found.chosen)
    return Validators(f'"{hashlib.sha256(tag.encode()).hexdigest()[:32]}"', modified)


def _concept_page(registry: Registry, iri: str, version: str | None) -> Response | None:
    """A browser asking for a concept IRI in HTML gets the concept's page of the web interface."""
    page = page_for_iri(registry, iri, version) if version != ALL_VERSIONS else None
    return RedirectResponse(page, status_code=303, headers={"Vary": "Accept"}) if page else None


@router.get("/concept", responses=detail_responses(404, 406, 503))
def concept(request: Request, iri: Annotated[str, Query(max_length=MAX_IRI)],
            version: Annotated[str | None, Query(max_length=MAX_IRI)] = None,
            fmt: Annotated[str | None, Query(alias="format", max_length=MAX_IRI)] = None) -> Response:
    """The description of ``iri`` in the negotiated format (HTML: the concept's page when it is a concept)."""
    media_type = _media_type(request, fmt)
    registry = visible_registry(request)
    if media_type == HTML and (page := _concept_page(registry, iri, version)) is not None:
        return page
    found = _view(registry, iri, version)
    if found is None:
        suffix = f" in version {version}" if version else ""
        raise HTTPException(404, f"no release served here describes <{iri}>{suffix}")
    validators = _validators(found, media_type)
    headers = {**validators.headers(), "Vary": "Accept"}
    cached = conditional(request, validators)
    if cached is not None:
        cached.headers["Vary"] = "Accept"
        return cached
    if media_type == HTML:
        return Response(render(found, version), media_type="text/html; charset=utf-8", headers=headers)
    syntax = next(s for s in SYNTAXES.values() if s.media_type == media_type)
    statements = found.quads if syntax.name in DATASET_SYNTAXES else found.triples()
    return Response(serialize(statements, syntax), media_type=media_type, headers=headers)


@router.get("/id/{path:path}", responses=detail_responses(404, 503))
def dereference(path: str, request: Request) -> Response:
    """An IRI under the linked-data base: 303 to its description (404 when nothing describes it)."""
    iri = id_base() + path
    registry = visible_registry(request)
    fmt = request.query_params.get("format")
    if _media_type(request, fmt) == HTML and (page := _concept_page(registry, iri, request.query_params.get(
            "version"))) is not None:
        return page
    found = _view(registry, iri, request.query_params.get("version"))
    if found is None:
        raise HTTPException(404, f"no release served here describes <{iri}>")
    params = {k: v for k, v in request.query_params.items() if k in ("version", "format")}
    return RedirectResponse(concept_href(iri, **params), status_code=303, headers={"Vary": "Accept"})
