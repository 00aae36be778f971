"""ConceptMap/$translate over the real CISP-2 → CIM-10 map (and the demo maps), GET and POST, type and instance
level, R4 and R5 parameter names, inline maps, and SNOMED CT implicit maps from a real RF2 release.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from loaders.cisp2_cim10 import MAP_URL
from smt.compile import writable_store
from smt.config import data_dir
from tests.alignments.test_conceptmap import ICPC_TABLE, aligned_home
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir

CISP = "https://smt.esante.gouv.fr/terminologie-cisp"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
OP = "/fhir/ConceptMap/$translate"
ORIGIN = f"{MAP_URL}|2015-03-27"

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def client(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with curator_client(aligned_home(tmp_path_factory)) as test_client:
        yield test_client


def answer(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert_valid_fhir(body)
    return body


def value(body: dict, name: str) -> object:
    item = next(p for p in body["parameter"] if p["name"] == name)
    return next(v for k, v in item.items() if k.startswith("value"))


def matches(body: dict) -> list[dict[str, object]]:
    """Each match as {part name: value}."""
    return [{part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in p["part"]}
            for p in body["parameter"] if p["name"] == "match"]


def codes(body: dict, origin: str | None = ORIGIN) -> set[str]:
    return {m["concept"]["code"] for m in matches(body) if origin is None or m.get("source") == origin}


def post(client: TestClient, path: str, *items: tuple[str, str, object]) -> httpx.Response:
    body = {"resourceType": "Parameters", "parameter": [{"name": n, k: v} for n, k, v in items]}
    return client.post(path, json=body, headers={"content-type": "application/fhir+json"})


# -- CISP-2 → CIM-10 ----------------------------------------------------------------------------------------


def test_t90_translates_to_the_e11_family(client: TestClient) -> None:
    body = answer(client.get(OP, params={"system": CISP, "code": "T90", "targetsystem": CIM10}))
    assert value(body, "result") is True
    found = codes(body)
    assert {"E11", *(f"E11.{n}" for n in range(10))} <= found
    assert {"E14", "E14.9"} <= found and not any(code.startswith("E10") for code in found)
    e119 = next(m for m in matches(body) if m["concept"]["code"] == "E11.9" and m["source"] == ORIGIN)
    assert e119["equivalence"] == "narrower"
    assert e119["concept"] == {"system": CIM10, "version": "2021", "code": "E11.9",
                               "display": "Diabète sucré de type 2, sans complication"}


def test_reverse_from_e11_gives_t90(client: TestClient) -> None:
    body = answer(client.get(OP, params={"system": CIM10, "code": "E11", "reverse": "true", "url": MAP_URL}))
    assert value(body, "result") is True
    (match,) = matches(body)
    assert match["concept"] == {"system": CISP, "code": "T90", "display": "Diabète non insulino-dépendant"}
    assert match["equivalence"] == "wider" and match["source"] == ORIGIN  # T90 → E11 is narrower: read back, wider
    cim10_oid = "urn:oid:2.16.840.1.113883.6.3"
    by_oid = answer(client.get(OP, params={"system": cim10_oid, "code": "E11", "reverse": "true"}))
    assert codes(by_oid) == {"T90"}  # a system named by its OID (CIM-10's, in the catalogue)
    undotted = answer(client.get(OP, params={"system": CIM10, "code": "E119", "reverse": "true", "url": MAP_URL}))
    assert codes(undotted) == {"T90"}  # CIM-10 codes are accepted without their dot


def test_every_linked_rubric_translates(client: TestClient, home_info: dict) -> None:
    with ICPC_TABLE.open(encoding="utf-8") as handle:
        linked = {row["cod"]: row["icd10"] for row in csv.DictReader(handle) if row["icd10"].strip()}
    assert len(linked) == 686
    unresolved: dict[str, list[str]] = {}
    for rubric, cell in linked.items():
        body = answer(client.get(f"/fhir/ConceptMap/{home_info['id']}/$translate",
                                 params={"system": CISP, "code": rubric}))
        assert value(body, "result") is True, rubric
        listed = {code.strip() for code in cell.split(";") if code.strip()}
        found = codes(body)
        assert listed <= found, rubric
        missing = [m["concept"]["code"] for m in matches(body) if "display" not in m["concept"]]
        if missing:
            unresolved[rubric] = missing
    assert unresolved == {"U99": ["N06.9"]}  # the one target CIM-10 FR 2021 lacks (also a release warning)


@pytest.fixture(scope="module")
def home_info(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> dict:
    (info,) = writable_store(aligned_home(tmp_path_factory)).find(MAP_URL)
    return {"id": info.id, "warnings": info.warnings}


def test_post_coding_codeable_concept_and_instance_level(client: TestClient, home_info: dict) -> None:
    by_coding = answer(post(client, OP, ("url", "valueUri", MAP_URL),
                            ("coding", "valueCoding", {"system": CISP, "code": "K74"})))
    assert codes(by_coding) >= {"I20.0", "I20.9", "I24.9"}
    by_concept = answer(post(client, f"/fhir/ConceptMap/{home_info['id']}/$translate",
                             ("codeableConcept", "valueCodeableConcept",
                              {"coding": [{"system": CISP, "code": "K74"}, {"system": CISP, "code": "A01"}]})))
    assert codes(by_concept) >= {"I20.0", "R52.9"}
    versioned = answer(client.get(OP, params={"url": MAP_URL, "conceptMapVersion": "2015-03-27", "system": CISP,
                                              "code": "K74"}))
    assert codes(versioned) == codes(by_coding)


def test_all_maps_are_consulted_without_url(client: TestClient) -> None:
    body = answer(client.get(OP, params={"system": CISP, "code": "T90"}))
    origins = {m["source"] for m in matches(body)}
    assert origins == {ORIGIN, "https://smt.esante.gouv.fr/fhir/ConceptMap/demo-sssom|1.0",
                       "https://smt.esante.gouv.fr/fhir/ConceptMap/demo-fhir|2024.1"}
    snomed = answer(client.get(OP, params={"system": CISP, "code": "T90", "targetsystem": SCT}))
    assert codes(snomed, None) == {"44054006"}


def test_no_match_unmatched_and_unmapped(client: TestClient) -> None:
    none = answer(client.get(OP, params={"system": CISP, "code": "ZZ99", "url": MAP_URL}))
    assert value(none, "result") is False and "No mapping found" in str(value(none, "message"))
    demo = "https://smt.esante.gouv.fr/fhir/ConceptMap/demo-fhir"
    unmatched = answer(client.get(OP, params={"system": CISP, "code": "A97", "url": demo}))
    assert value(unmatched, "result") is False
    assert matches(unmatched) == [{"equivalence": "unmatched", "source": f"{demo}|2024.1"}]
    fixed = answer(client.get(OP, params={"system": CISP, "code": "A04", "url": demo}))  # group.unmapped
    assert value(fixed, "result") is True and codes(fixed, None) == {"R69"}
    disjoint = answer(client.get(OP, params={"system": CIM10, "code": "E10", "reverse": "true", "url": demo}))
    assert value(disjoint, "result") is False and matches(disjoint)[0]["equivalence"] == "disjoint"


def test_r5_parameter_names_get_r5_match_parts(client: TestClient) -> None:
    forward = answer(post(client, OP, ("url", "valueUri", MAP_URL), ("sourceSystem", "valueUri", CISP),
                          ("sourceCode", "valueCode", "D03"), ("targetSystem", "valueUri", CIM10)))
    (match,) = matches(forward)
    assert match == {"concept": {"system": CIM10, "version": "2021", "code": "R12", "display": "Pyrosis"},
                     "equivalence": "narrower", "originMap": ORIGIN}
    reverse = answer(post(client, OP, ("url", "valueUri", MAP_URL), ("targetSystem", "valueUri", CIM10),
                          ("targetCode", "valueCode", "R12"), ("sourceSystem", "valueUri", CISP)))
    (match,) = matches(reverse)
    assert match["concept"] == {"system": CIM10, "code": "R12"} and match["source"]["code"] == "D03"


def test_inline_concept_map(client: TestClient) -> None:
    inline = {"resourceType": "ConceptMap", "url": "http://example.org/inline", "version": "1", "status": "active",
              "group": [{"source": "http://example.org/a", "target": "http://example.org/b",
                         "element": [{"code": "x", "target": [{"code": "y", "equivalence": "equivalent"}]}]}]}
    body = answer(post(client, OP, ("conceptMap", "resource", inline), ("system", "valueUri", "http://example.org/a"),
                       ("code", "valueCode", "x")))
    assert matches(body) == [{"equivalence": "equivalent", "concept": {"system": "http://example.org/b", "code": "y"},
                              "source": "http://example.org/inline|1"}]


@pytest.mark.parametrize(("stored", "read_back"), [
    ("narrower", "wider"), ("wider", "narrower"), ("subsumes", "specializes"), ("specializes", "subsumes"),
    ("equivalent", "equivalent"), ("inexact", "inexact"), ("relatedto", "relatedto")])
def test_reverse_r4_answers_read_the_mapping_from_the_given_code(client: TestClient, stored: str,
                                                                read_back: str) -> None:
    """R4 ConceptMapEquivalence says how the target relates to the source: a reverse look-up inverts it; the
    R5 shape, which names the map's source concept, keeps the map's own."""
    inline = {"resourceType": "ConceptMap", "url": "http://example.org/inverse", "version": "1", "status": "active",
              "group": [{"source": "http://example.org/a", "target": "http://example.org/b",
                         "element": [{"code": "x", "target": [{"code": "y", "equivalence": stored}]}]}]}
    r4 = answer(post(client, OP, ("conceptMap", "resource", inline), ("system", "valueUri", "http://example.org/b"),
                     ("code", "valueCode", "y"), ("reverse", "valueBoolean", True)))
    assert [m["equivalence"] for m in matches(r4)] == [read_back]
    r5 = answer(post(client, OP, ("conceptMap", "resource", inline), ("targetSystem", "valueUri", "http://example.org/b"),
                     ("targetCode", "valueCode", "y")))
    assert [m["equivalence"] for m in matches(r5)] == [stored]


def test_errors_are_operation_outcomes(client: TestClient) -> None:
    missing = answer(client.get(OP, params={"url": MAP_URL}), 400)
    assert missing["issue"][0]["code"] == "required"
    unknown = answer(client.get(OP, params={"url": "http://example.org/none", "system": CISP, "code": "T90"}), 404)
    assert unknown["issue"][0]["code"] == "not-found"
    version = answer(client.get(OP, params={"url": MAP_URL, "conceptMapVersion": "9", "system": CISP,
                                            "code": "T90"}), 404)
    assert "no version 9" in version["issue"][0]["details"]["text"]
    assert answer(client.get("/fhir/ConceptMap/nope/$translate", params={"system": CISP, "code": "T90"}), 404)


# -- SNOMED CT implicit maps --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snomed(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The HL7 SNOMED CT subset (historical associations) plus the real ICD-10 extended map fragment."""
    pytest.importorskip("loaders.snomed")
    from loaders import run_loader

    sample = data_dir() / "snomed-sample"
    folder = tmp_path_factory.mktemp("rf2")
    for source in (sample / "hl7-tx-ecosystem-subset-INT-20250909").rglob("*.txt"):
        if source.name.startswith(("sct2_", "der2_")):
            (folder / source.name).symlink_to(source)
    extended = sample / "hermes-example-snapshot" / "Refset" / "Map"
    (folder / "der2_iisssccRefset_ExtendedMapSnapshot_INT_20230131.txt").symlink_to(
        extended / "der2_iisssccRefset_ExtendedMapSnapshot_INT_20230131.txt")
    home = tmp_path_factory.mktemp("snomed-home")
    store = writable_store(home)
    for release in run_loader("snomed", folder):
        store.load(release)
    with curator_client(home) as test_client:
        yield test_client


def test_snomed_historical_association(snomed: TestClient) -> None:
    url = f"{SCT}?fhir_cm=900000000000526001"  # REPLACED BY
    body = answer(snomed.get(OP, params={"url": url, "system": SCT, "code": "307530000"}))
    (match,) = matches(body)
    assert match["equivalence"] == "equivalent" and match["concept"]["code"] == "74400008"
    assert str(match["source"]).startswith(url + "|")


def test_snomed_extended_map_to_icd10_keeps_group_priority_rule_advice(snomed: TestClient) -> None:
    body = answer(snomed.get(OP, params={"system": SCT, "code": "211339002", "targetsystem": ICD10}))
    (item,) = [p for p in body["parameter"] if p["name"] == "match"]
    assert codes(body, None) == {"S80.8"}
    fields = {e["url"].rsplit("-", 1)[-1]: e["valueString"] for e in item["extension"]}
    assert fields == {"mapGroup": "1", "mapPriority": "1", "mapRule": "TRUE", "correlationId": "447561005",
                      "mapAdvice": "ALWAYS S80.8 | POSSIBLE REQUIREMENT FOR AN EXTERNAL CAUSE CODE",
                      "mapCategoryId": "447637006"}
    unmappable = answer(snomed.get(OP, params={"url": f"{SCT}?fhir_cm=447562003", "system": SCT,
                                               "code": "299741008"}))
    assert value(unmappable, "result") is False and matches(unmappable)[0]["equivalence"] == "unmatched"
    reverse = answer(snomed.get(OP, params={"url": f"{SCT}?fhir_cm=447562003", "system": ICD10, "code": "Q99.9",
                                            "reverse": "true"}))
    assert codes(reverse, None) == {"37535007"}
    exported = snomed.get("/fhir/ConceptMap/$export", params={"url": f"{SCT}?fhir_cm=447562003", "format": "sssom"})
    assert exported.status_code == 200 and '"mapAdvice":"ALWAYS Q99.9"' in exported.text


def test_snomed_implicit_map_with_a_code_system_as_target(snomed: TestClient) -> None:
    """``target`` naming a code system (or its all-codes implicit value set) selects the implicit maps into that
    system, as peers read it; a target scope no map has selects none."""
    replaced_by = f"{SCT}?fhir_cm=900000000000526001"
    for target in (SCT, f"{SCT}?fhir_vs"):
        body = answer(snomed.get(OP, params={"url": replaced_by, "system": SCT, "code": "307530000",
                                             "target": target}))
        assert value(body, "result") is True and codes(body, None) == {"74400008"}
    icd10 = answer(snomed.get(OP, params={"url": f"{SCT}?fhir_cm=447562003", "system": SCT, "code": "211339002",
                                          "target": ICD10}))
    assert codes(icd10, None) == {"S80.8"}
    elsewhere = answer(snomed.get(OP, params={"url": replaced_by, "system": SCT, "code": "307530000",
                                              "target": ICD10}))
    assert value(elsewhere, "result") is False and not matches(elsewhere)
