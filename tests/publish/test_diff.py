"""Diff engine: CIM-10 2015 → 2021 checked against the source files, and every change type on small releases.

The expected changes are computed with plain Python from the nomensland files (code tables and hierarchy),
independently of the loader, and compared with the diff of the compiled indexes.
"""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest

from loaders.cim10 import load as load_cim10
from smt.compile import writable_store
from smt.config import data_dir
from smt.index.build import build_index
from smt.model import CodeSystemRelease, Concept, ConceptProperty, Designation, ResourceRelease
from smt.publish.changes import diff_releases
from smt.publish.diff import CHANGE_TYPES, Change, Member, diff_code_system_files, diff_members, summary
from smt.publish.members import value_set_members
from smt.releases.registry import Registry

NOMENSLAND = data_dir() / "cim10" / "nomensland"
MULTI_YEAR = NOMENSLAND / "cim10_fr_pmsi_2015-2020.json.gz"
YEAR_2021 = NOMENSLAND / "cim10_fr_pmsi_2021.json.gz"
HIERARCHY = NOMENSLAND / "cim10_fr_pmsi_hierarchie_2015-2019.json.gz"
YEARS = ("2015", "2016", "2017", "2018", "2019", "2020", "2021")
PROPERTY_FIELDS = ("tr", "tssr", "tpsy")
LABEL_FIELDS = ("lib_court", "lib_long")

real_data = pytest.mark.skipif(not NOMENSLAND.is_dir(), reason="real CIM-10 files not under SMT_DATA_DIR")


# -- expectations from the source files (plain Python, no loader) ---------------------------------------------


def dotted(code: str) -> str:
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def clean(value: object) -> str:
    return "" if value is None else str(value).strip()


def read_json_gz(path: Path) -> list[dict]:
    with gzip.open(path) as handle:
        return json.load(handle)


def source_rows() -> dict[str, dict[str, dict]]:
    """Year → dotted code → source row, from the 2015–2020 multi-year file and the 2021 file."""
    years: dict[str, dict[str, dict]] = {}
    for row in read_json_gz(MULTI_YEAR):
        years.setdefault(row["anseqta"], {})[dotted(row["code"])] = row
    years["2021"] = {dotted(row["code"]): row for row in read_json_gz(YEAR_2021)}
    return years


def source_groupings() -> dict[int, dict[str, str]]:
    """Hierarchy year → chapter and block codes ("A00-B99") → label (a block spanning its chapter is it)."""
    found: dict[int, dict[str, str]] = {}
    for row in read_json_gz(HIERARCHY):
        year = found.setdefault(int(row["anseqta"]), {})
        chapter, block = row["chapitre"].strip("[]"), row["bloc"].strip("[]")
        year[chapter] = row["lib_chapitre"]
        if block != chapter:
            year[block] = row["lib_bloc"]
    return found


class Source:
    """Expected concepts per year and the expected changes between two years."""

    def __init__(self) -> None:
        self.rows = source_rows()
        self.groupings = source_groupings()

    def displays(self, year: str) -> dict[str, str]:
        """Every concept of the year: codes (long label) and the chapters and blocks of its hierarchy year."""
        hierarchy_year = max((y for y in self.groupings if y <= int(year)), default=min(self.groupings))
        return {**{code: clean(row["lib_long"]) for code, row in self.rows[year].items()},
                **self.groupings[hierarchy_year]}

    def expected(self, old: str, new: str) -> dict[str, set[str]]:
        """Codes expected per change type (``retired``, ``reactivated``, ``moved``: none in CIM-10 tables)."""
        before, after = self.displays(old), self.displays(new)
        old_rows, new_rows = self.rows[old], self.rows[new]
        common = old_rows.keys() & new_rows.keys()
        return {
            "added": after.keys() - before.keys(),
            "removed": before.keys() - after.keys(),
            "display": {c for c in before.keys() & after.keys() if before[c] != after[c]},
            "designation": {c for c in common
                            if any(clean(old_rows[c].get(f)) != clean(new_rows[c].get(f)) for f in LABEL_FIELDS)},
            "property": {c for c in common
                         if any(clean(old_rows[c].get(f)) != clean(new_rows[c].get(f)) for f in PROPERTY_FIELDS)},
            "retired": set(), "reactivated": set(), "moved": set(),
        }


def codes_by_type(changes: list[Change]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {kind: set() for kind in CHANGE_TYPES}
    for change in changes:
        found[change.type].add(change.code)
    return found


@pytest.fixture(scope="module")
def source() -> Source:
    return Source()


@pytest.fixture(scope="module")
def cim10_indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The compiled index of every CIM-10 year 2015–2021, built by the real loader."""
    folder = tmp_path_factory.mktemp("cim10-indexes")
    releases = [*load_cim10(MULTI_YEAR), *load_cim10(YEAR_2021)]
    paths = {}
    for release in releases:
        paths[release.version] = folder / f"{release.version}.sqlite"
        build_index(release, paths[release.version])
    assert sorted(paths) == list(YEARS)
    return paths


# -- CIM-10 against the sources -----------------------------------------------------------------------------


@real_data
@pytest.mark.shared_data
@pytest.mark.parametrize(("old", "new"), [*pairwise(YEARS), ("2015", "2021")])
def test_cim10_diff_matches_the_source_files(cim10_indexes: dict[str, Path], source: Source,
                                             old: str, new: str) -> None:
    changes = diff_code_system_files(cim10_indexes[old], cim10_indexes[new])
    assert codes_by_type(changes) == source.expected(old, new)


@real_data
@pytest.mark.shared_data
def test_cim10_2019_to_2020_details(cim10_indexes: dict[str, Path], source: Source) -> None:
    changes = diff_code_system_files(cim10_indexes["2019"], cim10_indexes["2020"])
    added = {c.code: c.display for c in changes if c.type == "added"}
    rows_2020 = source.rows["2020"]
    assert added == {code: clean(rows_2020[code]["lib_long"]) for code in added}
    assert {"U07.10", "U07.11", "U07.12"} <= added.keys()
    for change in (c for c in changes if c.type == "display"):
        assert change.old == clean(source.rows["2019"][change.code]["lib_long"])
        assert change.new == clean(rows_2020[change.code]["lib_long"]) == change.display
    prop = {(c.code, c.property): (c.old, c.new) for c in changes if c.type == "property"}
    for (code, name), (old, new) in prop.items():
        field = {"typeMcoHad": "tr", "ssr": "tssr", "typePsy": "tpsy"}[name]
        assert old == [clean(source.rows["2019"][code][field])]
        assert new == [clean(rows_2020[code][field])]


@real_data
@pytest.mark.shared_data
def test_cim10_diff_is_symmetric(cim10_indexes: dict[str, Path]) -> None:
    forward = codes_by_type(diff_code_system_files(cim10_indexes["2016"], cim10_indexes["2019"]))
    backward = codes_by_type(diff_code_system_files(cim10_indexes["2019"], cim10_indexes["2016"]))
    assert (forward["added"], forward["removed"]) == (backward["removed"], backward["added"])
    assert forward["display"] == backward["display"] and forward["property"] == backward["property"]


# -- every change type on hand-made releases ----------------------------------------------------------------

URL = "http://smt.example.org/CodeSystem/diff"


def release(version: str, concepts: list[Concept]) -> CodeSystemRelease:
    return CodeSystemRelease(url=URL, version=version, name="Diff", title="Diff", concepts=concepts)


OLD = release("1", [
    Concept("ROOT", "Racine"),
    Concept("A", "Alpha", parents=["ROOT"], designations=[Designation("Alpha", "fr"), Designation("Alpha", "en")],
            properties=[ConceptProperty("rank", 1, "integer")]),
    Concept("A1", "Alpha un", parents=["A"]),
    Concept("B", "Bêta", parents=["ROOT"]),
    Concept("C", "Gamma", parents=["ROOT"], status="retired"),
    Concept("D", "Delta", parents=["ROOT"]),
])
NEW = release("2", [
    Concept("ROOT", "Racine"),
    Concept("A", "Alpha", parents=["ROOT"], designations=[Designation("Alpha", "fr"), Designation("Alfa", "en")],
            properties=[ConceptProperty("rank", 2, "integer")]),
    Concept("A1", "Alpha un", parents=["B"]),
    Concept("B", "Bêta modifié", parents=["ROOT"], status="inactive"),
    Concept("C", "Gamma", parents=["ROOT"]),
    Concept("E", "Epsilon", parents=["ROOT"]),
])


@pytest.fixture(scope="module")
def small_changes(tmp_path_factory: pytest.TempPathFactory) -> list[Change]:
    folder = tmp_path_factory.mktemp("small-diff")
    build_index(OLD, folder / "old.sqlite")
    build_index(NEW, folder / "new.sqlite")
    return diff_code_system_files(folder / "old.sqlite", folder / "new.sqlite")


def test_every_change_type(small_changes: list[Change]) -> None:
    assert summary(small_changes) == {"added": 1, "removed": 1, "retired": 1, "reactivated": 1, "display": 1,
                                      "designation": 1, "property": 1, "moved": 1}
    by_type = {c.type: c for c in small_changes}
    assert (by_type["added"].code, by_type["added"].display) == ("E", "Epsilon")
    assert (by_type["removed"].code, by_type["removed"].display) == ("D", "Delta")
    assert (by_type["retired"].code, by_type["retired"].old, by_type["retired"].new) == ("B", "active", "inactive")
    assert (by_type["reactivated"].code, by_type["reactivated"].old) == ("C", "retired")
    assert (by_type["display"].old, by_type["display"].new) == ("Bêta", "Bêta modifié")
    designation = by_type["designation"]
    assert (designation.code, designation.language, designation.old, designation.new) == ("A", "en", ["Alpha"],
                                                                                          ["Alfa"])
    prop = by_type["property"]
    assert (prop.code, prop.property, prop.old, prop.new) == ("A", "rank", ["1"], ["2"])
    moved = by_type["moved"]
    assert (moved.code, moved.display, moved.old, moved.new) == ("A1", "Alpha un", ["A"], ["B"])


def test_changes_are_in_report_order(small_changes: list[Change]) -> None:
    assert [c.type for c in small_changes] == list(CHANGE_TYPES)


# -- value sets ---------------------------------------------------------------------------------------------

SYSTEM = "http://smt.example.org/CodeSystem/diff"


def value_set(version: str, compose: dict | None = None, expansion: dict | None = None) -> ResourceRelease:
    resource = {"resourceType": "ValueSet", "url": "http://smt.example.org/ValueSet/vs", "version": version,
                "status": "active", **({"compose": compose} if compose else {}),
                **({"expansion": expansion} if expansion else {})}
    return ResourceRelease(kind="ValueSet", url=resource["url"], version=version, name="VS", title="VS",
                           resource=resource)


def enumerated(*concepts: tuple[str, str]) -> dict:
    return {"include": [{"system": SYSTEM, "concept": [{"code": c, "display": d} for c, d in concepts]}]}


def test_value_set_diff_of_enumerated_codes() -> None:
    old = value_set_members(value_set("1", enumerated(("A", "Alpha"), ("B", "Bêta"))).resource, None)
    new = value_set_members(value_set("2", enumerated(("A", "Alpha bis"), ("C", "Gamma"))).resource, None)
    changes = diff_members(old, new)
    assert [(c.type, c.system, c.code) for c in changes] == [
        ("added", SYSTEM, "C"), ("removed", SYSTEM, "B"), ("display", SYSTEM, "A")]
    assert (changes[2].old, changes[2].new) == ("Alpha", "Alpha bis")


def test_value_set_diff_reads_the_expansion_and_its_inactive_flags() -> None:
    old = {(SYSTEM, "A"): Member("Alpha"), (SYSTEM, "B"): Member("Bêta", inactive=True)}
    expansion = {"contains": [{"system": SYSTEM, "code": "A", "display": "Alpha", "inactive": True,
                               "contains": [{"system": SYSTEM, "code": "B", "display": "Bêta"}]}]}
    new = value_set_members(value_set("2", expansion=expansion).resource, None)
    assert new == {(SYSTEM, "A"): Member("Alpha", True), (SYSTEM, "B"): Member("Bêta", False)}
    assert [(c.type, c.code) for c in diff_members(old, new)] == [("retired", "A"), ("reactivated", "B")]


def test_intensional_value_sets_are_expanded_against_the_store(tmp_path: Path) -> None:
    store = writable_store(tmp_path)
    store.load(NEW)
    is_a = {"include": [{"system": URL, "filter": [{"property": "concept", "op": "is-a", "value": "A"}]}]}
    is_b = {"include": [{"system": URL, "filter": [{"property": "concept", "op": "is-a", "value": "B"}]}]}
    store.load(value_set("1", is_a))
    store.load(value_set("2", is_b))
    report = diff_releases(Registry(tmp_path), "http://smt.example.org/ValueSet/vs", "1", "2")
    assert report.kind == "ValueSet"
    assert {(c.type, c.code) for c in report.changes} == {("removed", "A"), ("added", "B"), ("added", "A1")}
