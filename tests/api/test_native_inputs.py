"""Inputs that reach a parser or an engine are bounded before they can exhaust the stack, memory or time.

Over the HL7 SNOMED CT test subset, via the real app: ECL and SNOMED CT expressions nested without end, a regex
filter whose counted repeats would compile to a billion nodes, JSON nested past the decoder's depth. Each gets a
4xx OperationOutcome, and the next ordinary request is answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir

SUBSET = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
VERSION = "http://snomed.info/xsct/31000003106/version/20250909"
SCT = "http://snomed.info/sct"
ROOT = "138875005"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SUBSET.is_dir(), reason="SNOMED CT subset not under SMT_DATA_DIR"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home: Path = tmp_path_factory.mktemp("native-inputs-home")
    store = writable_store(home)
    for release in run_loader("snomed", SUBSET, version=VERSION):
        store.load(release)
    with TestClient(create_app(home), raise_server_exceptions=False) as test_client:
        yield test_client


def outcome_text(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    issue = body["issue"][0]
    return issue.get("diagnostics") or issue["details"]["text"]


def still_serving(client: TestClient) -> bool:
    ordinary = client.get("/fhir/ValueSet/$expand", params={"url": f"{SCT}?fhir_vs=ecl/<< {ROOT}", "count": "3"})
    return ordinary.status_code == 200 and len(ordinary.json()["expansion"]["contains"]) == 3


def test_ecl_nested_without_end_is_refused(client: TestClient) -> None:
    deep = "(" * 3000 + f"<< {ROOT}" + ")" * 3000
    response = client.get("/fhir/ValueSet/$expand", params={"url": f"{SCT}?fhir_vs=ecl/{deep}"})
    assert response.status_code == 400
    assert "nested more than 50 deep" in outcome_text(response)
    fifty = "(" * 50 + f"<< {ROOT}" + ")" * 50
    assert client.get("/fhir/ValueSet/$expand", params={"url": f"{SCT}?fhir_vs=ecl/{fifty}", "count": "1"}
                      ).status_code == 200
    assert still_serving(client)


def test_expressions_nested_without_end_are_not_a_crash(client: TestClient) -> None:
    deep = f"{ROOT}:" + "363698007=(" * 2000 + ROOT + ")" * 2000
    response = client.get("/fhir/CodeSystem/$lookup", params={"system": SCT, "code": deep})
    assert 400 <= response.status_code < 500, response.text[:300]
    outcome_text(response)
    assert still_serving(client)


def test_a_regex_that_would_compile_to_a_billion_nodes_is_too_costly(client: TestClient) -> None:
    value_set = {"resourceType": "ValueSet", "status": "active", "compose": {"include": [
        {"system": SCT, "filter": [{"property": "code", "op": "regex", "value": "((1{1000}){1000}){1000}"}]}]}}
    response = client.post("/fhir/ValueSet/$expand", json={"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}]})
    assert response.status_code == 422
    assert "too large" in outcome_text(response)
    value_set["compose"]["include"][0]["filter"][0]["value"] = "1[0-9]{8}"
    small = client.post("/fhir/ValueSet/$expand", json={"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}, {"name": "count", "valueInteger": 1}]})
    assert small.status_code == 200, small.text[:300]
    assert still_serving(client)


def test_json_nested_past_the_decoder_depth_is_refused(client: TestClient) -> None:
    body = b'{"resourceType": "Parameters", "parameter": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/fhir/ValueSet/$expand", content=body, headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 400
    outcome_text(response)
    assert still_serving(client)


def test_ecl_that_gathers_too_many_concepts_is_too_costly(client: TestClient) -> None:
    broad = " OR ".join([f"<< {ROOT}"] * 1500)  # each step gathers the whole subset again
    response = client.get("/fhir/ValueSet/$expand", params={"url": f"{SCT}?fhir_vs=ecl/{broad}", "count": "1"})
    assert response.status_code == 422
    assert "2,000,000 concepts" in outcome_text(response)
    assert still_serving(client)
