"""FHIR XML over the real HTTP app: ``_format`` and ``Accept`` choose XML answers, XML request bodies are read,
and every XML answer validates against the FHIR R4 schema (``tests.fhir_xml_schema``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from smt.compile import writable_store
from smt.fhir_r4.xml_reader import from_xml
from smt.fhir_r4.xml_writer import to_xml
from smt.formats.fhir_json import resource_release
from tests.api.test_api_valueset import ORGANS_URL, load_organs
from tests.clients import curator_client
from tests.fhir_validation import assert_valid_fhir
from tests.fhir_xml_schema import assert_valid_fhir_xml
from tests.terminology.test_expand import CS_URL

ORGANS = ORGANS_URL
MAP = "http://example.org/cm/body-to-demo"
FHIR_XML = "application/fhir+xml"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("xml-home")
    store = writable_store(home)
    load_organs(store)
    store.load(resource_release({
        "resourceType": "ConceptMap", "url": MAP, "version": "1", "name": "BodyToDemo", "status": "active",
        "group": [{"source": CS_URL, "target": "http://example.org/demo",
                   "element": [{"code": "coeur", "target": [{"code": "H", "equivalence": "narrower"}]}]}]}))
    with curator_client(home) as test_client:
        yield test_client


def xml(response: httpx.Response, status: int = 200, media: str = FHIR_XML) -> dict:
    """The XML answer validated against the R4 schema, read back as FHIR JSON."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(media), response.headers["content-type"]
    assert_valid_fhir_xml(response.content)
    return from_xml(response.content)


def values(parameters: dict) -> dict[str, object]:
    return {p["name"]: next((v for k, v in p.items() if k.startswith("value") or k == "resource"), None)
            for p in parameters["parameter"]}


def vs_id(client: TestClient) -> str:
    return client.get("/fhir/ValueSet", params={"url": ORGANS}).json()["entry"][0]["resource"]["id"]


def test_expand_answers_xml_for_format_and_accept(client: TestClient) -> None:
    as_json = client.get("/fhir/ValueSet/$expand", params={"url": ORGANS}).json()
    by_format = xml(client.get("/fhir/ValueSet/$expand", params={"url": ORGANS, "_format": "xml"}))
    by_accept = xml(client.get("/fhir/ValueSet/$expand", params={"url": ORGANS}, headers={"Accept": FHIR_XML}))
    for answer in (by_format, by_accept):
        assert_valid_fhir(answer)
        assert answer["expansion"]["contains"] == as_json["expansion"]["contains"]
        assert answer["expansion"]["total"] == as_json["expansion"]["total"] > 0
    plain = client.get("/fhir/ValueSet/$expand", params={"url": ORGANS, "_format": "application/xml"})
    xml(plain, media="application/xml")
    encoded_plus = client.get(f"/fhir/ValueSet/$expand?url={ORGANS}&_format=application/fhir+xml")
    xml(encoded_plus)  # "+" read back from the space it decodes to


def test_lookup_subsumes_translate_and_metadata_in_xml(client: TestClient) -> None:
    lookup = xml(client.get("/fhir/CodeSystem/$lookup", params={"system": CS_URL, "code": "coeur"},
                            headers={"Accept": "application/fhir+xml;q=1.0, application/fhir+json;q=0.5"}))
    assert values(lookup)["display"] == "Cœur"
    assert any(p["name"] == "designation" for p in lookup["parameter"])  # nested parts survive
    subsumes = xml(client.get("/fhir/CodeSystem/$subsumes",
                              params={"system": CS_URL, "codeA": "organe", "codeB": "coeur", "_format": "xml"}))
    assert values(subsumes)["outcome"] == "subsumes"
    translate = xml(client.get("/fhir/ConceptMap/$translate",
                               params={"url": MAP, "system": CS_URL, "code": "coeur", "_format": "xml"}))
    assert values(translate)["result"] is True
    capabilities = xml(client.get("/fhir/metadata", params={"_format": "xml"}))
    assert "application/fhir+xml" in capabilities["format"]
    terminology = xml(client.get("/fhir/metadata", params={"mode": "terminology", "_format": "xml"}))
    assert any(cs["uri"] == CS_URL for cs in terminology["codeSystem"])


def test_reads_and_searches_in_xml(client: TestClient) -> None:
    read = xml(client.get(f"/fhir/ValueSet/{vs_id(client)}", params={"_format": "xml"}))
    assert read["url"] == ORGANS and read["compose"]["include"][0]["filter"][0]["op"] == "is-a"
    bundle = xml(client.get("/fhir/CodeSystem", params={"_format": "xml", "_summary": "false"}))
    assert bundle["type"] == "searchset" and bundle["entry"][0]["resource"]["resourceType"] == "CodeSystem"
    assert bundle["entry"][0]["resource"]["concept"][0]["code"] == "root"
    maps = xml(client.get("/fhir/ConceptMap", params={"_format": "xml"}))
    assert maps["entry"][0]["resource"]["group"][0]["element"][0]["code"] == "coeur"


def test_validate_code_get_and_xml_post_bodies(client: TestClient) -> None:
    query = {"url": ORGANS, "system": CS_URL, "code": "coeur"}
    by_get = xml(client.get("/fhir/ValueSet/$validate-code", params={**query, "_format": "xml"}))
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": ORGANS}, {"name": "coding", "valueCoding": {"system": CS_URL, "code": "coeur"}}]}
    by_post = xml(client.post("/fhir/ValueSet/$validate-code", content=to_xml(body),
                              headers={"Content-Type": FHIR_XML, "Accept": FHIR_XML}))
    assert values(by_get)["result"] is True and values(by_post)["result"] is True
    json_answer = client.post("/fhir/ValueSet/$validate-code", content=to_xml(body),
                              headers={"Content-Type": "application/xml"})  # XML in, JSON out
    assert json_answer.headers["content-type"].startswith("application/fhir+json")
    assert values(json_answer.json())["result"] is True
    cs = xml(client.post("/fhir/CodeSystem/$validate-code", headers={"Content-Type": "text/xml", "Accept": FHIR_XML},
                         content=to_xml({"resourceType": "Parameters", "parameter": [
                             {"name": "url", "valueUri": CS_URL}, {"name": "code", "valueCode": "nope"}]})))
    assert values(cs)["result"] is False and values(cs)["issues"]["resourceType"] == "OperationOutcome"


def test_batch_validate_with_nested_parameters_in_xml(client: TestClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": ORGANS}, *(
        {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": CS_URL, "code": code}}]}} for code in ("coeur", "root"))]}
    answer = xml(client.post("/fhir/ValueSet/$batch-validate-code", content=to_xml(body),
                             headers={"Content-Type": FHIR_XML, "Accept": FHIR_XML}))
    assert [values(p["resource"])["result"] for p in answer["parameter"]] == [True, False]


def test_errors_are_xml_operation_outcomes(client: TestClient) -> None:
    missing = xml(client.get("/fhir/ValueSet/$expand", params={"url": "http://nowhere", "_format": "xml"}), 404)
    assert missing["resourceType"] == "OperationOutcome" and missing["issue"][0]["code"] == "not-found"
    unknown = xml(client.get("/fhir/ValueSet/nope", headers={"Accept": FHIR_XML}), 404)
    assert unknown["issue"][0]["severity"] == "error"
    bad_xml = xml(client.post("/fhir/ValueSet/$expand", content=b"<Parameters xmlns='http://hl7.org/fhir'><x/>"
                              b"</Parameters>", headers={"Content-Type": FHIR_XML, "Accept": FHIR_XML}), 400)
    assert "unknown element" in bad_xml["issue"][0]["details"]["text"]
    turtle = client.get("/fhir/ValueSet", params={"_format": "ttl"})
    assert turtle.status_code == 406 and turtle.json()["resourceType"] == "OperationOutcome"


def test_write_api_reads_xml_resources(client: TestClient) -> None:
    resource = {"resourceType": "CodeSystem", "url": "http://example.org/cs/xml-written", "version": "1",
                "name": "XmlWritten", "status": "draft", "content": "complete",
                "concept": [{"code": "x", "display": "Écrit en XML"}]}
    created = xml(client.post("/fhir/CodeSystem", content=to_xml(resource),
                              headers={"Content-Type": FHIR_XML, "Accept": FHIR_XML}), 201)
    assert created["resourceType"] == "OperationOutcome"
    looked_up = client.get("/fhir/CodeSystem/$lookup", params={"system": resource["url"], "code": "x"}).json()
    assert values(looked_up)["display"] == "Écrit en XML"


def test_json_stays_the_default(client: TestClient) -> None:
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "application/fhir+json"}, {"Accept": "text/html"}):
        answer = client.get("/fhir/ValueSet", params={"url": ORGANS}, headers=headers)
        assert answer.headers["content-type"].startswith("application/fhir+json"), headers
