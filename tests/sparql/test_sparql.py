"""SPARQL endpoint over a real store (real CISP-2 plus two versions of the demo code system), via HTTP.

Checks the protocol (GET, form POST, query body), result formats, read-only refusal, the row cap, the timeout
of an expensive query, and runs the documented example queries of docs/sparql.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
import rdflib
from fastapi.testclient import TestClient
from lxml import etree

from fhir_api.app import create_app
from loaders.cisp2 import load as load_cisp2
from smt.compile import writable_store
from smt.config import PROJECT_ROOT, data_dir
from tests.terminology.test_engine_codesystem import DEMO, demo_release

CISP2_DIR = data_dir() / "cisp2" / "chill-icpc2"
JSON = "application/sparql-results+json"
VERSIONS = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?v WHERE { GRAPH <urn:smt:registry> { ?r owl:versionInfo ?v } } ORDER BY ?v
"""
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if not CISP2_DIR.is_dir():
        pytest.skip("real CISP-2 files not under SMT_DATA_DIR")
    home = tmp_path_factory.mktemp("sparql-home")
    store = writable_store(home)
    for release in [*load_cisp2(CISP2_DIR), demo_release("1.0.0"), demo_release("2.0.0", polyhierarchy=True)]:
        store.load(release)
    with TestClient(create_app(home), raise_server_exceptions=False) as test_client:
        yield test_client


def bindings(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


pytestmark = pytest.mark.shared_data


def test_select_as_json_by_get_form_and_body(client: TestClient) -> None:
    expected = [{"v": "1.0.0"}, {"v": "2.0.0"}, {"v": "2015-12"}]
    assert bindings(client.get("/sparql", params={"query": VERSIONS})) == expected
    assert bindings(client.post("/sparql", data={"query": VERSIONS})) == expected
    body = client.post("/sparql", content=VERSIONS, headers={"Content-Type": "application/sparql-query",
                                                             "Accept": JSON})
    assert bindings(body) == expected
    head = client.get("/sparql", params={"query": VERSIONS}).json()["head"]
    assert head == {"vars": ["v"]}


def test_select_as_xml_csv_and_tsv(client: TestClient) -> None:
    xml = client.get("/sparql", params={"query": VERSIONS}, headers={"Accept": "application/sparql-results+xml"})
    assert xml.headers["content-type"].startswith("application/sparql-results+xml")
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert etree.fromstring(xml.content).xpath("//r:literal/text()", namespaces=ns) == ["1.0.0", "2.0.0", "2015-12"]
    table = client.get("/sparql", params={"query": VERSIONS}, headers={"Accept": "text/csv"})
    assert list(csv.reader(io.StringIO(table.text))) == [["v"], ["1.0.0"], ["2.0.0"], ["2015-12"]]
    tsv = client.get("/sparql", params={"query": VERSIONS, "format": "tsv"})
    assert tsv.text.splitlines() == ["?v", '"1.0.0"', '"2.0.0"', '"2015-12"']


def test_ask_construct_and_content_negotiation(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert ask.json() == {"head": {}, "boolean": True}
    query = ("CONSTRUCT { ?c <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } WHERE { GRAPH ?g { "
             "?c <http://www.w3.org/2004/02/skos/core#notation> 'T90' ; "
             "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l } }")
    turtle = client.get("/sparql", params={"query": query})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=turtle.text, format="turtle")) == 1
    ntriples = client.get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert len(rdflib.Graph().parse(data=ntriples.text, format="nt")) == 1
    assert client.get("/sparql", params={"query": query}, headers={"Accept": "image/png"}).status_code == 406


def test_updates_are_refused(client: TestClient) -> None:
    update = "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }"
    for response in (
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
        client.get("/sparql", params={"query": update}),
        client.get("/sparql", params={"query": "PREFIX x: <urn:x#> # comment\nDELETE WHERE { ?s ?p ?o }"}),
    ):
        assert response.status_code == 403, response.text
        assert "read-only" in response.text
    assert bindings(client.get("/sparql", params={"query": VERSIONS}))  # the store is untouched


def test_bad_requests_give_plain_messages(client: TestClient) -> None:
    syntax = client.get("/sparql", params={"query": "SELEC ?x WHERE { ?x ?y ?z }"})
    assert syntax.status_code == 400 and "invalid SPARQL query" in syntax.text
    assert "Traceback" not in syntax.text
    assert client.get("/sparql").status_code == 400
    bad_graph = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "default-graph-uri": "not an iri"})
    assert bad_graph.status_code == 400 and "Traceback" not in bad_graph.text
    assert client.post("/sparql", content="x", headers={"Content-Type": "text/plain"}).status_code == 400


def test_default_and_named_graph_parameters(client: TestClient) -> None:
    query = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> ?code }"
    union = int(bindings(client.get("/sparql", params={"query": query}))[0]["n"])
    graphs = [row["g"] for row in bindings(client.get("/sparql", params={
        "query": "SELECT ?g WHERE { GRAPH <urn:smt:registry> { ?g <https://smt.esante.gouv.fr/def/smt#canonicalUrl> "
                 f"\"{DEMO}\"^^<http://www.w3.org/2001/XMLSchema#anyURI> }} }}"}))]
    assert len(graphs) == 2
    one = int(bindings(client.get("/sparql", params={"query": query, "default-graph-uri": graphs[0]}))[0]["n"])
    assert one in (5, 6) and union > 800


def test_row_cap(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_MAX_ROWS", "3")
    response = client.get("/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"})
    assert len(bindings(response)) == 3
    assert response.headers["x-sparql-maxrows"] == "3"
    small = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2"})
    assert len(bindings(small)) == 2 and "x-sparql-maxrows" not in small.headers


def test_expensive_query_is_stopped_at_the_timeout(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_SPARQL_TIMEOUT", "1")
    response = client.get("/sparql", params={"query": CARTESIAN})
    assert response.status_code == 503
    assert "did not finish within 1 s" in response.text
    monkeypatch.setenv("SMT_SPARQL_TIMEOUT", "120")  # a process start alone may take a second on a busy machine
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True  # still serving


# -- the documented examples (docs/sparql.md), on the demo code system ---------------------------------------

SUBSTITUTIONS = {
    "https://smt.esante.gouv.fr/terminologie-cim-10": DEMO,
    '"2019"': '"1.0.0"',
    '"2020"': '"2.0.0"',
    "http://data.esante.gouv.fr/atih/cim10/E11.9": f"{DEMO}/A1",
}


def documented_queries() -> list[str]:
    text = (PROJECT_ROOT / "docs" / "sparql.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sparql\n(.*?)```", text, flags=re.DOTALL)
    for old, new in SUBSTITUTIONS.items():
        queries = [q.replace(old, new) for q in queries]
    return queries


def test_documented_examples_run(client: TestClient) -> None:
    versions, added, ancestors, describe = documented_queries()
    rows = bindings(client.post("/sparql", data={"query": versions}))
    assert [(r["version"], r["status"]) for r in rows] == [("1.0.0", "active"), ("2.0.0", "active")]
    assert bindings(client.post("/sparql", data={"query": added})) == [{"code": "AB", "label": "Alpha-bêta"}]
    rows = bindings(client.post("/sparql", data={"query": ancestors}))
    assert [(r["code"], r["depth"]) for r in rows] == [("A", "1"), ("ROOT", "2")]
    turtle = client.post("/sparql", data={"query": describe}, headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    notation = rdflib.URIRef("http://www.w3.org/2004/02/skos/core#notation")
    assert {str(o) for o in graph.objects(rdflib.URIRef(f"{DEMO}/A1"), notation)} == {"A1"}
