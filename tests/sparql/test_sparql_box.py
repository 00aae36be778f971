"""SPARQL in its box, over a real store (real CISP-2, a published demo code system, two drafts), via HTTP.

Drafts are private (anonymous readers see neither their graphs nor their registry entries; a curator sees its
publisher's, an admin all); ``SERVICE`` calls no address unless allowed; a query that needs too much memory is
stopped under the limit and the server keeps answering.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders.cisp2 import load as load_cisp2
from smt.compile import writable_store
from smt.config import PROJECT_ROOT, data_dir
from smt.model import CodeSystemRelease, Concept
from smt.sparql.service import MemoryLimit, Request, Settings, SparqlService
from smt.store.rdf import DRAFT_REGISTRY_PREFIX, REGISTRY, graph_name
from tests.terminology.test_engine_codesystem import demo_release

CISP2_DIR = data_dir() / "cisp2" / "chill-icpc2"
JSON = "application/sparql-results+json"
SECRET = "http://example.org/fhir/CodeSystem/secret"
TOKENS = "adm:admin,own:curator:SMT tests,other:curator:WONCA"
VERSIONS = "SELECT ?v WHERE { GRAPH <urn:smt:registry> { ?r <http://www.w3.org/2002/07/owl#versionInfo> ?v } }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
LABEL = "Projet confidentiel"
FIND_LABEL = f'SELECT ?c WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#prefLabel> "{LABEL}"@fr }}'
ORDERED_CARTESIAN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?e ?i"

pytestmark = pytest.mark.shared_data


def secret_draft(publisher: str) -> CodeSystemRelease:
    return CodeSystemRelease(url=f"{SECRET}-{publisher.split()[0].lower()}", version="0.1", name="Secret",
                             title="Brouillon", concepts=[Concept("S1", LABEL)], publisher=publisher,
                             status="draft")


@pytest.fixture(scope="module")
def store_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CISP2_DIR.is_dir():
        pytest.skip("real CISP-2 files not under SMT_DATA_DIR")
    home = tmp_path_factory.mktemp("sparql-box-home")
    store = writable_store(home)
    for release in [*load_cisp2(CISP2_DIR), demo_release("1.0.0"), secret_draft("SMT tests"),
                    secret_draft("WONCA")]:
        store.load(release)
    return home


@pytest.fixture(scope="module")
def client(store_home: Path) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_STATIC_TOKENS", TOKENS)
        app = create_app(store_home)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def drafts(home: Path) -> dict[str, str]:
    """Publisher → release id of each draft."""
    return {info.publisher or "": info.id for info in writable_store(home).list() if info.status == "draft"}


def values(client: TestClient, query: str, token: str | None = None, **params: str) -> list[str]:
    headers = {"Accept": JSON, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = client.get("/sparql", params={"query": query, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return sorted(v["value"] for row in response.json()["results"]["bindings"] for v in row.values())


# -- drafts are private ---------------------------------------------------------------------------------------


def test_anonymous_readers_see_nothing_of_a_draft(client: TestClient, store_home: Path) -> None:
    hidden = drafts(store_home)
    assert len(hidden) == 2
    assert "0.1" not in values(client, VERSIONS)
    assert "1.0.0" in values(client, VERSIONS)  # published releases are listed
    graphs = values(client, GRAPHS)
    assert REGISTRY in graphs and len(graphs) >= 2
    assert not [g for g in graphs if any(rid in g for rid in hidden.values())]
    assert values(client, FIND_LABEL) == []
    for release_id in hidden.values():
        assert values(client, "SELECT ?s WHERE { ?s ?p ?o }", **{"default-graph-uri": graph_name(release_id)}) == []
        assert values(client, f"SELECT ?p WHERE {{ GRAPH <{DRAFT_REGISTRY_PREFIX}{release_id}> {{ ?s ?p ?o }} }}") == []
        assert values(client, f"SELECT ?s WHERE {{ ?s ?p '{release_id}' }}") == []
    assert values(client, FIND_LABEL, token="not-a-token") == []  # an invalid token reads as anonymous


def test_curators_see_their_publishers_drafts_and_admins_all(client: TestClient, store_home: Path) -> None:
    hidden = drafts(store_home)
    own = values(client, GRAPHS, token="own")
    assert graph_name(hidden["SMT tests"]) in own and graph_name(hidden["WONCA"]) not in own
    assert len(values(client, FIND_LABEL, token="own")) == 1
    assert len(values(client, FIND_LABEL, token="other")) == 1  # WONCA's own draft
    assert len(values(client, FIND_LABEL, token="adm")) == 2
    everything = values(client, GRAPHS, token="adm")
    assert {graph_name(r) for r in hidden.values()} <= set(everything)
    assert {DRAFT_REGISTRY_PREFIX + r for r in hidden.values()} <= set(everything)


def test_a_published_draft_joins_the_registry_graph(tmp_path: Path) -> None:
    store = writable_store(tmp_path)
    store.load(demo_release("1.0.0"))
    draft = store.load(secret_draft("SMT tests"))
    with TestClient(create_app(tmp_path), raise_server_exceptions=False) as client:
        assert values(client, VERSIONS) == ["1.0.0"]
        store.set_status(draft.id, "active")
        assert values(client, VERSIONS) == ["0.1", "1.0.0"]
        assert len(values(client, FIND_LABEL)) == 1


# -- SERVICE (federation) ----------------------------------------------------------------------------------------


@contextmanager
def listening_socket() -> Iterator[tuple[socket.socket, str]]:
    """A local TCP socket that nobody accepts on: a connection attempt stays in its backlog."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}/sparql"
    finally:
        server.close()


def connections(server: socket.socket) -> int:
    """Connections made to ``server`` so far (taken from its backlog)."""
    server.setblocking(False)
    count = 0
    while True:
        try:
            server.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def test_service_calls_no_address(client: TestClient) -> None:
    with listening_socket() as (server, endpoint):
        queries = [
            f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service silent <{endpoint}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ \\u0053ERVICE <{endpoint}> {{ ?s ?p ?o }} }}",
            f"PREFIX e: <{endpoint.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ VALUES ?x {{ <{endpoint}> }} SERVICE ?x {{ ?s ?p ?o }} }}",
        ]
        for query in queries:
            response = client.get("/sparql", params={"query": query})
            assert response.status_code == 400, (query, response.text)
            assert "SERVICE" in response.text and "Traceback" not in response.text
        assert connections(server) == 0
    label = client.get("/sparql", params={"query": FIND_LABEL.replace(LABEL, "SERVICE <http://x/>")})
    assert label.status_code == 200  # the word in a string is not a clause


def test_the_query_process_has_no_network_should_a_service_get_past_the_check(store_home: Path) -> None:
    """The child alone (no parent check), sent a SERVICE query: its seccomp filter refuses the socket."""
    with listening_socket() as (server, endpoint):
        query = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        spec = {"store": str(store_home / "oxigraph"), "query": query, "accept": JSON, "default_graphs": [],
                "named_graphs": [], "graphs": None, "max_rows": 10, "max_memory": 1 << 30, "network": False}
        child = subprocess.run([sys.executable, "-m", "smt.sparql.service"], input=orjson.dumps(spec),
                               capture_output=True, check=True, cwd=PROJECT_ROOT, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        header = orjson.loads(child.stdout.partition(b"\n")[0])
        assert header["error"] == "QueryFailed" and "not permitted" in header["message"]
        assert connections(server) == 0


def test_an_operator_may_allow_service_endpoints(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    with listening_socket() as (server, endpoint):
        monkeypatch.setenv("SMT_SPARQL_SERVICE_ALLOW", endpoint.rsplit("/", 1)[0] + "/*")
        monkeypatch.setenv("SMT_SPARQL_TIMEOUT", "120")
        closer = threading.Thread(target=lambda: server.accept()[0].close())  # answers nothing: the call fails
        closer.start()
        response = client.get("/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"})
        closer.join()
        assert response.status_code == 500  # the endpoint was called (and gave no answer)
        other = client.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://10.0.0.1/s> { ?s ?p ?o } }"})
        assert other.status_code == 400 and "not allowed" in other.text


# -- memory -----------------------------------------------------------------------------------------------------


def test_a_cartesian_product_is_stopped_under_the_memory_limit(store_home: Path) -> None:
    service = SparqlService(store_home / "oxigraph")
    settings = Settings(timeout=300, max_memory=1 << 30)
    with pytest.raises(MemoryLimit) as stopped:
        service.run(Request(ORDERED_CARTESIAN, JSON), settings)
    assert 256 << 20 < stopped.value.peak_memory < 2 << 30, stopped.value.peak_memory  # it grew, then was stopped
    assert "1,024 MiB" in str(stopped.value)
    ordinary = service.run(Request("SELECT ?s WHERE { ?s ?p ?o } LIMIT 5", JSON), settings)
    assert ordinary.rows == 5 and 0 < ordinary.peak_memory < 256 << 20  # the child's own memory, not its parent's


def test_the_memory_limit_answers_503_and_the_server_goes_on(client: TestClient,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_MAX_MEMORY", str(256 << 20))
    monkeypatch.setenv("SMT_SPARQL_TIMEOUT", "300")
    response = client.get("/sparql", params={"query": ORDERED_CARTESIAN})
    assert response.status_code == 503, response.text
    assert "256 MiB of memory" in response.text and "SMT_SPARQL_MAX_MEMORY" in response.text
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_oversized_requests_are_refused_before_any_process(client: TestClient) -> None:
    long = client.post("/sparql", content="ASK { ?s ?p ?o }" + " " * 100_000,
                       headers={"Content-Type": "application/sparql-query"})
    assert long.status_code == 400 and "100,000" in long.text
    many = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }",
                                         "default-graph-uri": [f"urn:g:{n}" for n in range(101)]})
    assert many.status_code == 400 and "at most 100" in many.text
