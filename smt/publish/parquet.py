"""Releases as Parquet tables for analytics (DuckDB, polars, pandas, Spark), written by polars.

One file per table, built from the release's compiled index (code systems), stored resource (value sets,
concept maps) or diff (consecutive versions):

* ``concepts``: code, display, definition, status, active, abstract, leaf, ``label_<lang>`` (the preferred
  label per language), ``parents`` (list), ``depth`` (shortest distance to a root), ``path`` (codes from a
  root along the first parent, list) and ``lft``/``rgt`` (nested-set numbers over that same first-parent
  tree: ``x.lft BETWEEN r.lft AND r.rgt`` is the subtree of ``r`` in a mono-hierarchy; the ``closure`` table is
  exact for any hierarchy). A value set's ``concepts`` are its members (system, code, display, inactive).
* ``designations``: code, language, use_system, use_code, use_display, value, active, acceptability.
* ``properties``: code, property, type, value (text; a Coding as ``system|code``), value_system, value_display.
* ``closure``: ancestor, descendant, distance (shortest number of is-a steps); every concept is its own
  ancestor at distance 0, so ``WHERE ancestor = 'X'`` is the ``is-a X`` selection. Sorted by ancestor, so
  readers that skip row groups by their statistics fetch only a few byte ranges.
* ``mappings`` (concept maps): one row per target.
* ``diff``: one row per change from the previous version (``smt.publish.diff``), ``old``/``new`` as lists,
  with the status reason and replacements of retired and removed codes when known.

Every file carries key-value footer metadata (``FOOTER_KEYS``): terminology URL and title, version, release id,
licence, the source files with their SHA-256, the table and the SMT version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import orjson
import polars as pl
from polars._typing import PolarsDataType

import smt
from smt.catalogue.terminologies import load_catalogue
from smt.store.releases import ReleaseInfo

TABLES = ("concepts", "designations", "properties", "closure", "mappings", "diff")
FOOTER_KEYS = ("terminology", "title", "kind", "version", "release", "licence", "sources", "table", "generator")
ROW_GROUP = 100_000
PREFERRED_ACCEPTABILITY = "preferred"


def _connect(index: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(index))}?mode=ro&immutable=1", uri=True)


Schema = dict[str, PolarsDataType]
"""Column name → polars type."""


def _frame(db: sqlite3.Connection, query: str, schema: Schema) -> pl.DataFrame:
    rows = db.execute(query).fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


# -- code systems -------------------------------------------------------------------------------------------


def closure_frame(edges: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """(ancestor, descendant, distance) of every is-a path, self pairs at distance 0, by breadth-first levels:
    a pair first reached at level ``k`` is ``k`` steps apart at the shortest."""
    step = edges.select(pl.col("parent").alias("ancestor"), pl.col("child").alias("descendant")).unique()
    levels = [pl.DataFrame({"ancestor": ids, "descendant": ids, "distance": pl.repeat(0, len(ids), eager=True,
                                                                                      dtype=pl.Int32)})]
    seen = step
    frontier = step
    distance = 1
    while frontier.height:
        levels.append(frontier.with_columns(pl.lit(distance, dtype=pl.Int32).alias("distance")))
        reached = (frontier.join(step, left_on="descendant", right_on="ancestor")
                   .select("ancestor", pl.col("descendant_right").alias("descendant")).unique())
        frontier = reached.join(seen, on=["ancestor", "descendant"], how="anti")
        seen = pl.concat([seen, frontier])
        distance += 1
    return pl.concat(levels)


def _hierarchy_columns(codes: list[str], parents: dict[int, list[int]]) -> tuple[list[int], list[list[str]],
                                                                                  list[int], list[int]]:
    """Depth (shortest distance to a root, breadth first from every root), then the path from a root and the
    nested-set (lft, rgt) numbers over the tree of each concept's first parent (the parent with the smallest
    code), children visited in code order."""
    children: dict[int, list[int]] = {}
    tree: dict[int, list[int]] = {}
    roots = []
    for node in range(len(codes)):
        ups = parents.get(node)
        if not ups:
            roots.append(node)
            continue
        for parent in ups:
            children.setdefault(parent, []).append(node)
        tree.setdefault(min(ups, key=lambda p: codes[p]), []).append(node)
    depth = [-1] * len(codes)
    level = list(roots)
    for node in level:
        depth[node] = 0
    while level:
        following = []
        for node in level:
            for child in children.get(node, ()):
                if depth[child] < 0:
                    depth[child] = depth[node] + 1
                    following.append(child)
        level = following
    paths: list[list[str]] = [[] for _ in codes]
    lft = [0] * len(codes)
    rgt = [0] * len(codes)
    counter = 0
    stack: list[tuple[int, bool]] = [(root, False) for root in sorted(roots, key=lambda n: codes[n], reverse=True)]
    for root in roots:
        paths[root] = [codes[root]]
    while stack:
        node, done = stack.pop()
        counter += 1
        if done:
            rgt[node] = counter
            continue
        lft[node] = counter
        stack.append((node, True))
        for child in sorted(tree.get(node, ()), key=lambda n: codes[n], reverse=True):
            paths[child] = [*paths[node], codes[child]]
            stack.append((child, False))
    return depth, paths, lft, rgt


def _label_column(language: str) -> str:
    return "label_" + "".join(ch if ch.isalnum() else "_" for ch in language.lower())


def _labels(db: sqlite3.Connection, concept_ids: list[int], displays: list[str | None],
            release_language: str | None) -> dict[str, list[str | None]]:
    """The preferred label of each concept per language: the display in the release's language, else the
    first active term marked preferred in that language, else the first active term in it."""
    chosen: dict[str, dict[int, tuple[int, str]]] = {}
    rows = db.execute("SELECT concept, language, value, active, acceptability FROM designation "
                      "WHERE language IS NOT NULL ORDER BY rowid")
    for concept, language, value, active, acceptability in rows:
        if not active:
            continue
        rank = 0 if PREFERRED_ACCEPTABILITY in (acceptability or "") else 1
        best = chosen.setdefault(language.split("-")[0].lower(), {})
        if concept not in best or rank < best[concept][0]:
            best[concept] = (rank, value)
    columns: dict[str, list[str | None]] = {}
    primary = (release_language or "").split("-")[0].lower()
    if primary:
        columns[_label_column(primary)] = list(displays)
    for language in sorted(chosen):
        if language == primary:
            continue
        best = chosen[language]
        columns[_label_column(language)] = [best[i][1] if i in best else None for i in concept_ids]
    return columns


def concepts_frame(index: Path) -> pl.DataFrame:
    """The ``concepts`` table of a compiled code system index."""
    db = _connect(index)
    try:
        meta = orjson.loads(db.execute("SELECT value FROM meta WHERE key = 'release'").fetchone()[0])
        rows = db.execute("SELECT id, code, display, definition, status, abstract, leaf FROM concept ORDER BY id"
                          ).fetchall()
        position = {row[0]: number for number, row in enumerate(rows)}
        codes = [row[1] for row in rows]
        parents: dict[int, list[int]] = {}
        for child, parent in db.execute("SELECT child, parent FROM edge"):
            parents.setdefault(position[child], []).append(position[parent])
        depth, paths, lft, rgt = _hierarchy_columns(codes, parents)
        labels = _labels(db, [row[0] for row in rows], [row[2] for row in rows], meta.get("language"))
    finally:
        db.close()
    return pl.DataFrame({
        "code": codes, "display": [row[2] for row in rows], "definition": [row[3] for row in rows],
        "status": [row[4] for row in rows], "active": [row[4] == "active" for row in rows],
        "abstract": [bool(row[5]) for row in rows], "leaf": [bool(row[6]) for row in rows],
        **labels,
        "parents": [sorted(codes[p] for p in parents.get(n, ())) for n in range(len(rows))],
        "depth": depth, "path": paths, "lft": lft, "rgt": rgt,
    }, schema_overrides={"display": pl.String, "definition": pl.String, "parents": pl.List(pl.String),
                         "path": pl.List(pl.String), "depth": pl.Int32, "lft": pl.Int32, "rgt": pl.Int32,
                         **{name: pl.String for name in labels}})


def designations_frame(index: Path) -> pl.DataFrame:
    db = _connect(index)
    try:
        return _frame(db, "SELECT c.code, d.language, d.use_system, d.use_code, d.use_display, d.value, d.active, "
                          "d.acceptability FROM designation d JOIN concept c ON c.id = d.concept "
                          "ORDER BY c.id, d.rowid",
                      {"code": pl.String, "language": pl.String, "use_system": pl.String, "use_code": pl.String,
                       "use_display": pl.String, "value": pl.String, "active": pl.Boolean,
                       "acceptability": pl.String})
    finally:
        db.close()


def _property_row(code: str, prop: str, kind: str, value: str) -> tuple:
    if kind == "Coding":
        system, coded, display = orjson.loads(value)
        return code, prop, kind, coded, system, display
    return code, prop, kind, value, None, None


def properties_frame(index: Path) -> pl.DataFrame:
    db = _connect(index)
    try:
        rows = [_property_row(*row) for row in db.execute(
            "SELECT c.code, p.code, p.type, p.value FROM property p JOIN concept c ON c.id = p.concept "
            "ORDER BY c.id, p.rowid")]
    finally:
        db.close()
    return pl.DataFrame(rows, orient="row", schema={
        "code": pl.String, "property": pl.String, "type": pl.String, "value": pl.String,
        "value_system": pl.String, "value_display": pl.String})


def code_closure_frame(index: Path) -> pl.DataFrame:
    """The ``closure`` table with codes, sorted by ancestor then distance then descendant."""
    db = _connect(index)
    try:
        codes = pl.DataFrame(db.execute("SELECT id, code FROM concept").fetchall(), orient="row",
                             schema={"id": pl.Int64, "code": pl.String})
        edges = pl.DataFrame(db.execute("SELECT child, parent FROM edge").fetchall(), orient="row",
                             schema={"child": pl.Int64, "parent": pl.Int64})
    finally:
        db.close()
    pairs = closure_frame(edges, codes["id"])
    named = codes.rename({"id": "key"})
    return (pairs.join(named.rename({"code": "ancestor_code"}), left_on="ancestor", right_on="key")
            .join(named.rename({"code": "descendant_code"}), left_on="descendant", right_on="key")
            .select(pl.col("ancestor_code").alias("ancestor"), pl.col("descendant_code").alias("descendant"),
                    "distance")
            .sort("ancestor", "distance", "descendant"))


# -- value sets and concept maps ----------------------------------------------------------------------------


def members_frame(members: Mapping[tuple[str, str], object]) -> pl.DataFrame:
    """A value set's members (``smt.publish.members``) as the ``concepts`` table of a value set."""
    rows = [(system, code, getattr(member, "display", None), bool(getattr(member, "inactive", False)))
            for (system, code), member in sorted(members.items())]
    return pl.DataFrame(rows, orient="row", schema={"system": pl.String, "code": pl.String, "display": pl.String,
                                                    "inactive": pl.Boolean})


def mappings_frame(resource: dict) -> pl.DataFrame:
    """One row per ConceptMap target (an element without target gives one row with no target)."""
    rows = []
    for group in resource.get("group", []):
        for element in group.get("element", []):
            for target in element.get("target") or [{}]:
                rows.append((group.get("source"), group.get("sourceVersion"), element.get("code"),
                             element.get("display"), group.get("target"), group.get("targetVersion"),
                             target.get("code"), target.get("display"), target.get("equivalence"),
                             target.get("comment")))
    return pl.DataFrame(rows, orient="row", schema={
        "source_system": pl.String, "source_version": pl.String, "source_code": pl.String,
        "source_display": pl.String, "target_system": pl.String, "target_version": pl.String,
        "target_code": pl.String, "target_display": pl.String, "equivalence": pl.String, "comment": pl.String})


# -- writing ------------------------------------------------------------------------------------------------


def licence_of(info: ReleaseInfo) -> str:
    """The licence the catalogue gives the terminology, else the release's copyright statement."""
    for entry in load_catalogue().values():
        if entry.url.rstrip("/") == info.url.rstrip("/") and entry.licence:
            return entry.licence
    try:
        manifest = orjson.loads((info.path / "manifest.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return ""
    return str(manifest.get("copyright") or "")


def footer(info: ReleaseInfo, table: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The key-value metadata written in a file's footer."""
    return {
        "terminology": info.url, "title": info.title or info.name, "kind": info.kind, "version": info.version,
        "release": info.id, "licence": licence_of(info),
        "sources": orjson.dumps([{k: s.get(k) for k in ("name", "sha256", "size")} for s in info.sources]).decode(),
        "table": table, "generator": f"SMT {smt.__version__}", **(extra or {}),
    }


def write_table(frame: pl.DataFrame, path: Path, metadata: dict[str, str]) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True, row_group_size=ROW_GROUP, metadata=metadata)

