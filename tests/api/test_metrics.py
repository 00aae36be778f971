"""``GET /metrics`` on the real app: request counts and durations per route template, releases per status."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from fhir_api.app import create_app
from smt.compile import writable_store
from tests.factories import make_release
from tests.server import running_server

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


def _processes() -> Iterator[tuple[int, int, bytes]]:
    """(pid, parent pid, command line) of the processes in ``/proc``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                yield int(entry.name), parent, (entry / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue


def _worker_pids(port: int) -> list[int]:
    """The worker processes of the ``smt serve`` listening on ``port`` (its children running the app)."""
    processes = list(_processes())
    serve = next(pid for pid, _, command in processes if b"\0serve\0" in command
                 and f"--port\0{port}\0".encode() in command)
    return sorted(pid for pid, parent, command in processes
                  if parent == serve and b"multiprocessing" in command and b"resource_tracker" not in command)


def _health_count(base: str) -> float:
    """``/health`` 200s counted in ``/metrics``, asked on a new connection (any worker may answer)."""
    text = httpx.get(f"{base}/metrics", timeout=30).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "smt_http_requests_total" and s.labels.get("route") == "/health"
               and s.labels.get("status") == "200")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the worker processes in /proc")
def test_metrics_count_the_requests_of_every_worker_process(home: Path) -> None:
    """``smt serve --workers 2``: each worker answers some requests (the other one is stopped meanwhile, so the
    shared socket's connections go to it), and every scrape, whichever process answers it, counts them all."""
    with running_server(home, workers=2) as client:
        base = str(client.base_url).rstrip("/")
        workers = _worker_pids(client.base_url.port or 0)
        assert len(workers) == 2, workers
        sent = 1  # running_server's readiness probe, on its own connection
        for stopped in workers:  # the other one answers meanwhile
            os.kill(stopped, signal.SIGSTOP)
            try:
                for _ in range(7):
                    assert httpx.get(f"{base}/health", timeout=30).status_code == 200
                    sent += 1
            finally:
                os.kill(stopped, signal.SIGCONT)
        assert {_health_count(base) for _ in range(12)} == {sent}
