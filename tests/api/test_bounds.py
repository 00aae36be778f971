"""Numeric parameters are bounded: out-of-range, negative or non-integer values answer a 400 OperationOutcome
(never a 500), from a real server process that stays up (issue 12: 10⁹, 2⁶⁴ and −1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smt.compile import writable_store
from smt.formats.fhir_json import codesystem_release, resource_release
from smt.terminology.parameters import MAX_CLOSURE_VERSION, MAX_LIMIT, MAX_OFFSET, MAX_SEARCH_COUNT
from tests.terminology.test_expand import body_code_system, include, value_set

ORGANS_URL = "http://example.org/vs/organs"
EXPAND_MAX = 50
TOO_BIG = ["1000000000", str(2**64), "-1", "1e3", "x", "9" * 5000]
"""10⁹, 2⁶⁴, −1, not integers, and a number too long for Python's int() of a string."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    home = Path(tmp_path_factory.mktemp("bounds-home"))
    store = writable_store(home)
    store.load(codesystem_release(body_code_system()))
    store.load(resource_release(value_set(include(("concept", "is-a", "organe")), url=ORGANS_URL)))
    port = _free_port()
    env = {**os.environ, "SMT_HOME": str(home), "SMT_EXPAND_MAX": str(EXPAND_MAX)}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "fhir_api.app:create_app",
                                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        for _ in range(200):
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def _refused(answer: httpx.Response, name: str) -> str:
    assert answer.status_code == 400, answer.text
    issue = answer.json()["issue"][0]
    assert answer.json()["resourceType"] == "OperationOutcome" and issue["code"] == "invalid"
    assert issue["expression"] == [name]
    return str(issue["details"]["text"])


@pytest.mark.parametrize("name", ["count", "offset", "limit"])
@pytest.mark.parametrize("value", TOO_BIG)
def test_expand_numbers_out_of_bounds(server: httpx.Client, name: str, value: str) -> None:
    _refused(server.get("/fhir/ValueSet/$expand", params={"url": ORGANS_URL, name: value}), name)
    body = {"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": ORGANS_URL},
                                                        {"name": name, "valueString": value}]}
    _refused(server.post("/fhir/ValueSet/$expand", json=body), name)
    assert server.get("/health").status_code == 200


@pytest.mark.parametrize("name", ["_count", "_offset"])
@pytest.mark.parametrize("value", TOO_BIG)
def test_search_numbers_out_of_bounds(server: httpx.Client, name: str, value: str) -> None:
    for resource in ("CodeSystem", "ValueSet", "ConceptMap"):
        _refused(server.get(f"/fhir/{resource}", params={name: value}), name)


def test_bounds_are_the_documented_ones(server: httpx.Client) -> None:
    expand = {"url": ORGANS_URL}
    assert server.get("/fhir/ValueSet/$expand", params={**expand, "count": EXPAND_MAX}).status_code == 200
    assert _refused(server.get("/fhir/ValueSet/$expand", params={**expand, "count": EXPAND_MAX + 1}),
                    "count") == f"count must be at most {EXPAND_MAX}"
    answer = server.get("/fhir/ValueSet/$expand", params={**expand, "offset": MAX_OFFSET})
    assert answer.status_code == 200 and answer.json()["expansion"]["offset"] == MAX_OFFSET
    assert server.get("/fhir/ValueSet/$expand", params={**expand, "offset": MAX_OFFSET + 1}).status_code == 400
    assert server.get("/fhir/ValueSet/$expand", params={**expand, "limit": MAX_LIMIT}).status_code == 200
    assert server.get("/fhir/ValueSet/$expand", params={**expand, "limit": MAX_LIMIT + 1}).status_code == 400
    assert server.get("/fhir/ValueSet", params={"_count": MAX_SEARCH_COUNT}).status_code == 200
    assert server.get("/fhir/ValueSet", params={"_count": MAX_SEARCH_COUNT + 1}).status_code == 400
    closure = {"resourceType": "Parameters", "parameter": [{"name": "name", "valueString": "t"},
                                                           {"name": "version", "valueString": str(2**64)}]}
    _refused(server.post("/fhir/$closure", json=closure), "version")
    assert MAX_CLOSURE_VERSION < 2**63


@pytest.mark.parametrize(("name", "value"), [("offset", MAX_OFFSET + 1), ("offset", 2**64), ("offset", -1),
                                             ("count", 10**9), ("count", -1), ("count", "9" * 5000)])
def test_changes_paging_is_bounded(server: httpx.Client, name: str, value: object) -> None:
    answer = server.get("/changes", params={"url": ORGANS_URL, "since": "1", name: value})
    assert answer.status_code == 400 and answer.json()["resourceType"] == "OperationOutcome"
