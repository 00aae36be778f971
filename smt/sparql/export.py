"""The published graphs of the store of record, copied out for a SPARQL server of their own (``smt sparql export``).

What is copied is what an anonymous reader of ``/sparql`` may query (``smt.sparql.dataset.published_graphs``):
the registry graph and the graphs of active and retired releases, never a draft. The copy is a fresh Oxigraph
database folder that ``oxigraph serve-read-only --location DIR`` serves (the ``oxigraph`` package, same storage
format as pyoxigraph), and optionally an N-Quads file for another SPARQL server. It is a snapshot of the store as
it was when the export started (a read-only handle): run it again after a load, a status change or a removal.

The folder is built beside its target and renamed into place; a previous export there (recognised by its
``smt-export.json``) is replaced, anything else is refused.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
import pyoxigraph as ox

from smt.errors import SmtError
from smt.publish.rdf_read import open_read_only
from smt.sparql.dataset import published_graphs
from smt.store.releases import ReleaseInfo

MARKER = "smt-export.json"
"""In an export folder: what it holds (graphs, quads, the store generation it was taken at, when)."""


@dataclass(frozen=True, slots=True)
class Exported:
    """What an export wrote."""

    folder: str | None
    nquads: str | None
    graphs: list[str]
    quads: int
    generation: str
    exported_at: str
    seconds: float


def _quads(store: ox.Store, graphs: list[str], counted: list[int]) -> Iterator[ox.Quad]:
    for graph in graphs:
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            counted[0] += 1
            yield quad


def _check_target(target: Path) -> None:
    if target.exists() and not (target / MARKER).is_file():
        raise SmtError(f"{target} exists and is not an export of `smt sparql export`: give a new folder")


def _build(store: ox.Store, graphs: list[str], work: Path) -> int:
    """A fresh Oxigraph database in ``work`` holding ``graphs``; answers the number of quads."""
    counted = [0]
    database = ox.Store(str(work))
    database.bulk_extend(_quads(store, graphs, counted))
    database.flush()
    database.optimize()
    del database  # closes the database: the folder may be renamed and served
    return counted[0]


def _swap(work: Path, target: Path) -> None:
    """Rename ``work`` to ``target``, the previous export (if any) going away after."""
    previous = target.with_name(f".{target.name}.previous.{os.getpid()}")
    if target.exists():
        target.rename(previous)
    work.rename(target)
    shutil.rmtree(previous, ignore_errors=True)


def export(store_path: Path, releases: Iterable[ReleaseInfo], generation: str, folder: Path | None = None,
           nquads: Path | None = None) -> Exported:
    """Copy the published graphs of the store at ``store_path`` to an Oxigraph database ``folder`` and/or an
    N-Quads file ``nquads``."""
    if folder is None and nquads is None:
        raise SmtError("nothing to export to: give --to DIR (an Oxigraph database) and/or --nquads FILE")
    started = time.monotonic()
    if folder is not None:
        _check_target(folder)
    store = open_read_only(store_path)
    graphs = published_graphs(store, releases)
    quads = 0
    if nquads is not None:
        counted = [0]
        tmp = nquads.with_name(f".{nquads.name}.{os.getpid()}.tmp")
        try:
            ox.serialize(_quads(store, graphs, counted), str(tmp), ox.RdfFormat.N_QUADS)
            tmp.replace(nquads)
        finally:
            tmp.unlink(missing_ok=True)
        quads = counted[0]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if folder is not None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = folder.with_name(f".{folder.name}.export.{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        try:
            quads = _build(store, graphs, work)
            summary = _summary(folder, nquads, graphs, quads, generation, stamp, started)
            (work / MARKER).write_bytes(orjson.dumps(asdict(summary), option=orjson.OPT_INDENT_2))
            _swap(work, folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return _summary(folder, nquads, graphs, quads, generation, stamp, started)


def _summary(folder: Path | None, nquads: Path | None, graphs: list[str], quads: int, generation: str,
             stamp: str, started: float) -> Exported:
    return Exported(str(folder) if folder else None, str(nquads) if nquads else None, graphs, quads, generation,
                    stamp, round(time.monotonic() - started, 3))
