"""HTTP calls to the real FastAPI app (``fhir_api.app.create_app``) through starlette's ``TestClient``.

``IsolatedTransport`` (the default) runs the app in a child process so that one request stuck in the server
(e.g. a catastrophic regex, which holds the GIL) is cut off after ``timeout`` seconds: the child is killed,
the test fails with ``timeout`` and a fresh child (fresh ``SMT_HOME``) takes the next request.
``InProcessTransport`` calls the app directly (handy under a debugger).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class HarnessError(RuntimeError):
    """The app could not be started at all: the run stops (no test result would mean anything)."""


@dataclass(frozen=True)
class HttpResult:
    status: int
    content_type: str
    body: bytes
    error: str | None = None  # set when no HTTP answer came back (timeout, crash)


class Transport(Protocol):
    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> HttpResult: ...

    def close(self) -> None: ...


def _make_client(home: Path):  # type: ignore[no-untyped-def]
    os.environ["SMT_HOME"] = str(home)
    from fastapi.testclient import TestClient

    from fhir_api.app import create_app

    return TestClient(create_app(home), raise_server_exceptions=False)


def _call(client, method: str, path: str, headers: dict[str, str], body: bytes | None) -> HttpResult:  # type: ignore[no-untyped-def]
    response = client.request(method, path, headers=headers, content=body)
    return HttpResult(response.status_code, response.headers.get("content-type", ""), response.content)


class InProcessTransport:
    """The app in this process, over ``home``."""

    def __init__(self, home: Path) -> None:
        self.client = _make_client(home)

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> HttpResult:
        try:
            return _call(self.client, method, path, headers, body)
        except Exception as exc:  # the app raised through the test client
            return HttpResult(0, "", b"", f"exception: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.client.close()


def _serve(conn, home: str) -> None:  # type: ignore[no-untyped-def]
    """Child process: answer ``(method, path, headers, body)`` requests until ``None``."""
    warnings.simplefilter("ignore")  # the app's import-time warnings would only clutter the run output
    try:
        client = _make_client(Path(home))
    except Exception:
        conn.send(("startup", traceback.format_exc()))
        return
    conn.send(("ready", None))
    while True:
        job = conn.recv()
        if job is None:
            break
        try:
            conn.send(("ok", _call(client, *job)))
        except Exception as exc:
            conn.send(("error", f"exception: {type(exc).__name__}: {exc}"))
    client.close()


class IsolatedTransport:
    """The app in a child process; a request taking longer than ``timeout`` seconds kills it."""

    def __init__(self, home: Path | None = None, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._tmp = None if home else tempfile.TemporaryDirectory(prefix="smt-conformance-")
        self.root = home or Path(self._tmp.name)  # type: ignore[union-attr]
        self._fresh_homes = home is None
        self._ctx = multiprocessing.get_context("spawn")
        self._proc = None
        self._conn = None
        self._spawned = 0
        self.restarts = 0

    def _start(self) -> None:
        home = self.root
        if self._fresh_homes:
            home = self.root / f"home-{self._spawned}"
            home.mkdir(parents=True, exist_ok=True)
        self._spawned += 1
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, str(home)), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(120):
            self._kill()
            raise HarnessError("the FHIR app did not start within 120 s")
        try:
            state, detail = parent.recv()
        except EOFError:
            state, detail = "died", ("the child process exited (with the spawn start method the main module must be "
                                     "importable: run from a file, or use --in-process)")
        if state != "ready":
            self._kill()
            raise HarnessError(f"the FHIR app failed to start: {detail}")

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> HttpResult:
        if self._proc is None:
            self._start()
        assert self._conn is not None
        self._conn.send((method, path, headers, body))
        if not self._conn.poll(self.timeout):
            self._kill()
            self.restarts += 1
            return HttpResult(0, "", b"", f"timeout: no answer within {self.timeout:g} s")
        try:
            state, payload = self._conn.recv()
        except EOFError:
            self._kill()
            self.restarts += 1
            return HttpResult(0, "", b"", "exception: the server process died")
        if state == "ok":
            return payload
        return HttpResult(0, "", b"", payload)

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
        if self._proc is not None:
            self._proc.join(10)
        self._kill()
        if self._tmp is not None:
            self._tmp.cleanup()
