"""Bounds and transport refusals through a real server process (``smt serve`` over the bundled samples).

Every numeric parameter beyond its documented bound, every URL, header block or body over its limit, and a
request that is not HTTP at all answer a 4xx OperationOutcome; the process keeps serving.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.server_process import is_up, load_samples, running_server

CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
OUT_OF_BOUNDS = ["1000000000", str(2**64), "-1"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("limits-home")
    load_samples(home)
    with running_server(home) as base:
        yield base


def raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as is on a new connection; the status, headers and body of the answer."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=120) as connection:
        with suppress(BrokenPipeError, ConnectionResetError):  # refused before the end: the answer is there
            connection.sendall(request)
        answer = b""
        with suppress(ConnectionResetError):
            while chunk := connection.recv(1 << 16):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def assert_outcome(status: int, body: bytes, expected: int, *words: str) -> None:
    assert status == expected, body[:300]
    outcome = orjson.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    text = outcome["issue"][0]["diagnostics"]
    assert all(word in text for word in words), text


@pytest.mark.parametrize("value", OUT_OF_BOUNDS)
@pytest.mark.parametrize("name", ["offset", "count"])
def test_search_numbers_out_of_bounds_answer_400_and_the_server_stays_up(server: str, name: str, value: str) -> None:
    """(``/changes`` and the FHIR operations: ``tests/api/test_bounds.py``.)"""
    response = httpx.get(f"{server}/search", params={"q": "diabete", name: value}, timeout=120)
    assert_outcome(response.status_code, response.content, 400, name)
    assert is_up(server)


def test_text_parameters_over_their_bounds_answer_in_the_routes_format(server: str) -> None:
    long_query = httpx.get(f"{server}/search", params={"q": "a" * 501}, timeout=120)
    assert_outcome(long_query.status_code, long_query.content, 400, "q")
    long_system = httpx.get(f"{server}/search", params={"q": "diabete", "system": "s" * 2049}, timeout=120)
    assert_outcome(long_system.status_code, long_system.content, 400, "system")
    svs = httpx.get(f"{server}/svs/RetrieveValueSet", params={"id": "1." * 1500}, timeout=120)
    assert svs.status_code == 400 and b"Fault" in svs.content and b"2,048" in svs.content
    assert is_up(server)


def test_deep_pages_are_empty_past_the_last_hit(server: str) -> None:
    first = httpx.get(f"{server}/search", params={"q": "diabete"}, timeout=120).json()
    assert first["total"] > 0 and first["results"]
    deep = httpx.get(f"{server}/search", params={"q": "diabete", "offset": 10_000}, timeout=120)
    assert deep.status_code == 200 and deep.json()["results"] == []
    changes = httpx.get(f"{server}/changes", params={"url": CIM10, "since": "2021", "offset": 1_000_000},
                        timeout=120)
    assert changes.status_code == 200 and changes.json()["changes"] == []


def test_urls_over_the_limits_answer_414(server: str) -> None:
    over_app_limit = f"/search?q={'a' * 40_000}"  # SMT_MAX_URL_BYTES (32 KiB): the app answers
    status, headers, body = raw(server, f"GET {over_app_limit} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_outcome(status, body, 414, "SMT_MAX_URL_BYTES")
    assert headers["x-content-type-options"] == "nosniff"
    over_server_limit = f"/search?q={'a' * 100_000}"  # httptools' 64 KiB: the HTTP protocol answers
    status, headers, body = raw(server, f"GET {over_server_limit} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_outcome(status, body, 414, "65,535")
    assert headers["content-type"].startswith("application/fhir+json")
    assert is_up(server)


def test_headers_over_the_limits_answer_431(server: str) -> None:
    status, _, body = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 100_000 + b"\r\n\r\n")
    assert_outcome(status, body, 431, "SMT_MAX_HEADER_BYTES")
    status, _, body = raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (2 << 20) + b"\r\n\r\n")
    assert_outcome(status, body, 431, "1,048,576")
    assert is_up(server)


def test_a_request_that_is_not_http_answers_400(server: str) -> None:
    status, _, body = raw(server, b"GET /he alth HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_outcome(status, body, 400, "HTTP/1.1")
    assert is_up(server)


def test_bodies_over_the_limit_answer_413_even_without_a_length(server: str) -> None:
    body = b"x" * (33 << 20)  # over SMT_MAX_BODY_BYTES (32 MiB)
    chunked = (b"POST /fhir/ValueSet/$expand HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(body):x}".encode() + b"\r\n" + body + b"\r\n0\r\n\r\n")
    status, _, answer = raw(server, chunked)
    assert_outcome(status, answer, 413, "SMT_MAX_BODY_BYTES")
    declared = (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                b"Content-Length: 40000000\r\n\r\n")
    status, _, answer = raw(server, declared)
    assert_outcome(status, answer, 413, "SMT_MAX_BODY_BYTES")
    assert is_up(server)


def test_the_app_limits_are_settings(tmp_path: Path) -> None:
    load_samples(tmp_path)
    with running_server(tmp_path, {"SMT_MAX_URL_BYTES": "100", "SMT_MAX_HEADER_BYTES": "5000"}) as base:
        long = httpx.get(f"{base}/search", params={"q": "d" * 200}, timeout=120)
        assert_outcome(long.status_code, long.content, 414, "100")
        assert httpx.get(f"{base}/search", params={"q": "diabete"}, timeout=120).status_code == 200
        headers = httpx.get(f"{base}/health", headers={"X-Big": "b" * 6000}, timeout=120)
        assert_outcome(headers.status_code, headers.content, 431, "5,000")
