"""Reasons and replacements of retired codes: from the source (NOS ``dateFin``, SNOMED CT historical
associations), from curators (an SSSOM file of replacements through the write API), kept across versions;
served by ``$lookup``, ``$validate-code`` (after tx.fhir.org's unchanged inactive-concept warning), the implicit
replaced-by ConceptMap and the Parquet diff."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.model import REPLACED_BY, STATUS_REASON, CodeSystemRelease, Concept, ConceptProperty, ConceptStatus
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir

NOS = data_dir() / "nos-ror"
R02_FHIR = NOS / "fhir-json" / "IG-NOS" / "ig" / "allNos2" / "CodeSystem-TRE-R02-SecteurActivite.json"
R02_SVS = NOS / "svs" / "TestContenuCDA-2-41" / "jeuxDeValeurs" / "TRE_R02-SecteurActivite.xml"
R02 = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
SNOMED_SAMPLE = data_dir() / "snomed-sample" / "hl7-tx-ecosystem-subset-INT-20250909"
INACTIVE = "The concept 'SA11' has a status of retired and inactive and its use should be reviewed"
REPLACEMENTS = f"""#curie_map:
#  TRER02: {R02}/
#  IAO: http://purl.obolibrary.org/obo/IAO_
#mapping_set_id: https://smt.example.org/ConceptMap/tre-r02-remplacements
#mapping_set_version: "1"
#license: https://creativecommons.org/publicdomain/zero/1.0/
subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\tcomment
""" + "\t".join(("TRER02:SA11", "Entreprise d'intérim", "IAO:0100001", "TRER02:SA44", "Recrutement ou Gestion RH",
                 "semapv:ManualMappingCuration", "Activité reprise par le recrutement")) + "\n"

real_nos = pytest.mark.skipif(not R02_FHIR.is_file(), reason="real NOS files not under SMT_DATA_DIR")


def parameter(answer: dict, name: str) -> object:
    return next((p.get("valueString") or p.get("valueBoolean") for p in answer["parameter"] if p["name"] == name), None)


def properties(answer: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for item in answer["parameter"]:
        if item["name"] == "property":
            parts = {p["name"]: p for p in item["part"]}
            value = next(v for k, v in parts["value"].items() if k.startswith("value"))
            found.setdefault(parts["code"]["valueCode"], []).append(value)
    return found


@pytest.fixture
def nos(home: Path) -> Iterator[TestClient]:
    """TRE_R02 from its FHIR file (2023) and its SVS file (2020), served to a curator."""
    if not R02_FHIR.is_file():
        pytest.skip("real NOS files not under SMT_DATA_DIR")
    writable_store(home).load_many([*run_loader("nos", R02_FHIR), *run_loader("nos", R02_SVS)])
    with curator_client(home) as client:
        yield client


@real_nos
@pytest.mark.shared_data
def test_a_retired_nos_code_shows_its_retirement_date_and_reason(nos: TestClient) -> None:
    lookup = nos.get("/fhir/CodeSystem/$lookup", params={"system": R02, "code": "SA11"}).json()
    found = properties(lookup)
    assert found["retirementDate"] == ["2020-06-26T12:00:00+01:00"] and found["inactive"] == [True]
    assert "dateFin" in found["statusReason"][0]
    answer = nos.get("/fhir/CodeSystem/$validate-code", params={"url": R02, "code": "SA11"}).json()
    assert_valid_fhir(answer)
    message = parameter(answer, "message")
    assert message.startswith(INACTIVE + "; ")  # tx.fhir.org's warning first, word for word
    assert "The concept 'SA11' was retired on 2020-06-26 (reason: " in message and "dateFin" in message
    issues = parameter(answer, "issues") or next(p["resource"] for p in answer["parameter"] if p["name"] == "issues")
    assert [i["severity"] for i in issues["issue"]] == ["warning", "information"]
    assert parameter(answer, "result") is True
    active = nos.get("/fhir/CodeSystem/$validate-code", params={"url": R02, "code": "SA01"}).json()
    assert parameter(active, "message") is None  # nothing added to an active code


@real_nos
@pytest.mark.shared_data
def test_a_curator_replacement_appears_in_the_replaced_by_map(nos: TestClient) -> None:
    implicit = f"{R02}?fhir_cm=replaced-by"
    before = nos.get("/fhir/ConceptMap/$export", params={"url": implicit}).json()
    assert before["group"][0]["element"] == []
    files = {"file": ("r02.sssom.tsv", io.BytesIO(REPLACEMENTS.encode()), "text/tab-separated-values")}
    created = nos.post("/releases", files=files, data={"loader": "sssom"})
    assert created.status_code == 201, created.text
    draft = created.json()["releases"][0]
    assert draft["status"] == "draft"
    still = nos.get("/fhir/ConceptMap/$export", params={"url": implicit}).json()
    assert still["group"][0]["element"] == []  # a draft does not count until published
    published = nos.put(f"/fhir/ConceptMap/{draft['id']}", json={"resourceType": "ConceptMap", "status": "active"})
    assert published.status_code == 200, published.text
    replaced_by = nos.get("/fhir/ConceptMap/$export", params={"url": implicit}).json()
    assert_valid_fhir(replaced_by)
    assert replaced_by["group"][0]["element"] == [{"code": "SA11", "display": "Entreprise d'intérim", "target": [
        {"code": "SA44", "display": "Recrutement ou Gestion RH", "equivalence": "relatedto",
         "comment": "Activité reprise par le recrutement"}]}]
    translated = nos.get("/fhir/ConceptMap/$translate", params={"url": implicit, "system": R02, "code": "SA11"}).json()
    assert parameter(translated, "result") is True
    message = parameter(nos.get("/fhir/CodeSystem/$validate-code", params={"url": R02, "code": "SA11"}).json(),
                        "message")
    assert message == (INACTIVE + "; The concept 'SA11' was retired on 2020-06-26 (reason: Activité reprise par le "
                       "recrutement); replaced by 'SA44' (Recrutement ou Gestion RH)")
    lookup = properties(nos.get("/fhir/CodeSystem/$lookup", params={"system": R02, "code": "SA11"}).json())
    assert lookup["replacedBy"] == [{"system": R02, "code": "SA44", "display": "Recrutement ou Gestion RH"}]


# -- kept across versions (small code systems) -------------------------------------------------------------

CS = "http://example.org/retiring"


def release(version: str, x: Concept | None) -> CodeSystemRelease:
    concepts = [Concept("ROOT", "Racine", origin="t:1"), Concept("Y", "Nouveau", parents=["ROOT"], origin="t:2")]
    if x is not None:
        concepts.append(x)
    return CodeSystemRelease(url=CS, version=version, name="Retiring", title="Retiring", concepts=concepts)


def x_concept(status: ConceptStatus, *props: ConceptProperty) -> Concept:
    return Concept("X", "Ancien", parents=["ROOT"], status=status, properties=list(props), origin="t:3")


@pytest.fixture
def versions(home: Path) -> Iterator[TestClient]:
    """X: active in 1, retired in 2 with a reason and a replacement, retired in 3 without them, gone in 4."""
    writable_store(home).load_many([
        release("1", x_concept("active")),
        release("2", x_concept("retired", ConceptProperty(STATUS_REASON, "doublon de Y"),
                               ConceptProperty(REPLACED_BY, "Y", "code"))),
        release("3", x_concept("retired")),
        release("4", None),
    ])
    with curator_client(home) as client:
        yield client


def test_reason_and_replacement_are_kept_across_versions(versions: TestClient) -> None:
    answer = versions.get("/fhir/CodeSystem/$validate-code", params={"url": CS, "code": "X", "version": "3"}).json()
    assert parameter(answer, "message") == (
        "The concept 'X' has a status of retired and inactive and its use should be reviewed; The concept 'X' was "
        "retired in version 2 (reason: doublon de Y); replaced by 'Y' (Nouveau)")
    lookup = properties(versions.get("/fhir/CodeSystem/$lookup", params={"system": CS, "code": "X",
                                                                          "version": "3"}).json())
    assert lookup["statusReason"] == ["doublon de Y"]
    assert lookup["replacedBy"] == [{"system": CS, "code": "Y", "display": "Nouveau"}]
    only = properties(versions.get("/fhir/CodeSystem/$lookup", params={"system": CS, "code": "X", "version": "3",
                                                                        "property": "statusReason"}).json())
    assert set(only) == {"statusReason"}
    replaced_by = versions.get("/fhir/ConceptMap/$export", params={"url": f"{CS}?fhir_cm=replaced-by"}).json()
    assert [(e["code"], [t["code"] for t in e["target"]], e["target"][0]["comment"])
            for e in replaced_by["group"][0]["element"]] == [("X", ["Y"], "doublon de Y")]


def test_the_parquet_diff_carries_reason_and_replacement(versions: TestClient) -> None:
    listing = versions.get("/releases", params={"url": CS}).json()["releases"]
    second = next(r["id"] for r in listing if r["version"] == "2")
    answer = versions.get(f"/releases/{second}/download/parquet-diff")
    assert answer.status_code == 200
    frame = pl.read_parquet(io.BytesIO(answer.content))
    retired = frame.filter(pl.col("change") == "retired").to_dicts()
    assert [(r["code"], r["reason"], r["replaced_by"]) for r in retired] == [("X", "doublon de Y", ["Y"])]
    fourth = next(r["id"] for r in listing if r["version"] == "4")
    removed = pl.read_parquet(io.BytesIO(versions.get(f"/releases/{fourth}/download/parquet-diff").content))
    assert removed.filter(pl.col("change") == "removed").select("code", "reason", "replaced_by").rows() == [
        ("X", "doublon de Y", ["Y"])]


# -- SNOMED CT: historical associations, tx.fhir.org's answers unchanged --------------------------------------


@pytest.mark.shared_data
def test_snomed_associations_feed_the_replaced_by_map_but_not_the_messages(home: Path) -> None:
    if not SNOMED_SAMPLE.is_dir():
        pytest.skip("SNOMED CT sample not under SMT_DATA_DIR")
    writable_store(home).load_many(run_loader("snomed", SNOMED_SAMPLE))
    sct = "http://snomed.info/sct"
    with curator_client(home) as client:
        replaced_by = client.get("/fhir/ConceptMap/$export", params={"url": f"{sct}?fhir_cm=replaced-by"}).json()
        targets = {e["code"]: [t["code"] for t in e["target"]] for e in replaced_by["group"][0]["element"]}
        assert targets == {"307530000": ["74400008"]}  # the one active REPLACED BY member of the sample
        answer = client.get("/fhir/CodeSystem/$validate-code", params={"url": sct, "code": "307530000"}).json()
        assert parameter(answer, "message") == ("The concept '307530000' has a status of inactive and its use "
                                                "should be reviewed")
        plain = properties(client.get("/fhir/CodeSystem/$lookup", params={"system": sct, "code": "307530000"}).json())
        assert "replacedBy" not in plain
        asked = properties(client.get("/fhir/CodeSystem/$lookup", params={
            "system": sct, "code": "307530000", "property": "replacedBy"}).json())
        assert [c["code"] for c in asked["replacedBy"]] == ["74400008"]
