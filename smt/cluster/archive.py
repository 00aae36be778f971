"""Release folders as content-addressed archives: a deterministic tar, named by its SHA-256.

The writer packs a release folder (its manifest, index, search index…; not the ``downloads/`` a server generates
on demand) into ``<home>/artefacts/<sha256>.tar``; a replica fetches it by that checksum and unpacks it as it
arrives into a work folder (regular files and folders only, nothing outside it), hashing every byte: the folder
is kept only if they match the checksum.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from smt.errors import SmtError

ARTEFACTS_DIR = "artefacts"
SKIPPED = frozenset({"downloads"})
"""Top-level entries of a release folder that are not part of its content (generated on demand by each server)."""
CHUNK = 1 << 20


class ArchiveError(SmtError):
    """An archive that does not match its checksum or cannot be unpacked."""


class _Hashing:
    """A binary file that hashes what is written through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.handle.write(data)


def _members(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if relative.parts[0] in SKIPPED or path.is_symlink():
            continue
        yield path


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The same bytes for the same content: no times, owners or modes of the machine that packed it."""
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def pack(folder: Path, store: Path) -> tuple[str, int]:
    """Pack a release folder into ``store/<sha256>.tar`` (kept if already there); answer (sha256, size)."""
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".pack.{os.getpid()}.{folder.name}.tmp"
    try:
        with tmp.open("wb") as raw:
            hashing = _Hashing(raw)
            with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]  # a write-only file object is enough for a stream
                for path in _members(folder):
                    tar.add(path, arcname=str(path.relative_to(folder)), recursive=False, filter=_normalised)
            raw.flush()
            os.fsync(raw.fileno())
        checksum = hashing.digest.hexdigest()
        target = store / f"{checksum}.tar"
        if target.exists():
            tmp.unlink()
        else:
            tmp.replace(target)
        return checksum, hashing.size
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def archive_path(store: Path, checksum: str) -> Path | None:
    """The archive of ``checksum`` in ``store``, or None (the checksum must be 64 hex digits)."""
    if len(checksum) != 64 or any(c not in "0123456789abcdef" for c in checksum):
        return None
    path = store / f"{checksum}.tar"
    return path if path.is_file() else None


class _HashingReader:
    """A binary stream over ``chunks`` that hashes what is read from it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.buffer = b""
        self.position = 0
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while wanted != 0:
            if self.position >= len(self.buffer):
                chunk = next(self.chunks, None)
                if chunk is None:
                    break
                self.buffer, self.position = chunk, 0
            end = len(self.buffer) if wanted < 0 else min(len(self.buffer), self.position + wanted)
            parts.append(self.buffer[self.position:end])
            if wanted > 0:
                wanted -= end - self.position
            self.position = end
        data = b"".join(parts)
        self.digest.update(data)
        return data


def receive(chunks: Iterable[bytes], checksum: str, target: Path) -> None:
    """Unpack the archive arriving as ``chunks`` into the new folder ``target`` as it arrives, hashing every byte;
    ``ArchiveError`` (and no ``target``) unless all of them match ``checksum``, or if the archive holds anything
    but files and folders. Nothing is served from ``target`` before the caller renames it into place."""
    reader = _HashingReader(chunks)
    target.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]  # a readable stream is enough
            for member in tar:
                if not (member.isfile() or member.isdir()):
                    raise ArchiveError(f"{checksum}: {member.name} is neither a file nor a folder")
                tar.extract(member, target, filter="data")
        while reader.read(CHUNK):  # the end-of-archive padding is part of the checksum too
            pass
        if reader.digest.hexdigest() != checksum:
            raise ArchiveError(f"the archive received for {checksum} has checksum {reader.digest.hexdigest()}")
    except BaseException as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, tarfile.TarError | OSError):
            raise ArchiveError(f"cannot unpack the archive {checksum}: {exc}") from exc
        raise


def verify(path: Path, checksum: str) -> None:
    """``ArchiveError`` unless the file at ``path`` has the SHA-256 ``checksum``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != checksum:
        raise ArchiveError(f"{path.name} has checksum {digest.hexdigest()}, not {checksum}")
