"""`kill -9` during a real load: earlier releases still answer, no partial release is ever listed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smt.compile import writable_store
from smt.releases.registry import Registry
from smt.store.rdf import RdfStore
from tests.factories import make_release

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def start_load(home: Path, source: Path) -> subprocess.Popen:
    env = {**os.environ, "SMT_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "smt.cli", "load", "cim10", str(source)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_work(home: Path, process: subprocess.Popen, committed: int, timeout: float = 120.0) -> None:
    """Wait until the load has committed ``committed`` releases and is building the next one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else "load ended early"
        done = len(list((home / "releases").glob("*"))) - 1  # minus the release loaded before
        if done >= committed and any((home / "tmp").glob("*")):
            return
        time.sleep(0.01)
    raise AssertionError("load did not reach the expected stage in time")


def assert_consistent(home: Path) -> None:
    """Every listed release opens and answers; the RDF registry matches the folders after reconcile."""
    store = writable_store(home)
    registry = Registry(home)
    for info in store.list():
        if info.kind == "CodeSystem":
            index = registry.index(info)
            assert sum(1 for _ in index.concepts()) == info.count
    store.reconcile()
    rdf = RdfStore(store.rdf_dir)
    try:
        folders = {info.id for info in store.list()}
        assert rdf.registered_ids() == folders
        assert rdf.release_graph_ids() == folders
    finally:
        rdf.close()


@pytest.mark.parametrize(("committed", "delay"), [(0, 0.0), (0, 1.5), (0, 4.0)])
def test_kill_during_load_leaves_no_partial_release(home: Path, shared_data: Path, committed: int,
                                                    delay: float) -> None:
    source = shared_data / "cim10" / "nomensland" / "cim10_fr_pmsi_2015-2020.json.gz"
    writable_store(home).load(make_release("1"))
    process = start_load(home, source)
    try:
        wait_for_work(home, process, committed)
        time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    listed = writable_store(home).list()
    assert ("http://example.org/cs", "1") in {(r.url, r.version) for r in listed}
    cim10_versions = sorted(r.version for r in listed if "cim-10" in r.url)
    assert cim10_versions == ["2015", "2016", "2017", "2018", "2019", "2020"][: len(cim10_versions)]
    assert_consistent(home)
    earlier = Registry(home).code_system("http://example.org/cs")
    assert earlier.concept("A1") is not None
