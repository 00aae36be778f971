"""SPARQL 1.1 Protocol endpoint (read-only): ``GET /sparql?query=…`` and ``POST /sparql``.

POST takes a form (``query=…``) or an ``application/sparql-query`` body. SELECT/ASK results are JSON, XML,
CSV or TSV and CONSTRUCT/DESCRIBE results Turtle, N-Triples, RDF/XML or JSON-LD, chosen by ``Accept`` (or
``format``/``output`` = json, xml, csv, tsv, turtle, ntriples, rdfxml, jsonld). Updates are refused (403), and
``SERVICE`` unless ``SMT_SPARQL_SERVICE_ALLOW`` allows its endpoint (400); a query running past
``SMT_SPARQL_TIMEOUT`` or needing more than ``SMT_SPARQL_MAX_MEMORY`` is stopped (503); results beyond
``SMT_SPARQL_MAX_ROWS`` are cut, which the ``X-SPARQL-MaxRows`` header then says. Anonymous readers query the
published releases only; a curator's token adds its publisher's drafts, an admin's every draft. With
``SMT_SPARQL_ENDPOINT`` the queries that see no draft are forwarded to that SPARQL server (``smt.sparql.remote``),
behind the same checks and limits; 502 when it does not answer. Errors are plain text, without stack traces.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict

from fhir_api.answers import status_of
from fhir_api.deps import reader
from fhir_api.error_docs import plain_text_responses
from smt.errors import SparqlError, UpdateRefused
from smt.releases.registry import Registry
from smt.sparql.dataset import sees_drafts, visible_graphs
from smt.sparql.remote import RemoteSparql
from smt.sparql.service import FORMAT_NAMES, MAX_DATASET_GRAPHS, MAX_QUERY_CHARS, Result, Settings, SparqlService
from smt.sparql.service import Request as SparqlRequest
from smt.store.releases import ReleaseInfo

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


def remote(request: Request, endpoint: str) -> RemoteSparql:
    """The app's forwarder to the SPARQL server at ``endpoint`` (created on first use, again if it changed)."""
    found: RemoteSparql | None = getattr(request.app.state, "sparql_remote", None)
    if found is None or found.endpoint != endpoint:
        found = request.app.state.sparql_remote = RemoteSparql(endpoint)
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


def graphs_for(request: Request) -> list[str] | None:
    """The graphs this request's reader may query (None: all). Checking a token may fetch the OIDC keys: call
    this from a worker thread."""
    principal = reader(request)
    registry: Registry = request.app.state.registry
    if principal is not None and "admin" in principal.roles:
        return None

    def may_see_draft(info: ReleaseInfo) -> bool:
        return principal is not None and principal.may_write(info.publisher)

    return visible_graphs(registry.releases(), may_see_draft)


def _answer(request: Request, sparql: SparqlRequest) -> Result:
    """Run in a worker thread: who may see what, then the query — forwarded to the SPARQL server of
    ``SMT_SPARQL_ENDPOINT`` (it holds the published graphs only), or in a process of its own when there is none or
    the reader may see a draft."""
    settings = Settings.from_env()
    graphs = graphs_for(request)
    if settings.endpoint and not sees_drafts(request.app.state.registry.releases(), graphs):
        return remote(request, settings.endpoint).run(sparql, settings)
    sparql = SparqlRequest(sparql.query, sparql.accept, sparql.default_graphs, sparql.named_graphs, graphs)
    return service(request).run(sparql, settings)


async def _endpoint(request: Request) -> Response:
    try:
        query, params = await _parameters(request)
        if "update" in params:
            raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
        if not query or not query.strip():
            raise SparqlError("missing query: pass it as the query parameter or as the request body")
        sparql = SparqlRequest(query, _accept(request, params), params.getlist("default-graph-uri"),
                               params.getlist("named-graph-uri"))
        result = await run_in_threadpool(_answer, request, sparql)
    except SparqlError as exc:
        return PlainTextResponse(str(exc), status_code=status_of(exc))
    headers = {"Vary": "Accept"}
    if result.truncated:
        headers["X-SPARQL-MaxRows"] = str(result.rows)
    return Response(result.body, media_type=result.media_type, headers=headers)


ERRORS = plain_text_responses(400, 403, 406, 502, 503)
FORMATS = sorted(FORMAT_NAMES)
PARAMETERS = [
    {"name": "query", "in": "query", "description": "The SPARQL 1.1 query", "required": False,
     "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}},
    *({"name": name, "in": "query", "description": f"A graph IRI of the dataset (at most {MAX_DATASET_GRAPHS})",
       "required": False, "schema": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_DATASET_GRAPHS}}
      for name in ("default-graph-uri", "named-graph-uri")),
    *({"name": name, "in": "query", "description": "Result format (overrides Accept)", "required": False,
       "schema": {"type": "string", "enum": FORMATS}} for name in ("format", "output")),
]
FORM = {"type": "object", "properties": {"query": {"type": "string", "maxLength": MAX_QUERY_CHARS}}}
BODY = {"required": False, "content": {
    "application/x-www-form-urlencoded": {"schema": FORM},
    QUERY_TYPE: {"schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}}}}


@router.get("/sparql", responses=ERRORS, openapi_extra={"parameters": PARAMETERS})
async def sparql_get(request: Request) -> Response:
    """A query given as the ``query`` URL parameter (at most 100,000 characters; ``default-graph-uri`` and
    ``named-graph-uri`` at most 100 times each). 400: malformed query, ``SERVICE`` not allowed, over a bound;
    403: an update; 406: no acceptable format; 502: the SPARQL server of ``SMT_SPARQL_ENDPOINT`` does not answer;
    503: stopped by its time or memory limit, or too many queries."""
    return await _endpoint(request)


@router.post("/sparql", responses=ERRORS, openapi_extra={"parameters": PARAMETERS, "requestBody": BODY})
async def sparql_post(request: Request) -> Response:
    """A query given as a form or as an ``application/sparql-query`` body (same bounds and errors as GET)."""
    return await _endpoint(request)
