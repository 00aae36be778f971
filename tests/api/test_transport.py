"""HTTP transport on the real app: gzip compression, CORS, and ``GET /health``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from smt.compile import writable_store
from tests.factories import make_release

CS = "http://example.org/cs"


@pytest.fixture
def client(home: Path) -> TestClient:
    writable_store(home).load(make_release())
    return TestClient(create_app(home))


def test_large_answers_are_gzipped_when_the_client_accepts_it(client: TestClient) -> None:
    compressed = client.get("/fhir/CodeSystem", params={"_summary": "false"},
                            headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.json()["resourceType"] == "Bundle"  # httpx decodes it
    plain = client.get("/fhir/CodeSystem", params={"_summary": "false"}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == compressed.json()
    small = client.get("/fhir/CodeSystem/$subsumes", params={"system": CS, "codeA": "ROOT", "codeB": "A"},
                       headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 1 KiB: not worth it


def test_already_compressed_downloads_are_not_compressed_again(client: TestClient) -> None:
    (release,) = client.get("/releases").json()["releases"]
    package = client.get(f"/releases/{release['id']}/download/npm", headers={"Accept-Encoding": "gzip"})
    assert package.status_code == 200 and "content-encoding" not in package.headers
    assert gzip.decompress(package.content)[:100]  # the .tgz itself, byte for byte


def test_cors_allows_browser_tools_from_other_origins(client: TestClient) -> None:
    origin = {"Origin": "https://ig-builder.example"}
    answer = client.get("/fhir/metadata", headers=origin)
    assert answer.headers["access-control-allow-origin"] == "*"
    preflight = client.options("/fhir/ValueSet/$expand", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    error = client.get("/fhir/CodeSystem/unknown-id", headers=origin)
    assert error.status_code == 404 and error.headers["access-control-allow-origin"] == "*"


def test_cors_can_be_restricted_or_disabled(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_CORS_ORIGINS", "https://allowed.example")
    restricted = TestClient(create_app(home))
    assert restricted.get("/health", headers={"Origin": "https://allowed.example"}).headers[
        "access-control-allow-origin"] == "https://allowed.example"
    assert "access-control-allow-origin" not in restricted.get(
        "/health", headers={"Origin": "https://other.example"}).headers
    monkeypatch.setenv("SMT_CORS_ORIGINS", "")
    disabled = TestClient(create_app(home))
    assert "access-control-allow-origin" not in disabled.get("/health", headers={"Origin": "https://x.example"}).headers


def test_health_reports_the_published_releases(client: TestClient, home: Path) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["releases"] == 1
    writable_store(home).load(make_release("2"))
    assert client.get("/health").json()["releases"] == 2
