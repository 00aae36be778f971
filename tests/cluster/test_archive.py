"""Release archives by content address: the same folder packs to the same bytes, a replica refuses bytes that do
not match the checksum, and an archive holding anything but files and folders."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from smt.cluster.archive import ArchiveError, archive_path, pack, receive, verify
from smt.compile import writable_store
from smt.store.releases import ReleaseInfo
from tests.factories import make_release


@pytest.fixture
def stored(home: Path) -> ReleaseInfo:
    return writable_store(home).load(make_release())


def test_a_release_folder_packs_to_the_same_bytes_whatever_its_file_times(stored: ReleaseInfo, tmp_path: Path
                                                                          ) -> None:
    checksum, size = pack(stored.path, tmp_path / "a")
    for path in stored.path.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    (stored.path / "downloads").mkdir()  # generated on demand by each server: not content
    (stored.path / "downloads" / "x.csv").write_text("a,b\n")
    again, _ = pack(stored.path, tmp_path / "b")
    assert again == checksum and len(checksum) == 64
    archive = archive_path(tmp_path / "a", checksum)
    assert archive is not None and archive.stat().st_size == size
    verify(archive, checksum)
    assert archive_path(tmp_path / "a", "../" + checksum[3:]) is None


def test_an_archive_unpacks_to_the_release_folder(stored: ReleaseInfo, tmp_path: Path) -> None:
    checksum, _ = pack(stored.path, tmp_path / "store")
    source = archive_path(tmp_path / "store", checksum)
    assert source is not None
    data = source.read_bytes()
    receive((data[i:i + 7000] for i in range(0, len(data), 7000)), checksum, tmp_path / "copy")
    original = {p.relative_to(stored.path): p.read_bytes() for p in stored.path.rglob("*") if p.is_file()}
    copied = {p.relative_to(tmp_path / "copy"): p.read_bytes() for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert copied == original and Path("manifest.json") in copied


def test_bytes_that_do_not_match_the_checksum_are_refused(stored: ReleaseInfo, tmp_path: Path) -> None:
    checksum, _ = pack(stored.path, tmp_path / "store")
    source = archive_path(tmp_path / "store", checksum)
    assert source is not None
    data = bytearray(source.read_bytes())
    data[1000] ^= 0xFF
    with pytest.raises(ArchiveError, match="checksum"):
        receive(iter([bytes(data)]), checksum, tmp_path / "received")
    assert not (tmp_path / "received").exists()


def _link(tar: tarfile.TarFile) -> None:
    link = tarfile.TarInfo("manifest.json")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    tar.addfile(link)


def _outside(tar: tarfile.TarFile) -> None:
    data = b"{}"
    escape = tarfile.TarInfo("../escaped.json")
    escape.size = len(data)
    tar.addfile(escape, io.BytesIO(data))


@pytest.mark.parametrize(("add", "message"), [(_link, "neither a file nor a folder"), (_outside, "outside")])
def test_an_archive_with_a_link_or_a_path_outside_is_refused_and_leaves_nothing(
        tmp_path: Path, add: Callable[[tarfile.TarFile], None], message: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        add(tar)
    checksum = hashlib.sha256(buffer.getvalue()).hexdigest()
    with pytest.raises(ArchiveError, match=message):
        receive(iter([buffer.getvalue()]), checksum, tmp_path / "target")
    assert not (tmp_path / "target").exists() and not (tmp_path / "escaped.json").exists()
