"""Which SNOMED CT edition and date an RF2 release is: its version URI ``http://snomed.info/sct/{module}/version/{date}``.

* Module: the edition's main module. With a module dependency reference set, it is the module that owns
  concepts and that no other concept-owning module depends on (the International Edition: core
  900000000000207008; an extension or a subset: its own module); ties and releases without the reference set
  go to the module owning most concepts.
* Date: the latest date in the Concept file names (``…_INT_20250909.txt``; else in any file name), else the
  latest ``effectiveTime``.
"""

from __future__ import annotations

import re

import polars as pl

from loaders.snomed_rf2 import Rf2File

SCT = "http://snomed.info/sct"
MODULE_DEPENDENCY = "900000000000534007"
VERSION_URI = re.compile(r"^http://snomed\.info/x?sct/(\d+)(?:/version/(\d{8}))?$")


def version_uri(module: str, date: str) -> str:
    return f"{SCT}/{module}/version/{date}"


def parse_version(version: str) -> tuple[str, str | None] | None:
    """(module, date) of a SNOMED CT version URI (``sct`` or ``xsct``), else ``None``."""
    match = VERSION_URI.match(version)
    return (match.group(1), match.group(2)) if match else None


def main_module(concepts: pl.DataFrame, refsets: list[Rf2File]) -> str:
    """The edition's main module (see the module docstring)."""
    owners = concepts.group_by("moduleId").len().sort(["len", "moduleId"], descending=[True, False])
    owning = owners["moduleId"].to_list()
    if not owning:
        return "900000000000207008"
    dependencies = [f.frame for f in refsets if "refsetId" in f.frame.columns]
    edges = pl.concat([d.select("moduleId", "referencedComponentId", "refsetId", "active") for d in dependencies]
                      ) if dependencies else None
    if edges is not None:
        edges = edges.filter((pl.col("refsetId") == MODULE_DEPENDENCY) & (pl.col("active") == "1")
                             & (pl.col("moduleId") != pl.col("referencedComponentId")))
        depended = set(edges.filter(pl.col("moduleId").is_in(owning))["referencedComponentId"].to_list())
        roots = [m for m in owning if m not in depended]
        if roots:
            return roots[0]
    return owning[0]


def release_date(files: list[Rf2File]) -> str:
    """The release date (yyyymmdd): from the Concept file names (else any file name), else the latest
    effectiveTime."""
    dates = [f.date for f in files if f.date and f.kind == "concept"] or [f.date for f in files if f.date]
    if dates:
        return max(dates)
    return max(str(f.frame["effectiveTime"].max()) for f in files if f.frame.height)
