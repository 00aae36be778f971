"""FHIR API for code systems: metadata, CodeSystem read/search, $lookup, $validate-code, $subsumes, errors.

Real HTTP app (TestClient) over real stores: the hand-made demo releases, and CIM-10 2021 + 2019 from the
shared data folder. Every FHIR response is validated against the R4B models.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from smt.compile import writable_store
from tests.fhir_validation import assert_valid_fhir
from tests.terminology.test_engine_codesystem import DEMO, build_store

OP = "/fhir/CodeSystem"


CURATOR_TOKEN = "curator-token"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_STATIC_TOKENS", f"{CURATOR_TOKEN}:admin")
        yield create_app(build_store(tmp_path_factory.mktemp("api-home")))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    """A curator's client: drafts are visible to it."""
    headers = {"Authorization": f"Bearer {CURATOR_TOKEN}"}
    with TestClient(app, raise_server_exceptions=False, headers=headers) as test_client:
        yield test_client


def test_drafts_are_hidden_from_anonymous_readers(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        bundle = fhir(anonymous.get(OP, params={"url": DEMO}), resource_type="Bundle")
        assert sorted(e["resource"]["version"] for e in bundle["entry"]) == ["1.0.0", "2.0.0"]
        text = outcome(anonymous.get(f"{OP}/$lookup", params={"system": DEMO, "code": "A", "version": "3.0.0"}),
                       404, "not-found")
        assert "3.0.0" in text
        bad_token = {"Authorization": "Bearer nope"}
        bundle = fhir(anonymous.get(OP, params={"url": DEMO}, headers=bad_token), resource_type="Bundle")
        assert bundle["total"] == 2


def fhir(response: httpx.Response, status: int = 200, resource_type: str | None = None) -> dict:
    """The response's FHIR JSON, after checking status, media type and validity."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert_valid_fhir(body)
    if resource_type:
        assert body["resourceType"] == resource_type
    return body


def params(body: dict) -> dict[str, list[dict]]:
    """Parameters by name (each a list of the parameter objects)."""
    found: dict[str, list[dict]] = {}
    for item in body["parameter"]:
        found.setdefault(item["name"], []).append(item)
    return found


def value(body: dict, name: str) -> object:
    item = params(body)[name][0]
    return next(v for k, v in item.items() if k.startswith("value"))


def parts(item: dict) -> dict[str, object]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in item["part"]}


def post_parameters(client: TestClient, path: str, *items: tuple[str, str, object]) -> httpx.Response:
    body = {"resourceType": "Parameters", "parameter": [{"name": n, k: v} for n, k, v in items]}
    return client.post(path, json=body, headers={"content-type": "application/fhir+json"})


def outcome(response: httpx.Response, status: int, code: str) -> str:
    """Check an OperationOutcome error and return its text."""
    body = fhir(response, status, "OperationOutcome")
    issue = body["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", code)
    assert "Traceback" not in response.text
    return issue["details"]["text"]


def release_id(client: TestClient, version: str, url: str = DEMO) -> str:
    bundle = fhir(client.get(f"{OP}", params={"url": url, "version": version}))
    assert bundle["total"] == 1
    return bundle["entry"][0]["resource"]["id"]


# -- metadata -----------------------------------------------------------------------------------------------


def test_capability_statement(client: TestClient) -> None:
    body = fhir(client.get("/fhir/metadata"), resource_type="CapabilityStatement")
    assert (body["fhirVersion"], body["kind"], body["status"]) == ("4.0.1", "instance", "active")
    [resource] = [r for r in body["rest"][0]["resource"] if r["type"] == "CodeSystem"]
    assert [i["code"] for i in resource["interaction"]] == ["read", "search-type"]
    assert [o["name"] for o in resource["operation"]] == ["lookup", "validate-code", "subsumes", "impact"]
    impact = next(o["definition"] for o in resource["operation"] if o["name"] == "impact")
    definition = fhir(client.get(impact.removeprefix("https://smt.esante.gouv.fr")),
                      resource_type="OperationDefinition")
    assert (definition["url"], definition["code"], definition["resource"]) == (impact, "impact", ["CodeSystem"])
    assert {"url", "version", "name", "title", "status"} <= {p["name"] for p in resource["searchParam"]}


def test_system_operations_and_versions(client: TestClient) -> None:
    body = fhir(client.get("/fhir/metadata"), resource_type="CapabilityStatement")
    operations = {o["name"]: o["definition"] for o in body["rest"][0]["operation"]}
    assert operations["versions"] == "http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions"
    assert "closure" in operations
    versions = fhir(client.get("/fhir/$versions"), resource_type="Parameters")
    assert versions["parameter"] == [{"name": "version", "valueCode": "4.0"}, {"name": "default", "valueCode": "4.0"}]


def test_terminology_capabilities(client: TestClient) -> None:
    body = fhir(client.get("/fhir/metadata", params={"mode": "terminology"}),
                resource_type="TerminologyCapabilities")
    [system] = [s for s in body["codeSystem"] if s["uri"] == DEMO]
    versions = {v["code"]: v for v in system["version"]}
    assert set(versions) == {"1.0.0", "2.0.0", "3.0.0"}
    assert [code for code, v in versions.items() if v["isDefault"]] == ["2.0.0"]
    assert versions["1.0.0"]["language"] == ["fr"]
    assert {"parent", "child", "inactive", "rank"} <= set(versions["1.0.0"]["property"])
    assert system["subsumption"] is True


def test_metadata_unknown_mode(client: TestClient) -> None:
    assert "Unknown mode" in outcome(client.get("/fhir/metadata", params={"mode": "bogus"}), 400, "invalid")


# -- CodeSystem read and search -----------------------------------------------------------------------------


def test_search_by_url_returns_every_version(client: TestClient) -> None:
    bundle = fhir(client.get(OP, params={"url": DEMO + "/"}), resource_type="Bundle")
    assert (bundle["type"], bundle["total"]) == ("searchset", 3)
    resources = [e["resource"] for e in bundle["entry"]]
    assert sorted(r["version"] for r in resources) == ["1.0.0", "2.0.0", "3.0.0"]
    assert {r["status"] for r in resources} == {"active", "draft"}
    assert all(e["fullUrl"].endswith(f"/fhir/CodeSystem/{e['resource']['id']}") for e in bundle["entry"])
    assert all("concept" not in r for r in resources)


def test_search_by_version_name_title_status_identifier(client: TestClient) -> None:
    for query, total in [({"version": "2.0.0"}, 1), ({"name": "dem"}, 3), ({"title": "Démo"}, 3),
                         ({"status": "draft"}, 1), ({"identifier": "urn:oid:1.2.250.1.999.1"}, 3),
                         ({"url": "http://nope.example"}, 0), ({"url": DEMO, "version": "9"}, 0)]:
        bundle = fhir(client.get(OP, params=query))
        assert bundle["total"] == total, query
        assert len(bundle.get("entry", [])) == total


def test_search_summary_count_and_paging(client: TestClient) -> None:
    counted = fhir(client.get(OP, params={"url": DEMO, "_summary": "count"}))
    assert counted["total"] == 3 and "entry" not in counted
    page = fhir(client.get(OP, params={"url": DEMO, "_count": "2"}))
    assert len(page["entry"]) == 2
    next_url = next(link["url"] for link in page["link"] if link["relation"] == "next")
    rest = fhir(client.get(next_url))
    assert len(rest["entry"]) == 1
    assert outcome(client.get(OP, params={"_count": "x"}), 400, "invalid") == "_count must be a non-negative integer"


def test_read_by_id_without_concepts(client: TestClient) -> None:
    rid = release_id(client, "1.0.0")
    body = fhir(client.get(f"{OP}/{rid}"), resource_type="CodeSystem")
    assert (body["id"], body["url"], body["version"], body["status"]) == (rid, DEMO, "1.0.0", "active")
    assert (body["name"], body["title"], body["publisher"], body["date"]) == ("Demo", "Démo SMT", "SMT tests",
                                                                          "2024-05-01")
    assert body["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.250.1.999.1"}]
    assert (body["content"], body["count"], body["hierarchyMeaning"], body["caseSensitive"]) == (
        "complete", 5, "is-a", True)
    assert {p["code"]: p["type"] for p in body["property"]} == {
        "notSelectable": "boolean", "rank": "integer", "seeAlso": "Coding", "parent": "code", "child": "code",
        "inactive": "boolean"}
    assert "concept" not in body
    assert body["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_read_with_concepts_nested_by_hierarchy(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/{release_id(client, '1.0.0')}", params={"_summary": "false"}))
    [root] = body["concept"]
    assert root["code"] == "ROOT"
    alpha = root["concept"][0]
    assert (alpha["code"], [c["code"] for c in alpha["concept"]]) == ("A", ["A1", "A2"])
    assert {"language": "en", "value": "Alpha (en)"} in alpha["designation"]
    a2 = alpha["concept"][1]
    assert {"code": "inactive", "valueBoolean": True} in a2["property"]
    a1 = alpha["concept"][0]
    assert {"code": "rank", "valueInteger": 1} in a1["property"]
    assert "tag" not in body["meta"]


def test_read_polyhierarchy_is_flat_with_parent_properties(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/{release_id(client, '2.0.0')}", params={"_elements": "concept"}))
    assert set(body) == {"resourceType", "id", "meta", "status", "content", "concept"}
    by_code = {c["code"]: c for c in body["concept"]}
    assert len(by_code) == 6
    parents = [p["valueCode"] for p in by_code["AB"]["property"] if p["code"] == "parent"]
    assert parents == ["A", "B"]


def test_read_unknown_id(client: TestClient) -> None:
    assert "not known" in outcome(client.get(f"{OP}/nope"), 404, "not-found")


# -- $lookup ------------------------------------------------------------------------------------------------


def test_lookup_get(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$lookup", params={"system": DEMO, "code": "A"}), resource_type="Parameters")
    assert (value(body, "name"), value(body, "version"), value(body, "display")) == ("Demo", "2.0.0", "Alpha")
    assert value(body, "abstract") is False
    props = [parts(p) for p in params(body)["property"]]
    assert {"code": "parent", "value": "ROOT", "description": "Racine"} in props
    assert {"code": "inactive", "value": False} in props
    designations = [parts(d) for d in params(body)["designation"]]
    assert {"language": "fr", "use": {"system": "http://smt.example.org/designation-use", "code": "short",
                                      "display": "Libellé court"}, "value": "Alpha court"} in designations


def test_lookup_post_parameters_with_coding_and_properties(client: TestClient) -> None:
    response = post_parameters(client, f"{OP}/$lookup",
                               ("coding", "valueCoding", {"system": DEMO, "code": "A1", "version": "1.0.0"}),
                               ("property", "valueCode", "rank"), ("property", "valueCode", "seeAlso"))
    body = fhir(response, resource_type="Parameters")
    assert value(body, "version") == "1.0.0"
    assert value(body, "definition") == "Premier enfant d'alpha"
    props = {p["part"][0]["valueCode"]: p["part"][1] for p in params(body)["property"]}
    assert props == {"rank": {"name": "value", "valueInteger": 1},
                     "seeAlso": {"name": "value", "valueCoding": {"system": "http://loinc.org", "code": "1234-5",
                                                                  "display": "Test"}}}


def test_lookup_display_language_parameter_and_header(client: TestClient) -> None:
    query = {"system": DEMO, "code": "A"}
    assert value(fhir(client.get(f"{OP}/$lookup", params={**query, "displayLanguage": "en"})), "display") \
        == "Alpha (en)"
    header = client.get(f"{OP}/$lookup", params=query, headers={"accept-language": "es, de;q=0.8"})
    assert value(fhir(header), "display") == "Alfa"


def test_lookup_abstract_and_status(client: TestClient) -> None:
    assert value(fhir(client.get(f"{OP}/$lookup", params={"system": DEMO, "code": "ROOT"})), "abstract") is True
    body = fhir(client.get(f"{OP}/$lookup", params={"system": DEMO, "code": "A2", "property": "inactive"}))
    assert [parts(p) for p in params(body)["property"]] == [{"code": "inactive", "value": True}]


def test_lookup_instance_level(client: TestClient) -> None:
    rid = release_id(client, "1.0.0")
    body = fhir(client.get(f"{OP}/{rid}/$lookup", params={"code": "B"}))
    assert (value(body, "version"), value(body, "display")) == ("1.0.0", "Bêta")
    wrong = client.get(f"{OP}/{rid}/$lookup", params={"code": "B", "system": "http://other.example"})
    assert "does not match" in outcome(wrong, 400, "invalid")


def test_lookup_errors(client: TestClient) -> None:
    text = outcome(client.get(f"{OP}/$lookup", params={"system": DEMO, "code": "ZZ"}), 404, "not-found")
    assert text == f"Unknown code 'ZZ' in the CodeSystem '{DEMO}' version '2.0.0'"
    text = outcome(client.get(f"{OP}/$lookup", params={"system": "http://nope.example", "code": "A"}),
                   404, "not-found")
    assert text == "A definition for CodeSystem 'http://nope.example' could not be found"
    text = outcome(client.get(f"{OP}/$lookup", params={"system": DEMO, "code": "A", "version": "9"}),
                   404, "not-found")
    assert text.endswith("Valid versions: 1.0.0 or 2.0.0 or 3.0.0")
    assert "code" in outcome(client.get(f"{OP}/$lookup", params={"system": DEMO}), 400, "required")
    assert "system" in outcome(client.get(f"{OP}/$lookup", params={"code": "A"}), 400, "required")


# -- $validate-code -----------------------------------------------------------------------------------------


def test_validate_code_true(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$validate-code", params={"url": DEMO, "code": "A", "display": "Alpha"}),
                resource_type="Parameters")
    assert value(body, "result") is True
    assert (value(body, "code"), value(body, "system"), value(body, "version")) == ("A", DEMO, "2.0.0")
    assert "message" not in params(body) and "issues" not in params(body)


def test_validate_code_unknown_code_is_false_not_error(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$validate-code", params={"url": DEMO, "code": "ZZ"}))
    assert value(body, "result") is False
    assert value(body, "message") == f"Unknown code 'ZZ' in the CodeSystem '{DEMO}' version '2.0.0'"
    issue = params(body)["issues"][0]["resource"]["issue"][0]
    assert (issue["code"], issue["details"]["coding"][0]["code"]) == ("code-invalid", "invalid-code")


def test_validate_code_display_mismatch(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$validate-code", params={"url": DEMO, "code": "B", "display": "Beta"}))
    assert value(body, "result") is False
    assert value(body, "display") == "Bêta"
    assert value(body, "message").startswith("Wrong Display Name 'Beta'")


def test_validate_code_unknown_system_is_false_with_message(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$validate-code", params={"url": "http://nope.example", "code": "A"}))
    assert value(body, "result") is False
    assert "could not be found, so the code cannot be validated" in value(body, "message")
    assert value(body, "x-caused-by-unknown-system") == "http://nope.example"


def test_validate_code_inactive(client: TestClient) -> None:
    body = fhir(client.get(f"{OP}/$validate-code", params={"url": DEMO, "code": "A2"}))
    assert (value(body, "result"), value(body, "inactive")) == (True, True)
    assert params(body)["issues"][0]["resource"]["issue"][0]["severity"] == "warning"


def test_validate_coding_and_codeable_concept_post(client: TestClient) -> None:
    coding = post_parameters(client, f"{OP}/$validate-code",
                             ("coding", "valueCoding", {"system": DEMO + "/", "code": "A1", "display": "Alpha un"}))
    assert value(fhir(coding), "result") is True
    concept = {"coding": [{"system": "http://nope.example", "code": "X"}, {"system": DEMO, "code": "B"}]}
    body = fhir(post_parameters(client, f"{OP}/$validate-code", ("codeableConcept", "valueCodeableConcept", concept)))
    assert (value(body, "result"), value(body, "code")) == (True, "B")
    bad = {"coding": [{"system": DEMO, "code": "ZZ"}]}
    body = fhir(post_parameters(client, f"{OP}/$validate-code", ("codeableConcept", "valueCodeableConcept", bad)))
    assert value(body, "result") is False
    assert params(body)["issues"][0]["resource"]["issue"][0]["expression"] == ["CodeableConcept.coding[0].code"]


def test_validate_code_instance_level_and_required(client: TestClient) -> None:
    rid = release_id(client, "1.0.0")
    body = fhir(client.post(f"{OP}/{rid}/$validate-code", data={"code": "A1"}))
    assert (value(body, "result"), value(body, "version")) == (True, "1.0.0")
    assert outcome(client.get(f"{OP}/$validate-code", params={"code": "A"}), 400, "required")
    # no code, coding nor codeableConcept: nothing to validate, an invalid request (FHIRsmith ValidateWorker)
    nothing = outcome(client.get(f"{OP}/$validate-code", params={"url": DEMO}), 400, "invalid")
    assert nothing.startswith("Unable to find code to validate")


# -- $subsumes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("A", "A1", "subsumes"), ("A1", "A", "subsumed-by"), ("A", "A", "equivalent"), ("A1", "B", "not-subsumed")])
def test_subsumes_get(client: TestClient, a: str, b: str, expected: str) -> None:
    body = fhir(client.get(f"{OP}/$subsumes", params={"system": DEMO, "codeA": a, "codeB": b}),
                resource_type="Parameters")
    assert value(body, "outcome") == expected


def test_subsumes_post_codings_and_errors(client: TestClient) -> None:
    body = fhir(post_parameters(client, f"{OP}/$subsumes", ("codingA", "valueCoding", {"system": DEMO, "code": "B"}),
                                ("codingB", "valueCoding", {"system": DEMO, "code": "AB"})))
    assert value(body, "outcome") == "subsumes"
    mixed = post_parameters(client, f"{OP}/$subsumes", ("codingA", "valueCoding", {"system": DEMO, "code": "B"}),
                            ("codingB", "valueCoding", {"system": "http://other.example", "code": "AB"}))
    assert "different code systems" in outcome(mixed, 400, "invalid")
    assert outcome(client.get(f"{OP}/$subsumes", params={"system": DEMO, "codeA": "A"}), 400, "required")
    unknown = client.get(f"{OP}/$subsumes", params={"system": DEMO, "codeA": "A", "codeB": "ZZ"})
    assert outcome(unknown, 404, "not-found").startswith("Unknown code 'ZZ'")
    rid = release_id(client, "1.0.0")
    instance = fhir(client.get(f"{OP}/{rid}/$subsumes", params={"codeA": "ROOT", "codeB": "A2"}))
    assert value(instance, "outcome") == "subsumes"


# -- errors and formats -------------------------------------------------------------------------------------


def test_unsupported_method_and_unknown_route(client: TestClient) -> None:
    rid = release_id(client, "1.0.0")
    assert "PATCH" in outcome(client.patch(f"{OP}/{rid}"), 405, "not-supported")
    assert outcome(client.get("/fhir/Nothing/here"), 404, "not-found")
    assert "not supported" in outcome(client.get(f"{OP}/$expand"), 404, "not-supported")


def test_bad_post_bodies(client: TestClient) -> None:
    not_json = client.post(f"{OP}/$lookup", content=b"{nope", headers={"content-type": "application/fhir+json"})
    assert "not valid JSON" in outcome(not_json, 400, "invalid")
    wrong = client.post(f"{OP}/$lookup", json={"resourceType": "Patient"})
    assert "Parameters" in outcome(wrong, 400, "invalid")
    no_namespace = client.post(f"{OP}/$lookup", content=b"<Parameters/>",
                               headers={"content-type": "application/fhir+xml"})
    assert "FHIR namespace" in outcome(no_namespace, 400, "invalid")
    text = client.post(f"{OP}/$lookup", content=b"system=x", headers={"content-type": "text/plain"})
    assert outcome(text, 415, "not-supported")


def test_formats(client: TestClient) -> None:
    query = {"system": DEMO, "code": "A"}
    for answer in (client.get(f"{OP}/$lookup", params=query, headers={"accept": "application/fhir+xml"}),
                   client.get(f"{OP}/$lookup", params={**query, "_format": "xml"}),
                   client.get(f"{OP}/$lookup", params=query, headers={"accept": "application/fhir+xml, */*;q=0.1"})):
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/fhir+xml")
    assert outcome(client.get(f"{OP}/$lookup", params={**query, "_format": "ttl"}), 406, "not-supported")
    fhir(client.get(f"{OP}/$lookup", params={**query, "_format": "json"}))
    fhir(client.get(f"{OP}/$lookup", params=query, headers={"accept": "application/fhir+xml;q=0.5, */*"}))
    plain = client.get(f"{OP}/$lookup", params=query, headers={"accept": "application/json"})
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("application/json")
    assert_valid_fhir(plain.json())


def test_unexpected_errors_and_request_validation_are_operation_outcomes(tmp_path: Path) -> None:
    app = create_app(tmp_path)

    def boom() -> None:
        raise RuntimeError("secret internals")

    def typed(count: int) -> dict:
        return {"count": count}

    app.add_api_route("/fhir/boom", boom)
    app.add_api_route("/fhir/typed", typed)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        failed = test_client.get("/fhir/boom")
        assert outcome(failed, 500, "exception") == "Internal server error"
        assert "secret" not in failed.text
        assert "count" in outcome(test_client.get("/fhir/typed", params={"count": "x"}), 400, "invalid")
        empty = fhir(test_client.get("/fhir/metadata", params={"mode": "terminology"}))
        assert "codeSystem" not in empty


# -- CIM-10 (real data) -------------------------------------------------------------------------------------

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"


@pytest.fixture(scope="module")
def cim10(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """CIM-10 2021 and 2019 (from the multi-year file) in one store."""
    pytest.importorskip("loaders.cim10")
    from loaders import run_loader

    folder = shared_data / "cim10" / "nomensland"
    home = tmp_path_factory.mktemp("cim10-home")
    store = writable_store(home)
    store.load(run_loader("cim10", folder / "cim10_fr_pmsi_2021.json.gz")[0])
    store.load(run_loader("cim10", folder / "cim10_fr_pmsi_2015-2020.json.gz", version="2019")[0])
    with TestClient(create_app(home), raise_server_exceptions=False) as test_client:
        yield test_client



@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_lookup_e11_9_get_and_post(cim10: TestClient) -> None:
    body = fhir(cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "E11.9"}))
    assert value(body, "display") == "Diabète sucré de type 2, sans complication"
    assert value(body, "version") == "2021"
    posted = fhir(post_parameters(cim10, f"{OP}/$lookup", ("system", "valueUri", CIM10),
                                  ("code", "valueCode", "E11.9"), ("displayLanguage", "valueCode", "fr-FR")))
    assert value(posted, "display") == "Diabète sucré de type 2, sans complication"
    props = [parts(p) for p in params(posted)["property"]]
    assert {"code": "parent", "value": "E11", "description": "Diabète sucré de type 2"} in props


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_lookup_normalises_undotted_codes(cim10: TestClient) -> None:
    body = fhir(cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "E119"}))
    assert value(body, "code") == "E11.9"
    strict = fhir(cim10.get(f"{OP}/$validate-code", params={"url": CIM10, "code": "E119"}))
    assert value(strict, "result") is False
    assert "did you mean 'E11.9'" in value(strict, "message")


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_covid_codes_by_version(cim10: TestClient) -> None:
    covid = fhir(cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "U07.1"}))
    assert "COVID-19" in value(covid, "display")
    assert value(fhir(cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "U07.10", "version": "2021"})),
                 "display") == "COVID-19, forme respiratoire, virus identifié"
    # In 2019, U07.1 was still an empty "usage urgent" slot and its COVID-19 extensions did not exist.
    old = fhir(cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "U07.1", "version": "2019"}))
    assert value(old, "display") == "Usage urgent de U07.1"
    missing = cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "U07.10", "version": "2019"})
    assert outcome(missing, 404, "not-found") == f"Unknown code 'U07.10' in the CodeSystem '{CIM10}' version '2019'"


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_subsumes_both_ways_and_trailing_slash(cim10: TestClient) -> None:
    query = {"system": CIM10 + "/", "codeA": "E11", "codeB": "E11.9"}
    assert value(fhir(cim10.get(f"{OP}/$subsumes", params=query)), "outcome") == "subsumes"
    reverse = {**query, "codeA": "E11.9", "codeB": "E11"}
    assert value(fhir(cim10.get(f"{OP}/$subsumes", params=reverse)), "outcome") == "subsumed-by"
    chapter = {**query, "codeA": "E00-E90", "codeB": "E11.9"}
    assert value(fhir(cim10.get(f"{OP}/$subsumes", params=chapter)), "outcome") == "subsumes"


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_validate_code(cim10: TestClient) -> None:
    good = {"url": CIM10, "code": "E11.9", "display": "Diabète sucré de type 2, sans complication"}
    assert value(fhir(cim10.get(f"{OP}/$validate-code", params=good)), "result") is True
    short = {**good, "display": "DIABETE TYPE 2, SANS COMPLIC."}
    assert value(fhir(cim10.get(f"{OP}/$validate-code", params=short)), "result") is True
    wrong = fhir(cim10.get(f"{OP}/$validate-code", params={**good, "display": "Diabète"}))
    assert value(wrong, "result") is False and "Wrong Display Name 'Diabète'" in value(wrong, "message")
    unknown = fhir(cim10.get(f"{OP}/$validate-code", params={"url": CIM10, "code": "E11.99"}))
    assert value(unknown, "result") is False
    alias = {"url": "http://hl7.org/fhir/sid/icd-10-fr", "code": "E11.9"}
    assert value(fhir(cim10.get(f"{OP}/$validate-code", params=alias)), "system") == CIM10


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_unknown_system_and_version_are_404(cim10: TestClient) -> None:
    unknown = cim10.get(f"{OP}/$lookup", params={"system": CIM10 + "-x", "code": "E11.9"})
    assert outcome(unknown, 404, "not-found") == f"A definition for CodeSystem '{CIM10}-x' could not be found"
    version = cim10.get(f"{OP}/$lookup", params={"system": CIM10, "code": "E11.9", "version": "2018"})
    assert outcome(version, 404, "not-found").endswith("Valid versions: 2019 or 2021")


@pytest.mark.shared_data
@pytest.mark.slow
def test_cim10_search_read_and_capabilities(cim10: TestClient) -> None:
    bundle = fhir(cim10.get(OP, params={"url": CIM10}))
    assert sorted(e["resource"]["version"] for e in bundle["entry"]) == ["2019", "2021"]
    rid = release_id(cim10, "2021", CIM10)
    body = fhir(cim10.get(f"{OP}/{rid}"), resource_type="CodeSystem")
    assert (body["name"], body["version"], body["content"]) == ("CIM10", "2021", "complete")
    assert body["count"] > 40000 and "concept" not in body
    assert {"system": "urn:ietf:rfc:3986", "value": "urn:oid:2.16.840.1.113883.6.3"} in body["identifier"]
    caps = fhir(cim10.get("/fhir/metadata", params={"mode": "terminology"}))
    [system] = caps["codeSystem"]
    assert {v["code"]: v["isDefault"] for v in system["version"]} == {"2019": False, "2021": True}
