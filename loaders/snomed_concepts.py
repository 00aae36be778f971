"""Concepts of an RF2 snapshot: display, designations with dialect acceptability, parents and properties.

* Display: the synonym preferred in the first dialect of ``dialect_order`` that has one (en-US first), else
  the fully specified name, else any synonym, else the SCTID.
* Designations: every description and text definition, inactive ones included (``active`` = False), with
  use FSN 900000000000003001 / synonym 900000000000013009 / definition 900000000000550004, the description
  id, and ``acceptability`` per dialect from the language reference sets: ``(("en-US", "preferred"),
  ("en-GB", "acceptable"))``. Order per concept: active first, the release language first, then preferred
  synonyms, FSN, other synonyms, definitions.
* Definition: the preferred (else first) active text definition.
* Parents: destinations of the active inferred is-a (116680003) relationships.
* Properties: each active inferred attribute relationship (code = attribute SCTID, value = destination
  SCTID, type code) and concrete value (integer / decimal / string), then ``sufficientlyDefined``,
  ``moduleId``, ``effectiveTime`` and ``owlExpression`` (active OWL axioms). ``inactive`` comes from the
  concept status.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from loaders.snomed_ids import (
    DEFINITION,
    FSN,
    IS_A,
    PREFERRED,
    SUFFICIENTLY_DEFINED,
    SYNONYM,
    USE_DISPLAYS,
)
from loaders.snomed_rf2 import Rf2File
from smt.model import DESIGNATION_USE_SYSTEM, Coding, Concept, ConceptProperty, Designation

INFERRED = "900000000000011006"
_RANK_PREFERRED, _RANK_FSN, _RANK_SYNONYM, _RANK_DEFINITION, _RANK_OTHER = range(5)


@dataclass(slots=True)
class ConceptBuild:
    """What ``build_concepts`` returns: the concepts and what was dropped on the way."""

    concepts: list[Concept]
    displays: dict[str, str]
    orphan_language_rows: int


def _concat(files: Sequence[Rf2File], kinds: tuple[str, ...], columns: list[str]) -> pl.DataFrame | None:
    frames = [f.frame.select(columns) for f in files if f.kind in kinds]
    return pl.concat(frames) if frames else None


def acceptability(files: Sequence[Rf2File], descriptions: pl.DataFrame, dialects: dict[str, str],
                  order: list[str]) -> tuple[pl.DataFrame, int]:
    """Per description id: ``acceptability`` ("en-US:preferred|en-GB:acceptable") and ``pref_rank`` (the
    position in ``order`` of the first dialect where it is preferred); and the count of rows for unknown
    descriptions."""
    members = _concat(files, ("language",), ["active", "refsetId", "referencedComponentId", "acceptabilityId"])
    schema = {"id": pl.String, "acceptability": pl.String, "pref_rank": pl.Int32}
    if members is None:
        return pl.DataFrame(schema=schema), 0
    members = members.filter(pl.col("active") == "1").rename({"referencedComponentId": "id"})
    known = members.join(descriptions.select("id", "languageCode"), on="id", how="inner")
    orphans = members.height - known.height
    tag = pl.coalesce(pl.col("refsetId").replace_strict(dialects, default=None, return_dtype=pl.String),
                      pl.col("languageCode"))
    preferred = pl.col("acceptabilityId") == PREFERRED
    ranked = known.with_columns(
        tag.alias("tag"),
        pl.when(preferred).then(pl.lit("preferred")).otherwise(pl.lit("acceptable")).alias("value"),
    ).with_columns(
        pl.when(preferred).then(
            pl.col("tag").replace_strict(order, list(range(len(order))), default=len(order),
                                         return_dtype=pl.Int32)
        ).alias("rank"),
    )
    grouped = ranked.group_by("id").agg(
        pl.concat_str("tag", pl.lit(":"), "value").sort().str.join("|").alias("acceptability"),
        pl.col("rank").min().alias("pref_rank"),
    )
    return grouped, orphans


def _use(code: str, cache: dict[str, Coding]) -> Coding:
    use = cache.get(code)
    if use is None:
        use = cache[code] = Coding(DESIGNATION_USE_SYSTEM, code, USE_DISPLAYS.get(code))
    return use


def _pairs(text: str | None, cache: dict[str | None, tuple[tuple[str, str], ...]]) -> tuple[tuple[str, str], ...]:
    pairs = cache.get(text)
    if pairs is None:
        pairs = cache[text] = tuple(tuple(p.split(":", 1)) for p in (text or "").split("|") if p)  # type: ignore[misc]
    return pairs


def ranked_descriptions(files: Sequence[Rf2File], index: pl.DataFrame, dialects: dict[str, str],
                        order: list[str], language: str) -> tuple[pl.DataFrame, int]:
    """Every description with ``idx`` (concept position), ``rank``, ``pref_rank``, ``acceptability``, sorted
    in designation order."""
    columns = ["id", "active", "conceptId", "languageCode", "typeId", "term"]
    descriptions = _concat(files, ("description", "text_definition"), columns)
    if descriptions is None:
        descriptions = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    accepted, orphans = acceptability(files, descriptions, dialects, order)
    typ = pl.col("typeId")
    rank = (pl.when((typ == SYNONYM) & pl.col("pref_rank").is_not_null()).then(_RANK_PREFERRED)
            .when(typ == FSN).then(_RANK_FSN).when(typ == SYNONYM).then(_RANK_SYNONYM)
            .when(typ == DEFINITION).then(_RANK_DEFINITION).otherwise(_RANK_OTHER))
    ranked = (
        descriptions.join(index, left_on="conceptId", right_on="code", how="inner")
        .join(accepted, on="id", how="left")
        .with_columns(rank.alias("rank"), (pl.col("languageCode") != language).alias("foreign"),
                      (pl.col("active") != "1").alias("retired"))
        .sort(["idx", "retired", "foreign", "rank", "pref_rank", "term"], nulls_last=True)
    )
    return ranked, orphans


def _first(frame: pl.DataFrame, condition: pl.Expr, column: str) -> dict[int, str]:
    best = frame.filter(condition).unique("idx", keep="first", maintain_order=True)
    return dict(zip(best["idx"].to_list(), best[column].to_list(), strict=True))


def build_concepts(files: Sequence[Rf2File], concepts: pl.DataFrame, dialects: dict[str, str], order: list[str],
                   language: str) -> ConceptBuild:
    """Concept objects (in ``concepts`` row order) with designations, parents and properties."""
    index = concepts.select(pl.col("id").alias("code")).with_row_index("idx")
    ranked, orphans = ranked_descriptions(files, index, dialects, order, language)
    active = pl.col("active") == "1"
    displays: dict[int, str] = {}
    for condition in (active & (pl.col("rank") == _RANK_PREFERRED), active & (pl.col("typeId") == FSN),
                      active & (pl.col("typeId") == SYNONYM)):
        for idx, term in _first(ranked, condition, "term").items():
            displays.setdefault(idx, term)
    definitions = _first(ranked, active & (pl.col("typeId") == DEFINITION), "term")
    out: list[Concept] = []
    for idx, (code, status, file, line) in enumerate(
            concepts.select("id", "active", "file", "line").iter_rows()):
        out.append(Concept(code, displays.get(idx, code), definitions.get(idx), [], [], [],
                           "active" if status == "1" else "inactive", False, f"{file}:{line}"))
    _add_designations(out, ranked)
    _add_relationships(out, files, index)
    _add_concept_properties(out, concepts)
    _add_owl(out, files, index)
    return ConceptBuild(out, {c.code: c.display for c in out}, orphans)


def _add_designations(out: list[Concept], ranked: pl.DataFrame) -> None:
    uses: dict[str, Coding] = {}
    pairs: dict[str | None, tuple[tuple[str, str], ...]] = {}
    columns = ranked.select("idx", "term", "languageCode", "typeId", "id", "active", "acceptability")
    for idx, term, lang, typ, did, status, accepted in columns.iter_rows():
        out[idx].designations.append(Designation(term, sys.intern(lang), _use(typ, uses), did, status == "1",
                                                 _pairs(accepted, pairs)))


def _relationships(files: Sequence[Rf2File], index: pl.DataFrame) -> pl.DataFrame:
    frames = [f.frame.filter((pl.col("active") == "1") & (pl.col("characteristicTypeId") == INFERRED))
              .select("sourceId", "destinationId", "typeId", "relationshipGroup")
              for f in files if f.kind == "relationship"]
    if not frames:
        return pl.DataFrame(schema={"idx": pl.UInt32, "destinationId": pl.String, "typeId": pl.String})
    return (pl.concat(frames).join(index, left_on="sourceId", right_on="code", how="inner")
            .with_columns(pl.col("relationshipGroup").cast(pl.Int32))
            .sort(["idx", "relationshipGroup", "typeId", "destinationId"]))


def _add_relationships(out: list[Concept], files: Sequence[Rf2File], index: pl.DataFrame) -> None:
    """Parents from is-a; attribute relationships and concrete values as properties."""
    rows = _relationships(files, index)
    for idx, destination, typ in rows.select("idx", "destinationId", "typeId").iter_rows():
        if typ == IS_A:
            out[idx].parents.append(destination)
        else:
            out[idx].properties.append(ConceptProperty(sys.intern(typ), destination, "code"))
    frames = [f.frame.filter((pl.col("active") == "1") & (pl.col("characteristicTypeId") == INFERRED))
              for f in files if f.kind == "concrete"]
    if not frames:
        return
    values = (pl.concat(frames).join(index, left_on="sourceId", right_on="code", how="inner")
              .with_columns(pl.col("relationshipGroup").cast(pl.Int32)).sort(["idx", "relationshipGroup", "typeId"]))
    for idx, typ, raw in values.select("idx", "typeId", "value").iter_rows():
        out[idx].properties.append(concrete_property(typ, raw))


def concrete_property(typ: str, raw: str) -> ConceptProperty:
    """A concrete value (``#12``, ``#0.5``, ``"text"``) as a typed property."""
    if raw.startswith("#"):
        number = raw[1:]
        if any(c in number for c in ".eE"):
            return ConceptProperty(sys.intern(typ), float(number), "decimal")
        return ConceptProperty(sys.intern(typ), int(number), "integer")
    return ConceptProperty(sys.intern(typ), raw.strip('"'), "string")


def _add_concept_properties(out: list[Concept], concepts: pl.DataFrame) -> None:
    rows = concepts.select("moduleId", "effectiveTime", "definitionStatusId").iter_rows()
    dates: dict[str, ConceptProperty] = {}
    modules: dict[str, ConceptProperty] = {}
    defined = {flag: ConceptProperty("sufficientlyDefined", flag, "boolean") for flag in (True, False)}
    for concept, (module, effective, status) in zip(out, rows, strict=True):
        if status:
            concept.properties.append(defined[status == SUFFICIENTLY_DEFINED])
        if module:
            prop = modules.get(module) or modules.setdefault(module, ConceptProperty("moduleId", module, "code"))
            concept.properties.append(prop)
        if effective:
            prop = dates.get(effective) or dates.setdefault(
                effective,
                ConceptProperty("effectiveTime", f"{effective[:4]}-{effective[4:6]}-{effective[6:]}", "dateTime"))
            concept.properties.append(prop)


def _add_owl(out: list[Concept], files: Sequence[Rf2File], index: pl.DataFrame) -> None:
    frames = [f.frame.filter(pl.col("active") == "1").select("referencedComponentId", "owlExpression")
              for f in files if f.kind == "owl"]
    if not frames:
        return
    rows = (pl.concat(frames).join(index, left_on="referencedComponentId", right_on="code", how="inner")
            .sort(["idx", "owlExpression"]))
    for idx, expression in rows.select("idx", "owlExpression").iter_rows():
        out[idx].properties.append(ConceptProperty("owlExpression", expression, "string"))
