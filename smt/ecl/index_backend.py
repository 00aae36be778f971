"""``EclBackend`` over a compiled release index (``smt.index``): one SQLite set query per ECL step.

Ids are the index's concept ids (``ConceptRecord.id``). Collections of ids go to SQLite as one JSON array
parameter (``json_each``), so a set of any size is one query. Relationships are the active inferred ones.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterator
from decimal import Decimal
from functools import cached_property
from weakref import WeakKeyDictionary

import orjson

from smt.ecl import backend as sct
from smt.ecl import index_facts
from smt.ecl.backend import ConceptFacts, ConcreteRelationship, DescriptionFacts, MemberFacts, Relationship
from smt.index.reader import CodeSystemIndex

IN = "IN (SELECT value FROM json_each(?))"
PUSH_LIMIT = 20_000
"""Largest id set handed to SQLite as a restriction; a larger one is checked in Python after a type scan."""


def _json(ids: Collection[int] | Collection[str]) -> str:
    return orjson.dumps(list(ids)).decode()


def _as_set(ids: Collection[int] | None) -> set[int] | frozenset[int] | None:
    return ids if ids is None or isinstance(ids, set | frozenset) else set(ids)


class IndexBackend:
    """ECL evaluation data of one code system release index."""

    def __init__(self, index: CodeSystemIndex, characteristic: str = "inferred") -> None:
        self.index = index
        self.characteristic = characteristic
        self._local = threading.local()
        self._ids: dict[str, int | None] = {}

    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection to the index file."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.index.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def column(self, sql: str, *args: object) -> set:
        return {row[0] for row in self.db().execute(sql, args)}

    # -- concepts and hierarchy ---------------------------------------------------------------------------------

    def resolve(self, sctid: str) -> int | None:
        if sctid not in self._ids:
            found = self.index.concept(sctid)
            self._ids[sctid] = found.id if found is not None else None
        return self._ids[sctid]

    def codes(self, ids: Collection[int]) -> list[str]:
        return [row[0] for row in self.db().execute(f"SELECT code FROM concept WHERE id {IN}", (_json(ids),))]

    def all_concepts(self) -> set[int]:
        """Active concepts of the hierarchy: the root and its descendants (orphans of an extract left out)."""
        root = self.resolve(sct.ROOT)
        if root is not None:
            return self.column("SELECT descendant FROM closure WHERE ancestor = ?", root) | {root}
        return self.column("SELECT id FROM concept WHERE status = 'active'")

    def _closure(self, wanted: str, given: str, ids: Collection[int] | None, table_all: str) -> set[int]:
        if ids is None:
            return self.column(table_all)
        if len(ids) == 1:
            return self.column(f"SELECT {wanted} FROM closure WHERE {given} = ?", next(iter(ids)))
        return self.column(f"SELECT {wanted} FROM closure WHERE {given} {IN}", _json(ids))

    def descendants(self, ids: Collection[int] | None) -> set[int]:
        return self._closure("descendant", "ancestor", ids, "SELECT child FROM edge")

    def ancestors(self, ids: Collection[int] | None) -> set[int]:
        return self._closure("ancestor", "descendant", ids, "SELECT parent FROM edge")

    def children(self, ids: Collection[int] | None) -> set[int]:
        if ids is None:
            return self.column("SELECT child FROM edge")
        return self.column(f"SELECT child FROM edge WHERE parent {IN}", _json(ids))

    def parents(self, ids: Collection[int] | None) -> set[int]:
        if ids is None:
            return self.column("SELECT parent FROM edge")
        return self.column(f"SELECT parent FROM edge WHERE child {IN}", _json(ids))

    # -- reference sets -----------------------------------------------------------------------------------------

    def refset_members(self, refsets: Collection[int] | None) -> set[int]:
        sql = "SELECT concept.id FROM refset_member JOIN concept ON concept.code = refset_member.referenced"
        if refsets is None:
            return self.column(sql)
        return self.column(f"{sql} WHERE refset_member.refset {IN}", _json(self.codes(refsets)))

    def members(self, refsets: Collection[int] | None) -> Iterator[MemberFacts]:
        sql = ("SELECT refset, concept.id, fields FROM refset_member "
               "LEFT JOIN concept ON concept.code = refset_member.referenced")
        db = self.db()
        rows = (db.execute(sql) if refsets is None
                else db.execute(f"{sql} WHERE refset {IN}", (_json(self.codes(refsets)),)))
        return index_facts.members(rows, self.resolve)

    def historical_sources(self, refsets: Collection[int], targets: Collection[int]) -> set[int]:
        """Concepts that an association of one of ``refsets`` links to one of ``targets``."""
        sql = ("SELECT concept.id FROM refset_member JOIN concept ON concept.code = refset_member.referenced "
               f"WHERE refset {IN} AND json_extract(fields, '$.targetComponentId') {IN}")
        return self.column(sql, _json(self.codes(refsets)), _json(self.codes(targets)))

    # -- relationships and concrete values ----------------------------------------------------------------------

    @cached_property
    def is_a(self) -> int:
        found = self.resolve(sct.IS_A)
        return -1 if found is None else found

    def _where(self, types: Collection[int] | None, column: str | None = None,
               ids: Collection[int] | None = None) -> tuple[str, list[object]]:
        clauses: list[str] = ["characteristic = ?"]
        args: list[object] = [self.characteristic]
        if types is None:
            clauses.append("type != ?")
            args.append(self.is_a)
        else:
            clauses.append(f"type {IN}")
            args.append(_json(types))
        if column is not None and ids is not None:
            clauses.append(f"{column} {IN}")
            args.append(_json(ids))
        return " AND ".join(clauses), args

    def _rows(self, table: str, types: Collection[int] | None, sources: Collection[int] | None,
              destinations: Collection[int] | None = None) -> Iterator[tuple]:
        """``(source, type, destination or value, grp)`` rows matching every restriction. SQLite is given the
        smallest id set (when small enough to beat a scan of the types' rows); the other restrictions are
        checked here against Python sets."""
        if any(ids is not None and not ids for ids in (types, sources, destinations)):
            return
        given = sorted(((len(ids), column, ids) for column, ids in (("source", sources), ("destination", destinations))
                        if ids is not None), key=lambda item: item[0])
        column, pushed = None, None
        if given and (types is None or given[0][0] <= PUSH_LIMIT):
            _, column, pushed = given[0]
        where, args = self._where(types, column, pushed)
        third = "destination" if table == "relationship" else "value"
        rows = self.db().execute(f"SELECT source, type, {third}, grp FROM {table} WHERE {where}", args)
        source_set = _as_set(sources if column != "source" else None)
        destination_set = _as_set(destinations if column != "destination" else None)
        if source_set is None and destination_set is None:
            yield from rows
            return
        for row in rows:
            if (source_set is None or row[0] in source_set) and (destination_set is None or row[2] in destination_set):
                yield row

    def relationships(self, types: Collection[int] | None, sources: Collection[int] | None = None,
                      destinations: Collection[int] | None = None) -> Iterator[Relationship]:
        return self._rows("relationship", types, sources, destinations)

    def concrete_values(self, types: Collection[int] | None,
                        sources: Collection[int] | None = None) -> Iterator[ConcreteRelationship]:
        for source, type_id, value, group in self._rows("concrete", types, sources):
            yield source, type_id, value if isinstance(value, str) else Decimal(str(value)), group

    # -- concept and description facts --------------------------------------------------------------------------

    def concept_facts(self, ids: Collection[int]) -> Iterator[ConceptFacts]:
        return index_facts.concept_facts(self.db(), ids, self.resolve)

    def descriptions(self, ids: Collection[int]) -> Iterator[DescriptionFacts]:
        return index_facts.descriptions(self.db(), ids, self.resolve)


_BACKENDS: WeakKeyDictionary[CodeSystemIndex, IndexBackend] = WeakKeyDictionary()
_BACKENDS_LOCK = threading.Lock()


def backend_for(index: CodeSystemIndex) -> IndexBackend:
    """The shared ``IndexBackend`` of an open index (its connections and id cache live as long as the index)."""
    with _BACKENDS_LOCK:
        found = _BACKENDS.get(index)
        if found is None:
            found = _BACKENDS[index] = IndexBackend(index)
        return found
