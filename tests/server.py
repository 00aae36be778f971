"""A real server process (``smt serve``) and the real ``smt`` command, for tests of what several processes see."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SMT = str(Path(sys.executable).with_name("smt"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smt_command(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed ``smt`` command on the store at ``home``."""
    result = subprocess.run([SMT, *args], env={**os.environ, "SMT_HOME": str(home)}, capture_output=True,
                            text=True, timeout=600)
    if check:
        assert result.returncode == 0, f"smt {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@contextmanager
def running_server(home: Path, workers: int = 2) -> Iterator[httpx.Client]:
    """``smt serve --workers N`` on a free port, stopped on exit; yields a client on its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [SMT, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"],
        env={**os.environ, "SMT_HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "server ended"
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start in 60 s"
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
