"""SPARQL on Oxigraph's own server behind SMT's checks (``SMT_SPARQL_ENDPOINT``), on loopback.

The bundled samples and a CIM-10 draft are loaded, the published graphs exported (``smt sparql export``),
``oxigraph serve-read-only`` started on the export and ``smt serve`` with ``SMT_SPARQL_ENDPOINT`` pointing at it.
The answers are compared with the in-process path (the same app without the variable); updates, drafts, the time
limit, the row and size caps and a server that is down are checked through the real HTTP stack.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from fhir_api.app import create_app
from smt.config import SAMPLES_DIR
from smt.sparql.export import MARKER
from smt.store.rdf import graph_name
from smt.store.releases import ReleaseStore
from tests.server_process import free_port, load_samples, running_server, smt_command

JSON = "application/sparql-results+json"
E11_9 = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?g ?label ?parent WHERE { GRAPH ?g { ?c skos:notation "E11.9" ; skos:prefLabel ?label ; skos:broader ?b .
  ?b skos:notation ?parent } } ORDER BY ?g ?label"""
VERSIONS = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?v WHERE { GRAPH <urn:smt:registry> { ?r owl:versionInfo ?v } } ORDER BY ?v"""
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
EVERYTHING = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
TIMEOUT = 2
OXIGRAPH_TIMEOUT = 6
"""The server's own limit (``--timeout-s``), above SMT's: SMT's is the one a caller meets."""
READY_WAIT = 60.0


def oxigraph_command() -> str | None:
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples, plus a CIM-10 draft (version 2099), loaded by the CLI; then exported."""
    path = tmp_path_factory.mktemp("sparql-server-home")
    load_samples(path)
    env = {**os.environ, "SMT_HOME": str(path)}
    source = next((SAMPLES_DIR / "cim10").glob("LIBCIM10MULTI_*.TXT"))
    subprocess.run([smt_command(), "load", "cim10", str(source), "--version", "2099", "--status", "draft"],
                   check=True, capture_output=True, env=env)
    return path


@pytest.fixture(scope="module")
def export(home: Path) -> Path:
    folder = home.parent / "sparql-export"
    done = subprocess.run([smt_command(), "sparql", "export", "--to", str(folder)], check=True,
                          capture_output=True, env={**os.environ, "SMT_HOME": str(home)})
    summary = orjson.loads(done.stdout)
    assert summary["to"] == str(folder) and summary["quads"] > 1000
    return folder


@pytest.fixture(scope="module")
def endpoint(export: Path) -> Iterator[str]:
    """``oxigraph serve-read-only`` on the export, on a free loopback port."""
    command = oxigraph_command()
    if command is None:
        pytest.skip("the oxigraph server is not installed (pip install 'smt[sparql-server]')")
    port = free_port()
    server = subprocess.Popen([command, "serve-read-only", "--location", str(export), "--bind",
                               f"127.0.0.1:{port}", "--timeout-s", str(OXIGRAPH_TIMEOUT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + READY_WAIT
        while True:
            try:
                httpx.post(url, data={"query": "ASK {}"}, timeout=5)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def proxy(home: Path, endpoint: str) -> Iterator[str]:
    """``smt serve`` forwarding its SPARQL queries to the Oxigraph server."""
    with running_server(home, {"SMT_SPARQL_ENDPOINT": endpoint, "SMT_SPARQL_TIMEOUT": str(TIMEOUT)}) as base:
        yield base


@pytest.fixture(scope="module")
def local(home: Path) -> Iterator[TestClient]:
    """The same app evaluating queries in-process (no ``SMT_SPARQL_ENDPOINT`` in this process)."""
    assert "SMT_SPARQL_ENDPOINT" not in os.environ
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        yield client


def draft_id(home: Path) -> str:
    return next(info.id for info in ReleaseStore(home).list() if info.status == "draft")


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def ask(base: str, query: str, **params: str) -> httpx.Response:
    return httpx.post(f"{base}/sparql", data={"query": query, **params}, timeout=60)


def test_the_export_holds_the_published_graphs_only(home: Path, export: Path) -> None:
    exported = orjson.loads((export / MARKER).read_bytes())
    published = {graph_name(info.id) for info in ReleaseStore(home).list() if info.status != "draft"}
    assert set(exported["graphs"]) == published | {"urn:smt:registry"}
    assert graph_name(draft_id(home)) not in exported["graphs"]


def test_a_select_answers_the_rows_of_the_in_process_path(proxy: str, local: TestClient) -> None:
    forwarded = rows(ask(proxy, E11_9))
    assert forwarded == rows(local.post("/sparql", data={"query": E11_9}))
    assert [row["label"] for row in forwarded] == ["Diabète sucré de type 2, sans complication"]
    assert forwarded[0]["parent"] == "E11"
    for fmt in ("csv", "tsv", "xml"):
        remote = ask(proxy, E11_9, format=fmt)
        here = local.post("/sparql", data={"query": E11_9, "format": fmt})
        assert remote.status_code == 200 and remote.content == here.content, fmt
        assert remote.headers["content-type"] == here.headers["content-type"]
    table = list(csv.reader(io.StringIO(ask(proxy, E11_9, format="csv").text)))
    assert table[0] == ["g", "label", "parent"] and len(table) == 2
    assert rows(ask(proxy, VERSIONS)) == rows(local.post("/sparql", data={"query": VERSIONS}))


def test_a_describe_answers_the_graph_of_the_in_process_path(proxy: str, local: TestClient) -> None:
    query = "DESCRIBE <http://data.esante.gouv.fr/atih/cim10/E11.9>"
    remote = ask(proxy, query)
    here = local.post("/sparql", data={"query": query})
    assert remote.headers["content-type"].startswith("text/turtle")
    forwarded = rdflib.Graph().parse(data=remote.text, format="turtle")
    assert len(forwarded) > 3
    assert isomorphic(forwarded, rdflib.Graph().parse(data=here.text, format="turtle"))


def test_updates_are_refused_before_the_server(proxy: str) -> None:
    update = "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }"
    for response in (ask(proxy, update),
                     httpx.post(f"{proxy}/sparql", data={"update": update}),
                     httpx.post(f"{proxy}/sparql", content=update,
                                headers={"Content-Type": "application/sparql-update"})):
        assert response.status_code == 403 and "read-only" in response.text
    assert rows(ask(proxy, "SELECT ?s WHERE { GRAPH <urn:x> { ?s ?p ?o } }")) == []


def test_a_draft_shows_nothing(proxy: str, home: Path) -> None:
    draft = graph_name(draft_id(home))
    assert rows(ask(proxy, f"SELECT ?s WHERE {{ GRAPH <{draft}> {{ ?s ?p ?o }} }} LIMIT 1")) == []
    assert rows(ask(proxy, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", **{"default-graph-uri": draft})) == []
    assert "2099" not in {row["v"] for row in rows(ask(proxy, VERSIONS))}
    assert len(rows(ask(proxy, E11_9))) == 1  # the draft's E11.9 is not there: only the 2021 one


def test_the_time_limit_cuts_a_heavy_query(proxy: str) -> None:
    response = ask(proxy, CARTESIAN)
    assert response.status_code == 503, response.text
    assert response.text == f"the query did not finish within {TIMEOUT} s and was stopped"
    assert rows(ask(proxy, VERSIONS))  # and the next query is answered


def test_the_servers_own_time_limit_answers_the_same(home: Path, endpoint: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_ENDPOINT", endpoint)
    monkeypatch.setenv("SMT_SPARQL_TIMEOUT", "60")  # above the server's --timeout-s: Oxigraph cuts the answer
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        response = client.post("/sparql", data={"query": CARTESIAN})
    assert response.status_code == 503, response.text
    assert response.text == "the query did not finish within the SPARQL server's time limit and was stopped"


def test_the_row_cap_and_the_size_cap(home: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_ENDPOINT", endpoint)
    monkeypatch.setenv("SMT_SPARQL_MAX_ROWS", "100")
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        capped = client.post("/sparql", data={"query": EVERYTHING})
        assert capped.headers["X-SPARQL-MaxRows"] == "100"
        assert len(capped.json()["results"]["bindings"]) == 100
        monkeypatch.setenv("SMT_SPARQL_MAX_ROWS", "100000")
        monkeypatch.setenv("SMT_SPARQL_MAX_MEMORY", str(64 * 1024))
        oversize = client.post("/sparql", data={"query": EVERYTHING})
        assert oversize.status_code == 503 and "larger than" in oversize.text, oversize.text


def test_a_server_that_is_down_gives_502(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_ENDPOINT", f"http://127.0.0.1:{free_port()}/query")
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        response = client.post("/sparql", data={"query": VERSIONS})
    assert response.status_code == 502
    assert response.text.startswith("the SPARQL server at http://127.0.0.1:") and "does not answer" in response.text
    assert "Traceback" not in response.text
    monkeypatch.setenv("SMT_SPARQL_ENDPOINT", "127.0.0.1:7878")  # not a URL: a configuration error, said so
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        response = client.post("/sparql", data={"query": VERSIONS})
    assert response.status_code == 502 and "SMT_SPARQL_ENDPOINT=127.0.0.1:7878" in response.text


def test_a_reader_who_may_see_a_draft_is_answered_in_process(home: Path, endpoint: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_ENDPOINT", endpoint)
    monkeypatch.setenv("SMT_STATIC_TOKENS", "adm:admin")
    with TestClient(create_app(home), raise_server_exceptions=False) as client:
        admin = client.post("/sparql", data={"query": E11_9}, headers={"Authorization": "Bearer adm"})
        anonymous = client.post("/sparql", data={"query": E11_9})
    assert graph_name(draft_id(home)) in {row["g"] for row in rows(admin)}  # the 2021 release and the draft
    assert len(rows(admin)) == 2 and len(rows(anonymous)) == 1
