"""``$closure``: server-side maintenance of a client's transitive closure table (FHIR R4 terminology service).

* ``name`` alone (no concept, no version) creates the table, or resets it; the answer is an empty
  ConceptMap with ``version`` 0.
* ``name`` + ``concept``s adds the concepts not yet in the table and answers a ConceptMap of the *new*
  subsumption relations among all its concepts of the same code system; the table version goes up by one
  when a concept is added, and the answer carries it.
* ``version`` asks to resynchronise: every relation recorded after that version (the concepts of the same
  call, if any, are added first).

Each relation is written once, from the more specific concept: ``element`` = the descendant, ``target`` = the
ancestor, ``equivalence`` = ``subsumes`` (R4: the target subsumes the source). Subsumption comes from the code
systems' compiled indexes (``CodeSystemIndex.subsumes``, default release unless the coding names a version).

Tables live in one SQLite file, ``SMT_HOME/closure/closure.sqlite``; every call is one transaction
(``BEGIN IMMEDIATE``), so concurrent calls and crashes never leave a table half-updated.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import UnknownClosureTable
from smt.releases.registry import Registry
from smt.terminology.codesystem import require_concept, stored

SCHEMA = """
CREATE TABLE IF NOT EXISTS closure_table (name TEXT PRIMARY KEY, version INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS member (
    name TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, system_version TEXT, added INTEGER NOT NULL,
    PRIMARY KEY (name, system, code)
);
CREATE TABLE IF NOT EXISTS entry (
    name TEXT NOT NULL, version INTEGER NOT NULL, system TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL,
    equivalence TEXT NOT NULL, PRIMARY KEY (name, system, source, target)
);
CREATE INDEX IF NOT EXISTS entry_version ON entry(name, version);
"""


@dataclass(frozen=True, slots=True)
class Member:
    """A concept of a closure table (its code in the code system's canonical form)."""

    system: str
    code: str
    system_version: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A subsumption relation: ``target`` subsumes ``source`` (both of ``system``)."""

    system: str
    source: str
    target: str
    equivalence: str = "subsumes"


@dataclass(slots=True)
class ClosureResult:
    name: str
    version: int
    entries: list[Entry] = field(default_factory=list)


Relate = Callable[[Member, Member], str]
"""$subsumes outcome of A relative to B: ``subsumes``, ``subsumed-by``, ``equivalent`` or ``not-subsumed``."""


class ClosureStore:
    """The closure tables of a store (``<home>/closure/closure.sqlite``)."""

    def __init__(self, home: Path) -> None:
        folder = home / "closure"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "closure.sqlite"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        finally:
            db.close()

    @staticmethod
    def _version(db: sqlite3.Connection, name: str) -> int:
        row = db.execute("SELECT version FROM closure_table WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise UnknownClosureTable(name)
        return int(row[0])

    def initialise(self, name: str) -> ClosureResult:
        """Create the table ``name``, emptying it if it exists."""
        with self._transaction() as db:
            for table in ("entry", "member", "closure_table"):
                db.execute(f"DELETE FROM {table} WHERE name = ?", (name,))
            db.execute("INSERT INTO closure_table VALUES (?, 0, ?)",
                       (name, datetime.now(UTC).isoformat(timespec="seconds")))
        return ClosureResult(name, 0)

    def add(self, name: str, concepts: list[Member], relate: Relate) -> ClosureResult:
        """Add the concepts not yet in the table; the new relations (and the table's new version)."""
        with self._transaction() as db:
            version = self._version(db, name)
            existing = [Member(s, c, v) for s, c, v in db.execute(
                "SELECT system, code, system_version FROM member WHERE name = ? ORDER BY added, rowid", (name,))]
            known = {(m.system, m.code) for m in existing}
            fresh = [m for m in dict.fromkeys(concepts) if (m.system, m.code) not in known]
            if not fresh:
                return ClosureResult(name, version)
            version += 1
            entries = []
            for number, new in enumerate(fresh):
                for other in existing + fresh[:number]:
                    if other.system == new.system:
                        entries.extend(_relation(new, other, relate(new, other)))
            db.executemany("INSERT INTO member VALUES (?, ?, ?, ?, ?)",
                           [(name, m.system, m.code, m.system_version, version) for m in fresh])
            db.executemany("INSERT OR IGNORE INTO entry VALUES (?, ?, ?, ?, ?, ?)",
                           [(name, version, e.system, e.source, e.target, e.equivalence) for e in entries])
            db.execute("UPDATE closure_table SET version = ? WHERE name = ?", (version, name))
        return ClosureResult(name, version, entries)

    def since(self, name: str, version: int) -> ClosureResult:
        """Every relation recorded after ``version`` (all of them for 0), with the table's current version."""
        with self._transaction() as db:
            current = self._version(db, name)
            rows = db.execute("SELECT system, source, target, equivalence FROM entry WHERE name = ? AND version > ? "
                              "ORDER BY version, rowid", (name, version))
            return ClosureResult(name, current, [Entry(*row) for row in rows])


def _relation(new: Member, other: Member, outcome: str) -> list[Entry]:
    if outcome == "subsumes":  # new is an ancestor of other
        return [Entry(new.system, other.code, new.code)]
    if outcome == "subsumed-by":
        return [Entry(new.system, new.code, other.code)]
    if outcome == "equivalent":
        return [Entry(new.system, new.code, other.code, "equal")]
    return []


@dataclass(frozen=True, slots=True)
class ClosureConcept:
    system: str | None
    code: str | None
    version: str | None = None


def _resolver(registry: Registry) -> tuple[Callable[[ClosureConcept], Member], Relate]:
    """Concept → member (code system and code checked) and the subsumption test between two members."""
    versions: dict[tuple[str, str | None], CodeSystemProvider] = {}

    def code_system(system: str, version: str | None) -> CodeSystemProvider:
        key = (system, version)
        if key not in versions:
            versions[key] = stored(registry, system, version)
        return versions[key]

    def member(concept: ClosureConcept) -> Member:
        if not concept.system or not concept.code:
            raise ValueError("every concept needs a system and a code")
        cs = code_system(concept.system, concept.version)
        return Member(cs.url, require_concept(cs, concept.code).code, concept.version)

    def relate(a: Member, b: Member) -> str:
        cs = code_system(a.system, a.system_version or b.system_version)
        return cs.subsumption(require_concept(cs, a.code), require_concept(cs, b.code))

    return member, relate


def closure(registry: Registry, name: str, concepts: list[ClosureConcept], version: int | None = None,
            store: ClosureStore | None = None) -> ClosureResult:
    """One ``$closure`` call (see the module documentation)."""
    store = store or ClosureStore(registry.store.home)
    if not concepts and version is None:
        return store.initialise(name)
    to_member, relate = _resolver(registry)
    members = [to_member(c) for c in concepts]  # every concept checked before the table changes
    if version is None:
        return store.add(name, members, relate)
    if members:
        store.add(name, members, relate)
    return store.since(name, version)


def closure_conceptmap(result: ClosureResult) -> dict:
    """The FHIR R4 ConceptMap answering a ``$closure`` call."""
    by_system: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for entry in result.entries:
        by_system[entry.system][entry.source].append({"code": entry.target, "equivalence": entry.equivalence})
    resource: dict = {
        "resourceType": "ConceptMap", "version": str(result.version), "title": f"Closure table {result.name}",
        "status": "active", "experimental": True, "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if by_system:
        resource["group"] = [
            {"source": system, "target": system,
             "element": [{"code": code, "target": targets} for code, targets in elements.items()]}
            for system, elements in by_system.items()]
    return resource
