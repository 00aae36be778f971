"""A real server process for tests: ``smt serve`` on a free local port, over a given store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

READY_WAIT = 120.0
"""Seconds to wait for the server to answer ``/health`` (a readiness wait, not a speed check)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smt_command() -> str:
    return str(Path(sys.executable).with_name("smt"))


def load_samples(home: Path) -> None:
    """The bundled samples (not the FHIR R4 core terminology) into the store at ``home``, as ``make run`` does."""
    subprocess.run([smt_command(), "load-samples", "--no-core"], check=True, capture_output=True,
                   env={**os.environ, "SMT_HOME": str(home)})


@contextmanager
def running_server(home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``smt serve`` over ``home``; yields its base URL and stops it (this process only) on exit."""
    port = free_port()
    process = subprocess.Popen([smt_command(), "serve", "--port", str(port), "--no-access-log"],
                               env={**os.environ, "SMT_HOME": str(home), **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_WAIT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"smt serve ended with code {process.returncode}")
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def is_up(base: str) -> bool:
    """Whether the server still answers (the process is alive and serving)."""
    try:
        return httpx.get(f"{base}/health", timeout=30).status_code == 200
    except httpx.TransportError:
        return False
