"""NOS over the FHIR API: retired TRE codes are reported inactive; ROR value sets expand in French."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from loaders import run_loader
from smt.compile import writable_store
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir

pytestmark = pytest.mark.shared_data

R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
J19 = "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("nos-api")
    writable_store(home).load_many(run_loader("nos", shared_data / "nos-ror" / "fhir-json" / "IG-NOS" / "ig"))
    with curator_client(home) as test_client:
        yield test_client


def parameters(body: dict) -> dict:
    assert_valid_fhir(body)
    return {p["name"]: next((v for k, v in p.items() if k.startswith("value")), None) for p in body["parameter"]}


def test_retired_tre_r02_code_is_reported_inactive(client: TestClient) -> None:
    retired = parameters(client.get("/fhir/CodeSystem/$validate-code", params={"url": R02, "code": "SA11"}).json())
    assert retired["result"] is True and retired["inactive"] is True
    active = parameters(client.get("/fhir/CodeSystem/$validate-code", params={"url": R02, "code": "SA01"}).json())
    assert active["result"] is True and "inactive" not in active


def test_ror_value_set_j19_expands_to_37_french_concepts(client: TestClient) -> None:
    body = client.get("/fhir/ValueSet/$expand", params={"url": J19}).json()
    assert_valid_fhir(body)
    contains = body["expansion"]["contains"]
    assert body["expansion"]["total"] == len(contains) == 37
    displays = {c["code"]: c["display"] for c in contains}
    assert displays["01"] == "Accueil Permanence des soins en établissement de santé"
