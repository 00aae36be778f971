"""Reading RF2 release files (folder or zip) into polars frames, with file/line/field validation.

Files are recognised by name (``sct2_Concept_Snapshot_…``, ``der2_cRefset_LanguageSnapshot-fr_…``); every
column is read as text and each frame gets a ``line`` column (line number in its file, header = line 1) so
that later checks can point at the source line. A release package holding Snapshot, Delta and Full folders is
read from its Snapshot files.

Checks done here, each raising ``LoadError(file, line, field)``: required columns present (header line),
every row with as many fields as the header and the file ending with a line end (not cut inside a row),
required values not empty, ``active`` is 0/1, ``effectiveTime`` is yyyymmdd, component ids are SCTIDs with a
valid Verhoeff check digit, no id twice in a snapshot file.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from loaders.snomed_sctid import invalid_sctids
from smt.errors import LoadError

KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("concept", re.compile(r"^x?sct2_Concept_")),
    ("description", re.compile(r"^x?sct2_Description_")),
    ("text_definition", re.compile(r"^x?sct2_TextDefinition_")),
    ("concrete", re.compile(r"^x?sct2_RelationshipConcreteValues_")),
    ("stated_relationship", re.compile(r"^x?sct2_StatedRelationship_")),
    ("relationship", re.compile(r"^x?sct2_Relationship_")),
    ("owl", re.compile(r"^x?sct2_sRefset_OWL")),
    ("language", re.compile(r"^x?der2_c?Refset_Language")),
    ("refset", re.compile(r"^x?der2_\w*Refset_")),
)
"""File kinds by name prefix (first match wins)."""

RELEASE_TYPE = re.compile(r"(Snapshot|Delta|Full)(?=[-_])")
FILE_DATE = re.compile(r"_(\d{8})\.txt$")

_BASE = ("id", "effectiveTime", "active", "moduleId")
_REFSET = (*_BASE, "refsetId", "referencedComponentId")
_RELATIONSHIP = (*_BASE, "sourceId", "destinationId", "relationshipGroup", "typeId", "characteristicTypeId",
                 "modifierId")
_DESCRIPTION = (*_BASE, "conceptId", "languageCode", "typeId", "term", "caseSignificanceId")

COLUMNS: dict[str, tuple[str, ...]] = {
    "concept": (*_BASE, "definitionStatusId"),
    "description": _DESCRIPTION,
    "text_definition": _DESCRIPTION,
    "relationship": _RELATIONSHIP,
    "stated_relationship": _RELATIONSHIP,
    "concrete": (*_BASE, "sourceId", "value", "relationshipGroup", "typeId", "characteristicTypeId",
                 "modifierId"),
    "owl": (*_REFSET, "owlExpression"),
    "language": (*_REFSET, "acceptabilityId"),
    "refset": _REFSET,
}
"""Columns each kind must have; they must also be non-empty on every line."""

_DROPPED: dict[str, tuple[str, ...]] = {
    "description": ("caseSignificanceId",),
    "text_definition": ("caseSignificanceId",),
    "relationship": ("modifierId",),
    "stated_relationship": ("modifierId",),
    "concrete": ("modifierId",),
    "owl": ("moduleId", "line"),
    "language": ("id", "moduleId", "line"),
}
"""Columns not used after validation, dropped to keep large releases small in memory."""

CATEGORICAL = ("effectiveTime", "active", "moduleId", "typeId", "characteristicTypeId", "refsetId", "acceptabilityId",
               "definitionStatusId", "languageCode")
"""Columns with a handful of distinct values (modules, types, refsets, dates), kept as polars categoricals once
validated: a text column holds each 18-digit SCTID again on every row. On the synthetic International-shaped
release the frames of ``read_release`` went from 1.6 GB to 0.7 GB resident (benchmarks/README.md). Categoricals
compare, sort and ``max`` as their text, and ``to_list`` gives text."""

SCTID_COLUMNS: dict[str, tuple[str, ...]] = {
    "concept": ("id",),
    "description": ("id",),
    "text_definition": ("id",),
    "relationship": ("id",),
    "stated_relationship": ("id",),
    "concrete": ("id",),
}
"""Columns whose values must be SCTIDs with a valid check digit (the component's own id)."""


@dataclass(slots=True)
class Rf2File:
    """One RF2 file read as text columns plus ``line``."""

    kind: str
    name: str
    release_type: str
    date: str | None
    frame: pl.DataFrame


def classify(name: str) -> str | None:
    """The kind of an RF2 file from its base name, or ``None`` for other files (readme, lists)."""
    if not name.endswith(".txt"):
        return None
    return next((kind for kind, pattern in KINDS if pattern.match(name)), None)


def _sources(path: Path) -> list[tuple[str, str, Callable[[], bytes], Path | None]]:
    """(display path, base name, reader of the bytes, the file on disk if it is one) of every RF2 file in a folder
    or a zip archive.

    Files are read one at a time, when parsed, so that at most one raw file is in memory.
    """
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in sorted(archive.namelist()) if classify(m.rsplit("/", 1)[-1])]

        def member_reader(member: str) -> Callable[[], bytes]:
            def read() -> bytes:
                with zipfile.ZipFile(path) as archive:
                    return archive.read(member)
            return read

        return [(f"{path.name}!{m}", m.rsplit("/", 1)[-1], member_reader(m), None) for m in members]
    if path.is_dir():
        return [(str(f), f.name, f.read_bytes, f) for f in sorted(path.rglob("*.txt")) if classify(f.name)]
    raise LoadError("not an RF2 folder or zip archive", file=str(path))


def source_files(path: Path) -> list[Path]:
    """The files provenance is recorded for: the archive itself, or the RF2 files of a folder."""
    if path.is_file():
        return [path]
    return [f for f in sorted(path.rglob("*.txt")) if classify(f.name)]


def read_release(path: Path) -> list[Rf2File]:
    """Every RF2 file of ``path`` of the release type chosen (Snapshot, else Delta), validated."""
    found = _sources(path)
    if not found:
        raise LoadError("no RF2 files (sct2_*/der2_*.txt) found", file=str(path))
    types = {_release_type(base) for _, base, _, _ in found}
    chosen = "Snapshot" if "Snapshot" in types else ("Delta" if "Delta" in types else "Full")
    if chosen == "Full":
        raise LoadError("RF2 Full files are not supported: load the Snapshot files of the release", file=str(path))
    return [read_file(where, base, read, on_disk) for where, base, read, on_disk in found
            if _release_type(base) == chosen]


def consume(files: Sequence[Rf2File], kinds: tuple[str, ...]) -> None:
    """Empty the frames of ``kinds`` once they have been used (frees their memory)."""
    for rf2 in files:
        if rf2.kind in kinds:
            rf2.frame = rf2.frame.clear()


def _release_type(name: str) -> str:
    match = RELEASE_TYPE.search(name)
    return match.group(1) if match else "Snapshot"


def read_file(where: str, name: str, read: Callable[[], bytes], on_disk: Path | None = None) -> Rf2File:
    """Parse and validate one RF2 file (``where`` names it in errors; ``read`` gives its bytes). A file
    ``on_disk`` is checked block by block and parsed from there (polars maps it): its bytes are never held whole
    (a 380 MB language refset would be 380 MB more at the loader's peak)."""
    kind = classify(name)
    assert kind is not None
    source: bytes | Path = read() if on_disk is None else on_disk
    header = _header(source)
    columns = header.split("\t")
    for column in COLUMNS[kind]:
        if column not in columns:
            raise LoadError(f"missing column '{column}' in the header", file=where, line=1, field=column)
    _check_rows(where, source, len(columns))
    try:
        frame = pl.read_csv(source, separator="\t", quote_char=None, infer_schema=False, encoding="utf8",
                            row_index_name="line", row_index_offset=2)
    except pl.exceptions.PolarsError as exc:
        raise LoadError(f"cannot parse RF2 file: {exc}", file=where) from exc
    frame = frame.with_columns(pl.col("line").cast(pl.UInt32))
    _check_values(where, kind, frame)
    frame = frame.drop(_DROPPED.get(kind, ()))
    frame = frame.with_columns(pl.col(c).cast(pl.Categorical) for c in CATEGORICAL if c in frame.columns)
    date = FILE_DATE.search(name)
    return Rf2File(kind, where, _release_type(name), date.group(1) if date else None, frame)


BLOCK = 16 << 20
"""Bytes read at a time when a file's rows are counted."""


def _opened(source: bytes | Path) -> BinaryIO:
    """A binary file over ``source``: the file on disk, or the bytes of a zip member already read."""
    return io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")


def _header(source: bytes | Path) -> str:
    with _opened(source) as handle:
        return handle.readline().rstrip(b"\n").decode("utf-8", "replace").rstrip("\r")


def _check_rows(where: str, source: bytes | Path, expected: int) -> None:
    """Every row has the header's field count, and the file ends where its last row ends (a line end): a file cut
    in the middle of a row is refused with its file and line, even when the cut falls inside the last field."""
    tabs = lines = 0
    last = b"\n"
    with _opened(source) as handle:
        while block := handle.read(BLOCK):
            tabs, lines, last = tabs + block.count(b"\t"), lines + block.count(b"\n"), block[-1:]
    if last != b"\n":
        raise LoadError("the file does not end with a line end: cut in the middle of this row?", file=where,
                        line=lines + 1)
    if tabs == (expected - 1) * lines:
        return  # every line has the header's field count (the common case: one pass in C)
    with _opened(source) as handle:
        for number, row in enumerate(handle, start=1):
            fields = row.count(b"\t") + 1
            if fields != expected and row.strip(b"\r\n"):
                what = "truncated row" if fields < expected else "row too long"
                raise LoadError(f"{what}: {fields} of {expected} fields (file cut short or damaged?)", file=where,
                                line=number)


def fail_at(where: str, frame: pl.DataFrame, mask: pl.Series | pl.Expr, field: str, message: str) -> None:
    """Raise a ``LoadError`` for the first row of ``frame`` where ``mask`` holds."""
    bad = frame.filter(mask).head(1)
    if bad.height:
        row = bad.row(0, named=True)
        value = row.get(field)
        text = "empty value" if value is None else f"{message}: {value!r}"
        raise LoadError(text, file=row.get("file") or where, line=row["line"], field=field)


def _check_values(where: str, kind: str, frame: pl.DataFrame) -> None:
    """All value checks in one pass over the frame; the failing row is looked up only when one fails."""
    checks: list[tuple[pl.Expr, str, str]] = [
        (pl.col(column).is_null(), column, "empty value") for column in COLUMNS[kind]
    ]
    checks.append((~pl.col("active").is_in(["0", "1"]), "active", "active must be 0 or 1"))
    checks.append((~pl.col("effectiveTime").str.contains(r"^\d{8}$"), "effectiveTime",
                   "effectiveTime must be yyyymmdd"))
    for column in SCTID_COLUMNS.get(kind, ()):
        checks.append((pl.lit(invalid_sctids(frame[column])), column, "not a valid SCTID (format or check digit)"))
    checks.append((pl.col("id").is_duplicated(), "id", "duplicate"))
    failed = frame.select(*(mask.any().alias(str(n)) for n, (mask, _, _) in enumerate(checks))).row(0)
    for (mask, column, message), bad in zip(checks, failed, strict=True):
        if not bad:
            continue
        if message == "duplicate":
            _duplicate(where, frame)
        fail_at(where, frame, mask, column, message)


def _duplicate(where: str, frame: pl.DataFrame) -> None:
    dupes = frame.filter(pl.col("id").is_duplicated()).sort("line")
    first = dupes.row(0, named=True)
    again = dupes.filter(pl.col("id") == first["id"]).row(1, named=True)
    raise LoadError(f"id {first['id']} appears twice in a snapshot (first at line {first['line']})",
                    file=where, line=again["line"], field="id")
