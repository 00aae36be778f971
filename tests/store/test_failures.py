"""Every failure is one line, and leaves the store as it was: a full disk, a read-only store, a store the user may
not write, a cut RF2 file. Real ``smt`` processes on real file systems (a small tmpfs, a read-only bind mount:
these need root, and are skipped without it).

"As it was" is checked byte for byte: every file of the store (manifests, indexes, search indexes, audit
trail, generation counter), and the RDF store's content (every quad). RocksDB's own bookkeeping files (its
LOG, OPTIONS, MANIFEST and write-ahead log) change whenever the store is opened for writing, even when nothing
is written; they are compared through the content they hold.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest

from smt.config import SAMPLES_DIR
from tests.server import smt_command

pytestmark = pytest.mark.slow

CIM10_2021 = "cim10/nomensland/cim10_fr_pmsi_2021.tsv.gz"


def store_state(home: Path) -> tuple[dict[str, str], list[str]]:
    """(SHA-256 of every file outside the RDF store, every quad of the RDF store in N-Quads, sorted)."""
    files = {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(home.rglob("*")) if p.is_file() and "oxigraph" not in p.parts and p.name != "write.lock"}
    store = ox.Store.read_only(str(home / "oxigraph"))
    quads = sorted(str(q) for q in store)
    del store
    return files, quads


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount ({result.stderr.strip()}): needs root")


@contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="smt-tmpfs-"))
    mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


@contextmanager
def read_only_view(home: Path) -> Iterator[Path]:
    """``home`` seen through a read-only bind mount."""
    view = Path(tempfile.mkdtemp(prefix="smt-ro-"))
    mount("--bind", str(home), str(view))
    try:
        mount("-o", "remount,ro,bind", str(view))
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
        view.rmdir()


def sample_store(home: Path) -> None:
    smt_command(home, "load", "cisp2", str(SAMPLES_DIR / "cisp2"))


@pytest.mark.shared_data
def test_full_disk_ends_in_one_line_and_changes_nothing(shared_data: Path) -> None:
    with tmpfs("12m") as disk:
        home = disk / "home"
        sample_store(home)
        before = store_state(home)
        source = shared_data / CIM10_2021
        line = one_line_error(smt_command(home, "load", "cim10", str(source), check=False))
        assert line.startswith(f"error: cannot load {source} into {home}: no space left on device")
        assert line.endswith("; the load was rolled back, the store is unchanged")
        assert store_state(home) == before
        assert list((home / "tmp").iterdir()) == []
        assert "terminologie-cisp" in smt_command(home, "releases").stdout  # and it still works


@pytest.mark.shared_data
def test_read_only_store_ends_in_one_line_and_changes_nothing(tmp_path: Path, shared_data: Path) -> None:
    home = tmp_path / "home"
    sample_store(home)
    before = store_state(home)
    with read_only_view(home) as view:
        source = shared_data / CIM10_2021
        line = one_line_error(smt_command(view, "load", "cim10", str(source), check=False))
        assert line.startswith(f"error: cannot load {source} into {view}: ")
        assert f"read-only file system (is SMT_HOME={view} writable?)" in line and "the store is unchanged" in line
        for command in (("remove", "https://smt.esante.gouv.fr/terminologie-cisp"), ("load-samples",)):
            assert "read-only file system" in one_line_error(smt_command(view, *command, check=False))
        assert "terminologie-cisp" in smt_command(view, "releases").stdout  # reading still works
    assert store_state(home) == before


def test_permission_denied_ends_in_one_line(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as another user")
    home = Path(tempfile.mkdtemp(prefix="smt-perm-"))
    try:
        os.chmod(home, 0o755)
        sample_store(home / "home")
        before = store_state(home / "home")
        smt = Path(smt_command.__globals__["SMT"])
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(smt), "load", "cisp2",
             str(SAMPLES_DIR / "cisp2"), "--version", "other"],
            env={**os.environ, "SMT_HOME": str(home / "home")}, capture_output=True, text=True, timeout=120)
        line = one_line_error(result)
        assert f"permission denied (is SMT_HOME={home / 'home'} writable?)" in line
        assert store_state(home / "home") == before
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_an_unforeseen_error_is_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("a file where the store should be")
    line = one_line_error(smt_command(not_a_folder, "releases", check=False))
    assert str(not_a_folder) in line and line.endswith("(smt --debug … shows the traceback)")
    debug = smt_command(not_a_folder, "--debug", "releases", check=False)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
