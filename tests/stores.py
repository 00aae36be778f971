"""One store of real data shared by the analytics tests (Parquet, impact, MCP): loaded once per test run
(``shared_home``, which the browser tests' stores use too).

Every CIM-10 version (2015–2020 from the nomensland multi-year file, 2021), every NOS file of
``nos-ror/`` (TRE code systems, JDV value sets, 38 of which use CIM-10), the demo SSSOM concept map, and the
value sets the impact tests ask about (``IMPACT_VALUE_SETS``). Loading takes about a minute; under
pytest-xdist the workers share one copy (built under a file lock), so the tests only read it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from loaders import run_loader
from smt.compile import writable_store
from smt.config import data_dir
from smt.model import CodeSystemRelease, ResourceRelease

DATA = data_dir()
NOMENSLAND = DATA / "cim10" / "nomensland"
MULTI_YEAR = NOMENSLAND / "cim10_fr_pmsi_2015-2020.json.gz"
YEAR_2021 = NOMENSLAND / "cim10_fr_pmsi_2021.json.gz"
NOS = DATA / "nos-ror"
SSSOM_DEMO = Path(__file__).parent / "fixtures" / "sssom" / "demo.sssom.tsv"
CIM10 = "https://smt.esante.gouv.fr/terminologie-cim-10"
CIM10_YEARS = ("2015", "2016", "2017", "2018", "2019", "2020", "2021")
TEST_VS = "https://smt.example.org/ValueSet/impact-"


def _value_set(name: str, include: dict) -> ResourceRelease:
    url = TEST_VS + name
    resource = {"resourceType": "ValueSet", "url": url, "version": "1", "name": f"Impact{name.title()}",
                "status": "active", "compose": {"include": [{"system": CIM10, **include}]}}
    return ResourceRelease(kind="ValueSet", url=url, version="1", name=resource["name"], title=f"Impact {name}",
                           resource=resource)


IMPACT_VALUE_SETS = {
    "explicit": {"concept": [{"code": c} for c in ("I50.0", "G82.0", "G82.00", "G82.49", "U08.9", "U12")]},
    "explicit-unchanged": {"concept": [{"code": c} for c in ("I50.0", "I50.1", "E11.9")]},
    "is-a": {"filter": [{"property": "concept", "op": "is-a", "value": "G82"}]},
    "is-a-unchanged": {"filter": [{"property": "concept", "op": "is-a", "value": "I50"}]},
    "regex": {"filter": [{"property": "code", "op": "regex", "value": "U(0[7-9]|1[0-2])(\\..*)?"}]},
    "pinned": {"version": "2020", "concept": [{"code": "I50.0"}]},
}
"""Test value sets on CIM-10: explicit, is-a and regex ones that 2021 changes, two it does not, one pinned."""


def _build(home: Path) -> None:
    releases = [*run_loader("cim10", MULTI_YEAR), *run_loader("cim10", YEAR_2021)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SMT_HOME", str(home))
        store = writable_store(home)
        store.load_many([r for r in releases if isinstance(r, CodeSystemRelease)])
        store.load_many(run_loader("nos", NOS))
        store.load_many(run_loader("sssom", SSSOM_DEMO))
        store.load_many([_value_set(name, include) for name, include in IMPACT_VALUE_SETS.items()])


def shared_home(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The store ``name`` of this test run, built by ``build(home)`` by the first process that asks: the
    pytest-xdist workers of a run share it (the others wait on a file lock), then only read it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this run
    home = base / name
    done = base / f"{name}.complete"
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(home, ignore_errors=True)  # what a failed build left
            home.mkdir()
            build(home)
            done.touch()
    return home


def analytics_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared store (built on first use; skipped when the real data is absent)."""
    if not (NOMENSLAND.is_dir() and NOS.is_dir()):
        pytest.skip("real CIM-10 and NOS files not under SMT_DATA_DIR")
    return shared_home(tmp_path_factory, "analytics-store", _build)
