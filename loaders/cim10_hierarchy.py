"""CIM-10 chapters and blocks with French labels, from the nomensland hierarchy file (or the chapters and blocks
of it shipped with SMT, ``SHIPPED``).

The file (``cim_hierarchie_code.json``) is a JSON array with one record per code and year carrying
``chapitre`` ("[A00-B99]"), ``lib_chapitre``, ``bloc`` ("[A00-A09]"), ``lib_bloc`` and ``anseqta``. Only the
distinct chapter/block rows are kept; categories are placed in the block whose range contains them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import orjson

from loaders.sources import read_bytes
from smt.errors import LoadError

HIERARCHY_GLOB = "*hierarchie*"
SHIPPED = Path(__file__).parent / "data" / "cim10_fr_pmsi_hierarchie_chapitres_blocs_2015-2019.json.gz"
"""The French chapter and block labels 2015–2019, derived from nomensland (Unlicense; ``data/README.md``)."""
_RANGE = re.compile(r"\[?([A-Z][0-9]{2})-([A-Z][0-9]{2})\]?")
_KEYS = ("chapitre", "lib_chapitre", "bloc", "lib_bloc", "anseqta")
_STRING = rb'"([^"\\]*(?:\\.[^"\\]*)*)"'
# Fast path for the nomensland serialisation (compact JSON, keys in this order); other layouts are parsed fully.
_COMPACT = re.compile(rb'"chapitre":' + _STRING + rb',"bloc":' + _STRING + rb',"lib_chapitre":' + _STRING
                      + rb',"lib_bloc":' + _STRING + rb',"anseqta":' + _STRING)

Row = tuple[str, str, str, str, str]
"""chapitre, lib_chapitre, bloc, lib_bloc, anseqta."""


class Grouping(NamedTuple):
    """A chapter or block: ``code`` is its range without brackets ("A00-B99"); ``first``/``last`` bound it."""

    code: str
    label: str
    kind: str
    parent: str | None
    origin: str
    first: str
    last: str


@dataclass(frozen=True, slots=True)
class Groupings:
    """The chapters and blocks of one hierarchy year, sorted by range start."""

    year: int
    chapters: tuple[Grouping, ...]
    blocks: tuple[Grouping, ...]

    def all(self) -> tuple[Grouping, ...]:
        return (*self.chapters, *self.blocks)

    def parent_of(self, category: str) -> str | None:
        """Code of the block (else chapter) whose range contains the 3-character ``category``."""
        return _containing(self.blocks, category) or _containing(self.chapters, category)


@dataclass(frozen=True, slots=True)
class Hierarchy:
    path: Path
    years: dict[int, Groupings]

    def for_year(self, year: int) -> Groupings:
        """The groupings of the closest year, preferring an earlier one."""
        earlier = [y for y in self.years if y <= year]
        return self.years[max(earlier) if earlier else min(self.years)]


def find_hierarchy(source: Path, given: Path | None = None) -> Path:
    """The hierarchy file to use: ``given`` (``--hierarchy``; missing is an error), else a ``*hierarchie*`` file
    next to ``source``, else the chapters and blocks shipped with SMT (``SHIPPED``)."""
    if given is not None:
        if not given.is_file():
            raise LoadError("CIM-10 hierarchy file not found (--hierarchy)", file=str(given))
        return given
    found = sorted(p for p in source.parent.glob(HIERARCHY_GLOB) if p.is_file())
    return found[0] if found else SHIPPED


def read_hierarchy(path: Path) -> Hierarchy:
    """Chapters and blocks per year; a LoadError names the record at fault. Cached while the file is unchanged."""
    if not path.is_file():
        raise LoadError("file not found", file=str(path))
    stat = path.stat()
    return _read_hierarchy(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_hierarchy(path: Path, _mtime_ns: int, _size: int) -> Hierarchy:
    data = read_bytes(path)
    rows = _compact_rows(data)
    if rows is None:
        rows = _json_rows(path, data)
    if not rows:
        raise LoadError("no chapter/block records in hierarchy file", file=str(path))
    by_year: dict[int, dict[str, Grouping]] = {}
    for row, pos in sorted(rows.items(), key=lambda item: item[1]):
        _add(path, pos, row, by_year)
    return Hierarchy(path, {year: _groupings(year, found) for year, found in by_year.items()})


def _compact_rows(data: bytes) -> dict[Row, int] | None:
    """Distinct rows with their first record number, or None if the file is not in the compact layout."""
    matches = _COMPACT.findall(data)
    framed = data[:64].lstrip().startswith(b"[") and data[-64:].rstrip().endswith(b"]")
    if not framed or len(matches) != data.count(b'"anseqta"'):
        return None
    first: dict[tuple[bytes, ...], int] = {}
    for number, match in enumerate(matches, start=1):
        first.setdefault(match, number)
    rows: dict[Row, int] = {}
    for match, number in first.items():
        chapter, block, chapter_label, block_label, year = (orjson.loads(b'"%b"' % part) for part in match)
        rows.setdefault((chapter, chapter_label, block, block_label, year), number)
    return rows


def _json_rows(path: Path, data: bytes) -> dict[Row, int]:
    try:
        records = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=str(path), line=exc.lineno) from exc
    if not isinstance(records, list):
        raise LoadError("expected a JSON array of hierarchy records", file=str(path))
    rows: dict[Row, int] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise LoadError(f"record {number}: expected a JSON object", file=str(path))
        chapter, chapter_label, block, block_label, anseqta = (str(record.get(key) or "").strip() for key in _KEYS)
        values: Row = (chapter, chapter_label, block, block_label, anseqta)
        for key, value in zip(_KEYS, values, strict=True):
            if not value:
                raise LoadError(f"record {number}: missing value", file=str(path), field=key)
        rows.setdefault(values, number)
    return rows


def _add(path: Path, pos: int, row: Row, by_year: dict[int, dict[str, Grouping]]) -> None:
    """Record the chapter and block of one row (a block spanning its whole chapter is the chapter)."""
    chapter, chapter_label, block, block_label, year = row
    if not year.isdigit():
        raise LoadError(f"record {pos}: invalid year {year!r}", file=str(path), field="anseqta")
    found = by_year.setdefault(int(year), {})
    origin = f"{path.name}:record {pos}"
    chapter_code, first, last = _range(path, pos, chapter, "chapitre")
    found.setdefault(chapter_code, Grouping(chapter_code, chapter_label, "chapter", None, origin, first, last))
    block_code, first, last = _range(path, pos, block, "bloc")
    found.setdefault(block_code, Grouping(block_code, block_label, "block", chapter_code, origin, first, last))


def _groupings(year: int, found: dict[str, Grouping]) -> Groupings:
    ordered = sorted(found.values(), key=lambda g: g.first)
    return Groupings(year, tuple(g for g in ordered if g.kind == "chapter"),
                     tuple(g for g in ordered if g.kind == "block"))


def _range(path: Path, pos: int, text: str, key: str) -> tuple[str, str, str]:
    match = _RANGE.fullmatch(text)
    if not match:
        raise LoadError(f"record {pos}: invalid code range {text!r}", file=str(path), field=key)
    return f"{match[1]}-{match[2]}", match[1], match[2]


def _containing(groupings: tuple[Grouping, ...], category: str) -> str | None:
    index = bisect_right(groupings, category, key=lambda g: g.first) - 1
    if index >= 0 and category <= groupings[index].last:
        return groupings[index].code
    return None
