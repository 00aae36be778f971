"""The Parquet downloads of a release (``parquet-<table>``, see ``smt.publish.parquet``).

``parquet-diff`` is offered for a code system or value set release that has a previous version (the next lower
version of the same URL the caller sees); its file name carries the previous release's id, so a later load of
an intermediate version gives a new file instead of a stale one.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from smt.errors import NotFound
from smt.publish import parquet
from smt.publish.changes import diff_releases, previous_release
from smt.publish.diff import Change
from smt.publish.members import value_set_members
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo
from smt.terminology.retirement import RetirementNotes

MEDIA_TYPE = "application/vnd.apache.parquet"
DIFFABLE = ("CodeSystem", "ValueSet")
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "parquet-concepts": ("Parquet: concepts (labels, status, parents, depth, path, nested set) or value set members",
                         ("CodeSystem", "ValueSet")),
    "parquet-designations": ("Parquet: designations", ("CodeSystem",)),
    "parquet-properties": ("Parquet: concept properties", ("CodeSystem",)),
    "parquet-closure": ("Parquet: transitive closure (ancestor, descendant, distance)", ("CodeSystem",)),
    "parquet-mappings": ("Parquet: mappings, one row per target", ("ConceptMap",)),
    "parquet-diff": ("Parquet: changes from the previous version", DIFFABLE),
}
"""Format name → (label, kinds of release offering it)."""
NEEDS_PREVIOUS = frozenset({"parquet-diff"})


def filename(info: ReleaseInfo, name: str, previous: ReleaseInfo | None) -> str:
    table = name.removeprefix("parquet-")
    if name in NEEDS_PREVIOUS and previous is not None:
        return f"{info.id}.{table}-from-{previous.id}.parquet"
    return f"{info.id}.{table}.parquet"


DIFF_SCHEMA: parquet.Schema = {"change": pl.String, "system": pl.String, "code": pl.String, "display": pl.String,
               "property": pl.String, "language": pl.String, "use": pl.String, "old": pl.List(pl.String),
               "new": pl.List(pl.String), "reason": pl.String, "replaced_by": pl.List(pl.String)}


def _as_list(value: str | list[str] | None) -> list[str] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


def diff_frame(changes: list[Change], notes: RetirementNotes | None) -> pl.DataFrame:
    """The changes of a diff, one row each, with the reason and replacements of retired and removed codes."""
    rows = []
    for change in changes:
        note = notes.get(change.code) if notes is not None and change.type in ("retired", "removed") else None
        rows.append((change.type, change.system, change.code, change.display, change.property, change.language,
                     change.use, _as_list(change.old), _as_list(change.new), note.reason if note else None,
                     [r.code for r in note.replacements] if note and note.replacements else None))
    return pl.DataFrame(rows, orient="row", schema=DIFF_SCHEMA)


def _table(registry: Registry, info: ReleaseInfo, name: str) -> tuple[pl.DataFrame, dict[str, str]]:
    table = name.removeprefix("parquet-")
    if name == "parquet-diff":
        previous = previous_release(registry, info)
        if previous is None:
            raise NotFound(f"{info.kind} {info.url} has no version before {info.version}: no diff to download")
        report = diff_releases(registry, info.url, previous.version, info.version)
        notes = (RetirementNotes.of(registry, info.url, info.version) if info.kind == "CodeSystem" else None)
        extra = {"from_version": previous.version, "from_release": previous.id, "to_version": info.version}
        return diff_frame(report.changes, notes), parquet.footer(info, table, extra)
    if info.kind == "ConceptMap":
        return parquet.mappings_frame(info.resource()), parquet.footer(info, table)
    if info.kind == "ValueSet":
        return parquet.members_frame(value_set_members(info.resource(), registry)), parquet.footer(info, table)
    build = {"parquet-concepts": parquet.concepts_frame, "parquet-designations": parquet.designations_frame,
             "parquet-properties": parquet.properties_frame, "parquet-closure": parquet.code_closure_frame}[name]
    return build(info.index_path), parquet.footer(info, table)


def write(registry: Registry, info: ReleaseInfo, name: str, path: Path) -> None:
    """Write download ``name`` of ``info`` to ``path`` (``registry``: the one the caller sees)."""
    frame, metadata = _table(registry, info, name)
    parquet.write_table(frame, path, metadata)
