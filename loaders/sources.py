"""Helpers shared by loaders: checksums, opening (possibly gzipped) text files with a clear decoding error."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from smt.errors import LoadError
from smt.model import SourceFile


def source_file(path: Path) -> SourceFile:
    """Provenance record (name, SHA-256, size) of a source file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return SourceFile(name=path.name, sha256=digest.hexdigest(), size=path.stat().st_size)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when its name ends in ``.gz``; a truncated gzip is a ``LoadError``."""
    if not path.exists():
        raise LoadError("file not found", file=str(path))
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError) as exc:
            raise LoadError(f"corrupt or truncated gzip data: {exc}", file=str(path)) from exc
    return raw


def decode_lines(data: bytes, path: Path, encoding: str = "utf-8") -> list[str]:
    """Decode ``data`` line by line; an undecodable byte is reported with its line number."""
    lines = data.split(b"\n")
    out: list[str] = []
    for number, raw in enumerate(lines, start=1):
        try:
            out.append(raw.decode(encoding).rstrip("\r"))
        except UnicodeDecodeError as exc:
            raise LoadError(
                f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is not valid {encoding}",
                file=str(path), line=number,
            ) from exc
    if out and out[-1] == "":
        out.pop()
    return out
