"""Server roles without a running cluster: what a replica refuses, when it says it may take traffic, and the
one-line errors of ``smt serve --role`` and ``smt cluster`` when a setting is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fhir_api.app import create_app
from smt.cluster.replica import MAX_LAG, SyncState
from tests.server_process import smt_command

NOWHERE = "postgresql://smt@127.0.0.1:9/smt"  # the discard port: nothing listens there


@pytest.fixture
def replica(home: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("SMT_DATABASE_URL", NOWHERE)
    monkeypatch.setenv("SMT_WRITER_URL", "http://127.0.0.1:9")
    return TestClient(create_app(home, role="replica"))  # no lifespan: its sync thread is not started


def test_a_replica_refuses_writes_with_an_operation_outcome(replica: TestClient) -> None:
    for method, path in (("DELETE", "/fhir/CodeSystem/x"), ("PUT", "/fhir/ValueSet/x"), ("POST", "/fhir/CodeSystem"),
                         ("POST", "/releases")):
        answer = replica.request(method, path, json={})
        assert answer.status_code == 405, (method, path)
        outcome = answer.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "not-supported"


def test_a_replica_sends_rdf_and_audit_reads_to_the_writer(replica: TestClient, home: Path) -> None:
    for path in ("/sparql?query=ASK%7B%7D", "/concept?iri=http://example.org/x", "/fhir/AuditEvent"):
        answer = replica.get(path)
        assert answer.status_code == 421, path
        assert "writer" in answer.json()["issue"][0]["details"]["text"]
    assert not (home / "oxigraph").exists()


def test_a_replica_serves_the_pages_but_sends_the_console_and_saves_to_the_writer(replica: TestClient) -> None:
    assert replica.get("/").status_code == 200
    assert replica.get("/composer").status_code == 200
    for method, path in (("GET", "/console"), ("POST", "/console/signin"), ("POST", "/composer/save")):
        answer = replica.request(method, path)
        assert answer.status_code == 421, (method, path)
        assert "writer" in answer.json()["issue"][0]["details"]["text"]


def test_a_replica_reads_still_work(replica: TestClient) -> None:
    assert replica.get("/fhir/metadata").status_code == 200
    assert replica.get("/releases").json()["total"] == 0


def test_a_replica_that_never_synced_is_not_ready(replica: TestClient) -> None:
    answer = replica.get("/health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "syncing" and answer.json()["role"] == "replica"


def test_readiness_follows_the_sync_state() -> None:
    now = 1_000_000.0
    assert not SyncState().healthy(now)  # never synced
    assert not SyncState(generation=3).healthy(now)  # synced before a restart, registry not read since
    assert SyncState(generation=3, registry_generation=3, registry_reachable=True).healthy(now)
    behind = SyncState(generation=3, registry_generation=4, registry_reachable=True, behind_since=now - 1)
    assert behind.healthy(now) and not behind.in_sync  # fetching a new release: still serving the last set
    assert not SyncState(generation=3, registry_generation=4, registry_reachable=True,
                         behind_since=now - MAX_LAG - 1).healthy(now)
    assert SyncState(generation=3, registry_generation=4, registry_reachable=False,
                     behind_since=now - MAX_LAG - 1).healthy(now)  # registry lost: serve what it has


@pytest.mark.parametrize(("role", "env", "message"), [
    ("replica", {}, "set SMT_DATABASE_URL"),
    ("writer", {}, "set SMT_DATABASE_URL"),
    ("replica", {"SMT_DATABASE_URL": NOWHERE}, "set SMT_WRITER_URL"),
    ("primary", {}, "--role must be single, writer or replica"),
])
def test_serve_with_a_role_names_the_missing_setting(home: Path, role: str, env: dict[str, str], message: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("SMT_DATABASE_URL", "SMT_WRITER_URL")}
    done = subprocess.run([smt_command(), "serve", "--role", role], capture_output=True, text=True, timeout=60,
                          env={**clean, **env})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_cluster_down_without_a_cluster_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run([smt_command(), "cluster", "down", "--dir", str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"error: no cluster in {tmp_path} (no cluster.json)"]


def test_a_replica_serves_its_last_generation_while_the_writer_is_away() -> None:
    now = 1_000_000.0
    stuck = SyncState(generation=3, registry_generation=4, registry_reachable=True, behind_since=now - MAX_LAG - 1,
                      writer_reachable=False)
    assert stuck.healthy(now) and not stuck.in_sync
