"""Read side of a compiled release index: lookups, hierarchy and subsumption for the engines.

The file is opened read-only and immutable, so any number of threads and processes can share it.
Relationships, concrete values and reference sets (SNOMED CT; see ``smt.index.build``) are read in concept-id
space (``ConceptRecord.id``), the space of ``descendant_ids`` / ``ancestor_ids``, so that an ECL engine can
combine them as integer sets; reference set members are component ids as text.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import orjson

from smt.index.sets import BitMap, FrozenBitMap, unpack
from smt.model import Coding, PropertyValue

SubsumptionOutcome = Literal["equivalent", "subsumes", "subsumed-by", "not-subsumed"]


@dataclass(frozen=True, slots=True)
class DesignationRecord:
    value: str
    language: str | None
    use: Coding | None
    id: str | None = None
    active: bool = True
    acceptability: tuple[tuple[str, str], ...] = ()
    """Per dialect: (tag, "preferred" | "acceptable"), e.g. (("en-GB", "acceptable"), ("en-US", "preferred"))."""
    source: str | None = None
    """Canonical of the supplement the term comes from (request code systems only)."""
    extensions: tuple[dict, ...] = field(default=(), compare=False)
    """FHIR extensions of the designation (request code systems only)."""


@dataclass(frozen=True, slots=True)
class RelationshipRecord:
    """One relationship of a concept, in concept-id space."""

    type: int
    destination: int
    group: int
    characteristic: str


@dataclass(frozen=True, slots=True)
class ConcreteRecord:
    type: int
    value: int | float | str
    group: int
    characteristic: str


@dataclass(frozen=True, slots=True)
class RefsetRecord:
    id: str
    kind: str
    columns: list[str]
    members: int


@dataclass(frozen=True, slots=True)
class RefsetMemberRecord:
    refset: str
    referenced: str
    fields: dict | None


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


def subsumption(is_descendant: Callable[[ConceptRecord, ConceptRecord], bool], concept_a: ConceptRecord,
                concept_b: ConceptRecord) -> SubsumptionOutcome:
    """FHIR ``$subsumes`` outcome of A relative to B, given the hierarchy's ``is_descendant`` test."""
    if concept_a.id == concept_b.id:
        return "equivalent"
    if is_descendant(concept_b, concept_a):
        return "subsumes"
    if is_descendant(concept_a, concept_b):
        return "subsumed-by"
    return "not-subsumed"


def property_text(value: PropertyValue) -> str:
    """A property value as filters compare it (Codings by code, booleans as ``true``/``false``)."""
    if isinstance(value, Coding):
        return value.code
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def _acceptability(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    return tuple((tag, value) for tag, _, value in (p.partition(":") for p in text.split("|")))


def _characteristic(characteristic: str | None) -> tuple[str, tuple[str, ...]]:
    return ("", ()) if characteristic is None else (" AND characteristic = ?", (characteristic,))


def _concept(row: tuple) -> ConceptRecord:
    return ConceptRecord(row[0], row[1], row[2], row[3], row[4], bool(row[5]), bool(row[6]))


class CodeSystemIndex:
    """Compiled index of one code system release."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._sets: dict[str, FrozenBitMap] = {}
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
    def has_relationships(self) -> bool:
        """True when the index holds relationships (a SNOMED CT release compiled with its tables)."""
        return self._db().execute("SELECT 1 FROM relationship LIMIT 1").fetchone() is not None

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

    def displays(self, codes: Iterable[str]) -> dict[str, str | None]:
        """The display of each code that is a concept (one query)."""
        rows = self._db().execute("SELECT code, display FROM concept WHERE code IN (SELECT value FROM json_each(?))",
                                  (orjson.dumps(list(dict.fromkeys(codes))).decode(),))
        return dict(rows.fetchall())

    def all_ids(self) -> list[int]:
        """Every concept id in load order (one query, no records built)."""
        return [r[0] for r in self._db().execute("SELECT id FROM concept ORDER BY id")]

    def ids_for_codes(self, codes: Iterable[str]) -> dict[str, int]:
        """Concept id of each code found (batched ``IN`` queries; by case too when the system says so)."""
        wanted = list(dict.fromkeys(codes))
        db = self._db()
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update(db.execute(f"SELECT code, id FROM concept WHERE code IN ({','.join('?' * len(chunk))})",
                                    chunk).fetchall())
        if not self.meta.get("case_sensitive", True):
            for code in wanted:
                if code not in found and (concept := self.concept(code)) is not None:
                    found[code] = concept.id
        return found

    def designations(self, concept: ConceptRecord, include_inactive: bool = False) -> list[DesignationRecord]:
        """The concept's designations in load order; inactive terms (SNOMED CT) only when asked for."""
        return self.designations_of([concept.id], include_inactive).get(concept.id, [])

    def designations_of(self, ids: Collection[int], include_inactive: bool = False,
                        ) -> dict[int, list[DesignationRecord]]:
        """``designations`` of several concepts (one query), by concept id; concepts without any are absent."""
        where = "" if include_inactive else " AND active = 1"
        rows = self._db().execute(
            "SELECT concept, value, language, use_system, use_code, use_display, ref, active, acceptability, "
            f"extensions FROM designation WHERE concept IN (SELECT value FROM json_each(?)){where} "
            "ORDER BY concept, rowid", (orjson.dumps(list(ids)).decode(),))
        found: dict[int, list[DesignationRecord]] = {}
        for concept, value, language, system, code, display, ref, active, accepted, extra in rows:
            found.setdefault(concept, []).append(DesignationRecord(
                value, language, Coding(system, code, display) if code else None, ref, bool(active),
                _acceptability(accepted), extensions=tuple(orjson.loads(extra)) if extra else ()))
        return found

    @cached_property
    def _has_concept_extensions(self) -> bool:
        return self._db().execute("SELECT 1 FROM concept_extension LIMIT 1").fetchone() is not None

    def concept_extensions(self, concept: ConceptRecord) -> list[dict]:
        """FHIR extensions of a concept (FHIR code systems)."""
        if not self._has_concept_extensions:
            return []
        row = self._db().execute("SELECT extensions FROM concept_extension WHERE concept = ?",
                                 (concept.id,)).fetchone()
        return orjson.loads(row[0]) if row else []

    @cached_property
    def stored_property_types(self) -> dict[str, frozenset[str]]:
        """The value types of each property code present (``property_type``)."""
        found: dict[str, set[str]] = {}
        for code, kind in self._db().execute("SELECT code, type FROM property_type"):
            found.setdefault(code, set()).add(kind)
        return {code: frozenset(kinds) for code, kinds in found.items()}

    def property_values(self, code: str) -> Iterator[tuple[int, PropertyValue]]:
        """(concept id, value) of every stored value of the property ``code`` (one indexed range)."""
        rows = self._db().execute("SELECT concept, type, value FROM property WHERE code = ?", (code,))
        for concept, kind, text in rows:
            yield concept, decode_value(kind, text)

    def property_ids(self, code: str, texts: Collection[str]) -> BitMap:
        """Ids of the concepts with a value of the property ``code`` whose text (``property_text``) is one of
        ``texts``: looked up in the (code, value) index; Coding values are compared by their code."""
        wanted = orjson.dumps(list(texts)).decode()
        db = self._db()
        found = BitMap(r[0] for r in db.execute(
            "SELECT concept FROM property WHERE code = ? AND value IN (SELECT value FROM json_each(?)) "
            "AND type != 'Coding'", (code, wanted)))
        if "Coding" in self.stored_property_types.get(code, ()):
            found |= BitMap(r[0] for r in db.execute(
                "SELECT concept FROM property WHERE code = ? AND type = 'Coding' "
                "AND json_extract(value, '$[1]') IN (SELECT value FROM json_each(?))", (code, wanted)))
        return found

    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]:
        return self.properties_of([concept.id]).get(concept.id, [])

    def properties_of(self, ids: Collection[int], codes: Collection[str] | None = None,
                      ) -> dict[int, list[PropertyRecord]]:
        """``properties`` of several concepts (one query), by concept id, only those of ``codes`` when given;
        concepts without any are absent."""
        if codes is not None:
            codes = [code for code in codes if code in self.stored_property_types]
            if not codes:
                return {}
        only = "" if codes is None else " AND code IN (SELECT value FROM json_each(?))"
        arguments = [orjson.dumps(list(ids)).decode()] + ([] if codes is None else [orjson.dumps(list(codes)).decode()])
        rows = self._db().execute(
            f"SELECT concept, code, type, value FROM property WHERE concept IN (SELECT value FROM json_each(?)){only} "
            "ORDER BY concept, rowid", arguments)
        found: dict[int, list[PropertyRecord]] = {}
        for concept, code, kind, value in rows:
            found.setdefault(concept, []).append(PropertyRecord(code, kind, decode_value(kind, value)))
        return found

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

    def edges(self) -> Iterator[tuple[str, str]]:
        """Every (child code, parent code) of the hierarchy."""
        yield from self._db().execute(
            "SELECT child.code, parent.code FROM edge JOIN concept AS child ON child.id = edge.child "
            "JOIN concept AS parent ON parent.id = edge.parent ORDER BY edge.child, edge.parent")

    def roots(self) -> list[ConceptRecord]:
        rows = self._db().execute(
            f"SELECT {_CONCEPT_COLUMNS} FROM concept WHERE id NOT IN (SELECT child FROM edge) ORDER BY id")
        return [_concept(r) for r in rows]

    def descendant_ids(self, concept: ConceptRecord) -> list[int]:
        """Ids of every descendant (self excluded), from the closure table."""
        rows = self._db().execute("SELECT descendant FROM closure WHERE ancestor = ?", (concept.id,))
        return [r[0] for r in rows]

    def descendant_set(self, concept_id: int) -> FrozenBitMap:
        """The descendants of a concept (self excluded) as a set, stored compiled (``descendant_set``)."""
        row = self._db().execute("SELECT ids FROM descendant_set WHERE ancestor = ?", (concept_id,)).fetchone()
        return unpack(row[0] if row else None)

    def concept_set(self, name: Literal["active", "abstract", "leaf"]) -> FrozenBitMap:
        """The active, abstract or leaf concepts as a set (kept once read: three sets per release)."""
        found = self._sets.get(name)
        if found is None:
            row = self._db().execute("SELECT ids FROM concept_set WHERE name = ?", (name,)).fetchone()
            found = self._sets[name] = unpack(row[0] if row else None)
        return found

    @cached_property
    def all_set(self) -> FrozenBitMap:
        """Every concept id (they are dense: 0 … count - 1)."""
        return FrozenBitMap(range(self.count))

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
        return subsumption(self.is_descendant, code_a, code_b)

    # -- relationships, concrete values, reference sets (SNOMED CT) ------------------------------------------

    def relationships_of(self, concept_id: int, characteristic: str | None = "inferred") -> list[RelationshipRecord]:
        """Outgoing relationships of a concept (is-a included), by group then type; all characteristics
        when ``characteristic`` is None."""
        where, args = _characteristic(characteristic)
        rows = self._db().execute(
            f"SELECT type, destination, grp, characteristic FROM relationship WHERE source = ?{where} "
            "ORDER BY grp, type, destination", (concept_id, *args))
        return [RelationshipRecord(*row) for row in rows]

    def sources_with(self, type_id: int, destination_ids: int | Iterable[int] | None = None,
                     characteristic: str | None = "inferred") -> set[int]:
        """Concepts with a relationship of type ``type_id`` (to one of ``destination_ids`` when given)."""
        ids = [destination_ids] if isinstance(destination_ids, int) else destination_ids
        return self._relationship_ends("source", "destination", type_id, ids, characteristic)

    def destinations_of(self, type_id: int, source_ids: Iterable[int] | None = None,
                        characteristic: str | None = "inferred") -> set[int]:
        """Destinations of relationships of type ``type_id`` (from ``source_ids`` when given)."""
        return self._relationship_ends("destination", "source", type_id, source_ids, characteristic)

    def _relationship_ends(self, wanted: str, given: str, type_id: int, given_ids: Iterable[int] | None,
                           characteristic: str | None) -> set[int]:
        """The ``wanted`` end (source or destination) of relationships of type ``type_id``, restricted to those
        whose ``given`` end is in ``given_ids`` when given (queried 500 ids at a time)."""
        where, args = _characteristic(characteristic)
        db = self._db()
        if given_ids is None:
            return {r[0] for r in db.execute(f"SELECT {wanted} FROM relationship WHERE type = ?{where}",
                                             (type_id, *args))}
        ids = list(given_ids)
        found: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(r[0] for r in db.execute(
                f"SELECT {wanted} FROM relationship WHERE type = ? AND {given} IN ({','.join('?' * len(chunk))})"
                f"{where}", (type_id, *chunk, *args)))
        return found

    def concrete_of(self, concept_id: int, characteristic: str | None = "inferred") -> list[ConcreteRecord]:
        where, args = _characteristic(characteristic)
        rows = self._db().execute(
            f"SELECT type, value, grp, characteristic FROM concrete WHERE source = ?{where} ORDER BY grp, type",
            (concept_id, *args))
        return [ConcreteRecord(*row) for row in rows]

    def sources_with_value(self, type_id: int, operator: str, value: int | float | str,
                           characteristic: str | None = "inferred") -> set[int]:
        """Concepts with a concrete value of type ``type_id`` comparing to ``value`` (=, !=, <, <=, >, >=)."""
        if operator not in ("=", "!=", "<", "<=", ">", ">="):
            raise ValueError(f"unsupported comparison {operator!r}")
        where, args = _characteristic(characteristic)
        rows = self._db().execute(
            f"SELECT source FROM concrete WHERE type = ? AND value {operator} ?{where}", (type_id, value, *args))
        return {r[0] for r in rows}

    def refsets(self) -> list[RefsetRecord]:
        rows = self._db().execute("SELECT id, kind, columns, members FROM refset ORDER BY id")
        return [RefsetRecord(i, kind, orjson.loads(columns), members) for i, kind, columns, members in rows]

    def refset_members(self, refset_id: str, referenced: str | None = None) -> list[RefsetMemberRecord]:
        """Active members of a reference set (map rows, association targets, … in ``fields``), or those naming
        the component ``referenced``."""
        sql = "SELECT refset, referenced, fields FROM refset_member WHERE refset = ?"
        args: tuple[str, ...] = (refset_id,)
        if referenced is not None:
            sql, args = sql + " AND referenced = ?", (refset_id, referenced)
        rows = self._db().execute(sql + " ORDER BY rowid", args)
        return [RefsetMemberRecord(r, ref, orjson.loads(f) if f else None) for r, ref, f in rows]

    def refset_concept_ids(self, refset_id: str) -> set[int]:
        """Concept ids of the members of a reference set (``^ refset`` in ECL)."""
        rows = self._db().execute(
            "SELECT concept.id FROM refset_member JOIN concept ON concept.code = refset_member.referenced "
            "WHERE refset_member.refset = ?", (refset_id,))
        return {r[0] for r in rows}

    def memberships(self, code: str) -> list[RefsetMemberRecord]:
        """Every reference set row naming the component ``code``."""
        rows = self._db().execute(
            "SELECT refset, referenced, fields FROM refset_member WHERE referenced = ? ORDER BY refset, rowid",
            (code,))
        return [RefsetMemberRecord(r, ref, orjson.loads(f) if f else None) for r, ref, f in rows]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
