"""Loaders: pure functions from source files to release models. No store access here.

Every loader has the signature ``load(path: Path, version: str | None = None, **options) -> list[Release]``; a
source that holds several versions (e.g. the CIM-10 2015–2020 multi-year file) yields one release per version.
A loader may also offer ``stream`` (same arguments, plus ``progress``), an iterator that builds one release at a
time, so that a multi-version source is stored without holding every version in memory.

Anything a loader needs from the store (the codes of a stored code system, the code systems stored under an
OID) is a keyword argument it declares (``code_table``, ``stored_system_for_oid``), given as plain values or
callables by the composition root through ``run_loader(..., context=…)`` (``smt.releases.loader_context``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType

from smt.allocation import bound_fragmentation
from smt.model import Release

Loader = Callable[..., Iterable[Release]]

LOADER_MODULES: dict[str, str] = {
    "cim10": "loaders.cim10",
    "cisp2": "loaders.cisp2",
    "cisp2-cim10": "loaders.cisp2_cim10",
    "fhir": "loaders.fhir",
    "nos": "loaders.nos",
    "snomed": "loaders.snomed",
    "sssom": "loaders.sssom",
}

CONTEXT = ("code_table", "stored_system_for_oid", "progress")
"""Keyword arguments the composition root offers to every loader; a loader gets those it declares."""


def loader_names() -> list[str]:
    return sorted(LOADER_MODULES)


def _module(name: str) -> ModuleType:
    try:
        return importlib.import_module(LOADER_MODULES[name])
    except KeyError:
        raise KeyError(f"unknown loader '{name}'; known loaders: {', '.join(loader_names())}") from None


def get_loader(name: str, stream: bool = False) -> Loader:
    """The ``load`` function of the loader called ``name`` (``cim10``, ``cisp2``, …), or its ``stream`` function
    when asked for and it has one."""
    module = _module(name)
    return getattr(module, "stream", module.load) if stream else module.load


def _parameters(loader: Loader) -> set[str]:
    return set(inspect.signature(loader).parameters) - {"path", "version"}


def loader_options(name: str) -> set[str]:
    """Keyword options a user may give a loader beyond ``version`` (e.g. ``base`` for SNOMED CT deltas)."""
    return _parameters(get_loader(name)) - set(CONTEXT)


def run_loader(name: str, path: Path, version: str | None = None, *, context: Mapping[str, object] | None = None,
               stream: bool = False, **options: object) -> Iterable[Release]:
    """Run a loader (its ``stream`` function when ``stream``); ``options`` it does not accept raise ``ValueError``
    naming them; of ``context`` (``CONTEXT``), it gets the entries it declares."""
    unknown = {k for k, v in options.items() if v is not None} - loader_options(name)
    if unknown:
        raise ValueError(f"loader '{name}' does not take option(s): {', '.join(sorted(unknown))}")
    loader = get_loader(name, stream)
    bound_fragmentation()  # from the start of the bulk work: the release model's blocks too
    accepted = _parameters(loader)
    given = {k: v for k, v in options.items() if v is not None}
    given.update({k: v for k, v in (context or {}).items() if k in accepted})
    return loader(Path(path), version=version, **given)
