"""Read side of a compiled release index: lookups, hierarchy and subsumption for the engines.

The file is opened read-only and immutable, so any number of threads and processes can share it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

import orjson

from smt.model import Coding, PropertyValue

SubsumptionOutcome = Literal["equivalent", "subsumes", "subsumed-by", "not-subsumed"]


@dataclass(frozen=True, slots=True)
class DesignationRecord:
    value: str
    language: str | None
    use: Coding | None


@dataclass(frozen=True, slots=True)
class PropertyRecord:
    code: str
    type: str
    value: PropertyValue


@dataclass(frozen=True, slots=True)
class ConceptRecord:
    """A concept as the index holds it (designations and properties are loaded on demand)."""

    id: int
    code: str
    display: str | None
    definition: str | None
    status: str
    abstract: bool
    leaf: bool

    @property
    def active(self) -> bool:
        return self.status == "active"


def decode_value(kind: str, text: str) -> PropertyValue:
    """Inverse of ``smt.index.build.encode_value``."""
    if kind == "Coding":
        system, code, display = orjson.loads(text)
        return Coding(system, code, display)
    if kind == "boolean":
        return text == "true"
    if kind == "integer":
        return int(text)
    if kind == "decimal":
        return float(text)
    return text


_CONCEPT_COLUMNS = "id, code, display, definition, status, abstract, leaf"


def _concept(row: tuple) -> ConceptRecord:
    return ConceptRecord(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]))


class CodeSystemIndex:
    """Compiled index of one code system release."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.meta: dict = orjson.loads(self._db().execute("SELECT value FROM meta WHERE key='release'")
                                       .fetchone()[0])

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            uri = f"file:{self.path}?mode=ro&immutable=1"
            db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.db = db
        return db

    @property
    def url(self) -> str:
        return self.meta["url"]

    @property
    def version(self) -> str:
        return self.meta["version"]

    @property
    def count(self) -> int:
        return self.meta["count"]

    @cached_property
    def property_types(self) -> dict[str, str]:
        return {p["code"]: p["type"] for p in self.meta.get("properties", [])}

    # -- concepts -------------------------------------------------------------------------------------------

    def concept(self, code: str) -> ConceptRecord | None:
        """The concept with exactly this code (case-insensitively when the code system says so)."""
        db = self._db()
        row = db.execute(f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE code = ?", (code,)).fetchone()
        if row is None and not self.meta.get("case_sensitive", True):
            row = db.execute(
                f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE code = ? COLLATE NOCASE", (code,)
            ).fetchone()
        return _concept(row) if row else None

    def concept_by_id(self, concept_id: int) -> ConceptRecord:
        row = self._db().execute(f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE id = ?", (concept_id,)).fetchone()
        return _concept(row)

    def concepts(self, ids: list[int] | None = None) -> Iterator[ConceptRecord]:
        """All concepts in load order, or the given ids in the given order."""
        db = self._db()
        if ids is None:
            for row in db.execute(f"SELECT {_CONCEPT_COLUMNS} FROM concept ORDER BY id"):
                yield _concept(row)
            return
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = {r[0]: r for r in db.execute(
                f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE id IN ({marks})", chunk)}
            for concept_id in chunk:
                if concept_id in rows:
                    yield _concept(rows[concept_id])

    def designations(self, concept: ConceptRecord) -> list[DesignationRecord]:
        rows = self._db().execute(
            "SELECT value, language, use_system, use_code, use_display FROM designation WHERE concept = ? "
            "ORDER BY rowid", (concept.id,))
        return [
            DesignationRecord(value, language, Coding(system, code, display) if code else None)
            for value, language, system, code, display in rows
        ]

    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]:
        rows = self._db().execute(
            "SELECT code, type, value FROM property WHERE concept = ? ORDER BY rowid", (concept.id,))
        return [PropertyRecord(code, kind, decode_value(kind, value)) for code, kind, value in rows]

    # -- hierarchy ------------------------------------------------------------------------------------------

    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]:
        rows = self._db().execute(
            f"SELECT {_CONCEPT_COLUMNS} FROM concept JOIN edge ON edge.parent = concept.id "
            "WHERE edge.child = ? ORDER BY concept.id", (concept.id,))
        return [_concept(r) for r in rows]

    def children(self, concept: ConceptRecord) -> list[ConceptRecord]:
        rows = self._db().execute(
            f"SELECT {_CONCEPT_COLUMNS} FROM concept JOIN edge ON edge.child = concept.id "
            "WHERE edge.parent = ? ORDER BY concept.id", (concept.id,))
        return [_concept(r) for r in rows]

    def roots(self) -> list[ConceptRecord]:
        rows = self._db().execute(
            f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE id NOT IN (SELECT child FROM edge) ORDER BY id")
        return [_concept(r) for r in rows]

    def descendant_ids(self, concept: ConceptRecord) -> list[int]:
        """Ids of every descendant (self excluded), from the closure table."""
        rows = self._db().execute("SELECT descendant FROM closure WHERE ancestor = ?", (concept.id,))
        return [r[0] for r in rows]

    def ancestor_ids(self, concept: ConceptRecord) -> list[int]:
        rows = self._db().execute("SELECT ancestor FROM closure WHERE descendant = ?", (concept.id,))
        return [r[0] for r in rows]

    def count_descendants(self, concept: ConceptRecord) -> int:
        return self._db().execute(
            "SELECT count(*) FROM closure WHERE ancestor = ?", (concept.id,)).fetchone()[0]

    def is_descendant(self, descendant: ConceptRecord, ancestor: ConceptRecord) -> bool:
        """True when ``ancestor`` is a proper ancestor of ``descendant``."""
        row = self._db().execute(
            "SELECT 1 FROM closure WHERE ancestor = ? AND descendant = ?", (ancestor.id, descendant.id)
        ).fetchone()
        return row is not None

    def subsumes(self, code_a: ConceptRecord, code_b: ConceptRecord) -> SubsumptionOutcome:
        """FHIR ``$subsumes`` outcome of A relative to B."""
        if code_a.id == code_b.id:
            return "equivalent"
        if self.is_descendant(code_b, code_a):
            return "subsumes"
        if self.is_descendant(code_a, code_b):
            return "subsumed-by"
        return "not-subsumed"

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
