"""Referential integrity of an RF2 snapshot: every description and relationship names known concepts.

Strict (the default): the first reference to a concept missing from the Concept file is a ``LoadError`` with
file, line and field. Fragment mode (``strict=False``, for partial extracts such as test fixtures): each
missing concept is added as a placeholder concept and the load goes on with a warning.
"""

from __future__ import annotations

import polars as pl

from loaders.snomed_rf2 import Rf2File, fail_at

REFERENCES: dict[str, tuple[str, ...]] = {
    "description": ("conceptId",),
    "text_definition": ("conceptId",),
    "relationship": ("sourceId", "typeId", "destinationId"),
    "stated_relationship": ("sourceId", "typeId", "destinationId"),
    "concrete": ("sourceId", "typeId"),
}
"""Columns of each file kind that must name a concept of the release."""


def missing_concepts(files: list[Rf2File], concepts: pl.Series, strict: bool) -> pl.DataFrame:
    """Concepts referenced but absent (``id``, ``moduleId``, ``effectiveTime`` of the first reference).

    Raises ``LoadError`` on the first one when ``strict``.
    """
    missing: list[pl.DataFrame] = []
    for rf2 in files:
        for column in REFERENCES.get(rf2.kind, ()):
            unknown = ~pl.col(column).is_in(concepts.implode())
            if strict:
                fail_at(rf2.name, rf2.frame, unknown, column, "references a concept missing from the Concept file")
                continue
            found = rf2.frame.filter(unknown).select(pl.col(column).alias("id"), "moduleId", "effectiveTime"
                                                     ).cast(pl.String)
            missing.append(found)
    if not missing:
        return pl.DataFrame(schema={"id": pl.String, "moduleId": pl.String, "effectiveTime": pl.String})
    return pl.concat(missing).unique("id", keep="first", maintain_order=True)


def placeholder_rows(missing: pl.DataFrame) -> pl.DataFrame:
    """Concept-file rows for placeholder concepts: active, primitive, with the referencing row's module."""
    return missing.select(
        "id", "effectiveTime", pl.lit("1").alias("active"), "moduleId",
        pl.lit(None, dtype=pl.String).alias("definitionStatusId"), pl.lit(0, dtype=pl.UInt32).alias("line"),
    )
