"""Read-only SPARQL 1.1 queries over the RDF store, each in a child process killed at its deadline.

pyoxigraph cannot interrupt a running query, so every query runs in its own process (``python -m smt.sparql.service``,
a fraction of a second to start): it opens the store read-only, evaluates the query, keeps at most
``max_rows`` results and writes them serialised. The parent waits at most ``timeout`` seconds, then kills it.
Updates are refused. The default graph is the union of every graph (``default-graph-uri`` narrows it).

Settings (environment, read per query): ``SMT_SPARQL_TIMEOUT`` (seconds, default 10),
``SMT_SPARQL_MAX_ROWS`` (default 10,000), ``SMT_SPARQL_WORKERS`` (concurrent queries, default 4).
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import orjson
import pyoxigraph as ox

from smt.errors import Busy, NotAcceptable, QueryFailed, QueryTimeout, SparqlError, UpdateRefused
from smt.publish.conneg import negotiate
from smt.publish.rdf_read import RDF_SYNTAXES, open_read_only, serialize

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


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 10.0
    max_rows: int = 10_000
    workers: int = 4

    @classmethod
    def from_env(cls) -> Settings:
        return cls(float(os.environ.get("SMT_SPARQL_TIMEOUT", "10")),
                   int(os.environ.get("SMT_SPARQL_MAX_ROWS", "10000")),
                   int(os.environ.get("SMT_SPARQL_WORKERS", "4")))


@dataclass(frozen=True, slots=True)
class Request:
    """A query with the protocol's dataset parameters and the client's ``Accept`` preferences."""

    query: str
    accept: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Result:
    media_type: str
    body: bytes
    rows: int
    truncated: bool


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
    solutions_fmt, graph_fmt = accepted_formats(request.accept)
    store = open_read_only(store_path)
    options: dict = {}
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    else:
        options["use_default_graph_as_union"] = True
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    result = store.query(request.query, **options)
    if isinstance(result, ox.QueryTriples):
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


def _encode_request(store_path: Path, request: Request, max_rows: int) -> bytes:
    return orjson.dumps({"store": str(store_path), "query": request.query, "accept": request.accept,
                         "default_graphs": request.default_graphs, "named_graphs": request.named_graphs,
                         "max_rows": max_rows})


_CHILD_ERRORS: dict[str, type[SparqlError]] = {
    cls.__name__: cls for cls in (SparqlError, UpdateRefused, NotAcceptable, QueryTimeout, Busy, QueryFailed)}
"""The errors the query process reports back, by class name."""


def _error_header(kind: type[SparqlError], message: str) -> bytes:
    return orjson.dumps({"status": "error", "error": kind.__name__, "message": message}) + b"\n"


def _answer(data: bytes) -> bytes:
    """A header line (JSON) followed by the serialised results."""
    try:
        spec = orjson.loads(data)
        request = Request(spec["query"], spec["accept"], spec["default_graphs"], spec["named_graphs"])
        result = evaluate(Path(spec["store"]), request, spec["max_rows"])
    except SparqlError as exc:
        return _error_header(type(exc), str(exc))
    except SyntaxError as exc:
        return _error_header(SparqlError, f"invalid SPARQL query: {exc}")
    except ValueError as exc:  # e.g. a default-graph-uri that is not an IRI
        return _error_header(SparqlError, f"invalid request: {exc}")
    except Exception as exc:
        return _error_header(QueryFailed, f"the query failed ({type(exc).__name__}: {exc})")
    header = {"status": 200, "media_type": result.media_type, "rows": result.rows, "truncated": result.truncated}
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


class SparqlService:
    """Runs queries against the store at ``store_path``, a bounded number at a time."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self._slots: threading.BoundedSemaphore | None = None
        self._lock = threading.Lock()

    def _semaphore(self, workers: int) -> threading.BoundedSemaphore:
        with self._lock:
            if self._slots is None:
                self._slots = threading.BoundedSemaphore(max(workers, 1))
            return self._slots

    def run(self, request: Request, settings: Settings | None = None) -> Result:
        """Answer ``request``; raises ``SparqlError`` (update, syntax, not acceptable, timeout, busy)."""
        settings = settings or Settings.from_env()
        if is_update(request.query):
            raise UpdateRefused("this SPARQL endpoint is read-only: updates are not accepted")
        solutions_fmt, graph_fmt = accepted_formats(request.accept)
        if solutions_fmt is None and graph_fmt is None:
            raise NotAcceptable("no SPARQL result format matches the Accept header")
        slots = self._semaphore(settings.workers)
        if not slots.acquire(timeout=settings.timeout):
            raise Busy("too many SPARQL queries are running; try again later")
        try:
            return self._run_child(request, settings)
        finally:
            slots.release()

    def _run_child(self, request: Request, settings: Settings) -> Result:
        process = subprocess.Popen([sys.executable, "-m", "smt.sparql.service"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_child_env())
        try:
            output, _ = process.communicate(_encode_request(self.store_path, request, settings.max_rows),
                                            timeout=settings.timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise QueryTimeout(f"the query did not finish within {settings.timeout:g} s and was stopped") from None
        header, _, body = output.partition(b"\n")
        try:
            answer = orjson.loads(header)
        except orjson.JSONDecodeError:
            raise SparqlError("the query process ended without an answer") from None
        if answer["status"] != 200:
            raise _CHILD_ERRORS.get(answer.get("error", ""), QueryFailed)(answer["message"])
        return Result(answer["media_type"], body, answer["rows"], answer["truncated"])


if __name__ == "__main__":
    main()
