"""CISP-2 → CIM-10 alignment from the ICD-10 column of the ICPC-2e v4.4 table (``smt load cisp2-cim10 <csv>``).

Source: ``ICPC_2e_v4_4__2015_03_27.csv`` (ACSS, Portugal; columns ``cod, …, icd10``): 686 of its 726 rubrics
list the ICD-10 codes they include, separated by ``;`` (or ``,``); ranges such as ``A00-A09`` are accepted.
Result: one ConceptMap release, ``MAP_URL`` version ``2015-03-27`` (the table's date), one group from CISP-2
(``https://smt.esante.gouv.fr/terminologie-cisp``) to CIM-10 FR (``…/terminologie-cim-10``).

Equivalence (FHIR R4, read source → target; see docs/alignments.md):

* ``narrower`` — the ICD-10 code is listed for this rubric only: its meaning is included in the rubric;
* ``relatedto`` — the code is listed for several rubrics: it overlaps each of them (the comment names the
  other rubrics);
* a CIM-10 category all of whose subcategories are listed for a rubric is added as a target of that rubric
  too (``narrower`` when they all are, else ``relatedto``; ``mapping_justification`` ``semapv:LogicalReasoning``),
  so that a reverse translation of E11 finds T90. Listed codes carry ``semapv:ManualMappingCuration``.

Design — the loader does not open the store: the CLI gives it the codes of the CIM-10 FR release loaded in the
store (the default release, as plain values: ``code_table``), used to expand ranges into the codes they cover,
to find the categories above and to report targets that CIM-10 FR does not have (release warnings; they are
kept in the map, with a comment). Displays come from the loaded CIM-10 and CISP-2 releases (French labels, not the
table's Portuguese ones); ``group.targetVersion`` records the CIM-10 version used. Expanding at load time keeps
the stored map concept-to-concept (SSSOM export, SKOS triples between concept IRIs, reverse look-ups by code)
and leaves ``$translate`` a plain look-up. Without a loaded CIM-10 the map is still built: codes are kept as
written, ranges unexpanded, and a warning says so.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.sources import decode_lines, read_bytes, source_file
from smt.alignments.extensions import slot_extension
from smt.catalogue.terminologies import entry
from smt.errors import LoadError
from smt.formats.cim10_codes import dotted_code
from smt.model import CodeTable, ResourceRelease

MAP_URL = "https://smt.esante.gouv.fr/fhir/ConceptMap/cisp2-cim10"
PUBLISHER = "SMT (d'après WONCA ICPC-2e v4.4)"
DEFAULT_VERSION = "2015-03-27"
REQUIRED_COLUMNS = ("cod", "icd10")
LISTED = "semapv:ManualMappingCuration"
DERIVED = "semapv:LogicalReasoning"
_RANGE = re.compile(r"^([A-Z][0-9]{2}(?:\.[0-9A-Z+]+)?)-([A-Z][0-9]{2}(?:\.[0-9A-Z+]+)?)$")


@dataclass(frozen=True, slots=True)
class Link:
    """One rubric and the ICD-10 codes (or ranges) its row lists."""

    rubric: str
    targets: tuple[str, ...]
    line: int


def read_links(path: Path) -> list[Link]:
    """The rubrics of the table that list ICD-10 codes, in file order."""
    text = "\n".join(decode_lines(read_bytes(path), path))
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LoadError(f"missing column(s) {', '.join(missing)}", file=str(path), line=1)
    links = []
    for row in reader:
        line = reader.line_num
        rubric = (row.get("cod") or "").strip()
        cell = (row.get("icd10") or "").strip()
        if not cell:
            continue
        if not rubric:
            raise LoadError("empty rubric code", file=str(path), line=line, field="cod")
        parts = [dotted_code(part) for part in re.split(r"[;,]", cell) if part.strip()]
        links.append(Link(rubric, tuple(dict.fromkeys(parts)), line))
    if not links:
        raise LoadError("no rubric lists ICD-10 codes (column 'icd10')", file=str(path))
    return links


class CodeSet:
    """What the loader needs from a loaded code system release (its codes, given by the CLI)."""

    def __init__(self, table: CodeTable) -> None:
        self.version = table.version
        self._displays = table.displays
        self._parents = table.parents
        children: dict[str, list[str]] = defaultdict(list)
        for code, parents in table.parents.items():
            for parent in parents:
                children[parent].append(code)
        self._children = children
        self._sorted: list[str] | None = None

    def display(self, code: str) -> str | None:
        return self._displays.get(code)

    def exists(self, code: str) -> bool:
        return code in self._displays

    def parents(self, code: str) -> list[str]:
        return list(self._parents.get(code, ()))

    def children(self, code: str) -> list[str]:
        return list(self._children.get(code, ()))

    def expand(self, low: str, high: str) -> list[str]:
        """Codes of the same level as ``low`` (same length) from ``low`` to ``high``, in code order."""
        if self._sorted is None:
            self._sorted = sorted(self._displays)
        return [c for c in self._sorted if len(c) == len(low) and low <= c <= high]


@dataclass(slots=True)
class _Target:
    code: str
    listed: bool
    known: bool = True
    equivalence: str = "narrower"
    comment: str = ""


@dataclass(slots=True)
class _Plan:
    """The targets of every rubric, after range expansion and category derivation."""

    targets: dict[str, dict[str, _Target]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _expand(links: list[Link], cim10: CodeSet | None, where: str) -> _Plan:
    plan = _Plan()
    for link in links:
        found: dict[str, _Target] = {}
        for written in link.targets:
            match = _RANGE.match(written)
            if match and cim10 is not None:
                codes = cim10.expand(match[1], match[2])
                if not codes:
                    plan.warnings.append(f"{where}:{link.line}: rubric {link.rubric}: range {written} covers no "
                                         f"CIM-10 {cim10.version} code")
                for code in codes:
                    found.setdefault(code, _Target(code, listed=True))
                continue
            known = cim10 is None or cim10.exists(written)
            if not known:
                plan.warnings.append(f"{where}:{link.line}: rubric {link.rubric}: target {written} is not a code "
                                     f"of CIM-10 FR {cim10.version if cim10 else ''}".rstrip())
            found.setdefault(written, _Target(written, listed=True, known=known))
        plan.targets[link.rubric] = found
    return plan


def _qualify(plan: _Plan) -> None:
    """``narrower`` for codes listed by one rubric, ``relatedto`` (naming the others) when shared."""
    rubrics_of: dict[str, list[str]] = defaultdict(list)
    for rubric, targets in plan.targets.items():
        for code in targets:
            rubrics_of[code].append(rubric)
    for rubric, targets in plan.targets.items():
        for code, target in targets.items():
            others = [r for r in rubrics_of[code] if r != rubric]
            if others:
                target.equivalence = "relatedto"
                target.comment = f"Code CIM-10 également listé pour : {', '.join(others)}."
            else:
                target.comment = "Code CIM-10 inclus dans la rubrique (table de conversion ICPC-2e v4.4)."
            if not target.known:
                target.comment += " Absent de la CIM-10 FR chargée."


def _derive(plan: _Plan, cim10: CodeSet) -> int:
    """Add, per rubric, the categories (and above) whose children are all targets of it; the count added."""
    added = 0
    for targets in plan.targets.values():
        pending = set(targets)
        while pending:
            parents = {p for code in pending for p in cim10.parents(code)} - set(targets)
            pending = set()
            for parent in sorted(parents):
                children = cim10.children(parent)
                if children and all(child in targets for child in children):
                    narrower = all(targets[c].equivalence == "narrower" for c in children)
                    targets[parent] = _Target(
                        parent, listed=False, equivalence="narrower" if narrower else "relatedto",
                        comment=f"Toutes les subdivisions de {parent} sont alignées sur cette rubrique (déduit).")
                    pending.add(parent)
                    added += 1
    return added


def _target_json(target: _Target, cim10: CodeSet | None) -> dict:
    item: dict = {"extension": [slot_extension("mapping_justification", LISTED if target.listed else DERIVED)],
                  "code": target.code}
    display = cim10.display(target.code) if cim10 else None
    if display:
        item["display"] = display
    item["equivalence"] = target.equivalence
    item["comment"] = target.comment
    return item


def build_release(links: list[Link], cim10: CodeSet | None, cisp2: CodeSet | None, version: str | None = None,
                  where: str = "ICPC-2e") -> ResourceRelease:
    """The ConceptMap release of ``links`` (``cim10``/``cisp2``: the loaded code systems, or None)."""
    plan = _expand(links, cim10, where)
    _qualify(plan)
    derived = _derive(plan, cim10) if cim10 else 0
    if cim10 is None:
        plan.warnings.append("no CIM-10 FR release loaded: targets were not checked, ranges not expanded, "
                             "categories not derived; load CIM-10 first and reload this map")
    source, target = entry("cisp2"), entry("cim10")
    elements = []
    for link in links:
        element: dict = {"code": link.rubric}
        display = cisp2.display(link.rubric) if cisp2 else None
        if display:
            element["display"] = display
        element["target"] = [_target_json(t, cim10) for t in plan.targets[link.rubric].values()]
        elements.append(element)
    group: dict = {"source": source.url, "target": target.url}
    if cim10:
        group["targetVersion"] = cim10.version
    group["element"] = elements
    version = version or DEFAULT_VERSION
    title = "CISP-2 → CIM-10 (table de conversion ICPC-2e v4.4)"
    description = ("Codes CIM-10 inclus dans chaque rubrique CISP-2, d'après la colonne ICD-10 de la table "
                   "ICPC-2e v4.4 (WONCA ; version ACSS du 2015-03-27), alignés sur la CIM-10 FR.")
    resource = {
        "resourceType": "ConceptMap", "url": MAP_URL, "version": version, "name": "Cisp2Cim10", "title": title,
        "status": "active", "date": "2015-03-27", "publisher": PUBLISHER,
        "description": description, "copyright": source.copyright, "group": [group],
    }
    targets = sum(len(t) for t in plan.targets.values())
    unknown = sum(not t.known for ts in plan.targets.values() for t in ts.values())
    return ResourceRelease(
        kind="ConceptMap", url=MAP_URL, version=version, name="Cisp2Cim10", title=title, resource=resource,
        publisher=PUBLISHER, copyright=source.copyright, date="2015-03-27", description=description,
        warnings=plan.warnings,
        stats={"rubrics": len(links), "targets": targets, "derived": derived, "unknown_targets": unknown},
    )


def load(path: Path, version: str | None = None, *,
         code_table: Callable[[str], CodeTable | None] | None = None) -> list[ResourceRelease]:
    """The CISP-2 → CIM-10 ConceptMap of the ICPC-2e table at ``path``. ``code_table(url)`` gives the codes of
    the CIM-10 FR and CISP-2 releases loaded in the store (the CLI passes it); without it, or when one is not
    loaded, the map is built without it (see ``build_release``)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("ICPC_2e*.csv"))
        if len(found) != 1:
            raise LoadError("expected one ICPC_2e*.csv file in the folder", file=str(path))
        path = found[0]

    def loaded(key: str) -> CodeSet | None:
        table = code_table(entry(key).url) if code_table else None
        return CodeSet(table) if table else None

    release = build_release(read_links(path), loaded("cim10"), loaded("cisp2"), version, path.name)
    release.sources.append(source_file(path))
    return [release]
