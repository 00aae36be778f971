"""OWL download of a code system and IHE SVS download of a value set, from the bundled samples."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient
from lxml import etree

from loaders import run_loader
from smt.compile import writable_store
from smt.config import SAMPLES_DIR
from tests.clients import curator_client

SVS = "{urn:ihe:iti:svs:2008}"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
J19 = "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("downloads")
    store = writable_store(home)
    store.load_many([*run_loader("cim10", SAMPLES_DIR / "cim10"), *run_loader("nos", SAMPLES_DIR / "nos")])
    with curator_client(home) as test_client:
        yield test_client


def release(client: TestClient, url: str) -> dict:
    return next(r for r in client.get("/releases").json()["releases"] if r["url"] == url)


def downloaded(client: TestClient, release_id: str, fmt: str) -> bytes:
    response = client.get(f"/releases/{release_id}/download/{fmt}")
    assert response.status_code == 200, response.text
    return response.content


def test_owl_download_has_a_class_per_concept_and_the_hierarchy(client: TestClient, tmp_path: Path) -> None:
    info = release(client, CIM10)
    graph = rdflib.Graph().parse(data=downloaded(client, info["id"], "owl"), format="xml")
    classes = set(graph.subjects(rdflib.RDF.type, rdflib.OWL.Class))
    assert len(classes) == info["count"]
    e119 = rdflib.URIRef("http://data.esante.gouv.fr/atih/cim10/E11.9")
    assert (e119, rdflib.RDFS.subClassOf, rdflib.URIRef("http://data.esante.gouv.fr/atih/cim10/E11")) in graph
    labels = {str(label) for label in graph.objects(e119, rdflib.RDFS.label)}
    assert labels == {"Diabète sucré de type 2, sans complication"}
    assert len(set(graph.subjects(rdflib.RDF.type, rdflib.OWL.Ontology))) == 1


def test_svs_download_of_a_value_set_gives_its_concepts(client: TestClient) -> None:
    info = release(client, J19)
    root = etree.fromstring(downloaded(client, info["id"], "svs"))
    value_set = root.find(f"{SVS}ValueSet")
    assert value_set is not None and value_set.get("id") == "1.2.250.1.213.3.4.1"
    source = etree.parse(str(SAMPLES_DIR / "nos" / "JDV_J19_ModePriseEnCharge_ROR-extrait.xml"))
    expected = {(c.get("code"), c.get("displayName")) for c in source.iter(f"{SVS}Concept")}
    served = {(c.get("code"), c.get("displayName")) for c in value_set.iter(f"{SVS}Concept")}
    assert served == expected and len(served) == 6


def test_formats_are_offered_per_resource_type(client: TestClient) -> None:
    cim10 = client.get(f"/releases/{release(client, CIM10)['id']}/download/svs")
    assert cim10.status_code == 404
    value_set = client.get(f"/releases/{release(client, J19)['id']}/download/owl")
    assert value_set.status_code == 404
