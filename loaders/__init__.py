"""Loaders: pure functions from source files to release models. No store access here.

Every loader has the signature ``load(path: Path, version: str | None = None) -> list[Release]``; a source
that holds several versions (e.g. the CIM-10 2015–2020 multi-year file) yields one release per version.
"""

from __future__ import annotations

import importlib
import inspect
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


def loader_options(name: str) -> set[str]:
    """Keyword options a loader accepts beyond ``version`` (e.g. ``base`` for SNOMED CT deltas)."""
    parameters = inspect.signature(get_loader(name)).parameters
    return {p for p in parameters if p not in ("path", "version")}


def run_loader(name: str, path: Path, version: str | None = None, **options: object) -> list[Release]:
    """Run a loader; ``options`` the loader does not accept raise ``ValueError`` naming them."""
    unknown = {k for k, v in options.items() if v is not None} - loader_options(name)
    if unknown:
        raise ValueError(f"loader '{name}' does not take option(s): {', '.join(sorted(unknown))}")
    given = {k: v for k, v in options.items() if v is not None}
    return get_loader(name)(Path(path), version=version, **given)
