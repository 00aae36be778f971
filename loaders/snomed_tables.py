"""Columnar tables of an RF2 snapshot for the index: relationships, concrete values and reference sets.

Only active rows are kept (a snapshot's inactive rows are history). Every relationship is kept, is-a included,
inferred and stated (``characteristic``), so that an ECL engine can work from the index alone. Reference sets
other than language refsets (which become designation acceptability) and the OWL refset (a concept property)
keep their rows, their extra columns as a JSON object: simple, association, attribute-value, simple / extended
/ complex map, MRCM, module dependency, …
"""

from __future__ import annotations

import re

import orjson
import polars as pl

from loaders.snomed_ids import CHARACTERISTICS
from loaders.snomed_rf2 import COLUMNS, Rf2File
from smt.model import ReleaseTables

REFSET_PATTERN = re.compile(r"Refset_(\w*?)(?:Snapshot|Delta|Full)")


def _characteristic() -> pl.Expr:
    return pl.col("characteristicTypeId").cast(pl.String).replace(CHARACTERISTICS).alias("characteristic")


def relationship_table(files: list[Rf2File]) -> pl.DataFrame:
    """source, type, destination, grp, characteristic of every active relationship (inferred and stated)."""
    frames = [f.frame for f in files if f.kind in ("relationship", "stated_relationship")]
    schema = {"source": pl.String, "type": pl.String, "destination": pl.String, "grp": pl.Int32,
              "characteristic": pl.String}
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat([
        f.filter(pl.col("active") == "1").select(
            pl.col("sourceId").alias("source"), pl.col("typeId").cast(pl.String).alias("type"),
            pl.col("destinationId").alias("destination"), pl.col("relationshipGroup").cast(pl.Int32).alias("grp"),
            _characteristic())
        for f in frames
    ])


def concrete_table(files: list[Rf2File]) -> pl.DataFrame:
    """source, type, value, kind (integer | decimal | string), grp, characteristic of active concrete values.

    RF2 writes numbers as ``#12`` / ``#0.5`` and strings in double quotes.
    """
    frames = [f.frame.filter(pl.col("active") == "1") for f in files if f.kind == "concrete"]
    schema = {"source": pl.String, "type": pl.String, "value": pl.String, "kind": pl.String, "grp": pl.Int32,
              "characteristic": pl.String}
    if not frames:
        return pl.DataFrame(schema=schema)
    raw = pl.col("value")
    number = raw.str.starts_with("#")
    return pl.concat(frames).select(
        pl.col("sourceId").alias("source"), pl.col("typeId").cast(pl.String).alias("type"),
        pl.when(number).then(raw.str.slice(1)).otherwise(raw.str.strip_prefix('"').str.strip_suffix('"'))
        .alias("value"),
        pl.when(number & raw.str.contains(r"[.eE]")).then(pl.lit("decimal"))
        .when(number).then(pl.lit("integer")).otherwise(pl.lit("string")).alias("kind"),
        pl.col("relationshipGroup").cast(pl.Int32).alias("grp"), _characteristic(),
    )


def refset_kind(name: str) -> str:
    """The reference set pattern named in an RF2 file name (``Association``, ``ExtendedMap``, …)."""
    match = REFSET_PATTERN.search(name.rsplit("/", 1)[-1])
    return (match.group(1) if match else "") or "Simple"


def refset_tables(files: list[Rf2File]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(refset, refset_member) frames from the generic reference set files."""
    refsets: list[dict[str, object]] = []
    members: list[pl.DataFrame] = []
    base = COLUMNS["refset"]
    for rf2 in files:
        if rf2.kind != "refset":
            continue
        extra = [c for c in rf2.frame.columns if c not in base and c != "line"]
        active = rf2.frame.filter(pl.col("active") == "1")
        fields = (pl.struct([pl.col(c).fill_null("") for c in extra]).struct.json_encode() if extra
                  else pl.lit(None, dtype=pl.String))
        members.append(active.select(pl.col("refsetId").cast(pl.String).alias("refset"),
                                     pl.col("referencedComponentId").alias("referenced"), fields.alias("fields")))
        for refset_id in rf2.frame["refsetId"].unique(maintain_order=True).to_list():
            refsets.append({"id": refset_id, "kind": refset_kind(rf2.name),
                            "columns": orjson.dumps(extra).decode()})
    refset = pl.DataFrame(refsets, schema={"id": pl.String, "kind": pl.String, "columns": pl.String})
    member_schema = {"refset": pl.String, "referenced": pl.String, "fields": pl.String}
    member = pl.concat(members) if members else pl.DataFrame(schema=member_schema)
    return refset.unique("id", keep="first", maintain_order=True), member


def release_tables(files: list[Rf2File]) -> ReleaseTables:
    refset, member = refset_tables(files)
    return ReleaseTables(relationship=relationship_table(files), concrete=concrete_table(files), refset=refset,
                         refset_member=member)
