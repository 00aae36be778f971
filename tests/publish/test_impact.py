"""Impact of a new code system version on the stored value sets and maps: ``GET /releases/impact`` and
``CodeSystem/$impact``.

CIM-10 2020 → 2021 over the shared store: the value sets whose members change are exactly those the source
files say (the NOS JDV value sets that list CIM-10 codes, intersected with each year's codes read from the
nomensland files, and the explicit, is-a and regex test value sets evaluated in plain Python), with the codes
added and removed. Concept maps with retired codes and pinned resources are checked on a small store.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from fhir_api.app import create_app
from smt.compile import writable_store
from smt.model import CodeSystemRelease, Concept, ConceptStatus, ResourceRelease
from smt.releases.registry import Registry, normalise_system
from smt.svs.xml import parse_xml, read_svs
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir
from tests.stores import CIM10, IMPACT_VALUE_SETS, MULTI_YEAR, NOS, TEST_VS, YEAR_2021, analytics_home

CIM10_OID = "2.16.840.1.113883.6.3"


def dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def year_codes() -> dict[str, set[str]]:
    """The CIM-10 codes of 2020 and 2021, from the nomensland files (no loader)."""
    with gzip.open(MULTI_YEAR) as handle:
        codes_2020 = {dotted(r["code"]) for r in json.load(handle) if r["anseqta"] == "2020"}
    with gzip.open(YEAR_2021) as handle:
        codes_2021 = {dotted(r["code"]) for r in json.load(handle)}
    return {"2020": codes_2020, "2021": codes_2021}


def jdv_listings() -> dict[str, set[str]]:
    """Value set name (SVS ``displayName``) → the CIM-10 codes an SVS file of ``nos-ror/`` lists."""
    found: dict[str, set[str]] = {}
    for path in sorted(NOS.rglob("*.xml")):
        data = path.read_bytes()
        if b"RetrieveValueSetResponse" not in data:
            continue
        for value_set in read_svs(parse_xml(data, str(path)), str(path)):
            codes = {c.code.strip() for c in value_set.concepts if c.code_system.strip() == CIM10_OID}
            if codes:
                found[value_set.display_name] = codes
    return found


def expected_members(codes: set[str], name: str) -> set[str]:
    """The members the test value set ``name`` has among ``codes`` (plain Python, per its definition)."""
    include = IMPACT_VALUE_SETS[name]
    if "concept" in include:
        return {c["code"] for c in include["concept"]} & codes
    rule = include["filter"][0]
    if rule["op"] == "is-a":
        return {c for c in codes if c == rule["value"] or c.startswith(rule["value"] + ".")}
    return {c for c in codes if re.fullmatch(rule["value"], c)}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(analytics_home(tmp_path_factory))) as client:
        yield client


@pytest.mark.shared_data
@pytest.mark.slow
def test_impact_of_cim10_2021_lists_exactly_the_value_sets_whose_members_change(shared: TestClient) -> None:
    answer = shared.get("/releases/impact", params={"url": CIM10, "from": "2020", "to": "2021"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    codes = year_codes()
    expected: dict[str, tuple[set[str], set[str]]] = {}
    for name, listed in jdv_listings().items():
        before, after = listed & codes["2020"], listed & codes["2021"]
        if before != after:
            expected[f"JDV {name}"] = (after - before, before - after)
    for name in IMPACT_VALUE_SETS:
        before, after = expected_members(codes["2020"], name), expected_members(codes["2021"], name)
        if before != after:
            expected[TEST_VS + name] = (after - before, before - after)
    assert set(expected) >= {TEST_VS + "explicit", TEST_VS + "is-a", TEST_VS + "regex"}
    found = {}
    for item in report["value_sets"]:
        key = item["url"] if item["url"].startswith(TEST_VS) else f"JDV {item['title']}"
        found[key] = ({c["code"] for c in item["added"]}, {c["code"] for c in item["removed"]})
    assert found == expected
    assert found[TEST_VS + "is-a"][0] >= {"G82.00", "G82.51"} and found[TEST_VS + "regex"][0] >= {"U08", "U12.9"}
    registry = Registry(shared.app.state.registry.store.home).public()
    users = {r.url for r in registry.releases() if r.kind == "ValueSet" and any(
        normalise_system(i.get("system", "")) == CIM10 for i in r.resource().get("compose", {}).get("include", []))}
    assert report["summary"]["value_sets_checked"] == len(users) > len(IMPACT_VALUE_SETS) + 30
    assert report["summary"]["errors"] == 0
    assert [p["url"] for p in report["pinned"]] == [TEST_VS + "pinned"]


@pytest.mark.shared_data
@pytest.mark.slow
def test_impact_operation_answers_parameters(shared: TestClient) -> None:
    json_report = shared.get("/releases/impact", params={"url": CIM10, "from": "2020", "to": "2021"}).json()
    answer = shared.get("/fhir/CodeSystem/$impact", params={"url": CIM10, "from": "2020", "to": "2021"})
    assert answer.status_code == 200, answer.text
    parameters = answer.json()
    assert_valid_fhir(parameters)
    value_sets = {}
    for item in (p for p in parameters["parameter"] if p["name"] == "valueSet"):
        parts = item["part"]
        url = next(p["valueUri"] for p in parts if p["name"] == "url")
        value_sets[url] = {(p["name"], p["valueCoding"]["code"], p["valueCoding"]["version"]) for p in parts
                           if p["name"] in ("added", "removed")}
    assert value_sets == {v["url"]: {("added", c["code"], "2021") for c in v["added"]}
                          | {("removed", c["code"], "2020") for c in v["removed"]} for v in json_report["value_sets"]}
    release_2021 = json_report["to"]["release"]
    instance = shared.get(f"/fhir/CodeSystem/{release_2021}/$impact")  # from: the version before 2021
    assert instance.status_code == 200 and instance.json() == parameters
    unknown = shared.get("/fhir/CodeSystem/$impact", params={"url": CIM10, "from": "1999"})
    assert unknown.status_code == 404 and unknown.json()["resourceType"] == "OperationOutcome"
    missing = shared.get("/fhir/CodeSystem/$impact")
    assert missing.status_code == 400 and missing.json()["issue"][0]["code"] == "required"


@pytest.mark.shared_data
@pytest.mark.slow
def test_impact_on_the_diff_page_and_in_the_feed_entry(shared: TestClient) -> None:
    page = shared.get("/releases/diff", params={"url": CIM10, "from": "2020", "to": "2021", "format": "html"}).text
    assert 'id="impact"' in page and "Impact explicit" in page and "Impact regex" in page
    feed = etree.fromstring(shared.get("/feed.xml").content)
    atom = "{http://www.w3.org/2005/Atom}"
    release_2021 = shared.get("/releases/impact", params={"url": CIM10}).json()["to"]["release"]
    entry = next(e for e in feed.iter(f"{atom}entry") if e.findtext(f"{atom}id") == f"urn:smt:release:{release_2021}")
    assert "impact since 2020" in entry.findtext(f"{atom}summary") and "Impact is-a" in entry.findtext(f"{atom}summary")
    assert any("/releases/impact?" in (link.get("href") or "") for link in entry.iter(f"{atom}link"))


# -- concept maps and pinned resources (small store) ---------------------------------------------------------

CS = "http://example.org/impact-cs"
OTHER = "http://example.org/other-cs"


def code_system(version: str, statuses: dict[str, ConceptStatus]) -> CodeSystemRelease:
    concepts = [Concept("ROOT", "Racine", origin="t:1")]
    concepts += [Concept(code, f"Concept {code}", parents=["ROOT"], status=status, origin="t:2")
                 for code, status in statuses.items()]
    return CodeSystemRelease(url=CS, version=version, name="ImpactCS", title="Impact CS", concepts=concepts)


def concept_map(url: str, groups: list[dict]) -> ResourceRelease:
    resource = {"resourceType": "ConceptMap", "url": url, "version": "1", "name": "Map", "status": "active",
                "group": groups}
    return ResourceRelease(kind="ConceptMap", url=url, version="1", name="Map", title=url.rsplit("/", 1)[-1],
                           resource=resource)


@pytest.fixture
def small(home: Path) -> Iterator[TestClient]:
    store = writable_store(home)
    store.load(code_system("1", {"A": "active", "B": "active", "C": "active", "D": "retired"}))
    store.load(code_system("2", {"A": "active", "B": "retired", "D": "retired", "E": "active"}))
    store.load(concept_map("http://example.org/map-to", [{"source": OTHER, "target": CS, "element": [
        {"code": "x", "target": [{"code": code, "equivalence": "equivalent"} for code in ("A", "B")]},
        {"code": "y", "target": [{"code": code, "equivalence": "equivalent"} for code in ("C", "D")]}]}]))
    store.load(concept_map("http://example.org/map-from", [{"source": CS, "sourceVersion": "1", "target": OTHER,
                                                            "element": [{"code": "C", "target": [
                                                                {"code": "z", "equivalence": "equivalent"}]}]}]))
    store.load(concept_map("http://example.org/map-fine", [{"source": CS, "target": OTHER, "element": [
        {"code": "A", "target": [{"code": "z", "equivalence": "equivalent"}]}]}]))
    store.load(concept_map("http://example.org/replacements", [{"source": CS, "target": CS, "element": [
        {"code": "C", "target": [{"code": "E", "equivalence": "relatedto", "extension": [
            {"url": "https://smt.esante.gouv.fr/fhir/StructureDefinition/sssom-predicate_id",
             "valueString": "IAO:0100001"}]}]}]}]))
    with curator_client(home) as client:
        yield client


def test_maps_with_codes_the_new_version_retires_or_removes(small: TestClient) -> None:
    report = small.get("/releases/impact", params={"url": CS, "from": "1", "to": "2"}).json()
    maps = {m["url"]: m for m in report["concept_maps"]}
    assert set(maps) == {"http://example.org/map-to", "http://example.org/map-from"}
    targets = {t["code"]: (t["change"], t["replaced_by"]) for t in maps["http://example.org/map-to"]["targets"]}
    assert targets == {"B": ("retired", []), "C": ("removed", ["E"])}  # D was retired already in 1
    assert [(s["code"], s["change"]) for s in maps["http://example.org/map-from"]["sources"]] == [("C", "removed")]
    assert [p["url"] for p in report["pinned"]] == ["http://example.org/map-from"]
    assert report["value_sets"] == [] and report["summary"]["value_sets_checked"] == 0


def test_impact_defaults_and_errors(small: TestClient) -> None:
    default = small.get("/releases/impact", params={"url": CS}).json()
    assert (default["from"]["version"], default["to"]["version"]) == ("1", "2")
    first = small.get("/releases/impact", params={"url": CS, "to": "1"})
    assert first.status_code == 400 and "no version before 1" in first.text
    assert small.get("/releases/impact", params={"url": "http://example.org/nothing"}).status_code == 404
