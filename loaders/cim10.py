"""Loader for the CIM-10 FR à usage PMSI (ATIH): one release per year.

Sources: the ATIH LIBCIM10MULTI table (latin-1, pipe-separated) or its re-serialisations (nomensland JSON,
single or multi-year, nomensland TSV, edsnlp CSV); chapters and blocks come from the nomensland hierarchy file
(``--hierarchy FILE``, else a ``*hierarchie*`` file next to the source, else the chapters and blocks shipped with
SMT: ``loaders/data/``).
Codes are served dotted ("E11.9", "B24.+0"); the ATIH form ("E119") is kept as property ``atihCode``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from loaders.cim10_formats import Entry, Table, read_table
from loaders.cim10_hierarchy import HIERARCHY_GLOB, Grouping, Groupings, Hierarchy, find_hierarchy, read_hierarchy
from loaders.sources import source_file
from smt.allocation import gc_paused
from smt.catalogue.terminologies import entry
from smt.errors import LoadError
from smt.formats.cim10_codes import insert_dot
from smt.model import (
    CodeSystemRelease,
    Coding,
    Concept,
    ConceptProperty,
    Designation,
    PropertyDef,
    PropertyType,
    SourceFile,
)
from smt.progress import SILENT, Progress

DESIGNATION_USE_SYSTEM = "https://smt.esante.gouv.fr/fhir/CodeSystem/designation-use"
LONG_LABEL = Coding(DESIGNATION_USE_SYSTEM, "long", "Libellé long")
SHORT_LABEL = Coding(DESIGNATION_USE_SYSTEM, "short", "Libellé court")

PROPERTIES = [
    PropertyDef("atihCode", "code", description="Code sous la forme ATIH, sans point (ex. E119 pour E11.9)"),
    PropertyDef("kind", "code", description="Niveau : chapter, block, category, subcategory ou extension"),
    PropertyDef("notSelectable", "boolean", description="Regroupement (chapitre, bloc) non utilisable pour coder"),
    PropertyDef("typeMcoHad", "integer",
                description="Type MCO/HAD de LIBCIM10MULTI (0 à 4) : restrictions d'emploi en DP, DR, DA "
                            "(3 = code père, interdit au codage)"),
    PropertyDef("ssr", "string",
                description="Indicateurs SSR de LIBCIM10MULTI (O/N par position : FPP, MMP, AE, DAS)"),
    PropertyDef("typePsy", "integer", description="Type PSY (RIM-P) de LIBCIM10MULTI (0, 1 ou 3)"),
]

_YEAR_IN_NAME = re.compile(r"(?<![0-9])(20[0-9]{2})(?![0-9])")
_VERSION = re.compile(r"[0-9]{4}")
_DATA_SUFFIXES = (".txt", ".csv", ".tsv", ".json")


def load(path: Path, version: str | None = None, *, hierarchy: Path | None = None) -> list[CodeSystemRelease]:
    """One release per year found in ``path`` (a file, or a directory holding exactly one code table)."""
    return list(stream(path, version, hierarchy=hierarchy))


def stream(path: Path, version: str | None = None, *, hierarchy: Path | None = None,
           progress: Progress = SILENT) -> Iterator[CodeSystemRelease]:
    """``load``, one year at a time: each release is built when the previous one has been consumed, so a
    multi-year file never holds more than one year of concepts in memory. The whole file is read and checked
    before the first release is built. ``hierarchy``: the chapters and blocks file (``--hierarchy``)."""
    source = _source_path(Path(path))
    table = read_table(source, progress)
    years = _split_years(table, version)
    table.entries = []  # each year's entries are now only in ``years``, and freed once its release is built
    for entries in years.values():
        _check_unique(table, entries)
    hierarchy_path = find_hierarchy(source, hierarchy)
    hierarchy_groupings = read_hierarchy(hierarchy_path)
    sources = [source_file(source), source_file(hierarchy_path)]
    factory = _Factory()
    for year in list(years):
        entries = years.pop(year)
        with gc_paused():
            release = _release(table, year, entries, hierarchy_groupings, sources, factory)
        del entries
        yield release


def _source_path(path: Path) -> Path:
    if not path.is_dir():
        return path
    candidates = sorted(p for p in path.iterdir() if p.is_file() and _is_code_table(p.name))
    if len(candidates) != 1:
        names = ", ".join(p.name for p in candidates) or "none"
        raise LoadError(f"expected exactly one CIM-10 code table in the directory, found: {names}", file=str(path))
    return candidates[0]


def _is_code_table(name: str) -> bool:
    name = name.lower().removesuffix(".gz")
    return name.endswith(_DATA_SUFFIXES) and not Path(name).match(HIERARCHY_GLOB)


def _split_years(table: Table, version: str | None) -> dict[str, list[Entry]]:
    """Entries by year: from ``anseqta`` in multi-year files, else from ``version`` or the file name."""
    if version is not None and not _VERSION.fullmatch(version):
        raise LoadError(f"version must be a year such as 2021, not {version!r}", file=str(table.path))
    if table.entries and table.entries[0].year is not None:
        years: dict[str, list[Entry]] = {}
        for item in table.entries:
            years.setdefault(item.year or "", []).append(item)
        if version is None:
            return dict(sorted(years.items()))
        if version not in years:
            raise LoadError(f"year {version} is not in this file (years: {', '.join(sorted(years))})",
                            file=str(table.path))
        return {version: years[version]}
    year = version or _year_in_name(table.path)
    if year is None:
        raise LoadError(f"cannot tell the CIM-10 year of this {table.layout} file (no 20xx year in its name): "
                        "pass it with --version", file=str(table.path))
    return {year: table.entries}


def _year_in_name(path: Path) -> str | None:
    found = _YEAR_IN_NAME.findall(path.name)
    return found[0] if len(found) == 1 else None


class _Factory:
    """Shares the immutable designations and properties between concepts (and years) of one load."""

    def __init__(self) -> None:
        self._designations: dict[tuple[str, str], Designation] = {}
        self._properties: dict[tuple[str, object, PropertyType], ConceptProperty] = {}

    def designation(self, value: str, use: Coding) -> Designation:
        key = (use.code, value)
        found = self._designations.get(key)
        if found is None:
            found = self._designations[key] = Designation(value, "fr", use)
        return found

    def prop(self, code: str, value: str | int | bool, type_: PropertyType) -> ConceptProperty:
        key = (code, value, type_)
        found = self._properties.get(key)
        if found is None:
            found = self._properties[key] = ConceptProperty(code, value, type_)
        return found


def _release(table: Table, year: str, entries: list[Entry], hierarchy: Hierarchy, sources: list[SourceFile],
             factory: _Factory) -> CodeSystemRelease:
    concepts = {item.code: _code_concept(table, item, factory) for item in entries}
    warnings: list[str] = []
    groupings = _groupings(hierarchy, int(year), warnings)
    _link_parents(concepts, groupings, warnings)
    grouping_concepts = [_grouping_concept(g, factory) for g in groupings.all()]
    meta = entry("cim10")
    return CodeSystemRelease(
        url=meta.url, version=year, name=meta.name, title=meta.title,
        concepts=[*grouping_concepts, *concepts.values()],
        publisher=meta.publisher, copyright=meta.copyright, oids=list(meta.oids), language=meta.language or "fr",
        status="active", date=f"{year}-01-01", description=meta.description, properties=list(PROPERTIES),
        concept_iri_base=meta.concept_iri_base, sources=list(sources), warnings=warnings,
        stats={"source_codes": len(concepts), "groupings": len(grouping_concepts),
               "concepts": len(concepts) + len(grouping_concepts)},
    )


def _check_unique(table: Table, entries: list[Entry]) -> None:
    """A code seen twice in one year is an error naming both places."""
    first: dict[str, int] = {}
    for item in entries:
        seen = first.setdefault(item.code, item.pos)
        if seen != item.pos:
            raise table.error(item.pos, f"duplicate code {item.code} (first at {table.where(seen)})", "code")


def _code_concept(table: Table, item: Entry, factory: _Factory) -> Concept:
    designations = [factory.designation(item.long, LONG_LABEL)]
    if item.short:
        designations.append(factory.designation(item.short, SHORT_LABEL))
    properties = [
        ConceptProperty("atihCode", item.code, "code"),
        factory.prop("kind", _kind(item.code), "code"),
        factory.prop("typeMcoHad", item.type_mco, "integer"),
    ]
    if item.ssr is not None:
        properties.append(factory.prop("ssr", item.ssr, "string"))
    if item.psy is not None:
        properties.append(factory.prop("typePsy", item.psy, "integer"))
    return Concept(code=insert_dot(item.code), display=item.long, designations=designations, properties=properties,
                   origin=table.origin(item.pos))


def _kind(code: str) -> str:
    if len(code) == 3:
        return "category"
    return "subcategory" if len(code) == 4 and "+" not in code else "extension"


def _groupings(hierarchy: Hierarchy, year: int, warnings: list[str]) -> Groupings:
    groupings = hierarchy.for_year(year)
    if groupings.year != year:
        warnings.append(f"chapters and blocks taken from the {groupings.year} hierarchy of {hierarchy.path.name}")
    return groupings


def _link_parents(concepts: dict[str, Concept], groupings: Groupings, warnings: list[str]) -> None:
    """Parent = longest existing proper prefix of the ATIH code; categories go under their block or chapter."""
    unplaced: list[str] = []
    for code, concept in concepts.items():
        parent = _code_parent(code, concepts)
        if parent is not None:
            concept.parents.append(insert_dot(parent))
            continue
        grouping = groupings.parent_of(code[:3])
        if grouping is not None:
            concept.parents.append(grouping)
        else:
            unplaced.append(concept.code)
    if unplaced:
        warnings.append(f"{len(unplaced)} code(s) outside every chapter range, kept as roots: "
                        f"{', '.join(unplaced[:10])}")


def _code_parent(code: str, concepts: dict[str, Concept]) -> str | None:
    prefix = code[:-1].rstrip("+")
    while len(prefix) >= 3:
        if prefix in concepts:
            return prefix
        prefix = prefix[:-1].rstrip("+")
    return None


def _grouping_concept(grouping: Grouping, factory: _Factory) -> Concept:
    return Concept(
        code=grouping.code, display=grouping.label, abstract=True, origin=grouping.origin,
        parents=[grouping.parent] if grouping.parent else [],
        properties=[factory.prop("kind", grouping.kind, "code"), factory.prop("notSelectable", True, "boolean")],
    )
