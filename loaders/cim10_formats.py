"""Readers for the CIM-10 FR code tables: ATIH LIBCIM10MULTI, nomensland JSON/TSV and edsnlp CSV.

Every layout carries the LIBCIM10MULTI columns (code, type MCO/HAD, SSR flags, PSY type, short and long
label); readers turn each line or JSON record into a validated ``Entry``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import orjson

from loaders.sources import decode_lines, read_bytes
from smt.errors import LoadError
from smt.progress import SILENT, Phase, Progress, counted

_CODE = re.compile(r"[A-Z][0-9]{2}[0-9A-Z+]{0,4}")
_YEAR = re.compile(r"[0-9]{4}")
_BOM = b"\xef\xbb\xbf"

ATIH_FIELDS = ("code", "type MCO/HAD", "SSR", "type PSY", "libellé court", "libellé long")
TSV_COLUMNS = ("code", "tr", "tssr", "tpsy", "lib_court", "lib_long")
CSV_COLUMNS = ("code", "type", "ssr", "psy", "short", "long")
JSON_FIELDS = (*TSV_COLUMNS, "anseqta")


class Entry(NamedTuple):
    """One validated code row. ``code`` is the ATIH form, without dot; ``year`` only in multi-year files."""

    pos: int
    code: str
    type_mco: int
    ssr: str | None
    psy: int | None
    short: str
    long: str
    year: str | None = None


@dataclass(slots=True)
class Table:
    """The entries of one source file; ``unit`` says whether positions are lines or JSON records."""

    path: Path
    layout: str
    unit: Literal["line", "record"]
    entries: list[Entry]
    _origin: str = field(init=False)

    def __post_init__(self) -> None:
        self._origin = f"{self.path.name}:" if self.unit == "line" else f"{self.path.name}:record "

    def where(self, pos: int) -> str:
        return f"line {pos}" if self.unit == "line" else f"record {pos}"

    def origin(self, pos: int) -> str:
        return f"{self._origin}{pos}"

    def error(self, pos: int, message: str, field: str | None = None) -> LoadError:
        if self.unit == "line":
            return LoadError(message, file=str(self.path), line=pos, field=field)
        return LoadError(f"record {pos}: {message}", file=str(self.path), field=field)


def read_table(path: Path, progress: Progress = SILENT) -> Table:
    """Read a CIM-10 code table, recognising its layout from its content (``progress``: rows read)."""
    data = read_bytes(path)
    head = data[:4096].removeprefix(_BOM).lstrip()
    first = head.split(b"\n", 1)[0]
    phase = f"read {path.name}"
    if head.startswith(b"["):
        return _read_json(path, data.removeprefix(_BOM), progress, phase)
    rows = progress.phase(phase, data.count(b"\n"))
    if first.startswith(b"code\t"):
        return _finished(_read_delimited(path, data, "nomensland TSV", "\t", TSV_COLUMNS, rows), rows)
    if first.startswith(b"code,"):
        return _finished(_read_delimited(path, data, "edsnlp CSV", ",", CSV_COLUMNS, rows), rows)
    if b"|" in first:
        return _finished(_read_atih(path, data, rows), rows)
    raise LoadError("unrecognised CIM-10 layout: expected ATIH LIBCIM10MULTI (pipe-separated), "
                    "nomensland JSON or TSV, or edsnlp CSV", file=str(path), line=1)


def _finished(table: Table, phase: Phase) -> Table:
    phase.finish()
    return table


def _read_atih(path: Path, data: bytes, rows: Phase) -> Table:
    table = Table(path, "ATIH LIBCIM10MULTI", "line", [])
    for number, text in enumerate(counted(decode_lines(data, path, "latin-1"), rows, finish=False), start=1):
        if not text.strip():
            continue
        if _looks_utf8(text):
            raise table.error(number, "looks UTF-8 encoded, expected latin-1 (ATIH LIBCIM10MULTI)")
        fields = text.split("|")
        while len(fields) > len(ATIH_FIELDS) and not fields[-1].strip():
            fields.pop()
        if len(fields) != len(ATIH_FIELDS):
            raise table.error(number, f"expected {len(ATIH_FIELDS)} pipe-separated fields, found {len(fields)}")
        table.entries.append(_entry(table, number, fields, ATIH_FIELDS))
    return table


def _looks_utf8(text: str) -> bool:
    """True when a latin-1 decoded line is in fact valid UTF-8 with accents (mojibake such as "Ã©")."""
    if text.isascii():
        return False
    try:
        text.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_delimited(path: Path, data: bytes, layout: str, delimiter: str, columns: tuple[str, ...],
                    rows: Phase) -> Table:
    table = Table(path, layout, "line", [])
    lines = counted(decode_lines(data.removeprefix(_BOM), path), rows, finish=False)
    reader = csv.reader(lines, delimiter=delimiter)
    header = [name.strip() for name in next(reader)]
    missing = [name for name in columns if name not in header]
    if missing:
        raise table.error(1, f"{layout} header lacks column(s) {', '.join(missing)}")
    index = [header.index(name) for name in columns]
    for record in reader:
        if not record:
            continue
        if len(record) != len(header):
            raise table.error(reader.line_num, f"expected {len(header)} fields, found {len(record)}")
        table.entries.append(_entry(table, reader.line_num, [record[i] for i in index], columns))
    return table


def _read_json(path: Path, data: bytes, progress: Progress, phase: str) -> Table:
    try:
        records = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg} (column {exc.colno})", file=str(path), line=exc.lineno) from exc
    del data
    if not isinstance(records, list):
        raise LoadError("expected a JSON array of code records", file=str(path))
    table = Table(path, "nomensland JSON", "record", [])
    multi_year = bool(records) and isinstance(records[0], dict) and "anseqta" in records[0]
    fields = JSON_FIELDS if multi_year else TSV_COLUMNS
    rows = progress.phase(phase, len(records))
    for number, record in enumerate(counted(records, rows), start=1):
        if not isinstance(record, dict):
            raise table.error(number, "expected a JSON object")
        table.entries.append(_entry(table, number, [record.get(name) for name in fields], fields))
    return table


def _entry(table: Table, pos: int, values: list, fields: tuple[str, ...]) -> Entry:
    """Validate one row (values in LIBCIM10MULTI column order, then the year if any)."""
    given, type_mco, ssr, psy, short, long, *year = ["" if v is None else str(v).strip() for v in values]
    code = given.replace(".", "")
    if not code:
        raise table.error(pos, "empty code", fields[0])
    if not _CODE.fullmatch(code):
        raise table.error(pos, f"invalid CIM-10 code {given!r}", fields[0])
    if not long:
        raise table.error(pos, f"code {code}: empty label", fields[5])
    if year and not _YEAR.fullmatch(year[0]):
        raise table.error(pos, f"code {code}: invalid year {year[0]!r}", fields[6])
    return Entry(pos, code, _integer(table, pos, type_mco, fields[1]), ssr or None,
                 _integer(table, pos, psy, fields[3]) if psy else None, short, long, year[0] if year else None)


def _integer(table: Table, pos: int, value: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise table.error(pos, f"{field} {value!r} is not an integer", field) from None
