"""Diff between two versions of a code system (SQL over both compiled indexes) or of a value set.

A code system diff attaches the two immutable SQLite indexes to one connection and compares them set-wise
(``EXCEPT``) by code, so no release is loaded into memory. Change types, in report order:

``added``, ``removed`` (code only in the newer / older version), ``retired`` (active → inactive or retired),
``reactivated`` (inactive or retired → active), ``display``, ``designation`` (per language and use),
``property`` (per property code) and ``moved`` (the set of parent codes changed).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import orjson

CHANGE_TYPES = ("added", "removed", "retired", "reactivated", "display", "designation", "property", "moved")
_ORDER = {name: rank for rank, name in enumerate(CHANGE_TYPES)}


@dataclass(frozen=True, slots=True)
class Change:
    """One change of one concept. ``old``/``new`` hold the values before and after (lists for sets)."""

    type: str
    code: str
    display: str | None = None
    system: str | None = None
    property: str | None = None
    language: str | None = None
    use: str | None = None
    old: str | list[str] | None = None
    new: str | list[str] | None = None

    def as_dict(self, with_type: bool = True) -> dict:
        item = {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}
        if not with_type:
            item.pop("type")
        return item


def _sort_key(change: Change) -> tuple:
    return (_ORDER[change.type], change.system or "", change.code, change.property or "", change.use or "",
            change.language or "")


def sort_changes(changes: Iterable[Change]) -> list[Change]:
    """Changes in report order: by change type, then system and code."""
    return sorted(changes, key=_sort_key)


def summary(changes: Iterable[Change]) -> dict[str, int]:
    """Number of changes of each type (every type listed, zero included)."""
    counts = dict.fromkeys(CHANGE_TYPES, 0)
    for change in changes:
        counts[change.type] += 1
    return counts


# -- code systems -------------------------------------------------------------------------------------------


def _attach(old: Path, new: Path) -> sqlite3.Connection:
    db = sqlite3.connect("file::memory:", uri=True)
    for alias, path in (("a", old), ("b", new)):
        db.execute(f"ATTACH DATABASE ? AS {alias}", (f"file:{quote(str(path))}?mode=ro&immutable=1",))
    return db


_STATUS = """
SELECT o.code, n.display, o.status, n.status FROM a.concept o JOIN b.concept n ON n.code = o.code
WHERE o.status <> n.status
"""
_DISPLAY = """
SELECT o.code, o.display, n.display FROM a.concept o JOIN b.concept n ON n.code = o.code
WHERE o.display IS NOT n.display
"""
_ONLY_IN = """
SELECT x.code, x.display FROM {x}.concept x WHERE NOT EXISTS (SELECT 1 FROM {y}.concept y WHERE y.code = x.code)
ORDER BY x.code
"""
# Rows of concepts present in both versions, keyed by code, tagged with their side (0 old, 1 new). ``{scope}``
# keeps the concepts to compare: all those in both versions, or only those whose digests differ (``_scope``).
_DESIGNATIONS = """
SELECT {side} AS side, c.code AS code, t.language AS language, t.use_system AS use_system, t.use_code AS use_code,
       t.value AS value
FROM {x}.designation t JOIN {x}.concept c ON c.id = t.concept
WHERE {scope}
"""
_PROPERTIES = """
SELECT {side} AS side, c.code AS code, t.code AS prop, t.type AS type, t.value AS value
FROM {x}.property t JOIN {x}.concept c ON c.id = t.concept
WHERE {scope}
"""
_EDGES = """
SELECT {side} AS side, c.code AS code, p.code AS parent
FROM {x}.edge e JOIN {x}.concept c ON c.id = e.child JOIN {x}.concept p ON p.id = e.parent
WHERE {scope}
"""
_IN_BOTH = "EXISTS (SELECT 1 FROM {y}.concept o WHERE o.code = c.code)"
_CHANGED = """
CREATE TEMP TABLE changed AS
SELECT o.code AS code FROM a.concept o JOIN b.concept n ON n.code = o.code
JOIN a.concept_digest od ON od.concept = o.id JOIN b.concept_digest nd ON nd.concept = n.id
WHERE od.digest <> nd.digest
"""


def _scope(db: sqlite3.Connection) -> str:
    """Which concepts the detailed comparisons read: when both indexes hold concept digests, only the concepts
    whose digests differ (a temporary table); else every concept present in both versions."""
    with_digests = all(db.execute(f"SELECT 1 FROM {alias}.sqlite_master WHERE name = 'concept_digest'").fetchone()
                       for alias in ("a", "b"))
    if not with_digests:
        return _IN_BOTH
    db.execute(_CHANGED)
    db.execute("CREATE UNIQUE INDEX temp.changed_code ON changed(code)")
    return "c.code IN (SELECT code FROM temp.changed)"


def _one_sided(db: sqlite3.Connection, template: str, keys: str, scope: str) -> tuple[list[tuple], list[tuple]]:
    """Rows only in the old version, rows only in the new one (one scan of each side, then a GROUP BY)."""
    old = template.format(side=0, x="a", y="b", scope=scope.format(y="b"))
    new = template.format(side=1, x="b", y="a", scope=scope.format(y="a"))
    rows = db.execute(f"SELECT MIN(side), {keys} FROM ({old} UNION ALL {new}) GROUP BY {keys} "
                      "HAVING MIN(side) = MAX(side)")
    removed: list[tuple] = []
    added: list[tuple] = []
    for side, *row in rows:
        (added if side else removed).append(tuple(row))
    return removed, added


def _displays(db: sqlite3.Connection, codes: set[str]) -> dict[str, str | None]:
    """Display of each code in the newer version (the older one for removed codes)."""
    found: dict[str, str | None] = {}
    listed = sorted(codes)
    for start in range(0, len(listed), 500):
        chunk = listed[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for alias in ("a", "b"):
            found.update(db.execute(f"SELECT code, display FROM {alias}.concept WHERE code IN ({marks})", chunk))
    return found


def _status_changes(db: sqlite3.Connection) -> list[Change]:
    changes = []
    for code, display, old, new in db.execute(_STATUS):
        kind = "reactivated" if new == "active" else "retired"
        changes.append(Change(kind, code, display, old=old, new=new))
    return changes


def _designation_changes(db: sqlite3.Connection, scope: str) -> list[Change]:
    removed, added = _one_sided(db, _DESIGNATIONS, "code, language, use_system, use_code, value", scope)
    groups: dict[tuple, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for side, rows in ((0, removed), (1, added)):
        for code, language, use_system, use_code, value in rows:
            use = f"{use_system}|{use_code}" if use_system else use_code
            groups[(code, language, use)][side].append(value)
    return [Change("designation", code, language=language, use=use, old=sorted(old), new=sorted(new))
            for (code, language, use), (old, new) in groups.items()]


def _property_text(kind: str, value: str) -> str:
    if kind == "Coding":
        system, code, _display = orjson.loads(value)
        return f"{system or ''}|{code}"
    return value


def _property_changes(db: sqlite3.Connection, scope: str) -> list[Change]:
    removed, added = _one_sided(db, _PROPERTIES, "code, prop, type, value", scope)
    groups: dict[tuple, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for side, rows in ((0, removed), (1, added)):
        for code, prop, kind, value in rows:
            groups[(code, prop)][side].append(_property_text(kind, value))
    return [Change("property", code, property=prop, old=sorted(old), new=sorted(new))
            for (code, prop), (old, new) in groups.items()]


def _parents(db: sqlite3.Connection, alias: str, codes: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {code: [] for code in codes}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT c.code, p.code FROM {alias}.edge e JOIN {alias}.concept c ON c.id = e.child "
            f"JOIN {alias}.concept p ON p.id = e.parent WHERE c.code IN ({marks})", chunk)
        for child, parent in rows:
            found[child].append(parent)
    return {code: sorted(parents) for code, parents in found.items()}


def _moved(db: sqlite3.Connection, scope: str) -> list[Change]:
    removed, added = _one_sided(db, _EDGES, "code, parent", scope)
    codes = sorted({child for child, _ in removed + added})
    before, after = _parents(db, "a", codes), _parents(db, "b", codes)
    return [Change("moved", code, old=before[code], new=after[code]) for code in codes]


def diff_code_system_files(old_index: Path, new_index: Path) -> list[Change]:
    """Every change between two compiled code system indexes, in report order."""
    db = _attach(old_index, new_index)
    try:
        changes = [Change("added", code, display) for code, display in db.execute(_ONLY_IN.format(x="b", y="a"))]
        changes += [Change("removed", code, display) for code, display in db.execute(_ONLY_IN.format(x="a", y="b"))]
        changes += _status_changes(db)
        changes += [Change("display", code, after, old=before, new=after)
                    for code, before, after in db.execute(_DISPLAY)]
        scope = _scope(db)
        details = _designation_changes(db, scope) + _property_changes(db, scope) + _moved(db, scope)
        displays = _displays(db, {c.code for c in details})
        changes += [Change(**{**c.as_dict(), "display": displays.get(c.code)}) for c in details]
    finally:
        db.close()
    return sort_changes(changes)


# -- value sets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A code of a value set version: its display and whether the expansion marks it inactive."""

    display: str | None
    inactive: bool = False


Members = dict[tuple[str, str], Member]


def diff_members(old: Members, new: Members) -> list[Change]:
    """Changes between the codes of two value set versions (keyed by system and code)."""
    changes: list[Change] = []
    for key in new.keys() - old.keys():
        changes.append(Change("added", key[1], new[key].display, system=key[0]))
    for key in old.keys() - new.keys():
        changes.append(Change("removed", key[1], old[key].display, system=key[0]))
    for key in old.keys() & new.keys():
        before, after = old[key], new[key]
        if before.inactive != after.inactive:
            kind = "retired" if after.inactive else "reactivated"
            changes.append(Change(kind, key[1], after.display, system=key[0],
                                  old="inactive" if before.inactive else "active",
                                  new="inactive" if after.inactive else "active"))
        if before.display != after.display:
            changes.append(Change("display", key[1], after.display, system=key[0], old=before.display,
                                  new=after.display))
    return sort_changes(changes)
