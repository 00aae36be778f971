"""Loaders: pure functions from source files to release models. No store access here.

Every loader has the signature ``load(path: Path, version: str | None = None) -> list[Release]``; a source
that holds several versions (e.g. the CIM-10 2015–2020 multi-year file) yields one release per version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from smt.model import Release

Loader = Callable[..., list[Release]]

LOADER_MODULES: dict[str, str] = {
    "cim10": "loaders.cim10",
    "cisp2": "loaders.cisp2",
    "cisp2-cim10": "loaders.cisp2_cim10",
    "fhir": "loaders.fhir",
    "nos": "loaders.nos",
    "snomed": "loaders.snomed",
    "sssom": "loaders.sssom",
}


def loader_names() -> list[str]:
    return sorted(LOADER_MODULES)


def get_loader(name: str) -> Loader:
    """The ``load`` function of the loader called ``name`` (``cim10``, ``cisp2``, …)."""
    try:
        module = importlib.import_module(LOADER_MODULES[name])
    except KeyError:
        raise KeyError(f"unknown loader '{name}'; known loaders: {', '.join(loader_names())}") from None
    return module.load


def run_loader(name: str, path: Path, version: str | None = None) -> list[Release]:
    return get_loader(name)(Path(path), version=version)
