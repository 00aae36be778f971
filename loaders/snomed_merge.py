"""Overlaying RF2 files on a base snapshot: a Delta on its previous release, or an extension on its edition.

Rows are matched by component id (language refset members by refset + description, since their ids are not
kept) and the row with the latest ``effectiveTime`` wins, the overlay's on a tie. Every merged frame gets a
``file`` column so that later errors still name the file a row came from.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from loaders.snomed_rf2 import Rf2File
from loaders.snomed_tables import refset_kind

KEYS: dict[str, tuple[str, ...]] = {"language": ("refsetId", "referencedComponentId")}
"""Row identity per file kind (default: ``id``)."""


def _group(rf2: Rf2File) -> tuple[str, str]:
    """Files that hold the same rows: same kind, and for reference sets the same pattern."""
    return rf2.kind, refset_kind(rf2.name) if rf2.kind == "refset" else ""


def tagged(rf2: Rf2File) -> pl.DataFrame:
    if "file" in rf2.frame.columns:
        return rf2.frame
    return rf2.frame.with_columns(pl.lit(rf2.name.rsplit("/", 1)[-1]).alias("file"))


def overlay(base: Sequence[Rf2File], changes: Sequence[Rf2File]) -> list[Rf2File]:
    """``base`` with ``changes`` applied (see the module docstring)."""
    groups: dict[tuple[str, str], list[Rf2File]] = {}
    for rf2 in [*base, *changes]:
        groups.setdefault(_group(rf2), []).append(rf2)
    merged: list[Rf2File] = []
    for (kind, _), files in groups.items():
        if len(files) == 1:
            merged.append(files[0])
            continue
        key = list(KEYS.get(kind, ("id",)))
        frame = (pl.concat([tagged(f) for f in files], how="diagonal_relaxed")
                 .with_row_index("order")
                 .sort(["effectiveTime", "order"])
                 .unique(key, keep="last")
                 .sort("order")
                 .drop("order"))
        dates = [f.date for f in files if f.date]
        merged.append(Rf2File(kind, files[-1].name, "Snapshot", max(dates) if dates else None, frame))
    return merged


def own_module(changes: Sequence[Rf2File]) -> str | None:
    """The module most rows of an overlay belong to (the extension's or the Delta's module)."""
    modules = [f.frame.select("moduleId") for f in changes if "moduleId" in f.frame.columns]
    if not modules:
        return None
    counts = pl.concat(modules).group_by("moduleId").len().sort(["len", "moduleId"], descending=[True, False])
    return counts["moduleId"][0] if counts.height else None
