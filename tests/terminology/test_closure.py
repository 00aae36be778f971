"""``POST /fhir/$closure`` as the FHIR terminology service describes it: initialise a table, add concepts and
receive the new subsumption relations, resynchronise from a version. Real CIM-10 FR and CISP-2 hierarchies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from tests.alignments.test_conceptmap import aligned_home
from tests.fhir_validation import assert_valid_fhir

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CISP = "https://smt.esante.gouv.fr/terminologie-cisp"
OP = "/fhir/$closure"

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def home(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return aligned_home(tmp_path_factory)


@pytest.fixture(scope="module")
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(home), raise_server_exceptions=False) as test_client:
        yield test_client


def closure(client: TestClient, name: str, *concepts: tuple[str, str], version: str | None = None,
            status: int = 200) -> dict:
    items: list[dict] = [{"name": "name", "valueString": name}]
    items += [{"name": "concept", "valueCoding": {"system": s, "code": c}} for s, c in concepts]
    if version is not None:
        items.append({"name": "version", "valueString": version})
    response: httpx.Response = client.post(OP, json={"resourceType": "Parameters", "parameter": items},
                                           headers={"content-type": "application/fhir+json"})
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid_fhir(body)
    return body


def relations(concept_map: dict) -> set[tuple[str, str, str, str]]:
    """(system, source code, equivalence, target code) of every entry of a $closure answer."""
    return {(g["source"], e["code"], t["equivalence"], t["code"])
            for g in concept_map.get("group", []) for e in g["element"] for t in e["target"]}


def test_closure_table_flow(client: TestClient, home: Path) -> None:
    initial = closure(client, "problems")
    assert (initial["resourceType"], initial["version"]) == ("ConceptMap", "0") and "group" not in initial

    first = closure(client, "problems", (CIM10, "E11.9"))
    assert first["version"] == "1" and relations(first) == set()  # alone in the table: nothing to relate

    second = closure(client, "problems", (CIM10, "E11"), (CIM10, "E10-E14"), (CISP, "T90"))
    assert second["version"] == "2"
    assert relations(second) == {(CIM10, "E11.9", "subsumes", "E11"), (CIM10, "E11.9", "subsumes", "E10-E14"),
                                 (CIM10, "E11", "subsumes", "E10-E14")}

    third = closure(client, "problems", (CIM10, "E119"), (CISP, "T"), (CIM10, "E11"))  # E119 = E11.9: known
    assert third["version"] == "3"
    assert relations(third) == {(CISP, "T90", "subsumes", "T")}

    again = closure(client, "problems", (CIM10, "E11"))
    assert again["version"] == "3" and relations(again) == set()  # nothing new: same version

    replay = closure(client, "problems", version="1")  # the client lost the answers of versions 2 and 3
    assert replay["version"] == "3" and relations(replay) == relations(second) | relations(third)
    assert relations(closure(client, "problems", version="3")) == set()
    assert (home / "closure" / "closure.sqlite").is_file()


def test_tables_persist_across_server_restarts(home: Path) -> None:
    with TestClient(create_app(home)) as first:
        closure(first, "persisted")
        closure(first, "persisted", (CIM10, "I10"), (CIM10, "I10-I15"))
    with TestClient(create_app(home)) as second:
        replay = closure(second, "persisted", version="0")
    assert replay["version"] == "1"
    assert relations(replay) == {(CIM10, "I10", "subsumes", "I10-I15")}


def test_initialising_again_resets_the_table(client: TestClient) -> None:
    closure(client, "reset")
    closure(client, "reset", (CIM10, "J45"), (CIM10, "J45.0"))
    assert closure(client, "reset")["version"] == "0"
    assert relations(closure(client, "reset", version="0")) == set()


def test_errors(client: TestClient) -> None:
    unknown = closure(client, "never-initialised", (CIM10, "E11"), status=404)
    assert unknown["issue"][0]["code"] == "not-found" and "initialise" in unknown["issue"][0]["details"]["text"]
    closure(client, "strict")
    bad_code = closure(client, "strict", (CIM10, "E11"), (CIM10, "NOPE"), status=404)
    assert "NOPE" in bad_code["issue"][0]["details"]["text"]
    assert closure(client, "strict", version="0")["version"] == "0"  # the failed call changed nothing
    assert closure(client, "strict", (CIM10, "E11"), version="x", status=400)["issue"][0]["code"] == "invalid"
    no_name = client.post(OP, json={"resourceType": "Parameters", "parameter": []})
    assert no_name.status_code == 400 and no_name.json()["issue"][0]["code"] == "required"
    assert client.get(OP, params={"name": "problems"}).status_code == 405  # not idempotent: POST only
