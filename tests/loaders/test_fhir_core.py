"""The FHIR R4 core terminology shipped for ``smt load-samples`` (``terminologies/samples/fhir_r4_core``): every
resource passes the loader and the quality gate, and once stored its code systems and value sets answer
``$validate-code``, ``$expand`` and ``$lookup`` through the real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders import run_loader
from smt.catalogue.terminologies import entry
from smt.cli import BUNDLED_SAMPLES, CORE_FOLDER
from smt.compile import writable_store
from smt.config import SAMPLES_DIR
from smt.model import CodeSystemRelease, Release
from smt.quality import enforce

CORE = SAMPLES_DIR / CORE_FOLDER
GENDER = "http://hl7.org/fhir/administrative-gender"


@pytest.fixture(scope="module")
def core() -> list[Release]:
    return list(run_loader("fhir", CORE))


def test_every_core_resource_loads_and_passes_the_quality_gate(core: list[Release]) -> None:
    systems = [r for r in core if isinstance(r, CodeSystemRelease)]
    assert (len(systems), len(core) - len(systems)) == (1054, 1316)
    assert len({(r.url, r.version) for r in core}) == len(core)
    for release in core:
        enforce(release)  # raises on an error
    assert ("fhir", CORE_FOLDER, "active") in BUNDLED_SAMPLES and entry("fhir-r4-core").loader == "fhir"


def test_stored_core_terminology_answers(core: list[Release], tmp_path: Path) -> None:
    wanted = {GENDER, "http://hl7.org/fhir/ValueSet/administrative-gender", "http://hl7.org/fhir/publication-status"}
    writable_store(tmp_path).load_many([r for r in core if r.url in wanted], status="active", sample=True)
    client = TestClient(create_app(tmp_path))
    answer = client.get("/fhir/ValueSet/$validate-code", params={
        "url": "http://hl7.org/fhir/ValueSet/administrative-gender", "system": GENDER, "code": "female"}).json()
    found = {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in answer["parameter"]}
    assert (found["result"], found["display"], found["version"]) == (True, "Female", "4.0.1")
    expansion = client.get("/fhir/ValueSet/$expand", params={
        "url": "http://hl7.org/fhir/ValueSet/administrative-gender"}).json()["expansion"]
    assert sorted(c["code"] for c in expansion["contains"]) == ["female", "male", "other", "unknown"]
    lookup = client.get("/fhir/CodeSystem/$lookup", params={
        "system": "http://hl7.org/fhir/publication-status", "code": "retired"})
    assert lookup.status_code == 200 and "Retired" in lookup.text
