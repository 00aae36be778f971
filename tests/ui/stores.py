"""Stores the browser tests run against, built from the real files under ``SMT_DATA_DIR`` by the real loaders.

``build_cim10_store``: CIM-10 FR 2015–2021 (seven versions), the ANS NOS tables and ROR value sets (FHIR JSON),
CISP-2 and the CISP-2 → CIM-10 concept map. It takes one to two minutes, so it is built once per test session
and shared by the xdist workers (``tests.stores.shared_home``).
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

from loaders import run_loader
from smt.compile import writable_store
from smt.releases.loader_context import loader_context
from smt.releases.registry import Registry

CIM10_MULTI_YEAR = Path("cim10/nomensland/cim10_fr_pmsi_2015-2020.json.gz")
CIM10_2021 = Path("cim10/nomensland/cim10_fr_pmsi_2021.json.gz")
NOS_FHIR = Path("nos-ror/fhir-json/IG-NOS/ig/allNos2")
CISP2 = Path("cisp2/chill-icpc2")
CISP2_CIM10 = Path("cisp2/icpc2e-v4.4-pt-acss")
READY = "store-ready"
"""Written in a store folder once ``build_cim10_store`` has filled it (the screenshot and benchmark scripts)."""


def build_cim10_store(data: Path, home: Path) -> None:
    store = writable_store(home)
    store.load_many(chain(run_loader("cim10", data / CIM10_MULTI_YEAR), run_loader("cim10", data / CIM10_2021)))
    store.load_many(run_loader("nos", data / NOS_FHIR))
    store.load_many(run_loader("cisp2", data / CISP2))
    store.load_many(run_loader("cisp2-cim10", data / CISP2_CIM10, context=loader_context(Registry(home))))
    (home / READY).touch()


def build_console_store(data: Path, home: Path) -> None:
    """CIM-10 2020 (active) and the NOS tables: the curator console loads CIM-10 2021 over it."""
    store = writable_store(home)
    store.load_many(r for r in run_loader("cim10", data / CIM10_MULTI_YEAR) if r.version == "2020")
    store.load_many(run_loader("nos", data / NOS_FHIR))
