"""Concepts of an RF2 snapshot: display, designations with dialect acceptability, parents and properties.

* Display: the synonym preferred in the release language, in the first dialect of ``order`` that has one
  (en-US, then en-GB, …), else the fully specified name, else any synonym, else the SCTID. Dialect tags come
  from ``[snomed.dialects]`` in ``terminologies/snomed.toml``, else are ``{language}-x-{refset id}``.
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from loaders.snomed_edition import SCT
from loaders.snomed_ids import (
    DEFINITION,
    FSN,
    IS_A,
    PREFERRED,
    SUFFICIENTLY_DEFINED,
    SYNONYM,
    USE_DISPLAYS,
)
from loaders.snomed_rf2 import Rf2File, consume
from smt.model import Coding, Concept, ConceptProperty, Designation

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


def dialect_tags(members: pl.DataFrame, descriptions: pl.DataFrame, dialects: dict[str, str],
                 order: list[str]) -> tuple[dict[str, int], list[str]]:
    """Tag index of each language refset, and the tags: ``order`` first, then ``{language}-x-{refset id}``
    (language of the descriptions it covers) for refsets ``dialects`` does not name."""
    tags = list(order)
    index: dict[str, int] = {}
    for refset, first in members.group_by("refsetId").agg(pl.col("id").first()).sort("refsetId").iter_rows():
        tag = dialects.get(refset)
        if tag is None:
            language = descriptions.filter(pl.col("id") == first)["languageCode"]
            tag = f"{language[0] if len(language) else 'und'}-x-{refset}"
        if tag not in tags:
            tags.append(tag)
        index[refset] = tags.index(tag)
    return index, tags


def acceptability(files: Sequence[Rf2File], descriptions: pl.DataFrame, dialects: dict[str, str],
                  order: list[str]) -> tuple[pl.DataFrame, list[str], int]:
    """Per description id: ``mask`` (bit 2i: preferred in dialect i, bit 2i+1: acceptable) and ``pref_rank``
    (the first dialect where it is preferred); the dialect tags; the count of rows naming unknown
    descriptions."""
    members = _concat(files, ("language",), ["active", "refsetId", "referencedComponentId", "acceptabilityId"])
    schema = {"id": pl.String, "mask": pl.Int64, "pref_rank": pl.Int32}
    if members is None or not members.height:
        return pl.DataFrame(schema=schema), list(order), 0
    members = members.filter(pl.col("active") == "1").rename({"referencedComponentId": "id"}).drop("active")
    known = members.filter(pl.col("id").is_in(descriptions["id"].implode()))
    orphans = members.height - known.height
    index, tags = dialect_tags(known, descriptions, dialects, order)
    position = pl.col("refsetId").replace_strict(index, return_dtype=pl.Int64)
    preferred = pl.col("acceptabilityId") == PREFERRED
    grouped = known.select(
        "id",
        (position * 2 + pl.when(preferred).then(0).otherwise(1))
        .replace_strict(list(range(62)), [1 << bit for bit in range(62)], return_dtype=pl.Int64).alias("mask"),
        pl.when(preferred).then(position).cast(pl.Int32).alias("pref_rank"),
    ).group_by("id").agg(pl.col("mask").bitwise_or(), pl.col("pref_rank").min())
    return grouped, tags, orphans


def _decode(mask: int | None, tags: list[str], cache: dict[int | None, tuple[tuple[str, str], ...]]
            ) -> tuple[tuple[str, str], ...]:
    pairs = cache.get(mask)
    if pairs is None:
        bits = mask or 0
        pairs = cache[mask] = tuple(
            (tag, "preferred" if bits >> (2 * i) & 1 else "acceptable")
            for i, tag in enumerate(tags) if bits >> (2 * i) & 3)
    return pairs


def _use(code: str, cache: dict[str, Coding]) -> Coding:
    use = cache.get(code)
    if use is None:
        use = cache[code] = Coding(SCT, code, USE_DISPLAYS.get(code))  # designation uses are SNOMED CT codes
    return use


def ranked_descriptions(files: Sequence[Rf2File], index: pl.DataFrame, dialects: dict[str, str],
                        order: list[str], language: str) -> tuple[pl.DataFrame, list[str], int]:
    """Every description with ``idx`` (concept position), ``rank``, ``pref_rank``, ``mask`` (see
    ``acceptability``), sorted in designation order; the dialect tags of ``mask``; orphan language rows."""
    columns = ["id", "active", "conceptId", "languageCode", "typeId", "term"]
    descriptions = _concat(files, ("description", "text_definition"), columns)
    if descriptions is None:
        descriptions = pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    accepted, tags, orphans = acceptability(files, descriptions, dialects, order)
    typ = pl.col("typeId")
    rank = (pl.when((typ == SYNONYM) & pl.col("pref_rank").is_not_null()).then(_RANK_PREFERRED)
            .when(typ == FSN).then(_RANK_FSN).when(typ == SYNONYM).then(_RANK_SYNONYM)
            .when(typ == DEFINITION).then(_RANK_DEFINITION).otherwise(_RANK_OTHER))
    order_key = (pl.col("idx").cast(pl.Int64) * 256 + (pl.col("active") != "1").cast(pl.Int64) * 128
                 + (pl.col("languageCode") != language).cast(pl.Int64) * 64 + pl.col("rank").cast(pl.Int64) * 8
                 + pl.col("pref_rank").fill_null(7).clip(0, 7).cast(pl.Int64))
    ranked = (
        descriptions.join(index, left_on="conceptId", right_on="code", how="inner")
        .join(accepted, on="id", how="left")
        .with_columns(rank.alias("rank"))
        .with_columns(order_key.alias("key"))
        .sort("key", maintain_order=True)
        .drop("key", "conceptId")
    )
    return ranked, tags, orphans


def _first(frame: pl.DataFrame, condition: pl.Expr, column: str) -> dict[int, str]:
    best = frame.filter(condition).unique("idx", keep="first", maintain_order=True)
    return dict(zip(best["idx"].to_list(), best[column].to_list(), strict=True))


def build_concepts(files: Sequence[Rf2File], concepts: pl.DataFrame, dialects: dict[str, str], order: list[str],
                   language: str) -> ConceptBuild:
    """Concept objects (in ``concepts`` row order) with designations, parents and properties.

    The frames of ``files`` are consumed (emptied) as soon as they are used, to keep large releases small.
    """
    index = concepts.select(pl.col("id").alias("code")).with_row_index("idx")
    out = [Concept(code, code, None, [], [], [], "active" if status == "1" else "inactive", False, f"{file}:{line}")
           for code, status, file, line in _columns(concepts, "id", "active", "file", "line")]
    _add_relationships(out, files, index)
    consume(files, ("relationship", "stated_relationship", "concrete"))
    _add_concept_properties(out, concepts)
    _add_owl(out, files, index)
    consume(files, ("owl",))
    ranked, tags, orphans = ranked_descriptions(files, index, dialects, order, language)
    consume(files, ("description", "text_definition", "language"))
    active = pl.col("active") == "1"
    for condition in (active & (pl.col("typeId") == SYNONYM), active & (pl.col("typeId") == FSN),
                      active & (pl.col("rank") == _RANK_PREFERRED)):  # last assignment wins
        for idx, term in _first(ranked, condition, "term").items():
            out[idx].display = term
    for idx, term in _first(ranked, active & (pl.col("typeId") == DEFINITION), "term").items():
        out[idx].definition = term
    _add_designations(out, ranked, tags)
    return ConceptBuild(out, {c.code: c.display for c in out}, orphans)


COLUMN_ROWS = 100_000
"""Rows turned into Python values at a time by ``_columns``."""


def _columns(frame: pl.DataFrame, *names: str) -> Iterator[tuple]:
    """Rows of ``frame`` as tuples (column lists zipped: faster than ``iter_rows`` on millions of rows), a slice
    of ``COLUMN_ROWS`` at a time: the Python values of 2 M descriptions' seven columns at once were ≈ 700 MB at
    the loader's peak."""
    for start in range(0, frame.height, COLUMN_ROWS):
        part = frame.slice(start, COLUMN_ROWS)
        yield from zip(*(part[name].to_list() for name in names), strict=True)


def _add_designations(out: list[Concept], ranked: pl.DataFrame, tags: list[str]) -> None:
    cache: dict[str, Coding] = {}
    uses = {code: _use(code, cache) for code in ranked["typeId"].unique().to_list()}
    pairs: dict[int | None, tuple[tuple[str, str], ...]] = {}
    languages = {lang: sys.intern(lang) for lang in ranked["languageCode"].unique().to_list()}
    rows = _columns(ranked, "idx", "term", "languageCode", "typeId", "id", "active", "mask")
    for idx, term, lang, typ, did, status, mask in rows:
        out[idx].designations.append(Designation(term, languages[lang], uses[typ], did, status == "1",
                                                 pairs.get(mask) or _decode(mask, tags, pairs)))


def _relationships(files: Sequence[Rf2File], index: pl.DataFrame) -> pl.DataFrame:
    frames = [f.frame.filter((pl.col("active") == "1") & (pl.col("characteristicTypeId") == INFERRED))
              .select("sourceId", "destinationId", "typeId", "relationshipGroup")
              for f in files if f.kind == "relationship"]
    if not frames:
        return pl.DataFrame(schema={"idx": pl.UInt32, "destinationId": pl.String, "typeId": pl.String})
    return (pl.concat(frames).join(index, left_on="sourceId", right_on="code", how="inner")
            .with_columns(pl.col("relationshipGroup").cast(pl.Int32))
            .sort(["idx", "relationshipGroup"], maintain_order=True))


def _add_relationships(out: list[Concept], files: Sequence[Rf2File], index: pl.DataFrame) -> None:
    """Parents from is-a; attribute relationships and concrete values as properties."""
    rows = _relationships(files, index)
    types = {typ: sys.intern(typ) for typ in rows["typeId"].unique().to_list()}
    for idx, destination, typ in _columns(rows, "idx", "destinationId", "typeId"):
        if typ == IS_A:
            out[idx].parents.append(destination)
        else:
            out[idx].properties.append(ConceptProperty(types[typ], destination, "code"))
    frames = [f.frame.filter((pl.col("active") == "1") & (pl.col("characteristicTypeId") == INFERRED))
              for f in files if f.kind == "concrete"]
    if not frames:
        return
    values = (pl.concat(frames).join(index, left_on="sourceId", right_on="code", how="inner")
              .with_columns(pl.col("relationshipGroup").cast(pl.Int32)).sort(["idx", "relationshipGroup", "typeId"]))
    for idx, typ, raw in _columns(values, "idx", "typeId", "value"):
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
    rows = _columns(concepts, "moduleId", "effectiveTime", "definitionStatusId")
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
    for idx, expression in _columns(rows, "idx", "owlExpression"):
        out[idx].properties.append(ConceptProperty("owlExpression", expression, "string"))
