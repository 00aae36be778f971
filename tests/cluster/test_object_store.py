"""Release archives through an S3-compatible object store (``SMT_ARTEFACT_STORE``), on loopback.

The object store is moto's S3 server (``ThreadedMotoServer``: a real S3 HTTP API). ``smt cluster up`` starts
PostgreSQL, a writer and a replica with the bucket configured; ``smt load-samples --no-core`` on the writer puts each
release's archive in the bucket under its checksum. Replicas started by the test point their writer at a port
where nothing listens, so whatever they serve came from the bucket; a corrupted object is refused, and served
again once the right bytes are back.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from smt.cluster import database, local
from smt.cluster.objects import ObjectStore, ObjectStoreError
from smt.errors import SmtError
from tests.cluster.local_cluster import cluster_up
from tests.server_process import smt_command

BUCKET = "smt-artefacts"
PREFIX = "releases"
NOWHERE = "http://127.0.0.1:9"
"""The discard port: a writer that never answers."""
WAIT = 60.0


@dataclass
class Cluster:
    folder: Path
    summary: dict
    env: dict[str, str]
    """The object store's settings (and the AWS ones boto3 reads)."""

    def load_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, **self.summary["env"]}


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "smt-test", "AWS_SECRET_ACCESS_KEY": "smt-test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}", "SMT_ARTEFACT_STORE": f"s3://{BUCKET}/{PREFIX}"}
    client(env).create_bucket(Bucket=BUCKET)
    try:
        yield env
    finally:
        server.stop()


def client(env: dict[str, str]) -> Any:  # boto3 clients are untyped
    return boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(scope="module")
def cluster(s3: dict[str, str]) -> Iterator[Cluster]:
    with cluster_up(1, s3) as (folder, summary):
        running = Cluster(folder, summary, s3)
        subprocess.run([smt_command(), "load-samples", "--no-core"], check=True, capture_output=True,
                       env=running.load_env())
        yield running


def registry_checksums(cluster: Cluster) -> dict[str, str]:
    """Release id → archive checksum, as the shared registry lists them."""
    with database.connect(cluster.summary["env"]["SMT_DATABASE_URL"]) as conn:
        return {row["id"]: row["checksum"] for row in conn.execute("SELECT id, checksum FROM smt_release")}


def start_replica(cluster: Cluster, name: str, writer: str) -> local.Process:
    """A replica of the cluster on a fresh folder, fetching from the bucket, with ``writer`` as its writer."""
    port = local.free_port()
    process = local.Process(
        name, [smt_command(), "serve", "--host", "127.0.0.1", "--no-access-log", "--workers", "1", "--role", "replica",
               "--port", str(port)],
        env={**os.environ, **cluster.env, "SMT_HOME": str(cluster.folder / name),
             "SMT_DATABASE_URL": cluster.summary["env"]["SMT_DATABASE_URL"], "SMT_WRITER_URL": writer},
        log=str(cluster.folder / "logs" / f"{name}.log"), url=f"http://127.0.0.1:{port}")
    local.start(process)
    state = local.read(cluster.folder)
    state.processes.append(process)  # `smt cluster down` stops it too
    local.save(cluster.folder, state)
    return process


def health(process: local.Process) -> dict:
    try:
        return httpx.get(f"{process.url}/health", timeout=5).json()
    except httpx.TransportError:
        return {}


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT:.0f} s: {what}")


def served_ids(process: local.Process) -> set[str]:
    try:
        listing = httpx.get(f"{process.url}/releases", timeout=5).json()
    except (httpx.TransportError, ValueError):
        return set()
    return {release["id"] for release in listing.get("releases", [])}


def test_the_writer_puts_each_archive_in_the_bucket_under_its_checksum(cluster: Cluster) -> None:
    checksums = registry_checksums(cluster)
    assert len(checksums) == 4  # the bundled samples
    s3 = client(cluster.env)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "/")["Contents"]}
    assert keys == {f"{PREFIX}/{checksum}.tar" for checksum in checksums.values()}
    for checksum in checksums.values():
        body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{checksum}.tar")["Body"].read()
        assert hashlib.sha256(body).hexdigest() == checksum


def test_a_replica_that_cannot_reach_the_writer_serves_every_release_from_the_bucket(cluster: Cluster) -> None:
    replica = start_replica(cluster, "replica-s3", NOWHERE)
    try:
        expected = set(registry_checksums(cluster))
        wait_for(lambda: served_ids(replica) == expected, "the replica serves the four samples")
        state = health(replica)
        assert state["in_sync"] and state["error"] is None, state
        cim10 = httpx.get(f"{replica.url}/fhir/CodeSystem/$validate-code", timeout=10, params={
            "url": "https://smt.esante.gouv.fr/terminologie-cim-10", "code": "E11.9"}).json()
        assert {"name": "result", "valueBoolean": True} in cim10["parameter"]
    finally:
        local.stop(replica)


def test_a_corrupted_object_is_refused_and_the_right_bytes_are_taken(cluster: Cluster) -> None:
    checksums = registry_checksums(cluster)
    release, checksum = sorted(checksums.items())[0]
    s3 = client(cluster.env)
    key = f"{PREFIX}/{checksum}.tar"
    original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    corrupted = bytearray(original)
    corrupted[len(corrupted) // 2] ^= 0xFF
    s3.put_object(Bucket=BUCKET, Key=key, Body=bytes(corrupted))
    replica = start_replica(cluster, "replica-corrupt", NOWHERE)
    try:
        state = wait_for(lambda: (found := health(replica)).get("error") and found, "the replica reports an error")
        assert "refused" in state["error"] and checksum in state["error"], state
        assert not state["in_sync"]
        assert release not in served_ids(replica)
        s3.put_object(Bucket=BUCKET, Key=key, Body=original)  # the right bytes again: taken at the next retry
        wait_for(lambda: served_ids(replica) == set(checksums), "the replica serves every release")
    finally:
        local.stop(replica)
        s3.put_object(Bucket=BUCKET, Key=key, Body=original)


def test_an_absent_object_is_fetched_from_the_writer(cluster: Cluster) -> None:
    checksums = registry_checksums(cluster)
    s3 = client(cluster.env)
    key = f"{PREFIX}/{sorted(checksums.values())[0]}.tar"
    original = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.delete_object(Bucket=BUCKET, Key=key)
    replica = start_replica(cluster, "replica-fallback", cluster.summary["writer"])
    try:
        wait_for(lambda: served_ids(replica) == set(checksums), "the replica serves every release")
    finally:
        local.stop(replica)
        s3.put_object(Bucket=BUCKET, Key=key, Body=original)


def test_a_store_that_is_not_an_s3_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMT_ARTEFACT_STORE", "https://bucket/prefix")
    with pytest.raises(SmtError, match="s3://bucket"):
        ObjectStore.from_env()
    monkeypatch.delenv("SMT_ARTEFACT_STORE")
    assert ObjectStore.from_env() is None


def test_a_missing_bucket_is_an_error_not_an_absent_object(s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    for name, value in {**s3, "SMT_ARTEFACT_STORE": "s3://no-such-bucket/x"}.items():
        monkeypatch.setenv(name, value)
    store = ObjectStore.from_env()
    assert store is not None
    with pytest.raises(ObjectStoreError, match="no-such-bucket"):
        store.download("0" * 64)
    monkeypatch.setenv("SMT_ARTEFACT_STORE", f"s3://{BUCKET}/{PREFIX}")
    present = ObjectStore.from_env()
    assert present is not None and present.download("0" * 64) is None  # absent: the writer is asked
