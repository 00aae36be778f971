"""A real ``smt serve`` process on 127.0.0.1 (a free port) over a store, for tests that need real HTTP (DuckDB's
``httpfs``, byte ranges, other processes)."""

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_server(home: Path, **env: str) -> Iterator[str]:
    """The base URL of ``smt serve`` over ``home`` (extra ``env`` settings, e.g. ``SMT_EXPAND_MAX``); stopped on
    exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "smt.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env={**os.environ, "SMT_HOME": str(home), **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"smt serve exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("smt serve did not answer /health within 60 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
