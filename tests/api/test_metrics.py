"""``GET /metrics`` on the real app: request counts and durations per route template, releases per status."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from fhir_api.app import create_app
from smt.compile import writable_store
from tests.factories import make_release

CS = "http://example.org/cs"


def _samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_requests_are_counted_and_timed_per_route_template(home: Path) -> None:
    store = writable_store(home)
    store.load(make_release("1"))
    store.load(make_release("2"), status="draft")
    client = TestClient(create_app(home))
    for code in ("A", "A1"):
        assert client.get("/fhir/CodeSystem/$lookup", params={"system": CS, "code": code}).status_code == 200
    assert client.get("/fhir/CodeSystem/$lookup", params={"system": CS, "code": "nope"}).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    samples = _samples(client)
    lookup = (("method", "GET"), ("route", "/fhir/CodeSystem/$lookup"))
    assert samples[("smt_http_requests_total", (*lookup, ("status", "200")))] == 2
    assert samples[("smt_http_requests_total", (*lookup, ("status", "404")))] == 1
    assert samples[("smt_http_request_duration_seconds_count", lookup)] == 3
    assert samples[("smt_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert samples[("smt_releases", (("kind", "CodeSystem"), ("status", "active")))] == 1
    assert samples[("smt_releases", (("kind", "CodeSystem"), ("status", "draft")))] == 1


def test_metrics_can_be_turned_off(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_METRICS", "false")
    client = TestClient(create_app(home))
    assert client.get("/metrics").status_code == 404
