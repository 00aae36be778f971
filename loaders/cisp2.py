"""CISP-2 (ICPC-2) loader: French and Dutch short titles from the Chill-project extract.

Source: three UTF-8 TSV files with a header row, in one directory (``data/cisp2/chill-icpc2/``):

* ``cisp2_codes_fr_nl.tsv`` — ``code, chapter, component, label_fr, label_nl``: 726 rubrics (40 process codes
  ``-30``…``-69`` in pseudo-chapter ``-``, 686 chapter rubrics ``A01``…``Z29``);
* ``cisp2_chapters.tsv`` — ``chapter, label_en, label_fr, label_nl`` (18 rows);
* ``cisp2_components.tsv`` — ``component, label_en, label_fr, label_nl`` (7 rows: pro, sym, inf, neo, inj,
  con, oth).

``load`` takes that directory or the codes file (the other two are read from the same directory).

Hierarchy: chapter → component grouping → rubric. The groupings follow the file's components rather than
the bare ICPC-2 component numbers, because the file (like the CISP-2 printed tables) splits component 7
"diagnostics/maladies" into infections, néoplasmes, traumatismes, anomalies congénitales and autres
diagnostics:

* chapter concepts: code = chapter letter (``A``, ``B``, ``D``, … ``Z``); the process pseudo-chapter ``-``
  gets the code ``PROC`` (a bare ``-`` is easy to mistake for a missing value);
* component groupings: code ``<chapter>-<component>``, e.g. ``T-oth`` (Autres diagnostics of chapter T),
  ``K-sym``, ``R-inf``; the process codes sit under the single grouping ``PROC-pro``. Only the (chapter,
  component) pairs that have rubrics are created. Process codes apply to every chapter in ICPC-2 but are
  loaded once, under ``PROC-pro`` only;
* rubrics: the file's code (``T90``, ``-30``).

Chapters and groupings are abstract (``notSelectable`` = true). Properties: ``kind`` (chapter | component |
rubric), ``chapter`` and ``component`` (codes of the parent chapter concept and of the file component) and
``icpcComponent``, the ICPC-2 component number (1 symptoms/complaints; 2–6 process components by code range:
2 diagnostic/screening/prevention ``-30``…``-49``, 3 medication/treatment/procedures ``-50``…``-59``, 4 test
results ``-60``…``-61``, 5 administrative ``-62``, 6 referrals/other ``-63``…``-69``; 7 diagnosis/diseases).
The ``PROC-pro`` grouping spans components 2–6 and has no ``icpcComponent``.

Display = French label; designations: fr and nl (rubrics), fr, nl and en (chapters, groupings). The default
version is ``2015-12``, the date of the source commit (Chill-project/ICPC2 ``c72ff97``, 2015-12-14).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from loaders.sources import decode_lines, read_bytes, source_file
from smt.catalogue.terminologies import entry
from smt.errors import LoadError
from smt.model import CodeSystemRelease, Concept, ConceptProperty, Designation, PropertyDef

DEFAULT_VERSION = "2015-12"
CODES_FILE = "cisp2_codes_fr_nl.tsv"
CHAPTERS_FILE = "cisp2_chapters.tsv"
COMPONENTS_FILE = "cisp2_components.tsv"

CODES_COLUMNS = ("code", "chapter", "component", "label_fr", "label_nl")
CHAPTERS_COLUMNS = ("chapter", "label_en", "label_fr", "label_nl")
COMPONENTS_COLUMNS = ("component", "label_en", "label_fr", "label_nl")

PROCESS_CHAPTER = "-"
PROCESS_CHAPTER_CODE = "PROC"
PROCESS_COMPONENT = "pro"
COMPONENT_NUMBERS = {"sym": 1, "inf": 7, "neo": 7, "inj": 7, "con": 7, "oth": 7}
PROCESS_RANGES = ((30, 49, 2), (50, 59, 3), (60, 61, 4), (62, 62, 5), (63, 69, 6))
RUBRIC_CODE = re.compile(r"[A-Z]\d{2}|-\d{2}")
CHAPTER_CODE = re.compile(r"[A-Z]|-")

PROPERTIES = [
    PropertyDef("notSelectable", "boolean", "http://hl7.org/fhir/concept-properties#notSelectable",
                "Chapter or component grouping: not for coding"),
    PropertyDef("kind", "code", None, "chapter | component | rubric"),
    PropertyDef("chapter", "code", None, "Code of the chapter concept (letter, or PROC for process codes)"),
    PropertyDef("component", "code", None, "Component in the source file: pro, sym, inf, neo, inj, con, oth"),
    PropertyDef("icpcComponent", "integer", None, "ICPC-2 component number (1–7)"),
]


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a TSV file: fields by column name, and where it comes from."""

    path: Path
    line: int
    fields: dict[str, str]

    @property
    def origin(self) -> str:
        return f"{self.path.name}:{self.line}"

    def error(self, message: str, field: str | None = None) -> LoadError:
        return LoadError(message, file=str(self.path), line=self.line, field=field)


def load(path: Path, version: str | None = None) -> list[CodeSystemRelease]:
    """Load the CISP-2 release from the directory (or codes file) ``path``."""
    codes_path, chapters_path, components_path = _source_paths(Path(path))
    chapters = _by_key(_read_tsv(chapters_path, CHAPTERS_COLUMNS, ("chapter", "label_fr")), "chapter")
    component_rows = _read_tsv(components_path, COMPONENTS_COLUMNS, ("component", "label_fr"))
    components = _by_key(component_rows, "component")
    _check_chapters(chapters)
    _check_components(components)
    rubrics = _read_tsv(codes_path, CODES_COLUMNS, ("code", "chapter", "component", "label_fr"))
    _check_rubrics(rubrics, chapters, components)
    groupings = _grouping_concepts(rubrics, chapters, components)
    concepts = [*groupings, *(_rubric_concept(row) for row in rubrics)]
    return [_release(concepts, version, (codes_path, chapters_path, components_path),
                     len(rubrics), len(groupings))]


def _source_paths(path: Path) -> tuple[Path, Path, Path]:
    """The codes, chapters and components files; a missing one is a ``LoadError``."""
    codes = path / CODES_FILE if path.is_dir() else path
    if not codes.exists():
        raise LoadError("CISP-2 codes file not found", file=str(codes))
    siblings = (codes.parent / CHAPTERS_FILE, codes.parent / COMPONENTS_FILE)
    for sibling in siblings:
        if not sibling.exists():
            raise LoadError(f"sibling file {sibling.name} not found next to {codes.name}", file=str(sibling))
    return codes, *siblings


def _read_tsv(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> list[Row]:
    """Data rows of a TSV file with the expected header; fields are stripped, blank lines skipped."""
    lines = decode_lines(read_bytes(path), path)
    if not lines:
        raise LoadError("empty file, expected a header row", file=str(path), line=1)
    header = tuple(name.strip() for name in lines[0].split("\t"))
    if header != columns:
        raise LoadError(f"unexpected header {'|'.join(header)}, expected {'|'.join(columns)}",
                        file=str(path), line=1)
    rows: list[Row] = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        values = text.split("\t")
        if len(values) != len(columns):
            raise LoadError(f"{len(values)} columns, expected {len(columns)}", file=str(path), line=number)
        row = Row(path, number, {name: value.strip() for name, value in zip(columns, values, strict=True)})
        for name in required:
            if not row.fields[name]:
                raise row.error(f"empty {name}", field=name)
        rows.append(row)
    return rows


def _by_key(rows: list[Row], key: str) -> dict[str, Row]:
    """Rows indexed by their ``key`` field; a repeated key is a ``LoadError`` naming both lines."""
    seen: dict[str, Row] = {}
    for row in rows:
        value = row.fields[key]
        if value in seen:
            raise row.error(f"duplicate {key} '{value}' (first at line {seen[value].line})", field=key)
        seen[value] = row
    return seen


def _check_chapters(chapters: dict[str, Row]) -> None:
    for code, row in chapters.items():
        if not CHAPTER_CODE.fullmatch(code):
            raise row.error(f"invalid chapter '{code}' (expected a letter A–Z or '-')", field="chapter")


def _check_components(components: dict[str, Row]) -> None:
    known = {PROCESS_COMPONENT, *COMPONENT_NUMBERS}
    for code, row in components.items():
        if code not in known:
            raise row.error(f"unknown component '{code}' (expected one of {', '.join(sorted(known))})",
                            field="component")


def _check_rubrics(rubrics: list[Row], chapters: dict[str, Row], components: dict[str, Row]) -> None:
    """Reference and consistency checks: known chapter/component, code shape, no duplicate code."""
    seen: dict[str, Row] = {}
    for row in rubrics:
        code, chapter, component = (row.fields[k] for k in ("code", "chapter", "component"))
        if code in seen:
            raise row.error(f"duplicate code '{code}' (first at line {seen[code].line})", field="code")
        seen[code] = row
        if chapter not in chapters:
            raise row.error(f"unknown chapter '{chapter}' (not in {CHAPTERS_FILE})", field="chapter")
        if component not in components:
            raise row.error(f"unknown component '{component}' (not in {COMPONENTS_FILE})", field="component")
        if not RUBRIC_CODE.fullmatch(code) or code[0] != chapter:
            raise row.error(f"code '{code}' does not fit chapter '{chapter}'", field="code")
        if (chapter == PROCESS_CHAPTER) != (component == PROCESS_COMPONENT):
            raise row.error(f"component '{component}' does not fit chapter '{chapter}' (process codes: "
                            f"chapter '-' with component 'pro')", field="component")
        if chapter == PROCESS_CHAPTER and _process_number(code) is None:
            raise row.error(f"process code '{code}' outside -30…-69", field="code")


def _process_number(code: str) -> int | None:
    """ICPC-2 component number (2–6) of a process code ``-30``…``-69``."""
    number = int(code[1:])
    return next((component for low, high, component in PROCESS_RANGES if low <= number <= high), None)


def _chapter_code(chapter: str) -> str:
    return PROCESS_CHAPTER_CODE if chapter == PROCESS_CHAPTER else chapter


def _grouping_code(chapter: str, component: str) -> str:
    return f"{_chapter_code(chapter)}-{component}"


def _labels(row: Row, languages: tuple[str, ...]) -> list[Designation]:
    """One designation per language whose label is not empty."""
    labels = ((row.fields[f"label_{lang}"], lang) for lang in languages)
    return [Designation(value, lang) for value, lang in labels if value]


def _grouping_concepts(rubrics: list[Row], chapters: dict[str, Row],
                       components: dict[str, Row]) -> list[Concept]:
    """Every chapter, each followed by its component groupings that hold at least one rubric."""
    used = {(row.fields["chapter"], row.fields["component"]) for row in rubrics}
    concepts: list[Concept] = []
    for chapter, chapter_row in chapters.items():
        concepts.append(_chapter_concept(chapter, chapter_row))
        concepts.extend(_component_concept(chapter, component, row)
                        for component, row in components.items() if (chapter, component) in used)
    return concepts


def _chapter_concept(chapter: str, row: Row) -> Concept:
    return Concept(
        code=_chapter_code(chapter), display=row.fields["label_fr"],
        designations=_labels(row, ("fr", "nl", "en")),
        properties=[ConceptProperty("notSelectable", True, "boolean"),
                    ConceptProperty("kind", "chapter", "code")],
        abstract=True, origin=row.origin,
    )


def _component_concept(chapter: str, component: str, row: Row) -> Concept:
    properties = [
        ConceptProperty("notSelectable", True, "boolean"),
        ConceptProperty("kind", "component", "code"),
        ConceptProperty("chapter", _chapter_code(chapter), "code"),
        ConceptProperty("component", component, "code"),
    ]
    if component in COMPONENT_NUMBERS:
        properties.append(ConceptProperty("icpcComponent", COMPONENT_NUMBERS[component], "integer"))
    return Concept(
        code=_grouping_code(chapter, component), display=row.fields["label_fr"],
        designations=_labels(row, ("fr", "nl", "en")), properties=properties,
        parents=[_chapter_code(chapter)], abstract=True, origin=row.origin,
    )


def _rubric_concept(row: Row) -> Concept:
    code, chapter, component = (row.fields[k] for k in ("code", "chapter", "component"))
    number = _process_number(code) if component == PROCESS_COMPONENT else COMPONENT_NUMBERS[component]
    if number is None:  # refused when the rows were checked; kept for the type
        raise row.error(f"process code '{code}' outside -30…-69", field="code")
    return Concept(
        code=code, display=row.fields["label_fr"], designations=_labels(row, ("fr", "nl")),
        properties=[
            ConceptProperty("kind", "rubric", "code"),
            ConceptProperty("chapter", _chapter_code(chapter), "code"),
            ConceptProperty("component", component, "code"),
            ConceptProperty("icpcComponent", number, "integer"),
        ],
        parents=[_grouping_code(chapter, component)], origin=row.origin,
    )


def _release(concepts: list[Concept], version: str | None, paths: tuple[Path, ...],
             rubric_count: int, grouping_count: int) -> CodeSystemRelease:
    meta = entry("cisp2")
    return CodeSystemRelease(
        url=meta.url, version=version or DEFAULT_VERSION, name=meta.name, title=meta.title,
        concepts=concepts, publisher=meta.publisher, copyright=meta.copyright, oids=list(meta.oids),
        language=meta.language or "fr", description=meta.description, properties=list(PROPERTIES),
        concept_iri_base=meta.concept_iri_base, sources=[source_file(p) for p in paths],
        stats={"source_codes": rubric_count, "groupings": grouping_count},
    )
