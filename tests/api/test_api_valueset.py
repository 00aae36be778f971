"""ValueSet HTTP API over real stores: read, search, $expand, $validate-code, $batch-validate-code."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from loaders import fhir as fhir_loader
from smt.compile import writable_store
from smt.formats.fhir_json import codesystem_release, resource_release
from smt.store.releases import ReleaseStore
from tests.fhir_validation import assert_valid_fhir
from tests.terminology.test_expand import CS_URL, body_code_system, include, value_set

J19 = "https://mos.esante.gouv.fr/NOS/JDV_J19-ModePriseEnCharge-ROR/FHIR/JDV-J19-ModePriseEnCharge-ROR"
R213 = "https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge"
ORGANS_URL = "http://example.org/vs/organs"


def parameters(*items: dict) -> dict:
    return {"resourceType": "Parameters", "parameter": list(items)}


def values(answer: dict) -> dict[str, object]:
    """Parameters → {name: value} (first value of each name)."""
    found: dict[str, object] = {}
    for item in answer["parameter"]:
        value = next((v for k, v in item.items() if k.startswith("value") or k == "resource"), None)
        found.setdefault(item["name"], value)
    return found


def codes(vs: dict) -> list[str]:
    out: list[str] = []
    stack = list(reversed(vs["expansion"].get("contains", [])))
    while stack:
        item = stack.pop()
        out.append(item["code"])
        stack.extend(reversed(item.get("contains", [])))
    return out


# -- hand-written store ----------------------------------------------------------------------------------------


def load_organs(store: ReleaseStore) -> None:
    """The body code system and the ``organs`` value set (its is-a organe concepts, OID 1.2.250.99.1)."""
    store.load(codesystem_release(body_code_system()))
    organs = value_set(include(("concept", "is-a", "organe")), url=ORGANS_URL)
    organs.update(name="Organs", title="Organes", identifier=[{"value": "urn:oid:1.2.250.99.1"}])
    store.load(resource_release(organs))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    home = tmp_path_factory.mktemp("small-home")
    load_organs(writable_store(home))
    return TestClient(create_app(home))


def organs_id(client: TestClient) -> str:
    return client.get("/fhir/ValueSet", params={"url": ORGANS_URL}).json()["entry"][0]["resource"]["id"]


def test_read_and_search(small: TestClient) -> None:
    rid = organs_id(small)
    read = small.get(f"/fhir/ValueSet/{rid}")
    assert read.status_code == 200 and read.json()["url"] == ORGANS_URL and read.json()["id"] == rid
    assert_valid_fhir(read.json())
    for query in ({"identifier": "1.2.250.99.1"}, {"identifier": "urn:oid:1.2.250.99.1"}, {"name": "org"},
                  {"title": "ORGANES"}, {"status": "active"}, {"version": "1"}):
        bundle = small.get("/fhir/ValueSet", params=query).json()
        assert bundle["type"] == "searchset" and bundle["total"] == 1, query
    assert small.get("/fhir/ValueSet", params={"identifier": "1.2.3"}).json()["total"] == 0
    assert_valid_fhir(small.get("/fhir/ValueSet").json())
    missing = small.get("/fhir/ValueSet/nope")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_expand_get_post_and_instance_agree(small: TestClient) -> None:
    by_get = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL}).json()
    by_post = small.post("/fhir/ValueSet/$expand", json=parameters({"name": "url", "valueUri": ORGANS_URL})).json()
    by_id = small.get(f"/fhir/ValueSet/{organs_id(small)}/$expand").json()
    assert codes(by_get) == codes(by_post) == codes(by_id) == ["organe", "coeur", "ventricule", "poumon"]
    assert_valid_fhir(by_get)
    expansion = by_get["expansion"]
    assert expansion["total"] == 4 and expansion["identifier"].startswith("urn:uuid:")
    assert {"name": "used-codesystem", "valueUri": f"{CS_URL}|1.0.0"} in expansion["parameter"]


def test_expand_parameters_are_applied_and_echoed(small: TestClient) -> None:
    answer = small.post("/fhir/ValueSet/$expand", json=parameters(
        {"name": "url", "valueUri": ORGANS_URL}, {"name": "count", "valueInteger": 2},
        {"name": "offset", "valueInteger": 1}, {"name": "displayLanguage", "valueCode": "en"},
        {"name": "includeDesignations", "valueBoolean": True}, {"name": "property", "valueString": "kind"},
    )).json()
    assert_valid_fhir(answer)
    expansion = answer["expansion"]
    assert expansion["offset"] == 1 and expansion["total"] == 4
    assert [(c["code"], c["display"]) for c in expansion["contains"]] == [("coeur", "Heart"),
                                                                          ("ventricule", "Left ventricle")]
    names = [p["name"] for p in expansion["parameter"]]
    assert {"count", "offset", "displayLanguage", "includeDesignations", "used-codesystem"} <= set(names)
    heart = expansion["contains"][0]
    assert heart["designation"][0]["value"] == "Cœur"
    kind = heart["extension"][0]["extension"]
    assert kind == [{"url": "code", "valueCode": "kind"}, {"url": "value", "valueCode": "organ"}]


def test_accept_language_header_chooses_displays(small: TestClient) -> None:
    answer = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "filter": "poumon"},
                       headers={"Accept-Language": "en"}).json()
    assert [c["display"] for c in answer["expansion"]["contains"]] == ["Lung"]


def test_hierarchical_expansion(small: TestClient) -> None:
    answer = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "excludeNested": "false"}).json()
    assert_valid_fhir(answer)
    top = answer["expansion"]["contains"]
    assert [c["code"] for c in top] == ["organe"]
    assert [c["code"] for c in top[0]["contains"]] == ["coeur", "poumon"]


def test_expand_value_set_in_body_with_tx_resource_code_system(small: TestClient) -> None:
    local = {"resourceType": "CodeSystem", "url": "http://example.org/local", "version": "3", "status": "active",
             "content": "complete", "concept": [{"code": "x", "display": "Ex"}, {"code": "y", "display": "Why"}]}
    vs = {"resourceType": "ValueSet", "status": "active",
          "compose": {"include": [{"system": "http://example.org/local"}, {"system": CS_URL, "concept": [
              {"code": "poumon"}]}]}}
    answer = small.post("/fhir/ValueSet/$expand", json=parameters(
        {"name": "valueSet", "resource": vs}, {"name": "tx-resource", "resource": local})).json()
    assert_valid_fhir(answer)
    assert codes(answer) == ["x", "y", "poumon"]
    used = [p["valueUri"] for p in answer["expansion"]["parameter"] if p["name"] == "used-codesystem"]
    assert used == ["http://example.org/local|3", f"{CS_URL}|1.0.0"]


def test_expand_errors_are_operation_outcomes(small: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = small.get("/fhir/ValueSet/$expand", params={"url": "http://example.org/vs/none"})
    assert unknown.status_code == 404
    assert unknown.json()["issue"][0]["details"]["coding"][0]["code"] == "not-found"
    assert small.get("/fhir/ValueSet/$expand").status_code == 400
    monkeypatch.setenv("SMT_EXPAND_MAX", "3")
    costly = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL})
    assert costly.status_code == 422 and costly.json()["issue"][0]["code"] == "too-costly"
    assert_valid_fhir(costly.json())
    assert small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "count": "3"}).status_code == 200
    broken = {"resourceType": "ValueSet", "status": "active",
              "compose": {"include": [{"system": CS_URL, "filter": [{"property": "concept", "op": "is-a"}]}]}}
    bad = small.post("/fhir/ValueSet/$expand", json=parameters({"name": "valueSet", "resource": broken}))
    assert bad.status_code == 400
    issue = bad.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "vs-invalid"
    assert issue["expression"] == ["ValueSet.compose.include[0].filter[0]"]
    context = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "context": "x"})
    assert context.status_code == 400 and context.json()["issue"][0]["code"] == "not-supported"


def test_validate_code_in_and_not_in(small: TestClient) -> None:
    good = small.get("/fhir/ValueSet/$validate-code",
                     params={"url": ORGANS_URL, "system": CS_URL, "code": "coeur"}).json()
    assert_valid_fhir(good)
    assert values(good)["result"] is True and values(good)["display"] == "Cœur"
    bad = small.post("/fhir/ValueSet/$validate-code", json=parameters(
        {"name": "url", "valueUri": ORGANS_URL},
        {"name": "coding", "valueCoding": {"system": CS_URL, "code": "root"}})).json()
    assert_valid_fhir(bad)
    found = values(bad)
    assert found["result"] is False
    issue = found["issues"]["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "not-in-vs"
    assert issue["expression"] == ["Coding.code"]
    by_id = small.get(f"/fhir/ValueSet/{organs_id(small)}/$validate-code",
                      params={"system": CS_URL, "code": "poumon", "display": "Lung"}).json()
    assert values(by_id)["result"] is True


def test_validate_code_against_unloaded_code_system(small: TestClient) -> None:
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/u", "status": "active",
          "compose": {"include": [{"system": "http://example.org/unloaded"}]}}
    answer = small.post("/fhir/ValueSet/$validate-code", json=parameters(
        {"name": "valueSet", "resource": vs}, {"name": "code", "valueCode": "a"},
        {"name": "system", "valueUri": "http://example.org/unloaded"})).json()
    assert_valid_fhir(answer)
    found = values(answer)
    assert found["result"] is False
    assert "could not be found" in found["message"]
    assert found["x-caused-by-unknown-system"] == "http://example.org/unloaded"
    assert found["issues"]["issue"][0]["details"]["coding"][0]["code"] == "not-found"


def test_validate_codeable_concept_and_batch(small: TestClient) -> None:
    concept = {"coding": [{"system": CS_URL, "code": "root"}, {"system": CS_URL, "code": "coeur"}]}
    answer = small.post("/fhir/ValueSet/$validate-code", json=parameters(
        {"name": "url", "valueUri": ORGANS_URL}, {"name": "codeableConcept", "valueCodeableConcept": concept})).json()
    assert_valid_fhir(answer)
    assert values(answer)["result"] is True and values(answer)["code"] == "coeur"
    batch = small.post("/fhir/ValueSet/$batch-validate-code", json=parameters(
        {"name": "url", "valueUri": ORGANS_URL},
        *({"name": "validation", "resource": parameters(
            {"name": "coding", "valueCoding": {"system": CS_URL, "code": code}})} for code in ("coeur", "root"))))
    assert batch.status_code == 200
    assert_valid_fhir(batch.json())
    results = [values(p["resource"])["result"] for p in batch.json()["parameter"]]
    assert results == [True, False]


def test_terminology_capabilities_list_expansion_parameters(small: TestClient) -> None:
    caps = small.get("/fhir/metadata", params={"mode": "terminology"}).json()
    assert_valid_fhir(caps)
    names = {p["name"] for p in caps["expansion"]["parameter"]}
    assert {"filter", "count", "offset", "activeOnly", "displayLanguage", "tx-resource",
            "force-system-version", "property", "includeDesignations"} <= names


# -- real data: NOS (ROR) and CIM-10 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nos(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    home = tmp_path_factory.mktemp("nos-home")
    store = writable_store(home)
    for release in fhir_loader.load(shared_data / "nos-ror/fhir-json/IG-NOS/ig/allNos2"):
        store.load(release)
    return TestClient(create_app(home))


@pytest.mark.shared_data
def test_nos_j19_expands_to_37_french_concepts(nos: TestClient) -> None:
    answer = nos.get("/fhir/ValueSet/$expand", params={"url": J19})
    assert answer.status_code == 200
    vs = answer.json()
    assert_valid_fhir(vs)
    contains = vs["expansion"]["contains"]
    assert vs["expansion"]["total"] == 37 and len(contains) == 37
    assert {c["system"] for c in contains} == {R213}
    displays = {c["code"]: c["display"] for c in contains}
    assert displays["01"] == "Accueil Permanence des soins en établissement de santé"
    assert displays["27"] == "Télémédecine"
    filtered = nos.get("/fhir/ValueSet/$expand", params={"url": J19, "filter": "telemedecine"}).json()
    assert codes(filtered) == ["27"]


@pytest.mark.shared_data
def test_nos_validate_code_in_and_not_in(nos: TestClient) -> None:
    good = nos.get("/fhir/ValueSet/$validate-code", params={"url": J19, "system": R213, "code": "27"}).json()
    assert values(good)["result"] is True and values(good)["display"] == "Télémédecine"
    bad = nos.get("/fhir/ValueSet/$validate-code", params={"url": J19, "system": R213, "code": "99999"}).json()
    assert values(bad)["result"] is False
    assert {i["details"]["coding"][0]["code"] for i in values(bad)["issues"]["issue"]} == {
        "not-in-vs", "invalid-code"}
    by_search = nos.get("/fhir/ValueSet", params={"url": J19}).json()
    assert by_search["total"] == 1


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_is_a_filter_over_the_real_2021_release(shared_data: Path,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    cim10 = pytest.importorskip("loaders.cim10")
    (release,) = cim10.load(shared_data / "cim10/nomensland/cim10_fr_pmsi_2021.json.gz")
    home = tmp_path_factory.mktemp("cim10-home")
    writable_store(home).load(release)
    client = TestClient(create_app(home))
    vs = {"resourceType": "ValueSet", "url": "http://example.org/vs/diabete-type-2", "status": "active",
          "compose": {"include": [{"system": release.url,
                                   "filter": [{"property": "concept", "op": "is-a", "value": "E11"}]}]}}
    answer = client.post("/fhir/ValueSet/$expand", json=parameters({"name": "valueSet", "resource": vs}))
    assert answer.status_code == 200
    found = codes(answer.json())
    expected = {c.code for c in release.concepts if c.code == "E11" or c.code.startswith("E11.")}
    assert found[0] == "E11" and set(found) == expected and len(found) > 5
    in_vs = client.post("/fhir/ValueSet/$validate-code", json=parameters(
        {"name": "valueSet", "resource": vs}, {"name": "system", "valueUri": release.url},
        {"name": "code", "valueCode": "E11.9"})).json()
    assert values(in_vs)["result"] is True
    out = client.post("/fhir/ValueSet/$validate-code", json=parameters(
        {"name": "valueSet", "resource": vs}, {"name": "system", "valueUri": release.url},
        {"name": "code", "valueCode": "E10.9"})).json()
    assert values(out)["result"] is False


def test_expand_limit_parameter_lowers_the_size_limit(small: TestClient) -> None:
    costly = small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "limit": "2"})
    assert costly.status_code == 422
    [issue] = costly.json()["issue"]
    assert issue["code"] == "too-costly" and issue["details"]["text"].endswith("(>2)")
    assert issue["extension"][0]["valueString"] == "VALUESET_TOO_COSTLY"
    assert small.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, "limit": "1000"}).status_code == 200
