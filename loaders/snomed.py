"""SNOMED CT loader: an RF2 Snapshot (folder or zip) → one release of ``http://snomed.info/sct``.

``smt load snomed <folder or zip> [--version URI]``. Files read (any sub-folder layout; see
``loaders.snomed_rf2``): Concept, Description, TextDefinition, Relationship (inferred) and StatedRelationship,
RelationshipConcreteValues, the OWL expression refset, language refsets, and every other reference set
(simple, association, attribute-value, simple / extended / complex map, MRCM, module dependency, …).

* Version: ``http://snomed.info/sct/{module}/version/{yyyymmdd}`` (``loaders.snomed_edition``), unless
  ``--version`` names another (e.g. ``http://snomed.info/xsct/31000003106/version/20250909``).
* Concepts, designations, parents and properties: ``loaders.snomed_concepts``. Relationships, concrete values
  and reference set members also go to the index as columnar tables (``loaders.snomed_tables``).
* Validation (``LoadError`` naming file, line and field; nothing is stored): ``loaders.snomed_rf2`` (columns,
  truncated lines, empty values, SCTID check digits, duplicate ids) and ``loaders.snomed_checks`` (references
  to concepts missing from the Concept file). ``strict=False`` loads fragments (test extracts) by adding
  placeholder concepts instead.
* Delta and extensions: ``load(path, base=<snapshot folder or zip>)`` applies ``path`` (a Delta, or an
  extension such as a translation: descriptions + language refset) on the base snapshot, row by row by id
  and effectiveTime (``loaders.snomed_merge``); the release is the edition of the overlay's module. Without
  a base, Delta files are refused; Full files are refused (load the Snapshot). On the command line:
  ``smt load snomed <overlay> --base <snapshot>``; a base is an RF2 folder or zip, not a stored release.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loaders.snomed_checks import missing_concepts, placeholder_rows
from loaders.snomed_concepts import build_concepts
from loaders.snomed_edition import SCT, main_module, release_date, version_uri
from loaders.snomed_ids import CORE_MODULE, IS_A
from loaders.snomed_merge import overlay, own_module, tagged
from loaders.snomed_rf2 import Rf2File, consume, read_release, source_files
from loaders.snomed_tables import release_tables
from loaders.sources import source_file
from smt.allocation import gc_paused
from smt.catalogue.terminologies import catalogue_section, entry
from smt.errors import LoadError
from smt.model import CodeSystemRelease, Concept, PropertyDef, PropertyType, Release

CATALOGUE_KEY = "snomed"
FIELD = "http://snomed.info/field/"

STANDARD_PROPERTIES = [
    PropertyDef("inactive", "boolean", FIELD + "Concept.active", "Whether the concept is inactive"),
    PropertyDef("sufficientlyDefined", "boolean", FIELD + "Concept.definitionStatusId",
                "True if the description logic definition is sufficient (fully defined)"),
    PropertyDef("moduleId", "code", FIELD + "Concept.moduleId", "The module the concept belongs to"),
    PropertyDef("effectiveTime", "dateTime", FIELD + "Concept.effectiveTime",
                "The date the concept's current state took effect"),
    PropertyDef("owlExpression", "string", "http://snomed.info/id/733073007",
                "OWL axiom of the concept (OWL expression reference set)"),
]


def dialect_settings() -> tuple[dict[str, str], list[str]]:
    """Language refset id → dialect tag (``terminologies/snomed.toml``), and the display preference order."""
    dialects = {str(k): v for k, v in catalogue_section(CATALOGUE_KEY).get("dialects", {}).items()}
    return dialects, list(dict.fromkeys(dialects.values()))


def load(path: Path, version: str | None = None, *, strict: bool = True, base: Path | None = None
         ) -> list[Release]:
    """Load an RF2 Snapshot folder or zip as one release (see the module docstring).

    With ``base`` (the RF2 Snapshot folder or zip of the release it builds on), ``path`` may hold a Delta or an
    extension (e.g. a translation: descriptions + language refset): its rows are applied on the base and the
    result is the edition of the overlay's own module, dated by its files.
    """
    files = read_release(path)
    identity: tuple[str, str] | None = None
    if base is not None:
        base_files = read_release(base)
        if {f.release_type for f in base_files} != {"Snapshot"}:
            raise LoadError("the base of an extension or Delta must be an RF2 Snapshot", file=str(base))
        identity = (own_module(files) or CORE_MODULE, release_date(files))
        files = overlay(base_files, files)
    elif {f.release_type for f in files} != {"Snapshot"}:
        raise LoadError("RF2 Delta files are not supported yet without the snapshot they apply to (loader "
                        "option base=<snapshot folder or zip>)", file=str(path))
    concept_files = [f for f in files if f.kind == "concept"]
    if not concept_files:
        raise LoadError("no sct2_Concept_Snapshot file found", file=str(path))
    concepts = pl.concat([tagged(f) for f in concept_files], how="diagonal_relaxed")
    warnings: list[str] = []
    missing = missing_concepts(files, concepts["id"], strict)
    if missing.height:
        placeholders = placeholder_rows(missing).with_columns(pl.lit("(placeholder)").alias("file"))
        concepts = pl.concat([concepts, placeholders], how="diagonal_relaxed")
        shown = ", ".join(missing["id"].head(5).to_list())
        warnings.append(f"{missing.height} concept(s) referenced by descriptions or relationships but missing "
                        f"from the Concept file were added as placeholders (fragment mode): {shown}")
    with gc_paused():  # millions of designations and properties: no collector walks while they are built
        return [build_release(path, files, concepts, version, warnings, identity)]


def build_release(path: Path, files: list[Rf2File], concepts: pl.DataFrame, version: str | None,
                  warnings: list[str], identity: tuple[str, str] | None = None) -> CodeSystemRelease:
    """The release of the (merged) snapshot ``files``; ``identity`` = (module, date) of an overlay."""
    meta = entry(CATALOGUE_KEY)
    dialects, order = dialect_settings()
    module, date = identity or (main_module(concepts, [f for f in files if f.kind == "refset"]),
                                release_date(files))
    descriptions = sum(f.frame.height for f in files if f.kind in ("description", "text_definition"))
    tables = release_tables(files)
    consume(files, ("refset",))
    built = build_concepts(files, concepts, dialects, order, meta.language or "en")
    if built.orphan_language_rows:
        warnings.append(f"{built.orphan_language_rows} language refset row(s) name descriptions that are not "
                        "in the release; ignored")
    unknown_members = tables.refset_member.filter(~pl.col("referenced").is_in(concepts["id"].implode())).height
    if unknown_members:
        warnings.append(f"{unknown_members} reference set member(s) name components that are not concepts of "
                        "this release (descriptions, or other modules); kept in the index")
    module_name = built.displays.get(module, module)
    return CodeSystemRelease(
        url=meta.url,
        version=version or version_uri(module, date),
        name=meta.name,
        title=f"{meta.title} — {module_name}" if module_name != module else meta.title,
        concepts=built.concepts,
        publisher=meta.publisher,
        copyright=meta.copyright,
        oids=list(meta.oids),
        language=meta.language or "en",
        date=f"{date[:4]}-{date[4:6]}-{date[6:]}",
        description=meta.description,
        properties=STANDARD_PROPERTIES + attribute_properties(built.concepts, built.displays),
        hierarchy_meaning="is-a",
        case_sensitive=True,
        concept_iri_base=meta.concept_iri_base,
        sources=[source_file(p) for p in source_files(path)],
        warnings=warnings,
        stats={
            "concepts": len(built.concepts),
            "active_concepts": sum(c.status == "active" for c in built.concepts),
            "descriptions": descriptions,
            "relationships": tables.relationship.height,
            "concrete_values": tables.concrete.height,
            "refset_members": tables.refset_member.height,
        },
        tables=tables,
    )


def attribute_properties(concepts: list[Concept], displays: dict[str, str]) -> list[PropertyDef]:
    """One property per attribute used in a relationship or concrete value (code = attribute SCTID)."""
    kinds: dict[str, PropertyType] = {}
    for concept in concepts:
        for prop in concept.properties:
            if prop.code[0].isdigit():
                kinds.setdefault(prop.code, prop.type)
    return [PropertyDef(code, kinds[code], f"http://snomed.info/id/{code}", displays.get(code))
            for code in sorted(kinds, key=int) if code != IS_A]


__all__ = ["SCT", "load"]
