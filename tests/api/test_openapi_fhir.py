"""The OpenAPI description of the FHIR interactions: typed parameters, FHIR JSON and XML bodies and answers,
4xx OperationOutcomes — and a small schema-driven run that calls every operation with each declared parameter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from tests.terminology.test_engine_codesystem import DEMO, build_store

FHIR_TYPES = {"application/fhir+json", "application/fhir+xml"}
SAMPLES = {"boolean": "true", "integer": "3"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(build_store(tmp_path_factory.mktemp("openapi-home"))),
                    raise_server_exceptions=False) as test_client:
        yield test_client


def fhir_operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, methods in spec["paths"].items():
        if path.startswith("/fhir/") and "$" in path:
            for method, operation in methods.items():
                yield path, method, operation


def test_every_fhir_operation_declares_parameters_formats_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = list(fhir_operations(spec))
    assert len(operations) >= 20
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert "_format" in names, where
        assert set(operation["responses"]["200"]["content"]) >= FHIR_TYPES, where
        for status in ("400", "404", "415"):
            assert set(operation["responses"][status]["content"]) == FHIR_TYPES, (where, status)
        assert "422" not in operation["responses"], where  # errors are 400 OperationOutcomes, not FastAPI's
        if method == "post":
            body = operation["requestBody"]["content"]
            assert set(body) >= FHIR_TYPES, where
            declared = set(body["application/fhir+json"]["schema"]["properties"]["parameter"]["items"]
                           ["properties"]["name"]["enum"])
            assert names - {"_format", "_pretty"} <= declared, where
    expand = spec["paths"]["/fhir/ValueSet/$expand"]["get"]["parameters"]
    assert {"url", "filter", "count", "offset", "activeOnly", "displayLanguage"} <= {p["name"] for p in expand}
    assert next(p for p in expand if p["name"] == "count")["schema"]["type"] == "integer"
    search = {p["name"] for p in spec["paths"]["/fhir/ValueSet"]["get"]["parameters"]}
    assert {"url", "name", "title", "publisher", "identifier", "date", "_text", "_elements", "_count"} <= search


def test_each_declared_parameter_reaches_the_operation_without_a_server_error(client: TestClient) -> None:
    """Every GET operation, called with each of its declared query parameters (a value of the declared type
    alongside a valid code), answers a FHIR resource or a 4xx OperationOutcome, never a 5xx."""
    spec = client.get("/openapi.json").json()
    base = {"system": DEMO, "code": "A", "url": DEMO, "codeA": "A", "codeB": "A1"}
    for path, method, operation in fhir_operations(spec):
        if method != "get" or "{" in path:
            continue
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            value = SAMPLES.get(schema.get("type"), schema.get("enum", ["xml"])[0] if parameter["name"] == "_format"
                                else "A")
            answer = client.get(path, params={**base, parameter["name"]: value})
            assert answer.status_code < 500, (path, parameter["name"], answer.text)
            kind = answer.headers["content-type"].split(";")[0]
            assert kind in FHIR_TYPES, (path, parameter["name"], kind)
