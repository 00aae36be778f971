"""SNOMED CT editions and versions side by side, served by the real app.

One store holds the real International subset (snapshot), a Delta applied on top of it (a new version of the
same edition) and a French translation extension (its own edition). Each still answers by its version URI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders.snomed import load
from smt.compile import writable_store
from tests.factories import write_rf2
from tests.loaders.test_loader_snomed import (
    DESCRIPTION_HEADER,
    FR_MODULE,
    FR_REFSET,
    LANGUAGE_HEADER,
    SUBSET,
    TERMINOLOGY,
)

SCT = "http://snomed.info/sct"
SNAPSHOT = "http://snomed.info/sct/31000003106/version/20250909"
DELTA = "http://snomed.info/sct/31000003106/version/20260101"
FRENCH = f"http://snomed.info/sct/{FR_MODULE}/version/20261001"
CONCEPT_HEADER = "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId"


def _delta(folder: Path) -> Path:
    """Inactivates 90650008 and adds a new preferred synonym to 367430006, in the subset's module."""
    write_rf2(folder, "sct2_Concept_Delta_INT_20260101.txt", CONCEPT_HEADER,
              "90650008\t20260101\t0\t31000003106\t900000000000074008")
    write_rf2(folder, "sct2_Description_Delta-en_INT_20260101.txt", DESCRIPTION_HEADER,
              "492024016\t20260101\t1\t31000003106\t367430006\ten\t900000000000013009\tHand tendon repair"
              "\t900000000000448009")
    return folder


def _french(folder: Path) -> Path:
    """A French translation module: one preferred French synonym for 367430006 in a French language refset."""
    write_rf2(folder / TERMINOLOGY, "sct2_Description_Snapshot-fr_FR_20261001.txt", DESCRIPTION_HEADER,
              f"99991000315111\t20261001\t1\t{FR_MODULE}\t367430006\tfr\t900000000000013009\t"
              "réparation de tendon de la main\t900000000000448009")
    write_rf2(folder / "Refset", "der2_cRefset_LanguageSnapshot-fr_FR_20261001.txt", LANGUAGE_HEADER,
              f"0f1e1c2a-0000-4000-8000-000000000001\t20261001\t1\t{FR_MODULE}\t{FR_REFSET}\t99991000315111"
              "\t900000000000548007")
    return folder


@pytest.fixture(scope="module")
def client(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    subset = shared_data / SUBSET
    work = tmp_path_factory.mktemp("editions")
    home = work / "home"
    store = writable_store(home)
    (snapshot,) = load(subset)
    (delta,) = load(_delta(work / "delta"), base=subset)
    (french,) = load(_french(work / "fr"), base=subset)
    store.load_many([snapshot, delta, french])
    return TestClient(create_app(home))


def _lookup(client: TestClient, code: str, **params: str) -> dict[str, object]:
    response = client.get("/fhir/CodeSystem/$lookup", params={"system": SCT, "code": code, **params})
    assert response.status_code == 200, response.text
    found: dict[str, object] = {}
    for parameter in response.json()["parameter"]:
        if parameter["name"] == "property":
            parts = {p["name"]: p for p in parameter["part"]}
            value = next(v for k, v in parts["value"].items() if k.startswith("value"))
            found.setdefault(parts["code"]["valueCode"], value)
        elif parameter["name"] in ("display", "version"):
            found[parameter["name"]] = parameter["valueString"]
    return found


def test_every_edition_and_version_is_listed(client: TestClient) -> None:
    bundle = client.get("/fhir/CodeSystem", params={"url": SCT}).json()
    versions = {entry["resource"]["version"] for entry in bundle["entry"]}
    assert versions == {SNAPSHOT, DELTA, FRENCH}


def test_the_delta_is_a_new_version_and_the_snapshot_still_answers(client: TestClient) -> None:
    old = _lookup(client, "367430006", version=SNAPSHOT)
    new = _lookup(client, "367430006", version=DELTA)
    assert (old["version"], old["display"]) == (SNAPSHOT, "Repair of tendon of hand")
    assert (new["version"], new["display"]) == (DELTA, "Hand tendon repair")
    assert _lookup(client, "90650008", version=SNAPSHOT, property="inactive")["inactive"] is False
    assert _lookup(client, "90650008", version=DELTA, property="inactive")["inactive"] is True


def test_the_default_edition_is_the_newest_release(client: TestClient) -> None:
    assert _lookup(client, "367430006")["version"] == FRENCH  # 2026-10-01, though its module id sorts first


def test_a_module_uri_resolves_to_its_latest_version(client: TestClient) -> None:
    assert _lookup(client, "367430006", version="http://snomed.info/sct/31000003106")["version"] == DELTA
    assert _lookup(client, "367430006", version=f"http://snomed.info/sct/{FR_MODULE}")["version"] == FRENCH


def test_the_french_edition_answers_in_french_when_asked(client: TestClient) -> None:
    french = _lookup(client, "367430006", version=FRENCH, displayLanguage="fr")
    assert french["display"] == "réparation de tendon de la main"
    assert _lookup(client, "367430006", version=FRENCH)["display"] == "Repair of tendon of hand"
    english_only = _lookup(client, "367430006", version=SNAPSHOT, displayLanguage="fr")
    assert english_only["display"] == "Repair of tendon of hand"  # no French term in that edition: fallback
    expansion = client.get("/fhir/ValueSet/$expand", params={
        "url": f"{SCT}?fhir_vs=isa/367430006", "system-version": f"{SCT}|{FRENCH}", "displayLanguage": "fr"})
    assert expansion.status_code == 200, expansion.text
    contains = {c["code"]: c["display"] for c in expansion.json()["expansion"]["contains"]}
    assert contains["367430006"] == "réparation de tendon de la main"


def test_subsumption_is_answered_per_version(client: TestClient) -> None:
    for version in (SNAPSHOT, DELTA, FRENCH):
        response = client.get("/fhir/CodeSystem/$subsumes", params={
            "system": SCT, "version": version, "codeA": "71388002", "codeB": "367430006"})
        assert response.status_code == 200, response.text
        outcome = next(p["valueCode"] for p in response.json()["parameter"] if p["name"] == "outcome")
        assert outcome == "subsumes"


@pytest.mark.parametrize(("language", "display"), [
    ("en-GB", "Hypercholesterolaemia"),  # the term the en-GB language refset marks preferred
    ("en-US", "Hypercholesterolemia"),
    ("en", "Hypercholesterolemia"),  # the edition's own display
    ("en-GB;q=0.5, en-US", "Hypercholesterolemia"),
])
def test_display_is_the_preferred_term_of_the_dialect_asked_for(client: TestClient, language: str,
                                                                display: str) -> None:
    assert _lookup(client, "13644009", version=SNAPSHOT, displayLanguage=language)["display"] == display
    expansion = client.get("/fhir/ValueSet/$expand", params={
        "url": f"{SCT}?fhir_vs=isa/13644009", "system-version": f"{SCT}|{SNAPSHOT}"},
        headers={"Accept-Language": language})
    contains = {c["code"]: c["display"] for c in expansion.json()["expansion"]["contains"]}
    assert contains["13644009"] == display


def test_designations_in_the_language_asked_for_come_first(client: TestClient) -> None:
    def languages(**params: str) -> list[str]:
        response = client.get("/fhir/CodeSystem/$lookup", params={"system": SCT, "code": "367430006",
                                                                   "version": FRENCH, **params})
        return [next(p["valueCode"] for p in d["part"] if p["name"] == "language")
                for d in response.json()["parameter"] if d["name"] == "designation"]

    assert languages()[0] == "en" and "fr" in languages()
    french_first = languages(displayLanguage="fr")
    assert french_first[0] == "fr" and sorted(french_first) == sorted(languages())
