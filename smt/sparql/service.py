"""Read-only SPARQL 1.1 queries over the RDF store, each in a child process boxed in time, memory and network.

pyoxigraph cannot interrupt a running query, so every query runs in its own process (``python -m smt.sparql.service``,
a fraction of a second to start): it caps its own memory and forbids itself the network (``smt.sparql.sandbox``),
opens the store read-only, evaluates the query over the graphs its reader may see (``smt.sparql.dataset``: drafts
stay private), keeps at most ``max_rows`` results and writes them serialised. The parent waits at most ``timeout``
seconds, then kills it. Updates are refused, and ``SERVICE`` clauses unless their endpoint is allowed
(``smt.sparql.federation``). The default graph is the union of every visible graph (``default-graph-uri`` narrows
it).

Settings (environment, read per query): ``SMT_SPARQL_TIMEOUT`` (seconds, default 10), ``SMT_SPARQL_MAX_ROWS``
(default 10,000), ``SMT_SPARQL_WORKERS`` (concurrent queries, default 4), ``SMT_SPARQL_MAX_MEMORY`` (bytes of
memory per query, default 1 GiB; 0: no cap), ``SMT_SPARQL_SERVICE_ALLOW`` (endpoints ``SERVICE`` may call,
default none), ``SMT_SPARQL_ENDPOINT`` (a SPARQL server to forward queries to instead, ``smt.sparql.remote``).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import orjson
import pyoxigraph as ox

from smt.errors import (
    Busy,
    MemoryLimit,
    NotAcceptable,
    QueryFailed,
    QueryTimeout,
    SparqlError,
    UpdateRefused,
)
from smt.publish.conneg import negotiate
from smt.publish.rdf_read import RDF_SYNTAXES, open_read_only, serialize
from smt.sparql import process, sandbox
from smt.sparql.dataset import dataset_options
from smt.sparql.federation import allowed_endpoints, check_federation

log = logging.getLogger("smt.sparql")

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SOLUTION_TYPES = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {s.media_type: s.name for s in RDF_SYNTAXES.values()}
FORMAT_NAMES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle",
                "ntriples": "application/n-triples", "rdfxml": "application/rdf+xml", "jsonld": "application/ld+json"}
MEDIA_TYPES = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
               "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
_UPDATE = re.compile(r"^\s*(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b", re.IGNORECASE)
_PROLOGUE = re.compile(r"^\s*(#[^\n]*\n|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)", re.IGNORECASE)


DEFAULT_MAX_MEMORY = 1 << 30
ENDPOINT = "SMT_SPARQL_ENDPOINT"
MAX_QUERY_CHARS = 100_000
"""Characters of a query at most (400 beyond)."""
MAX_DATASET_GRAPHS = 100
"""``default-graph-uri`` or ``named-graph-uri`` values of one request at most (400 beyond)."""


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 10.0
    max_rows: int = 10_000
    workers: int = 4
    max_memory: int = DEFAULT_MAX_MEMORY
    service_allow: tuple[str, ...] = ()
    endpoint: str | None = None
    """A SPARQL server the queries are forwarded to (``smt.sparql.remote``); None: evaluated here."""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(float(os.environ.get("SMT_SPARQL_TIMEOUT", "10")),
                   int(os.environ.get("SMT_SPARQL_MAX_ROWS", "10000")),
                   int(os.environ.get("SMT_SPARQL_WORKERS", "4")),
                   int(os.environ.get("SMT_SPARQL_MAX_MEMORY", str(DEFAULT_MAX_MEMORY))),
                   allowed_endpoints(), os.environ.get(ENDPOINT) or None)


@dataclass(frozen=True, slots=True)
class Request:
    """A query with the protocol's dataset parameters and the client's ``Accept`` preferences.

    ``graphs``: the graphs its reader may see (``smt.sparql.dataset.visible_graphs``); None: every graph.
    """

    query: str
    accept: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    graphs: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Result:
    media_type: str
    body: bytes
    rows: int
    truncated: bool
    peak_memory: int = 0
    """Peak resident memory of the query process, in bytes."""


def is_update(text: str) -> bool:
    """True when ``text`` is a SPARQL Update request (after its prologue)."""
    rest = text
    while match := _PROLOGUE.match(rest):
        rest = rest[match.end():]
    return bool(_UPDATE.match(rest))


def accepted_formats(accept: str | None) -> tuple[str | None, str | None]:
    """The result format for solutions and for graphs the client accepts (None: not acceptable)."""
    solutions = negotiate(accept, list(SOLUTION_TYPES))
    graphs = negotiate(accept, list(GRAPH_TYPES))
    return (SOLUTION_TYPES[solutions] if solutions else None), (GRAPH_TYPES[graphs] if graphs else None)


# -- serialisation (in the child) ---------------------------------------------------------------------------


def _json_term(term: object) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        item = {"type": "literal", "value": term.value}
        if term.language:
            item["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            item["datatype"] = term.datatype.value
        return item
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    return {"type": "literal", "value": str(term)}


def _xml_term(term: object) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _csv_term(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


def solutions_body(fmt: str, variables: list[str], rows: list[ox.QuerySolution]) -> bytes:
    """SELECT results in the SPARQL 1.1 JSON, XML, CSV or TSV results format."""
    if fmt == "json":
        bindings = [{v: _json_term(row[v]) for v in variables if row[v] is not None} for row in rows]
        return orjson.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}})
    if fmt == "xml":
        head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
        results = "".join(
            "<result>" + "".join(f"<binding name={quoteattr(v)}>{_xml_term(row[v])}</binding>"
                                 for v in variables if row[v] is not None) + "</result>"
            for row in rows)
        return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>{head}'
                f"</head><results>{results}</results></sparql>\n").encode()
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(variables)
        writer.writerows([_csv_term(row[v]) for v in variables] for row in rows)
    else:
        out.write("\t".join(f"?{v}" for v in variables) + "\n")
        for row in rows:
            out.write("\t".join("" if row[v] is None else str(row[v]) for v in variables) + "\n")
    return out.getvalue().encode()


def boolean_body(fmt: str, value: bool) -> bytes:
    if fmt == "json":
        return orjson.dumps({"head": {}, "boolean": value})
    if fmt == "xml":
        return (f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                f"<boolean>{str(value).lower()}</boolean></sparql>\n").encode()
    return f"_askResult\r\n{str(value).lower()}\r\n".encode() if fmt == "csv" else \
        f"?_askResult\n{str(value).lower()}\n".encode()


def evaluate(store_path: Path, request: Request, max_rows: int) -> Result:
    """Run the query on a fresh read-only handle and serialise at most ``max_rows`` results."""
    store = open_read_only(store_path)
    options = dataset_options(store, request.graphs, request.default_graphs, request.named_graphs)
    return results_body(store.query(request.query, **options), request.accept, max_rows)


def results_body(result: ox.QuerySolutions | ox.QueryBoolean | Iterable[ox.Triple], accept: str | None,
                 max_rows: int) -> Result:
    """Query results (solutions, a boolean, or triples: a CONSTRUCT or DESCRIBE), at most ``max_rows`` of them,
    serialised in the format ``accept`` asks for. The results are read lazily: no more than ``max_rows + 1``."""
    solutions_fmt, graph_fmt = accepted_formats(accept)
    if not isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
        if graph_fmt is None:
            raise NotAcceptable("CONSTRUCT and DESCRIBE results are given as " + ", ".join(GRAPH_TYPES))
        triples = list(islice(result, max_rows + 1))
        syntax = RDF_SYNTAXES[graph_fmt]
        return Result(syntax.media_type, serialize(triples[:max_rows], syntax), min(len(triples), max_rows),
                      len(triples) > max_rows)
    if solutions_fmt is None:
        raise NotAcceptable("SELECT and ASK results are given as " + ", ".join(SOLUTION_TYPES))
    if isinstance(result, ox.QueryBoolean):
        return Result(MEDIA_TYPES[solutions_fmt], boolean_body(solutions_fmt, bool(result)), 1, False)
    variables = [v.value for v in result.variables]
    rows = list(islice(result, max_rows + 1))
    body = solutions_body(solutions_fmt, variables, rows[:max_rows])
    return Result(MEDIA_TYPES[solutions_fmt], body, min(len(rows), max_rows), len(rows) > max_rows)


# -- the child process: ``python -m smt.sparql.service`` reads a request on stdin, answers on stdout ----------------


def _encode_request(store_path: Path, request: Request, settings: Settings) -> bytes:
    return orjson.dumps({"store": str(store_path), "query": request.query, "accept": request.accept,
                         "default_graphs": request.default_graphs, "named_graphs": request.named_graphs,
                         "graphs": request.graphs, "max_rows": settings.max_rows, "max_memory": settings.max_memory,
                         "network": bool(settings.service_allow)})


_CHILD_ERRORS: dict[str, type[SparqlError]] = {
    cls.__name__: cls for cls in (SparqlError, UpdateRefused, NotAcceptable, QueryTimeout, Busy, QueryFailed,
                                  MemoryLimit)}
"""The errors the query process reports back, by class name."""


def _error_header(kind: type[SparqlError], message: str) -> bytes:
    return orjson.dumps({"status": "error", "error": kind.__name__, "message": message}) + b"\n"


def _answer(data: bytes) -> bytes:
    """A header line (JSON) followed by the serialised results; the process boxes itself in first."""
    try:
        spec = orjson.loads(data)
        sandbox.limit_memory(spec["max_memory"])
        if not spec["network"]:
            sandbox.forbid_network()
        request = Request(spec["query"], spec["accept"], spec["default_graphs"], spec["named_graphs"],
                          spec["graphs"])
        result = evaluate(Path(spec["store"]), request, spec["max_rows"])
    except MemoryError:
        return _error_header(MemoryLimit, "out of memory")
    except SparqlError as exc:
        return _error_header(type(exc), str(exc))
    except SyntaxError as exc:
        return _error_header(SparqlError, f"invalid SPARQL query: {exc}")
    except ValueError as exc:  # e.g. a default-graph-uri that is not an IRI
        return _error_header(SparqlError, f"invalid request: {exc}")
    except Exception as exc:
        return _error_header(QueryFailed, f"the query failed ({type(exc).__name__}: {exc})")
    header = {"status": 200, "media_type": result.media_type, "rows": result.rows, "truncated": result.truncated,
              "peak_memory": process.peak_memory(os.getpid())}
    return orjson.dumps(header) + b"\n" + result.body


def main() -> None:
    sys.stdout.buffer.write(_answer(sys.stdin.buffer.read()))
    sys.stdout.buffer.flush()


# -- the parent side ----------------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class BoundedQueries:
    """Answers queries, a bounded number at a time, after the checks every query passes; ``_evaluate`` runs one."""

    def __init__(self) -> None:
        self._slots: threading.BoundedSemaphore | None = None
        self._lock = threading.Lock()

    def _semaphore(self, workers: int) -> threading.BoundedSemaphore:
        with self._lock:
            if self._slots is None:
                self._slots = threading.BoundedSemaphore(max(workers, 1))
            return self._slots

    def run(self, request: Request, settings: Settings | None = None) -> Result:
        """Answer ``request``; raises ``SparqlError`` (update, federation, syntax, not acceptable, timeout, memory,
        busy)."""
        settings = settings or Settings.from_env()
        check_request(request, settings)
        slots = self._semaphore(settings.workers)
        if not slots.acquire(timeout=settings.timeout):
            raise Busy("too many SPARQL queries are running; try again later")
        try:
            return self._evaluate(request, settings)
        finally:
            slots.release()

    def _evaluate(self, request: Request, settings: Settings) -> Result:
        raise NotImplementedError


class SparqlService(BoundedQueries):
    """Runs queries against the store at ``store_path``, each in its own process."""

    def __init__(self, store_path: Path) -> None:
        super().__init__()
        self.store_path = store_path

    def _evaluate(self, request: Request, settings: Settings) -> Result:
        finished = process.run([sys.executable, "-m", "smt.sparql.service"],
                               _encode_request(self.store_path, request, settings), settings.timeout, _child_env())
        if finished.timed_out:
            raise QueryTimeout(f"the query did not finish within {settings.timeout:g} s and was stopped")
        header, _, body = finished.stdout.partition(b"\n")
        try:
            answer = orjson.loads(header)
        except orjson.JSONDecodeError:
            raise _ended_without_answer(finished, settings) from None
        if answer.get("error") == MemoryLimit.__name__:
            raise _memory_limit(settings, finished.peak_memory)
        if answer["status"] != 200:
            raise _CHILD_ERRORS.get(answer.get("error", ""), QueryFailed)(answer["message"])
        peak = max(finished.peak_memory, answer.get("peak_memory", 0))
        return Result(answer["media_type"], body, answer["rows"], answer["truncated"], peak)


def check_request(request: Request, settings: Settings) -> None:
    """Refuse, before any process starts, what must not run: updates, federation not allowed, oversized
    requests, no acceptable format."""
    if len(request.query) > MAX_QUERY_CHARS:
        raise SparqlError(f"the query has {len(request.query):,} characters, over the limit of {MAX_QUERY_CHARS:,}")
    if max(len(request.default_graphs), len(request.named_graphs)) > MAX_DATASET_GRAPHS:
        raise SparqlError(f"at most {MAX_DATASET_GRAPHS} default-graph-uri and {MAX_DATASET_GRAPHS} "
                          "named-graph-uri values are accepted")
    if is_update(request.query):
        raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
    check_federation(request.query, settings.service_allow)
    solutions_fmt, graph_fmt = accepted_formats(request.accept)
    if solutions_fmt is None and graph_fmt is None:
        raise NotAcceptable("no SPARQL result format matches the Accept header")


_OUT_OF_MEMORY = (b"memory allocation of", b"bad_alloc", b"Resource temporarily unavailable", b"MemoryError")


def _memory_limit(settings: Settings, peak: int) -> MemoryLimit:
    log.warning("a SPARQL query reached the memory limit (peak %d MiB) and was stopped", peak >> 20)
    return MemoryLimit(f"the query needed more than {settings.max_memory / (1 << 20):,.0f} MiB of memory and was "
                       "stopped (SMT_SPARQL_MAX_MEMORY): narrow it (GRAPH, LIMIT, fewer joins)", peak)


def _ended_without_answer(finished: process.Finished, settings: Settings) -> SparqlError:
    """The error to answer when the query process ended without writing its answer."""
    aborted = finished.exit_code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL, 1)
    if settings.max_memory and aborted and any(mark in finished.stderr for mark in _OUT_OF_MEMORY):
        return _memory_limit(settings, finished.peak_memory)
    log.error("the SPARQL query process ended with code %d: %s", finished.exit_code,
              finished.stderr[-2000:].decode("utf-8", "replace"))
    return QueryFailed("the query process ended without an answer")


if __name__ == "__main__":
    main()
