"""Stores the browser tests run against, built from the real files under ``SMT_DATA_DIR`` by the real loaders.

``build_cim10_store``: CIM-10 FR 2015–2021 (seven versions), the ANS NOS tables and ROR value sets (FHIR JSON),
CISP-2 and the CISP-2 → CIM-10 concept map. It takes one to two minutes, so it is built once per test session
and shared by the xdist workers (``shared_store``: the first builds it under a lock, the others reuse it).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from loaders import run_loader
from smt.store.releases import ReleaseStore

CIM10_MULTI_YEAR = Path("cim10/nomensland/cim10_fr_pmsi_2015-2020.json.gz")
CIM10_2021 = Path("cim10/nomensland/cim10_fr_pmsi_2021.json.gz")
NOS_FHIR = Path("nos-ror/fhir-json/IG-NOS/ig/allNos2")
CISP2 = Path("cisp2/chill-icpc2")
CISP2_CIM10 = Path("cisp2/icpc2e-v4.4-pt-acss")
READY = "store-ready"


@contextmanager
def _home(home: Path) -> Iterator[None]:
    """``SMT_HOME`` set to ``home`` (the CISP-2 → CIM-10 loader reads the CIM-10 release from the store)."""
    before = os.environ.get("SMT_HOME")
    os.environ["SMT_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SMT_HOME", None)
        else:
            os.environ["SMT_HOME"] = before


def build_cim10_store(data: Path, home: Path) -> None:
    store = ReleaseStore(home)
    store.load_many(run_loader("cim10", data / CIM10_MULTI_YEAR) + run_loader("cim10", data / CIM10_2021))
    store.load_many(run_loader("nos", data / NOS_FHIR))
    store.load_many(run_loader("cisp2", data / CISP2))
    with _home(home):
        store.load_many(run_loader("cisp2-cim10", data / CISP2_CIM10))


def build_console_store(data: Path, home: Path) -> None:
    """CIM-10 2020 (active) and the NOS tables: the curator console loads CIM-10 2021 over it."""
    store = ReleaseStore(home)
    store.load_many([r for r in run_loader("cim10", data / CIM10_MULTI_YEAR) if r.version == "2020"])
    store.load_many(run_loader("nos", data / NOS_FHIR))


def shared_store(root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The store ``root/name``, built by ``build`` by the first process that asks (others wait for it)."""
    home = root / name
    root.mkdir(parents=True, exist_ok=True)
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (home / READY).exists():
                home.mkdir(parents=True, exist_ok=True)
                build(home)
                (home / READY).touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return home
