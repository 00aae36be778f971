"""SPARQL 1.1 Protocol endpoint (read-only): ``GET /sparql?query=…`` and ``POST /sparql``.

POST takes a form (``query=…``) or an ``application/sparql-query`` body. SELECT/ASK results are JSON, XML,
CSV or TSV and CONSTRUCT/DESCRIBE results Turtle, N-Triples, RDF/XML or JSON-LD, chosen by ``Accept`` (or
``format``/``output`` = json, xml, csv, tsv, turtle, ntriples, rdfxml, jsonld). Updates are refused (403);
a query running past ``SMT_SPARQL_TIMEOUT`` is stopped (503); results beyond ``SMT_SPARQL_MAX_ROWS`` are cut,
which the ``X-SPARQL-MaxRows`` header then says. Errors are plain text, without stack traces.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict

from fhir_api.answers import status_of
from smt.errors import SparqlError, UpdateRefused
from smt.sparql.service import FORMAT_NAMES, SparqlService
from smt.sparql.service import Request as SparqlRequest

router = APIRouter(tags=["sparql"])
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def service(request: Request) -> SparqlService:
    """The app's SPARQL service (created on first use)."""
    found = getattr(request.app.state, "sparql", None)
    if found is None:
        found = request.app.state.sparql = SparqlService(request.app.state.registry.store.rdf_dir)
    return found


def _accept(request: Request, params: MultiDict) -> str | None:
    fmt = params.get("format") or params.get("output")
    return FORMAT_NAMES.get(fmt, fmt) if fmt else request.headers.get("accept")


async def _parameters(request: Request) -> tuple[str | None, MultiDict]:
    """The query text and the protocol parameters, from the URL, a form or a query body."""
    params = MultiDict(request.query_params.multi_items())
    if request.method != "POST":
        return params.get("query"), params
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == UPDATE_TYPE:
        raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
    if media_type == QUERY_TYPE:
        return (await request.body()).decode("utf-8", errors="replace"), params
    if media_type in FORM_TYPES:
        form = await request.form()
        params = MultiDict([*params.multi_items(), *((k, v) for k, v in form.multi_items() if isinstance(v, str))])
        if "update" in params:
            raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
        return params.get("query"), params
    raise SparqlError(f"POST a form (query=…) or an {QUERY_TYPE} body, not {media_type or 'no content type'}")


async def _endpoint(request: Request) -> Response:
    try:
        query, params = await _parameters(request)
        if "update" in params:
            raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
        if not query or not query.strip():
            raise SparqlError("missing query: pass it as the query parameter or as the request body")
        sparql = SparqlRequest(query, _accept(request, params), params.getlist("default-graph-uri"),
                               params.getlist("named-graph-uri"))
        result = await run_in_threadpool(service(request).run, sparql)
    except SparqlError as exc:
        return PlainTextResponse(str(exc), status_code=status_of(exc))
    headers = {"Vary": "Accept"}
    if result.truncated:
        headers["X-SPARQL-MaxRows"] = str(result.rows)
    return Response(result.body, media_type=result.media_type, headers=headers)


@router.get("/sparql")
async def sparql_get(request: Request) -> Response:
    """A query given as the ``query`` URL parameter."""
    return await _endpoint(request)


@router.post("/sparql")
async def sparql_post(request: Request) -> Response:
    """A query given as a form or as an ``application/sparql-query`` body."""
    return await _endpoint(request)
