"""A throwaway cluster for a test module: ``smt cluster up`` in a fresh folder, ``smt cluster down`` after."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from smt.cluster import local
from smt.errors import SmtError
from tests.server_process import smt_command


@contextmanager
def cluster_up(replicas: int, env: dict[str, str] | None = None) -> Iterator[tuple[Path, dict]]:
    """Yield the cluster's folder and the one JSON line ``smt cluster up`` printed (run with ``env`` added);
    skipped when the haproxy or PostgreSQL programs are absent (CI installs them)."""
    try:
        local.haproxy_bin()
        local.postgres_bin("initdb")
    except SmtError as exc:
        pytest.skip(str(exc))
    folder = Path(tempfile.mkdtemp(prefix="smt-cluster-"))
    folder.chmod(0o755)  # PostgreSQL runs as its own user when the tests run as root
    try:
        done = subprocess.run([smt_command(), "cluster", "up", "--dir", str(folder), "--replicas", str(replicas)],
                              capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert len(lines) == 1, done.stdout
        yield folder, orjson.loads(lines[0])
    finally:
        if (folder / local.STATE).exists():
            subprocess.run([smt_command(), "cluster", "down", "--dir", str(folder)], capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
