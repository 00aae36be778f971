"""Queries forwarded to a SPARQL server of their own (``SMT_SPARQL_ENDPOINT``), behind the same checks and limits.

The server is Oxigraph's ``oxigraph serve-read-only`` over an export of the published graphs
(``smt.sparql.export``; docs/sparql.md "A SPARQL server of its own"). Every query still passes ``check_request``
(updates refused, ``SERVICE`` only to allowed endpoints, sizes, an acceptable format) and takes one of
``SMT_SPARQL_WORKERS`` slots. It is posted as a SPARQL protocol form asking for SPARQL JSON results (N-Triples for
CONSTRUCT and DESCRIBE); the answer is read as it arrives — at most ``SMT_SPARQL_MAX_ROWS`` + 1 results and
``SMT_SPARQL_MAX_MEMORY`` bytes, until ``SMT_SPARQL_TIMEOUT`` seconds after the start — then serialised by
``results_body``, as a query evaluated here is: same formats, same ``X-SPARQL-MaxRows``, same errors. A server that
does not answer, or answers what cannot be read, gives ``UpstreamUnavailable`` (502).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from smt.errors import MemoryLimit, QueryTimeout, SparqlError, UpdateRefused, UpstreamUnavailable
from smt.sparql.service import BoundedQueries, Request, Result, Settings, results_body

log = logging.getLogger("smt.sparql")

ASKED = "application/sparql-results+json, application/n-triples;q=0.9"
"""What the server is asked for: the formats ``results_body`` reads back (solutions, then triples)."""
CANCELLED = b"has been cancelled"
"""What Oxigraph's server writes into an answer its own ``--timeout-s`` stopped (after a 200 status)."""
CHUNK = 1 << 16
MESSAGE_CHARS = 500
"""Characters of the server's error message passed on."""


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is an http(s) URL (the server's query URL, e.g. ``http://127.0.0.1:7878/query``); a
    misconfigured server answers 502 with this message."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UpstreamUnavailable(f"SMT_SPARQL_ENDPOINT={endpoint}: give the SPARQL server's query URL, "
                       "e.g. http://127.0.0.1:7878/query")
    return endpoint


class _Answer(io.RawIOBase):
    """The server's answer as a binary file, read as it arrives: it stops at the deadline or past ``max_bytes``
    (then ``stopped`` says why) and keeps the last bytes read (``tail``)."""

    def __init__(self, chunks: Iterator[bytes], deadline: float, max_bytes: int, settings: Settings) -> None:
        self.chunks = chunks
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.settings = settings
        self.pending = b""
        self.total = 0
        self.tail = b""
        self.stopped: SparqlError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # io.RawIOBase types it as a Buffer
        if not self.pending:
            self.pending = self._next()
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size

    def _next(self) -> bytes:
        if time.monotonic() > self.deadline:
            self.stopped = timeout(self.settings)
            raise OSError("the time limit was reached")
        chunk = next(self.chunks, b"")
        self.total += len(chunk)
        self.tail = (self.tail + chunk)[-256:]
        if self.max_bytes and self.total > self.max_bytes:
            self.stopped = MemoryLimit(f"the answer is larger than {self.max_bytes / (1 << 20):,.0f} MiB and was "
                                       "stopped (SMT_SPARQL_MAX_MEMORY): narrow the query (GRAPH, LIMIT, fewer "
                                       "variables)", self.total)
            raise OSError("the size limit was reached")
        return chunk


def timeout(settings: Settings) -> QueryTimeout:
    """The error of a query stopped at the time limit (the words of an in-process query)."""
    return QueryTimeout(f"the query did not finish within {settings.timeout:g} s and was stopped")


def _refusal(status: int, text: str, endpoint: str) -> SparqlError:
    """The error that answers a non-200 status of the server."""
    message = " ".join(text.split())[:MESSAGE_CHARS]
    if status == 400:
        return SparqlError(f"invalid SPARQL query: {message}")
    if status == 403:
        return UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
    return UpstreamUnavailable(f"the SPARQL server at {endpoint} answered {status}: {message}")


def _parsed(raw: _Answer, media_type: str, endpoint: str
            ) -> ox.QuerySolutions | ox.QueryBoolean | Iterator[ox.Triple]:
    answer = io.BufferedReader(raw, CHUNK)
    if media_type == "application/sparql-results+json":
        return ox.parse_query_results(answer, ox.QueryResultsFormat.JSON)
    if media_type == "application/n-triples":
        return (quad.triple for quad in ox.parse(answer, ox.RdfFormat.N_TRIPLES))
    raise UpstreamUnavailable(f"the SPARQL server at {endpoint} answered {media_type or 'no content type'}, "
                              f"not {ASKED}")


class RemoteSparql(BoundedQueries):
    """Forwards queries to the SPARQL server at ``endpoint`` (its query URL)."""

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.endpoint = check_endpoint(endpoint)
        self._client = httpx.Client(follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def _form(self, request: Request) -> dict[str, str | list[str]]:
        form: dict[str, str | list[str]] = {"query": request.query}
        if request.default_graphs:
            form["default-graph-uri"] = request.default_graphs
        else:
            form["union-default-graph"] = ""  # Oxigraph: the default graph is the union (as here)
        if request.named_graphs:
            form["named-graph-uri"] = request.named_graphs
        return form

    def _evaluate(self, request: Request, settings: Settings) -> Result:
        started = time.monotonic()
        try:
            with self._client.stream("POST", self.endpoint, data=self._form(request), headers={"Accept": ASKED},
                                     timeout=httpx.Timeout(settings.timeout)) as response:
                if response.status_code != 200:
                    response.read()
                    raise _refusal(response.status_code, response.text, self.endpoint)
                result = self._read(response, request, settings, started + settings.timeout)
        except httpx.HTTPError as exc:
            raise self._failed(exc, settings) from None
        log.info("SPARQL query forwarded to %s: %d results in %.3f s", self.endpoint, result.rows,
                 time.monotonic() - started)
        return result

    def _read(self, response: httpx.Response, request: Request, settings: Settings, deadline: float) -> Result:
        """The answer, re-serialised. pyoxigraph's results may only be dropped by the thread that made them: no
        exception leaves this function holding them (in its traceback)."""
        answer = _Answer(response.iter_raw(CHUNK), deadline, settings.max_memory, settings)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        parsed = _parsed(answer, media_type, self.endpoint)
        try:
            return results_body(parsed, request.accept, settings.max_rows)
        except Exception as exc:  # whatever stopped the reading: a limit, the connection, bytes that do not parse
            failure = self._unreadable(answer, settings, exc)
        del parsed
        raise failure

    def _failed(self, exc: Exception, settings: Settings) -> SparqlError:
        if isinstance(exc, httpx.ConnectTimeout):
            return UpstreamUnavailable(f"the SPARQL server at {self.endpoint} did not accept the connection "
                                       f"within {settings.timeout:g} s")
        if isinstance(exc, httpx.TimeoutException):
            return timeout(settings)
        return UpstreamUnavailable(f"the SPARQL server at {self.endpoint} does not answer "
                                   f"({type(exc).__name__}: {exc})")

    def _unreadable(self, answer: _Answer, settings: Settings, exc: Exception) -> SparqlError:
        """The error for an answer that could not be read to its end."""
        if answer.stopped is not None:
            return answer.stopped
        if isinstance(exc, SparqlError):  # not acceptable
            return type(exc)(str(exc))
        if isinstance(exc, httpx.HTTPError):
            return self._failed(exc, settings)
        if CANCELLED in answer.tail:  # the server's own time limit cut it
            return QueryTimeout("the query did not finish within the SPARQL server's time limit and was stopped")
        return UpstreamUnavailable(f"the SPARQL server at {self.endpoint} sent an answer that cannot be read "
                                   f"({type(exc).__name__}: {exc})")
